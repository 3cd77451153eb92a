package tests

// The credential sources of the AWS SDK's default chain, as kmsgen meets
// them in clusters and on workstations: IRSA (web identity), EKS Pod
// Identity, EC2 instance metadata (IMDSv2), IAM Identity Center (SSO), a
// role profile chained to a credential_process profile, and a plain
// credential_process. Every source is served on loopback (moto's STS, or a
// fake of the source's endpoint); each test proves, from what the fake KMS
// saw, that Decrypt was signed with the credentials that source issued.
//
// Real AWS is never reachable: every kmsgen run has the guard proxy as
// HTTP_PROXY and HTTPS_PROXY, so any request for a non-loopback host goes
// to it, and it must record none.

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"kmsgen.dev/kmsgen/internal/emulator"
	"kmsgen.dev/kmsgen/internal/fakekms"
	"kmsgen.dev/kmsgen/internal/kmstest"
	"kmsgen.dev/kmsgen/internal/testfiles"
)

// The fake KMS's key for these tests, and its alias.
const (
	credKeyID = "55555555-5555-5555-5555-555555555555"
	credAlias = "alias/cred"
)

// webIdentityToken is a dummy JWT ({"alg":"none"}, {"sub":"kmsgen-test"},
// no signature): moto's STS does not check it.
const webIdentityToken = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJrbXNnZW4tdGVzdCJ9."

// tempCreds are temporary credentials a fake credential endpoint issues.
type tempCreds struct {
	AccessKeyID, SecretAccessKey, SessionToken string
}

// TestCredentialsIRSA: IAM roles for service accounts. The SDK exchanges
// the projected token for the role's credentials at STS (moto), and kmsgen
// decrypts with exactly the session moto issued for that role.
func TestCredentialsIRSA(t *testing.T) {
	w := newCredWorld(t)
	kms := newRecordingKMS(t)
	moto := kmsEmulator(t, emulator.Moto)
	const role = "arn:aws:iam::123456789012:role/kmsgen"
	vars := w.webIdentity(t, role)
	maps.Copy(vars, map[string]string{
		"AWS_REGION":           fakekms.Region,
		"AWS_ENDPOINT_URL_STS": moto.URL,
		"AWS_ENDPOINT_URL_KMS": kms.URL,
	})
	plaintext := canary + "-irsa"
	buildLiteral(t, w, w.env(vars), kms.sealed(plaintext), "kms: {keyId: "+credAlias+"}\n", plaintext)

	session := assertMotoSession(t, kms, moto.URL, role)
	if session.SessionName != "kmsgen-test" {
		t.Errorf("moto's session for %s is named %q, want AWS_ROLE_SESSION_NAME kmsgen-test", role, session.SessionName)
	}
}

// TestCredentialsPodIdentity: EKS Pod Identity. The SDK gets credentials
// from the agent at AWS_CONTAINER_CREDENTIALS_FULL_URI, authorised by the
// token in AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE.
func TestCredentialsPodIdentity(t *testing.T) {
	testCredentialSource(t, credSource{
		want: tempCreds{"ASIAPODIDENTITYKMSGEN", "pod-identity-secret", "pod-token"},
		setup: func(t *testing.T, w *credWorld, creds tempCreds) (map[string]string, func(*testing.T)) {
			const authToken = "pod-identity-authorization-token"
			agent := newPodIdentityFake(t, authToken, creds)
			return map[string]string{
					"AWS_CONTAINER_CREDENTIALS_FULL_URI":     agent.URL + "/v1/credentials",
					"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": w.file(t, "eks-pod-identity-token", authToken, 0o600),
				}, func(t *testing.T) {
					agent.assertLog(t, "GET /v1/credentials 200")
				}
		},
	})
}

