package awskms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/logging"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"kmsgen.dev/kmsgen/internal/tlsroots"
)

// Defaults for Options.
const (
	// DefaultConcurrency is high enough that latency, not the bound, sets
	// the time of a run with many distinct ciphertexts (200 at 50 ms:
	// 7 rounds, not 25), and safe for KMS's request quotas: a run makes one
	// call per distinct ciphertext whatever the bound, so the bound shapes
	// a burst without adding to it, and the quota Decrypt shares with the
	// other symmetric cryptographic operations (5,500, 10,000 or 50,000 a
	// second per account and region, by region) takes thousands of
	// distinct ciphertexts in one run to reach; throttling is retried with
	// backoff by the SDK's standard retryer.
	DefaultConcurrency = 32
	DefaultCallTimeout = 30 * time.Second
	// DefaultDeadline fits Argo CD, which gives a plugin's whole generate
	// command 60 s unless its request deadline is raised.
	DefaultDeadline = 50 * time.Second
)

// Options tune a Client. The zero value means the defaults.
type Options struct {
	// Concurrency bounds the Decrypt calls in flight.
	Concurrency int
	// CallTimeout bounds each Decrypt call, retries included.
	CallTimeout time.Duration
	// Deadline bounds all the calls of a Client's life together, from New:
	// the calls of a run.
	Deadline time.Duration
	// LoadConfig loads the AWS configuration; config.LoadDefaultConfig
	// when nil. It is called at most once, and only if there is something
	// to decrypt.
	LoadConfig func(context.Context) (aws.Config, error)
	// ClientOptions are applied to every KMS client after kmsgen's own.
	ClientOptions []func(*kms.Options)
}

// Result is the outcome of one Request: its plaintext, or an *Error.
type Result struct {
	Plaintext []byte
	Err       error
}

// Client decrypts batches of Requests. It is safe for concurrent use.
type Client struct {
	opts     Options
	deadline time.Time

	configOnce sync.Once
	cfg        aws.Config
	cfgErr     error

	mu      sync.Mutex
	clients map[clientKey]*clientEntry

	// sdkLog takes what the SDK would log: stderr belongs to kmsgen.
	sdkLog sdkLogger

	progress  Progress
	following atomic.Int32 // batches and calls being followed now
}

// Progress follows the KMS calls of a Client, for a person waiting: it is
// called when a batch of total distinct calls starts (a single call is a
// batch of one), and returns step, called with the number of calls done
// each time one ends (from any goroutine, one at a time), and end, called
// once when the batch is over.
type Progress func(total int) (step func(done int), end func())

// SetProgress has p follow the calls from now on; nil stops following.
// Set it before the Client is used.
func (d *Client) SetProgress(p Progress) { d.progress = p }

// begin starts following a batch of total calls: tick counts one call
// done (safe from any goroutine, and the counts reach Progress in order);
// both do nothing when nothing follows.
func (d *Client) begin(total int) (tick func(), end func()) {
	if d.progress == nil || total == 0 {
		return func() {}, func() {}
	}
	d.following.Add(1)
	var mu sync.Mutex
	done := 0
	step, stop := d.progress(total)
	return func() {
			mu.Lock()
			defer mu.Unlock()
			done++
			step(done)
		}, func() {
			stop()
			d.following.Add(-1)
		}
}

// single follows one call made on its own (Encrypt, Decrypt, ...); the
// func it returns ends it. Inside a batch, or inside another call followed
// (a public operation made of others), it follows nothing: the outer one
// counts it.
func (d *Client) single() func() {
	if d.progress == nil || d.following.Load() > 0 {
		return func() {}
	}
	tick, end := d.begin(1)
	return func() {
		tick()
		end()
	}
}

type clientKey struct{ region, endpoint, role string }

type clientEntry struct {
	once     sync.Once
	client   *kms.Client
	credsErr *Error
}

// New returns a Client; nothing is loaded or called until DecryptAll.
func New(opts Options) *Client {
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = DefaultCallTimeout
	}
	if opts.Deadline <= 0 {
		opts.Deadline = DefaultDeadline
	}
	c := &Client{opts: opts, deadline: time.Now().Add(opts.Deadline), clients: map[clientKey]*clientEntry{}}
	if c.opts.LoadConfig == nil {
		c.opts.LoadConfig = func(ctx context.Context) (aws.Config, error) {
			stsFollowsEndpoint(os.Getenv, os.Setenv)
			return config.LoadDefaultConfig(ctx, config.WithLogger(&c.sdkLog))
		}
	}
	return c
}

