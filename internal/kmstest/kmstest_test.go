package kmstest_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/google/go-cmp/cmp"

	"kmsgen.dev/kmsgen/internal/awstest"
	"kmsgen.dev/kmsgen/internal/fakekms"
	"kmsgen.dev/kmsgen/internal/kmstest"
)

const (
	keyA = "11111111-1111-1111-1111-111111111111"
	keyB = "22222222-2222-2222-2222-222222222222"

	// childEnv, set in its environment, makes the test binary act as a
	// child process of TestEnvChildProcess.
	childEnv = "KMSTEST_CHILD"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		if err := child(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// roundTrip encrypts plaintext under keyID with the default config's client,
// decrypts it and returns the Decrypt response's KeyId and plaintext.
func roundTrip(ctx context.Context, keyID, plaintext string) (string, string, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return "", "", err
	}
	if cfg.Region != fakekms.Region {
		return "", "", fmt.Errorf("default config region = %q, want %q", cfg.Region, fakekms.Region)
	}
	c := kms.NewFromConfig(cfg)
	ec := map[string]string{"test": "kmstest"}
	enc, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(keyID), EncryptionContext: ec, Plaintext: []byte(plaintext)})
	if err != nil {
		return "", "", err
	}
	dec, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ec})
	if err != nil {
		return "", "", err
	}
	return aws.ToString(dec.KeyId), string(dec.Plaintext), nil
}

// child runs in a child process whose environment is Env's only.
func child() error {
	keyID, plaintext, err := roundTrip(context.Background(), "alias/a", "from the child")
	if err != nil {
		return err
	}
	fmt.Printf("%s %s\n", keyID, plaintext)
	return nil
}

func TestNewKey(t *testing.T) {
	for _, tc := range []struct {
		got, want kmstest.Key
	}{
		{kmstest.NewKey(keyA), kmstest.Key{ID: keyA}},
		{kmstest.NewKey(keyA, "alias/a", "alias/b"), kmstest.Key{ID: keyA, Aliases: []string{"alias/a", "alias/b"}}},
	} {
		if diff := cmp.Diff(tc.want, tc.got); diff != "" {
			t.Errorf("NewKey (-want +got):\n%s", diff)
		}
	}
}

func TestStart(t *testing.T) {
	srv := kmstest.Start(t, kmstest.NewKey(keyA, "alias/a"), kmstest.NewKey(keyB, "alias/b", "alias/b2"))
	if got := os.Getenv("AWS_ENDPOINT_URL"); got != srv.URL {
		t.Errorf("AWS_ENDPOINT_URL = %q, want %q", got, srv.URL)
	}
	for _, tc := range []struct{ keyID, wantKey string }{
		{"alias/a", keyA},
		{keyA, keyA},
		{"alias/b", keyB},
		{"alias/b2", keyB},
	} {
		keyID, plaintext, err := roundTrip(context.Background(), tc.keyID, "secret "+tc.keyID)
		if err != nil {
			t.Errorf("round trip with %s: %v", tc.keyID, err)
			continue
		}
		if diff := cmp.Diff([]string{fakekms.ARN(tc.wantKey), "secret " + tc.keyID}, []string{keyID, plaintext}); diff != "" {
			t.Errorf("round trip with %s: KeyId and plaintext (-want +got):\n%s", tc.keyID, diff)
		}
	}
	for op, want := range map[string]int{"Encrypt": 4, "Decrypt": 4} {
		if got := srv.Calls(op); got != want {
			t.Errorf("Calls(%s) = %d, want %d", op, got, want)
		}
	}
}

func TestAWSTestEnv(t *testing.T) {
	const endpoint = "http://127.0.0.1:1"
	env := awstest.Env(endpoint)
	got := map[string]string{}
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			t.Fatalf("entry %q is not KEY=value", kv)
		}
		if _, dup := got[k]; dup {
			t.Errorf("%s set twice", k)
		}
		got[k] = v
	}
	for _, name := range []string{"AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"} {
		if _, err := os.Stat(got[name]); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s=%s: Stat error = %v, want not exist", name, got[name], err)
		}
		delete(got, name)
	}
	want := map[string]string{
		"AWS_ACCESS_KEY_ID":         awstest.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":     awstest.SecretAccessKey,
		"AWS_REGION":                fakekms.Region,
		"AWS_DEFAULT_REGION":        fakekms.Region,
		"AWS_ENDPOINT_URL":          endpoint,
		"AWS_EC2_METADATA_DISABLED": "true",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Env (-want +got, config files left out):\n%s", diff)
	}
	if awstest.Region != fakekms.Region {
		t.Errorf("awstest.Region = %q, want %q", awstest.Region, fakekms.Region)
	}
}

// TestEnvChildProcess runs this test binary as a child process whose
// environment is Env's entries only (no PATH, HOME or AWS_PROFILE).
func TestEnvChildProcess(t *testing.T) {
	srv := kmstest.Start(t, kmstest.NewKey(keyA, "alias/a"))
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(awstest.Env(srv.URL), childEnv+"=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, stderr.String())
	}
	if diff := cmp.Diff(fakekms.ARN(keyA)+" from the child\n", string(out)); diff != "" {
		t.Errorf("child output (-want +got):\n%s", diff)
	}
	for op, want := range map[string]int{"Encrypt": 1, "Decrypt": 1} {
		if got := srv.Calls(op); got != want {
			t.Errorf("Calls(%s) = %d, want %d (the child's calls reach the started server)", op, got, want)
		}
	}
}