// TestCredentialsIMDSv2: an EC2 instance profile through the instance
// metadata service, which answers only with a session token (IMDSv2).
func TestCredentialsIMDSv2(t *testing.T) {
	testCredentialSource(t, credSource{
		want: tempCreds{"ASIAIMDSKMSGEN", "imds-secret", "imds-token"},
		setup: func(t *testing.T, w *credWorld, creds tempCreds) (map[string]string, func(*testing.T)) {
			const role = "kmsgen-instance-role"
			imds := newIMDSFake(t, role, creds)
			return map[string]string{
					"AWS_EC2_METADATA_DISABLED":         "", // the one test with instance metadata on
					"AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.URL,
				}, func(t *testing.T) {
					imds.assertLog(t,
						"PUT /latest/api/token 200",
						"GET /latest/meta-data/iam/security-credentials/ 200",
						"GET /latest/meta-data/iam/security-credentials/"+role+" 200")
				}
		},
	})
}

// TestCredentialsSSO: IAM Identity Center. The profile's cached SSO token
// (from `aws sso login`) buys role credentials at the SSO portal, named by
// AWS_ENDPOINT_URL_SSO, or by AWS_ENDPOINT_URL alone (which the SDK's SSO
// provider ignores: kmsgen points AWS_ENDPOINT_URL_SSO at it).
func TestCredentialsSSO(t *testing.T) {
	for _, endpointVar := range []string{"AWS_ENDPOINT_URL_SSO", "AWS_ENDPOINT_URL"} {
		t.Run(endpointVar, func(t *testing.T) { testCredentialsSSO(t, endpointVar) })
	}
}

func testCredentialsSSO(t *testing.T, endpointVar string) {
	testCredentialSource(t, credSource{
		want: tempCreds{"ASIASSOKMSGEN", "sso-secret", "sso-token"},
		setup: func(t *testing.T, w *credWorld, creds tempCreds) (map[string]string, func(*testing.T)) {
			const (
				startURL    = "https://kmsgen-test.invalid/start" // only the cache key: never contacted
				accountID   = "123456789012"
				roleName    = "kmsgen-sso"
				accessToken = "sso-cached-access-token"
			)
			portal := newSSOFake(t, accessToken, accountID, roleName, creds)
			w.writeConfig(t, fmt.Sprintf("[profile sso]\nsso_start_url = %s\nsso_region = %s\nsso_account_id = %s\nsso_role_name = %s\nregion = %s\n",
				startURL, fakekms.Region, accountID, roleName, fakekms.Region))
			w.cacheSSOToken(t, startURL, accessToken)
			return map[string]string{
					"AWS_PROFILE": "sso",
					endpointVar:   portal.URL,
				}, func(t *testing.T) {
					portal.assertLog(t, "GET /federation/credentials 200")
				}
		},
	})
}

// TestCredentialsRoleChainedProfile: a role profile whose source_profile
// gets its credentials from a credential_process; the SDK assumes the role
// at STS (moto) with them, and kmsgen decrypts as the role.
func TestCredentialsRoleChainedProfile(t *testing.T) {
	w := newCredWorld(t)
	kms := newRecordingKMS(t)
	moto := kmsEmulator(t, emulator.Moto)
	const role = "arn:aws:iam::123456789012:role/chained"
	base, ran := w.credentialProcess(t, "base", `{"Version":1,"AccessKeyId":"AKIDBASEPROCESS","SecretAccessKey":"x"}`)
	w.writeConfig(t, "[profile base]\ncredential_process = "+base+"\n\n"+
		"[profile app]\nrole_arn = "+role+"\nsource_profile = base\nregion = "+fakekms.Region+"\n")
	env := w.env(map[string]string{
		"AWS_PROFILE":          "app",
		"AWS_ENDPOINT_URL_STS": moto.URL,
		"AWS_ENDPOINT_URL_KMS": kms.URL,
	})
	plaintext := canary + "-chained"
	buildLiteral(t, w, env, kms.sealed(plaintext), "kms: {keyId: "+credAlias+"}\n", plaintext)

	session := assertMotoSession(t, kms, moto.URL, role)
	if session.AccessKeyID == "AKIDBASEPROCESS" {
		t.Errorf("KMS was called with the source profile's key: the role was not assumed")
	}
	if !ran() {
		t.Errorf("the source profile's credential_process never ran")
	}
}