// stsFollowsEndpoint points the credential chain's own services (STS, and
// SSO with its OIDC token service) at AWS_ENDPOINT_URL when that is set and
// their own variables are not: the SDK's credential providers (IRSA web
// identity, role profiles, SSO) honour only the service-specific variables,
// so with AWS_ENDPOINT_URL alone they would call the public regional
// endpoints while KMS calls go to the endpoint given: requests leaving the
// network the user chose.
func stsFollowsEndpoint(getenv func(string) string, setenv func(string, string) error) {
	ep := getenv("AWS_ENDPOINT_URL")
	if ep == "" {
		return
	}
	for _, name := range []string{"AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_SSO", "AWS_ENDPOINT_URL_SSO_OIDC"} {
		if getenv(name) == "" {
			setenv(name, ep)
		}
	}
}

// SDKWarnings is how many messages the AWS SDK logged (retries, response
// bodies it could not drain, ...): kmsgen keeps them off stderr, which
// carries its own one-line errors, and counts them.
func (d *Client) SDKWarnings() int { return int(d.sdkLog.n.Load()) }

// sdkLogger counts the SDK's log messages and drops them: they may come
// from any goroutine, and never hold plaintext, but would break the
// one-line stderr contract.
type sdkLogger struct{ n atomic.Int64 }

func (l *sdkLogger) Logf(logging.Classification, string, ...any) { l.n.Add(1) }

// DecryptAll decrypts every request and returns the results in request
// order. Identical requests are decrypted once and share a result.
func (d *Client) DecryptAll(ctx context.Context, reqs []Request) []Result {
	return d.forEachDistinct(ctx, reqs, func(ctx context.Context, r Request) Result {
		plaintext, err := d.decryptOne(ctx, r)
		return Result{Plaintext: plaintext, Err: err}
	})
}

// forEachDistinct calls do once per distinct request, at most
// Options.Concurrency at a time, and gives every request the result of its
// group, in request order. The calls end at the Client's deadline: those
// still waiting then fail with one error that says how many they were.
func (d *Client) forEachDistinct(ctx context.Context, reqs []Request, do func(context.Context, Request) Result) []Result {
	runCtx, cancel := context.WithDeadline(ctx, d.deadline)
	defer cancel()
	results := make([]Result, len(reqs))
	groups := groupIdentical(reqs)
	late := make([]bool, len(groups))
	sem := make(chan struct{}, d.opts.Concurrency)
	tick, end := d.begin(len(groups))
	var wg sync.WaitGroup
	for k, g := range groups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var r Result
			select {
			case sem <- struct{}{}:
				r = do(runCtx, reqs[g[0]])
				<-sem
			case <-runCtx.Done():
				r = Result{Err: classify(runCtx.Err(), where{}, d.opts.CallTimeout)}
			}
			if r.Err != nil && ctx.Err() == nil && runCtx.Err() == context.DeadlineExceeded {
				late[k] = true
			}
			for _, i := range g {
				results[i] = r
			}
			tick()
		}()
	}
	wg.Wait()
	end()
	d.failLate(results, groups, late)
	return results
}

// failLate gives the groups still waiting at the deadline one error, which
// counts them.
func (d *Client) failLate(results []Result, groups [][]int, late []bool) {
	n := 0
	for _, l := range late {
		if l {
			n++
		}
	}
	if n == 0 {
		return
	}
	err := &Error{Code: CodeDeadline, Err: context.DeadlineExceeded,
		What: fmt.Sprintf("kmsgen's deadline for the whole run (%s) passed with %d of %d distinct ciphertexts still waiting for KMS", d.opts.Deadline, n, len(groups)),
		Hint: "check the network path to KMS, or raise KMSGEN_DEADLINE (under Argo CD, keep it below the repo server's request deadline, 60 s by default)"}
	for k, g := range groups {
		if late[k] {
			for _, i := range g {
				results[i] = Result{Err: err}
			}
		}
	}
}

