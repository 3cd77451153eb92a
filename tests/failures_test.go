package tests

import (
	"encoding/base64"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kmsgen.dev/kmsgen/internal/awstest"
	"kmsgen.dev/kmsgen/internal/fakekms"
	"kmsgen.dev/kmsgen/internal/kmstest"
	"kmsgen.dev/kmsgen/internal/testfiles"
)

const fakeKey = "33333333-3333-3333-3333-333333333333"

// fakeTree is a kustomization whose generator decrypts, through the fake
// KMS, an env file and a literal holding the canary; extra is appended to
// the generator and files overrides or adds files.
func fakeTree(fake *fakekms.Server, extra string, files map[string]string) map[string]string {
	env := fake.Encrypt(fakeKey, nil, []byte("DB_PASSWORD="+canary+"\nBAD KEY "+canary+"=1\n"))
	good := fake.Encrypt(fakeKey, nil, []byte("DB_PASSWORD="+canary+"\n"))
	lit := fake.Encrypt(fakeKey, nil, []byte(canary))
	tree := map[string]string{
		"kustomization.yaml":  "generators: [generator.yaml]\n",
		"app.env.encrypted":   base64.StdEncoding.EncodeToString(good),
		"bad.env.encrypted":   base64.StdEncoding.EncodeToString(env),
		"plain.env.encrypted": "DB_PASSWORD=" + canary + "\nAPI_TOKEN=" + canary + "\n",
		"generator.yaml":      execGenerator("app-secrets") + "literals: [API_TOKEN=" + base64.StdEncoding.EncodeToString(lit) + "]\n" + extra,
	}
	for name, content := range files {
		tree[name] = content
	}
	return tree
}

func closedPortURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return "http://" + l.Addr().String()
}