// TestCredentialsProcess: a profile whose credential_process prints
// temporary credentials.
func TestCredentialsProcess(t *testing.T) {
	testCredentialSource(t, credSource{
		want: tempCreds{"AKIDPROCESS", "s", "process-token"},
		setup: func(t *testing.T, w *credWorld, creds tempCreds) (map[string]string, func(*testing.T)) {
			out, err := json.Marshal(map[string]any{"Version": 1, "AccessKeyId": creds.AccessKeyID,
				"SecretAccessKey": creds.SecretAccessKey, "SessionToken": creds.SessionToken})
			check(t, err)
			script, _ := w.credentialProcess(t, "p", string(out))
			w.writeConfig(t, "[profile p]\ncredential_process = "+script+"\n")
			return map[string]string{"AWS_PROFILE": "p"}, nil
		},
	})
}

// TestRegionFromProfileVersusKeyARN: KMS is called in the profile's region
// for an alias, but in the key's own region for a key ARN.
func TestRegionFromProfileVersusKeyARN(t *testing.T) {
	w := newCredWorld(t)
	kms := newRecordingKMS(t)
	const accessKey = "AKIDPROFILESTATIC"
	w.writeConfig(t, "[profile r]\nregion = us-west-2\n")
	w.writeCredentials(t, "[r]\naws_access_key_id = "+accessKey+"\naws_secret_access_key = kmsgen-profile-secret\n")
	env := w.env(map[string]string{"AWS_PROFILE": "r", "AWS_ENDPOINT_URL_KMS": kms.URL})
	for _, tc := range []struct {
		name, keyID, wantRegion string
	}{
		{"generator A: an alias, in the profile's region", credAlias, "us-west-2"},
		{"generator B: a key ARN, in the key's region", fakekms.ARN(credKeyID), fakekms.Region},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plaintext := canary + "-" + tc.wantRegion
			buildLiteral(t, w, env, kms.sealed(plaintext), "kms: {keyId: "+tc.keyID+"}\n", plaintext)
			want := []kmsCall{{Operation: "Decrypt", Region: tc.wantRegion, AccessKeyID: accessKey}}
			if diff := cmp.Diff(want, kms.take()); diff != "" {
				t.Errorf("KMS calls (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSTSFollowsEndpointURL: with only AWS_ENDPOINT_URL set, the web
// identity exchange goes to that endpoint too (kmsgen sets
// AWS_ENDPOINT_URL_STS from it), not to the public regional STS endpoint,
// which the guard proxy would see.
func TestSTSFollowsEndpointURL(t *testing.T) {
	w := newCredWorld(t)
	moto := kmsEmulator(t, emulator.Moto)
	alias := "alias/" + uniqueName("sts-follows")
	if _, err := moto.CreateKey(t.Context(), alias); err != nil {
		t.Fatal(err)
	}
	plaintext := canary + "-sts-follows"
	blob, err := moto.Encrypt(t.Context(), alias, nil, []byte(plaintext))
	check(t, err)
	role := "arn:aws:iam::123456789012:role/" + uniqueName("kmsgen-sts")
	vars := w.webIdentity(t, role)
	maps.Copy(vars, map[string]string{"AWS_REGION": fakekms.Region, "AWS_ENDPOINT_URL": moto.URL})
	buildLiteral(t, w, w.env(vars), base64.StdEncoding.EncodeToString(blob), "kms: {keyId: "+alias+"}\n", plaintext)

	var assumed []motoSession
	for _, s := range motoSessions(t, moto.URL) {
		if s.RoleARN == role {
			assumed = append(assumed, s)
		}
	}
	if len(assumed) != 1 {
		t.Errorf("moto issued %d sessions for %s, want 1", len(assumed), role)
	}
}

// credSource is a credential source whose fakes issue fixed credentials,
// for testCredentialSource.
type credSource struct {
	// want are the credentials the source issues; Decrypt must be signed
	// with them.
	want tempCreds
	// setup starts the source's fakes, issuing creds, and returns the
	// environment that selects the source and a check of the fakes after
	// kmsgen ran (nil: none).
	setup func(t *testing.T, w *credWorld, creds tempCreds) (vars map[string]string, verify func(*testing.T))
}

// testCredentialSource runs kmsgen with src's environment (plus AWS_REGION
// and the fake KMS's endpoint) and checks that the one Decrypt it made was
// signed with src's credentials.
func testCredentialSource(t *testing.T, src credSource) {
	t.Helper()
	w := newCredWorld(t)
	kms := newRecordingKMS(t)
	vars, verify := src.setup(t, w, src.want)
	maps.Copy(vars, map[string]string{"AWS_REGION": fakekms.Region, "AWS_ENDPOINT_URL_KMS": kms.URL})
	plaintext := canary + "-" + t.Name()
	buildLiteral(t, w, w.env(vars), kms.sealed(plaintext), "kms: {keyId: "+credAlias+"}\n", plaintext)
	want := []kmsCall{{Operation: "Decrypt", Region: fakekms.Region, AccessKeyID: src.want.AccessKeyID, SessionToken: src.want.SessionToken}}
	if diff := cmp.Diff(want, kms.take()); diff != "" {
		t.Errorf("KMS calls (-want +got):\n%s", diff)
	}
	if verify != nil {
		verify(t)
	}
}

// buildLiteral runs `kmsgen build gen.yaml` in env on a generator whose
// literal A is ciphertext (base64), with kms (a "kms: ..." line, or ""),
// and fails the test unless kmsgen succeeded and printed one Secret with
// A = plaintext, nothing of the plaintext reached stderr, and the guard
// proxy saw no request.
func buildLiteral(t *testing.T, w *credWorld, env []string, ciphertext, kms, plaintext string) {
	t.Helper()
	dir := t.TempDir()
	testfiles.Write(t, dir, map[string]string{"gen.yaml": execGenerator("creds") + "literals: [A=" + ciphertext + "]\n" + kms})
	res := run(t, dir, env, nil, "kmsgen", "build", "gen.yaml")
	assertNoCanary(t, res.stderr)
	w.proxy.assertUntouched(t)
	if res.code != 0 {
		t.Fatalf("kmsgen build exited %d:\n%s", res.code, res.stderr)
	}
	got := slices.Collect(maps.Values(secretData(t, res.stdout)))
	if diff := cmp.Diff([]map[string]string{{"A": plaintext}}, got); diff != "" {
		t.Errorf("Secret data (-want +got):\n%s", diff)
	}
}

// credWorld is the machine a kmsgen run sees: a HOME and AWS config and
// credentials files of its own (empty until a test writes them), a
// scratch directory for token files and scripts, and the guard proxy.
type credWorld struct {
	dir, home                   string
	configFile, credentialsFile string
	proxy                       *guardProxy
}

func newCredWorld(t *testing.T) *credWorld {
	t.Helper()
	w := &credWorld{dir: t.TempDir(), home: t.TempDir(), proxy: newGuardProxy(t)}
	w.configFile = w.file(t, "config", "", 0o600)
	w.credentialsFile = w.file(t, "credentials", "", 0o600)
	return w
}

// env is kmsgen's whole environment: the test process's without any AWS,
// kmsgen, proxy or HOME setting; then the world's HOME, config files and
// guard proxy, with instance metadata disabled; then vars, which override
// those (an empty value removes the variable).
func (w *credWorld) env(vars map[string]string) []string {
	set := map[string]string{
		"HOME":                        w.home,
		"AWS_CONFIG_FILE":             w.configFile,
		"AWS_SHARED_CREDENTIALS_FILE": w.credentialsFile,
		"HTTP_PROXY":                  w.proxy.URL,
		"HTTPS_PROXY":                 w.proxy.URL,
		"AWS_EC2_METADATA_DISABLED":   "true",
	}
	maps.Copy(set, vars)
	env := without(baseEnv(), "HOME", "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy",
		"NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy")
	for _, name := range slices.Sorted(maps.Keys(set)) {
		if set[name] != "" {
			env = append(env, name+"="+set[name])
		}
	}
	return env
}

// file writes content to name in the world's scratch directory and
// returns its path.
func (w *credWorld) file(t *testing.T, name, content string, perm os.FileMode) string {
	t.Helper()
	path := filepath.Join(w.dir, name)
	check(t, os.WriteFile(path, []byte(content), perm))
	return path
}

func (w *credWorld) writeConfig(t *testing.T, content string) {
	t.Helper()
	check(t, os.WriteFile(w.configFile, []byte(content), 0o600))
}

func (w *credWorld) writeCredentials(t *testing.T, content string) {
	t.Helper()
	check(t, os.WriteFile(w.credentialsFile, []byte(content), 0o600))
}

// webIdentity returns the environment of IRSA: AWS_ROLE_ARN, a token file
// holding webIdentityToken, and AWS_ROLE_SESSION_NAME kmsgen-test.
func (w *credWorld) webIdentity(t *testing.T, role string) map[string]string {
	t.Helper()
	return map[string]string{
		"AWS_ROLE_ARN":                role,
		"AWS_WEB_IDENTITY_TOKEN_FILE": w.file(t, "web-identity-token", webIdentityToken, 0o600),
		"AWS_ROLE_SESSION_NAME":       "kmsgen-test",
	}
}

// credentialProcess writes a credential_process script that prints out,
// and returns its path and a func reporting whether it ran.
func (w *credWorld) credentialProcess(t *testing.T, name, out string) (string, func() bool) {
	t.Helper()
	marker := filepath.Join(w.dir, name+".ran")
	script := w.file(t, name+"-credentials.sh", "#!/bin/sh\n: >'"+marker+"'\ncat <<'EOF'\n"+out+"\nEOF\n", 0o700)
	return script, func() bool {
		_, err := os.Stat(marker)
		return err == nil
	}
}

// cacheSSOToken writes the token `aws sso login` caches for a legacy SSO
// profile: ~/.aws/sso/cache/<sha1 hex of the start URL>.json, valid for
// an hour.
func (w *credWorld) cacheSSOToken(t *testing.T, startURL, accessToken string) {
	t.Helper()
	body, err := json.Marshal(map[string]string{
		"accessToken": accessToken,
		"expiresAt":   time.Now().Add(time.Hour).UTC().Format(time.RFC3339),
		"region":      fakekms.Region,
		"startUrl":    startURL,
	})
	check(t, err)
	name := fmt.Sprintf("%x.json", sha1.Sum([]byte(startURL)))
	testfiles.Write(t, w.home, map[string]string{".aws/sso/cache/" + name: string(body)})
}

// guardProxy stands in for any proxy, and for the network: kmsgen's
// environment names it in HTTP_PROXY and HTTPS_PROXY, so Go's
// ProxyFromEnvironment sends it every request for a host that is not on
// loopback, such as a real AWS endpoint. It refuses them all (403,
// CONNECT included) and records them.
type guardProxy struct {
	URL string

	mu       sync.Mutex
	requests []string
}

func newGuardProxy(t *testing.T) *guardProxy {
	t.Helper()
	p := &guardProxy{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.requests = append(p.requests, r.Method+" "+r.Host+r.URL.Path)
		p.mu.Unlock()
		http.Error(w, "kmsgen tests: no request may leave the machine", http.StatusForbidden)
	}))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// assertUntouched fails the test if any request came through the proxy.
func (p *guardProxy) assertUntouched(t *testing.T) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.requests) != 0 {
		t.Errorf("requests for the network reached the guard proxy: %q", p.requests)
	}
}

// recordingKMS is a fake KMS holding credKey (alias credAlias) that
// records which credentials signed each call.
type recordingKMS struct {
	*fakekms.Server

	mu    sync.Mutex
	calls []kmsCall
}

// kmsCall is what the tests check of a KMS call: its region and the
// credentials that signed it.
type kmsCall struct {
	Operation, Region, AccessKeyID, SessionToken string
}

func newRecordingKMS(t *testing.T) *recordingKMS {
	t.Helper()
	k := &recordingKMS{Server: kmstest.Start(t, kmstest.NewKey(credKeyID, credAlias))}
	k.SetFault(func(c fakekms.Call) *fakekms.Fault {
		k.mu.Lock()
		defer k.mu.Unlock()
		k.calls = append(k.calls, kmsCall{Operation: c.Operation, Region: c.Region, AccessKeyID: c.AccessKeyID, SessionToken: c.SessionToken})
		return nil
	})
	return k
}

// take returns the calls recorded since the last take.
func (k *recordingKMS) take() []kmsCall {
	k.mu.Lock()
	defer k.mu.Unlock()
	calls := k.calls
	k.calls = nil
	return calls
}

// sealed is the base64 ciphertext of plaintext under credKey, without
// encryption context.
func (k *recordingKMS) sealed(plaintext string) string {
	return base64.StdEncoding.EncodeToString(k.Encrypt(credKeyID, nil, []byte(plaintext)))
}

// motoSession is a set of temporary credentials moto's STS issued.
type motoSession struct {
	RoleARN      string `json:"role_arn"`
	SessionName  string `json:"session_name"`
	AccessKeyID  string `json:"access_key_id"`
	SessionToken string `json:"session_token"`
}

// motoSessions returns every session moto's STS has issued, from its
// state dump.
func motoSessions(t *testing.T, url string) []motoSession {
	t.Helper()
	resp, err := http.Get(url + "/moto-api/data.json")
	check(t, err)
	defer resp.Body.Close()
	var state struct {
		STS struct {
			AssumedRole []motoSession
		} `json:"sts"`
	}
	check(t, json.NewDecoder(resp.Body).Decode(&state))
	return state.STS.AssumedRole
}

// assertMotoSession checks that kms saw one Decrypt, in fakekms.Region,
// signed with temporary credentials (an ASIA key and a session token)
// that moto's STS issued for role, and returns that session.
func assertMotoSession(t *testing.T, kms *recordingKMS, motoURL, role string) motoSession {
	t.Helper()
	calls := kms.take()
	if len(calls) != 1 {
		t.Fatalf("KMS calls = %+v, want one Decrypt", calls)
	}
	got := calls[0]
	if !strings.HasPrefix(got.AccessKeyID, "ASIA") || got.SessionToken == "" {
		t.Errorf("Decrypt signed with key %q and session token %q; want temporary credentials", got.AccessKeyID, got.SessionToken)
	}
	for _, s := range motoSessions(t, motoURL) {
		if s.AccessKeyID != got.AccessKeyID {
			continue
		}
		want := kmsCall{Operation: "Decrypt", Region: fakekms.Region, AccessKeyID: s.AccessKeyID, SessionToken: s.SessionToken}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("KMS call (-want: moto's session +got):\n%s", diff)
		}
		if s.RoleARN != role {
			t.Errorf("moto issued %s for role %s, want %s", s.AccessKeyID, s.RoleARN, role)
		}
		return s
	}
	t.Fatalf("Decrypt was signed with %s, which moto's STS never issued", got.AccessKeyID)
	return motoSession{}
}

