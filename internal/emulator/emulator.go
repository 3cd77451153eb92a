// Package emulator starts the KMS emulators the tests run against, each on
// a random high loopback port, and stops them by PID: local-kms (which
// listens on every interface, hence the random port) and moto_server. They
// behave differently (ciphertext formats, error codes for a wrong key), and
// kmsgen must pass on both.
package emulator

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"kmsgen.dev/kmsgen/internal/awstest"
)

// Emulator names.
const (
	LocalKMS = "local-kms"
	Moto     = "moto"
)

// Region is the region the emulators serve: the tests' one region.
const Region = awstest.Region

// KMS is a running emulator.
type KMS struct {
	Name string
	URL  string
	cmd  *exec.Cmd
	dir  string
	log  *os.File
}

// Options for Start.
type Options struct {
	// Seed is a local-kms seed file (keys and aliases created at start).
	Seed string
}

// Start starts the named emulator and waits until it answers. Its binary
// must be on PATH: local-kms from `make tools`, moto_server preinstalled.
func Start(name string, opts Options) (*KMS, error) {
	var lastErr error
	for range 3 { // a random port can be taken between choosing and binding
		k, err := start(name, opts)
		if err == nil {
			return k, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func start(name string, opts Options) (*KMS, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "kmsgen-"+name+"-")
	if err != nil {
		return nil, err
	}
	var cmd *exec.Cmd
	switch name {
	case LocalKMS:
		bin, err := exec.LookPath("local-kms")
		if err != nil {
			return nil, fmt.Errorf("local-kms is not on PATH: run `make tools` (make test does it): %w", err)
		}
		cmd = exec.Command(bin)
		seed := opts.Seed
		if seed == "" {
			seed = filepath.Join(dir, "no-seed.yaml")
		}
		cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port), "KMS_REGION="+Region,
			"KMS_DATA_PATH="+filepath.Join(dir, "data"), "KMS_SEED_PATH="+seed)
	case Moto:
		bin, err := exec.LookPath("moto_server")
		if err != nil {
			return nil, fmt.Errorf("moto_server is not on PATH (it is preinstalled on go-docker machines): %w", err)
		}
		cmd = exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	default:
		return nil, fmt.Errorf("unknown emulator %q", name)
	}
	log, err := os.Create(filepath.Join(dir, "emulator.log"))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	k := &KMS{Name: name, URL: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, dir: dir, log: log}
	if err := k.waitReady(30 * time.Second); err != nil {
		k.Stop()
		return nil, err
	}
	return k, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (k *KMS) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	exited := make(chan error, 1)
	go func() { exited <- k.cmd.Wait() }()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := k.Client().ListKeys(ctx, &kms.ListKeysInput{})
		cancel()
		if err == nil {
			go func() { <-exited }()
			return nil
		}
		select {
		case werr := <-exited:
			return fmt.Errorf("%s exited before answering (%v); log: %s", k.Name, werr, k.Log())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer on %s within %s: %v; log: %s", k.Name, k.URL, timeout, err, k.Log())
		}
	}
}

// Log returns what the emulator printed.
func (k *KMS) Log() string {
	b, _ := os.ReadFile(k.log.Name())
	return strings.TrimSpace(string(b))
}

// Stop kills the emulator's process group (by PID) and removes its files.
func (k *KMS) Stop() {
	if k.cmd.Process != nil {
		_ = syscall.Kill(-k.cmd.Process.Pid, syscall.SIGKILL)
	}
	k.log.Close()
	os.RemoveAll(k.dir)
}

// Env returns the environment that points the AWS SDK and CLI at the
// emulator with test credentials and no other AWS configuration.
func (k *KMS) Env() []string {
	return awstest.Env(k.URL)
}

// Client returns a KMS client for the emulator.
func (k *KMS) Client() *kms.Client {
	return k.ClientIn(Region)
}

// ClientIn returns a KMS client for the emulator that signs its requests
// for region: moto keeps the keys of each region apart, local-kms serves
// one region whatever the signature says.
func (k *KMS) ClientIn(region string) *kms.Client {
	return kms.New(kms.Options{
		Region:       region,
		BaseEndpoint: aws.String(k.URL),
		Credentials:  credentials.NewStaticCredentialsProvider(awstest.AccessKeyID, awstest.SecretAccessKey, ""),
	})
}

// CreateKey creates a symmetric key with an alias ("alias/x", optional)
// and returns its ARN.
func (k *KMS) CreateKey(ctx context.Context, alias string) (string, error) {
	return k.CreateKeyIn(ctx, Region, alias)
}

// CreateKeyIn creates a symmetric key in region (on moto; local-kms has
// only Region) with an alias ("alias/x", optional) and returns its ARN.
func (k *KMS) CreateKeyIn(ctx context.Context, region, alias string) (string, error) {
	c := k.ClientIn(region)
	out, err := c.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("kmsgen test key " + alias)})
	if err != nil {
		return "", fmt.Errorf("%s CreateKey: %w", k.Name, err)
	}
	arn := aws.ToString(out.KeyMetadata.Arn)
	if alias != "" {
		if _, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(alias), TargetKeyId: aws.String(arn)}); err != nil {
			return "", fmt.Errorf("%s CreateAlias %s: %w", k.Name, alias, err)
		}
	}
	return arn, nil
}

// Encrypt encrypts plaintext under keyID with an encryption context.
func (k *KMS) Encrypt(ctx context.Context, keyID string, context map[string]string, plaintext []byte) ([]byte, error) {
	out, err := k.Client().Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(keyID), Plaintext: plaintext, EncryptionContext: context})
	if err != nil {
		return nil, fmt.Errorf("%s Encrypt: %w", k.Name, err)
	}
	return out.CiphertextBlob, nil
}

// DisableKey disables a key.
func (k *KMS) DisableKey(ctx context.Context, keyID string) error {
	_, err := k.Client().DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(keyID)})
	return err
}

// EnableKey enables a key again.
func (k *KMS) EnableKey(ctx context.Context, keyID string) error {
	_, err := k.Client().EnableKey(ctx, &kms.EnableKeyInput{KeyId: aws.String(keyID)})
	return err
}

// ScheduleDeletion puts a key in PendingDeletion.
func (k *KMS) ScheduleDeletion(ctx context.Context, keyID string) error {
	_, err := k.Client().ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: aws.String(keyID), PendingWindowInDays: aws.Int32(7)})
	return err
}