// groupIdentical returns the indices of reqs grouped by identical request,
// in order of first appearance.
func groupIdentical(reqs []Request) [][]int {
	index := map[string]int{}
	var groups [][]int
	for i, r := range reqs {
		k := dedupKey(r)
		if g, ok := index[k]; ok {
			groups[g] = append(groups[g], i)
			continue
		}
		index[k] = len(groups)
		groups = append(groups, []int{i})
	}
	return groups
}

func dedupKey(r Request) string {
	b, _ := json.Marshal([]any{r.Blob, r.Target.KeyID, r.Target.Context, r.Target.Region, r.Target.Endpoint, r.Target.RoleARN, r.Keys})
	return string(b)
}

func (d *Client) decryptOne(ctx context.Context, r Request) ([]byte, error) {
	if r.Keys != nil {
		plaintext, _, err := d.decryptAny(ctx, r.Target, r.Keys, d.decryptKey)
		return plaintext, err
	}
	plaintext, _, err := d.decryptKey(ctx, r.Target, r.Blob)
	return plaintext, err
}

// decryptKey decrypts blob under t and returns the plaintext and the ARN
// of the key KMS used.
func (d *Client) decryptKey(ctx context.Context, t Target, blob []byte) ([]byte, string, error) {
	r := Request{Blob: blob, Target: t}
	client, w, err := d.prepare(ctx, r.Target, "Decrypt")
	if err != nil {
		return nil, "", err
	}
	callCtx, cancel := context.WithTimeout(ctx, d.opts.CallTimeout)
	defer cancel()
	in := &kms.DecryptInput{CiphertextBlob: r.Blob, KeyId: optional(r.Target.KeyID), EncryptionContext: nonEmpty(r.Target.Context)}
	out, err := client.Decrypt(callCtx, in)
	if err != nil {
		return nil, "", classify(err, w, d.opts.CallTimeout)
	}
	if len(out.Plaintext) == 0 {
		return nil, "", malformed(w, "no Plaintext")
	}
	if want := r.Target.KeyARN(); want != "" && aws.ToString(out.KeyId) != want {
		clear(out.Plaintext)
		if out.KeyId == nil {
			return nil, "", malformed(w, fmt.Sprintf("no KeyId, so it cannot show it used the key kms.keyId pins (%s); the plaintext was discarded", want))
		}
		return nil, "", &Error{Code: CodeKeyMismatch,
			What: fmt.Sprintf("KMS decrypted it with key %s, but kms.keyId pins %s", aws.ToString(out.KeyId), want),
			Hint: "the plaintext was discarded; re-encrypt under the pinned key, or fix kms.keyId"}
	}
	return out.Plaintext, aws.ToString(out.KeyId), nil
}

// prepare resolves the region of t and returns the client for it, for the
// KMS operation op (named in messages).
func (d *Client) prepare(ctx context.Context, t Target, op string) (*kms.Client, where, error) {
	cfg, err := d.config(ctx)
	if err != nil {
		return nil, where{}, err
	}
	w := where{Op: op, Target: t, Region: firstNonEmpty(t.Region, t.KeyRegion(), cfg.Region)}
	if w.Region == "" {
		return nil, w, &Error{Code: CodeNoRegion,
			What: "no AWS region is configured for KMS",
			Hint: "set kms.region, use a key ARN in kms.keyId, or set AWS_REGION (or the region of your AWS profile)"}
	}
	client, cerr := d.client(ctx, cfg, w.Region, t.Endpoint, t.RoleARN)
	w.Endpoint = aws.ToString(client.Options().BaseEndpoint)
	if cerr != nil {
		return nil, w, cerr
	}
	return client, w, nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

func nonEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

func (d *Client) config(ctx context.Context) (aws.Config, error) {
	d.configOnce.Do(func() {
		d.cfg, d.cfgErr = d.opts.LoadConfig(ctx)
		d.cfg.Logger = &d.sdkLog
		if d.cfgErr != nil {
			d.cfgErr = &Error{Code: CodeConfig, Err: d.cfgErr,
				What: fmt.Sprintf("loading the AWS configuration failed: %v", d.cfgErr),
				Hint: "check AWS_PROFILE, AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE"}
		}
	})
	return d.cfg, d.cfgErr
}

// client returns the client for (region, endpoint, role), making it on first
// use and checking once that credentials can be had, so that missing
// credentials are reported as such rather than as a failed call.
func (d *Client) client(ctx context.Context, cfg aws.Config, region, endpoint, role string) (*kms.Client, *Error) {
	d.mu.Lock()
	e, ok := d.clients[clientKey{region, endpoint, role}]
	if !ok {
		e = &clientEntry{}
		d.clients[clientKey{region, endpoint, role}] = e
	}
	d.mu.Unlock()

	e.once.Do(func() {
		e.client = d.newClient(cfg, region, endpoint, role)
		credsCtx, cancel := context.WithTimeout(ctx, d.opts.CallTimeout)
		defer cancel()
		creds := e.client.Options().Credentials
		if creds == nil {
			return // anonymous: nothing to check
		}
		if _, err := creds.Retrieve(credsCtx); err != nil {
			e.credsErr = credentialsError(err, role)
		}
	})
	return e.client, e.credsErr
}

func (d *Client) newClient(cfg aws.Config, region, endpoint, role string) *kms.Client {
	opts := []func(*kms.Options){func(o *kms.Options) {
		o.Region = region
		o.ClientLogMode = 0 // never log request or response bodies
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
		if role != "" {
			stsClient := sts.NewFromConfig(cfg, func(so *sts.Options) { so.Region = region })
			o.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(stsClient, role, func(ao *stscreds.AssumeRoleOptions) {
				ao.RoleSessionName = "kmsgen"
			}))
		}
	}}
	opts = append(opts, d.opts.ClientOptions...)
	return kms.NewFromConfig(cfg, append(opts, idleConns(d.opts.Concurrency), fastRoots(region))...)
}