// credServer is a loopback fake of a credential endpoint. handle sets the
// response's headers and returns its status and body; every request is
// logged as "METHOD /path STATUS".
type credServer struct {
	URL string

	mu  sync.Mutex
	log []string
}

func newCredServer(t *testing.T, handle func(r *http.Request, h http.Header) (status int, body string)) *credServer {
	t.Helper()
	s := &credServer{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status, body := handle(r, w.Header())
		s.mu.Lock()
		s.log = append(s.log, fmt.Sprintf("%s %s %d", r.Method, r.URL.Path, status))
		s.mu.Unlock()
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// assertLog fails the test unless the server's log is want.
func (s *credServer) assertLog(t *testing.T, want ...string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if diff := cmp.Diff(want, s.log); diff != "" {
		t.Errorf("requests to %s (-want +got):\n%s", s.URL, diff)
	}
}

// jsonBody is v as a JSON response body; it sets the Content-Type.
func jsonBody(h http.Header, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	h.Set("Content-Type", "application/json")
	return string(b)
}

// newPodIdentityFake fakes the EKS Pod Identity agent: GET /v1/credentials
// with the Authorization header authToken answers creds, for an hour;
// anything else is refused.
func newPodIdentityFake(t *testing.T, authToken string, creds tempCreds) *credServer {
	return newCredServer(t, func(r *http.Request, h http.Header) (int, string) {
		switch {
		case r.Method != http.MethodGet || r.URL.Path != "/v1/credentials":
			return http.StatusNotFound, ""
		case r.Header.Get("Authorization") != authToken:
			return http.StatusUnauthorized, jsonBody(h, map[string]string{"code": "AccessDenied", "message": "bad authorization token"})
		}
		return http.StatusOK, jsonBody(h, map[string]string{
			"AccessKeyId":     creds.AccessKeyID,
			"SecretAccessKey": creds.SecretAccessKey,
			"Token":           creds.SessionToken,
			"Expiration":      time.Now().Add(time.Hour).UTC().Format(time.RFC3339),
		})
	})
}

// newIMDSFake fakes the EC2 instance metadata service in IMDSv2-only mode:
// PUT /latest/api/token (with a TTL header) issues a session token, and
// metadata GETs without that token are refused (401). The instance
// profile's role is role, with creds for an hour.
func newIMDSFake(t *testing.T, role string, creds tempCreds) *credServer {
	const (
		ttlHeader   = "X-Aws-Ec2-Metadata-Token-Ttl-Seconds"
		tokenHeader = "X-Aws-Ec2-Metadata-Token"
		token       = "imds-session-token"
		credsPath   = "/latest/meta-data/iam/security-credentials/"
	)
	return newCredServer(t, func(r *http.Request, h http.Header) (int, string) {
		if r.URL.Path == "/latest/api/token" {
			ttl := r.Header.Get(ttlHeader)
			if r.Method != http.MethodPut || ttl == "" {
				return http.StatusBadRequest, ""
			}
			h.Set(ttlHeader, ttl)
			return http.StatusOK, token
		}
		if r.Method != http.MethodGet {
			return http.StatusMethodNotAllowed, ""
		}
		if r.Header.Get(tokenHeader) != token {
			return http.StatusUnauthorized, ""
		}
		switch r.URL.Path {
		case credsPath:
			return http.StatusOK, role
		case credsPath + role:
			return http.StatusOK, jsonBody(h, map[string]string{
				"Code":            "Success",
				"LastUpdated":     time.Now().UTC().Format(time.RFC3339),
				"Type":            "AWS-HMAC",
				"AccessKeyId":     creds.AccessKeyID,
				"SecretAccessKey": creds.SecretAccessKey,
				"Token":           creds.SessionToken,
				"Expiration":      time.Now().Add(time.Hour).UTC().Format(time.RFC3339),
			})
		}
		return http.StatusNotFound, ""
	})
}

// newSSOFake fakes the IAM Identity Center portal's GetRoleCredentials:
// GET /federation/credentials?account_id=…&role_name=… with the bearer
// token accessToken answers creds, for an hour.
func newSSOFake(t *testing.T, accessToken, accountID, roleName string, creds tempCreds) *credServer {
	return newCredServer(t, func(r *http.Request, h http.Header) (int, string) {
		q := r.URL.Query()
		switch {
		case r.Method != http.MethodGet || r.URL.Path != "/federation/credentials":
			return http.StatusNotFound, ""
		case r.Header.Get("X-Amz-Sso_bearer_token") != accessToken:
			h.Set("X-Amzn-ErrorType", "UnauthorizedException")
			return http.StatusUnauthorized, jsonBody(h, map[string]string{"message": "Session token not found or invalid"})
		case q.Get("account_id") != accountID || q.Get("role_name") != roleName:
			h.Set("X-Amzn-ErrorType", "ForbiddenException")
			return http.StatusForbidden, jsonBody(h, map[string]string{"message": "No access"})
		}
		return http.StatusOK, jsonBody(h, map[string]any{"roleCredentials": map[string]any{
			"accessKeyId":     creds.AccessKeyID,
			"secretAccessKey": creds.SecretAccessKey,
			"sessionToken":    creds.SessionToken,
			"expiration":      time.Now().Add(time.Hour).UnixMilli(),
		}})
	})
}