// TestFailuresUnderKustomize runs every kind of failure through the real
// kustomize and the kmsgen binary: non-zero exit, one kmsgen line on stderr
// naming the generator, the source and the fix, no Secret, no plaintext.
func TestFailuresUnderKustomize(t *testing.T) {
	fake := kmstest.Start(t, kmstest.NewKey(fakeKey, "alias/fake"))
	outside := t.TempDir()
	testfiles.Write(t, outside, map[string]string{"secret.encrypted": base64.StdEncoding.EncodeToString(fake.Encrypt(fakeKey, nil, []byte(canary)))})

	awsEnv := func(extra ...string) []string {
		return append(append(baseEnv(), awstest.Env(fake.URL)...), extra...)
	}
	tests := []struct {
		name  string
		extra string
		files map[string]string
		env   []string
		fault fakekms.FaultFunc
		setup func(t *testing.T, dir string)
		want  []string
		// noKMS: the failure must come before any Decrypt call.
		noKMS bool
	}{
		{name: "unknown field", extra: "envz: [app.env.encrypted]\n", noKMS: true,
			want: []string{`unknown field "envz"`}},
		{name: "invalid behavior", extra: "behavior: upsert\n", noKMS: true,
			want: []string{`behavior: "upsert": want create, merge or replace`}},
		{name: "path outside the root", extra: "envs: [../outside.env.encrypted]\n", noKMS: true,
			want: []string{`envs[0] "../outside.env.encrypted": the path leaves the kustomization root`}},
		{name: "symlink leading outside the root", extra: "files: [link.encrypted]\n", noKMS: true,
			setup: func(t *testing.T, dir string) {
				check(t, os.Symlink(filepath.Join(outside, "secret.encrypted"), filepath.Join(dir, "link.encrypted")))
			},
			want: []string{`files[0] "link.encrypted" (key "link")`, "may not lead outside it"}},
		{name: "missing file", extra: "envs: [missing.env.encrypted]\n", noKMS: true,
			want: []string{`envs[0] "missing.env.encrypted"`, "no such file"}},
		{name: "plaintext committed instead of ciphertext", extra: "envs: [plain.env.encrypted]\n", noKMS: true,
			want: []string{`envs[0] "plain.env.encrypted"`, "readable text that is not base64", "not sent to KMS"}},
		{name: "plaintext pasted as a literal", extra: "files: [{key: token, ciphertext: hunter2}]\n", noKMS: true,
			want: []string{`files[0] (inline) (key "token")`, "too short to be a KMS ciphertext"}},
		{name: "invalid key inside the decrypted env file", extra: "envs: [bad.env.encrypted]\n",
			want: []string{`envs[0] "bad.env.encrypted" line 2: invalid Secret key`}},
		{name: "key repeated across env and literal", extra: "envs: [app.env.encrypted]\nfiles: [DB_PASSWORD=app.env.encrypted]\n",
			want: []string{`key "DB_PASSWORD" repeats the key from envs[0]`}},
		{name: "endpoint unreachable", extra: "kms: {endpoint: " + closedPortURL(t) + "}\n", env: awsEnv("AWS_MAX_ATTEMPTS=1"),
			want: []string{"could not reach http://127.0.0.1:", "kms.endpoint"}},
		{name: "KMS answers Decrypt with {}", extra: "envs: [app.env.encrypted]\n",
			fault: func(fakekms.Call) *fakekms.Fault { return &fakekms.Fault{Body: "{}"} },
			want:  []string{"answered Decrypt with no Plaintext"}},
		{name: "KMS answers without KeyId while a key ARN is pinned", extra: "kms: {keyId: '" + fakekms.ARN(fakeKey) + "'}\n",
			fault: func(fakekms.Call) *fakekms.Fault { return &fakekms.Fault{Omit: []string{"KeyId"}} },
			want:  []string{"answered Decrypt with no KeyId", "the plaintext was discarded"}},
		{name: "KMS answer cut short", extra: "envs: [app.env.encrypted]\n", env: awsEnv("AWS_MAX_ATTEMPTS=1"),
			fault: func(fakekms.Call) *fakekms.Fault { return &fakekms.Fault{CutBody: true} },
			want:  []string{"deserialization failed, unexpected EOF", "(the AWS SDK also logged 2 warnings, not shown)"}},
		{name: "throttled past the retries", env: awsEnv("AWS_MAX_ATTEMPTS=2"),
			fault: func(fakekms.Call) *fakekms.Fault {
				return &fakekms.Fault{Code: "ThrottlingException", Message: "Rate exceeded"}
			},
			want: []string{"ThrottlingException", "after 2 attempts", "KMSGEN_CONCURRENCY"}},
		{name: "timeout", env: awsEnv("KMSGEN_TIMEOUT=300ms"),
			fault: func(fakekms.Call) *fakekms.Fault { return &fakekms.Fault{Delay: 5 * time.Second} },
			want:  []string{"no answer from", "within 300ms", "KMSGEN_TIMEOUT"}},
		{name: "access denied", extra: "kms: {keyId: alias/fake}\n",
			fault: func(fakekms.Call) *fakekms.Fault {
				return &fakekms.Fault{Code: "AccessDeniedException", Message: "User is not authorized to perform: kms:Decrypt"}
			},
			want: []string{"access denied: kms:Decrypt on key alias/fake in region eu-west-1", "grant"}},
		{name: "pinned key ARN differs from the key that decrypted", extra: "kms: {keyId: 'arn:aws:kms:eu-west-1:111122223333:key/" + fakeKey + "'}\n",
			fault: func(fakekms.Call) *fakekms.Fault {
				return &fakekms.Fault{ResponseKeyID: fakekms.ARN("44444444-4444-4444-4444-444444444444")}
			},
			want: []string{"but kms.keyId pins", "discarded"}},
		{name: "no region", env: without(awsEnv(), "AWS_REGION", "AWS_DEFAULT_REGION"), noKMS: true,
			want: []string{"no AWS region is configured", "kms.region"}},
		{name: "no credentials", env: without(awsEnv(), "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"), noKMS: true,
			want: []string{"no usable AWS credentials", "AWS_PROFILE"}},
		{name: "bad KMSGEN_CONCURRENCY", env: awsEnv("KMSGEN_CONCURRENCY=lots"), noKMS: true,
			want: []string{`KMSGEN_CONCURRENCY="lots": want a whole number of at least 1`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			testfiles.Write(t, dir, fakeTree(fake, tc.extra, tc.files))
			if tc.setup != nil {
				tc.setup(t, dir)
			}
			fake.SetFault(tc.fault)
			defer fake.SetFault(nil)
			env := tc.env
			if env == nil {
				env = awsEnv()
			}
			before := fake.Calls("Decrypt")
			res := kustomizeBuild(t, dir, env)
			if res.code == 0 {
				t.Fatalf("kustomize build succeeded:\n%s", res.stdout)
			}
			if strings.Contains(res.stdout, "kind: Secret") {
				t.Errorf("a Secret was printed:\n%s", res.stdout)
			}
			if strings.Contains("\n"+res.stderr, "\nSDK ") {
				t.Errorf("the AWS SDK logged to stderr: %s", res.stderr)
			}
			line := kmsgenLine(res.stderr)
			for _, w := range append(tc.want, `KMSSecretGenerator "app-secrets"`) {
				if !strings.Contains(line, w) {
					t.Errorf("kmsgen's stderr line %q does not contain %q (full stderr: %s)", line, w, res.stderr)
				}
			}
			if tc.noKMS && fake.Calls("Decrypt") != before {
				t.Errorf("%d Decrypt calls were made; this failure must be caught before KMS", fake.Calls("Decrypt")-before)
			}
			assertNoCanary(t, res.stdout, res.stderr)
		})
	}
}

// kmsgenLine returns kmsgen's one-line message from a stderr, or "".
func kmsgenLine(stderr string) string {
	for _, line := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(line, "kmsgen: ") {
			return line
		}
	}
	return ""
}