// fastRoots has the KMS client verify its endpoint's certificate with
// tlsroots, which parses only the system roots the endpoint's chain can
// end at instead of all of them (16–29 ms on every kmsgen process's first
// call over https on Debian and Ubuntu). It runs after every other option,
// when the endpoint is known and the SDK has set any custom roots
// (AWS_CA_BUNDLE, ca_bundle), which keep crypto/tls's own verification.
func fastRoots(region string) func(*kms.Options) {
	return func(o *kms.Options) {
		bc, ok := o.HTTPClient.(*awshttp.BuildableClient)
		if !ok {
			return
		}
		host := "kms." + region + ".amazonaws.com" // some AWS name: what matters is that it is one
		if o.BaseEndpoint != nil {
			u, err := url.Parse(*o.BaseEndpoint)
			if err != nil || u.Scheme != "https" {
				return
			}
			host = u.Hostname()
		}
		o.HTTPClient = bc.WithTransportOptions(tlsroots.ForHost(host))
	}
}

// idleConns keeps as many idle connections to KMS as calls may be in
// flight (the SDK keeps 10): otherwise every round of calls beyond the
// tenth opens, and pays the TLS handshake for, a new connection.
func idleConns(concurrency int) func(*kms.Options) {
	return func(o *kms.Options) {
		if bc, ok := o.HTTPClient.(*awshttp.BuildableClient); ok {
			o.HTTPClient = bc.WithTransportOptions(func(tr *http.Transport) {
				tr.MaxIdleConnsPerHost = max(tr.MaxIdleConnsPerHost, concurrency)
			})
		}
	}
}

func credentialsError(err error, role string) *Error {
	var sendErr *smithyhttp.RequestSendError
	if errors.As(err, &sendErr) {
		return &Error{Code: CodeNoCredentials, Err: err,
			What: fmt.Sprintf("the credential source could not be reached: %v", errors.Unwrap(sendErr)),
			Hint: "credentials are configured, but their service (STS for IRSA and role profiles, the SSO portal, the container credentials endpoint, instance metadata) did not answer: check the network path, and AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL_SSO (kmsgen points them at AWS_ENDPOINT_URL when that alone is set)"}
	}
	if role != "" {
		return &Error{Code: CodeNoCredentials, Err: err,
			What: fmt.Sprintf("could not assume role %s: %v", role, err),
			Hint: "check that the role's trust policy lets the current identity call sts:AssumeRole, and that the current credentials work"}
	}
	return &Error{Code: CodeNoCredentials, Err: err,
		What: fmt.Sprintf("no usable AWS credentials: %v", err),
		Hint: "provide credentials: AWS_PROFILE, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, `aws sso login`, IRSA (AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN), EKS Pod Identity, or instance metadata; " +
			"a container function sees only the variables and files its host passes it (kustomize: envs and --mount; kpt fn eval: -e and --mount)"}
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
