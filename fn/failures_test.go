package fn_test

import (
	"bytes"
	"encoding/base64"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kmsgen.dev/kmsgen/fn/krm"

	"kmsgen.dev/kmsgen/fn"
	"kmsgen.dev/kmsgen/fn/awskms"
	"kmsgen.dev/kmsgen/internal/awstest"
	"kmsgen.dev/kmsgen/internal/fakekms"
	"kmsgen.dev/kmsgen/internal/testfiles"
)

// canary is part of every plaintext a failure case encrypts; it must
// appear nowhere in what the function returns or writes.
const canary = "CANARY-9f2c-PLAINTEXT"

// failureCase is the kustomization root of one case and what it encrypted.
type failureCase struct {
	t          *testing.T
	fake       *fakekms.Server
	dir        string // holds root and files outside it
	root       string // the kustomization root: the Processor's WorkDir
	plaintexts []string
	opts       awskms.Options
}

// encrypt returns the ciphertext text of plaintext under alias/app, with
// encryption context ctx ("k=v" or "").
func (c *failureCase) encrypt(ctx, plaintext string) string {
	c.plaintexts = append(c.plaintexts, plaintext)
	var context map[string]string
	if k, v, ok := strings.Cut(ctx, "="); ok {
		context = map[string]string{k: v}
	}
	return base64.StdEncoding.EncodeToString(c.fake.Encrypt(keyApp, context, []byte(plaintext)))
}

// write writes a file relative to the root ("../x" lands outside it).
func (c *failureCase) write(name, content string) {
	testfiles.Write(c.t, c.root, map[string]string{name: content})
}

// threeSources is a body with an env file, a literal and a file, each
// encrypted with context ctx and holding the canary, and then kms.
func threeSources(c *failureCase, ctx, kms string) string {
	c.write("app.env.encrypted", c.encrypt(ctx, "DB_USER=app\nDB_PASSWORD="+canary+"\n"))
	c.write("tls.key.encrypted", c.encrypt(ctx, "-----BEGIN KEY-----"+canary+"-----END KEY-----\n"))
	return "envs:\n- app.env.encrypted\nliterals:\n- TOKEN=" + c.encrypt(ctx, "tok-"+canary) +
		"\nfiles:\n- tls.key.encrypted\n" + kms
}

var allThree = []string{"envs[0]", "literals[0]", "files[0]"}

func closedEndpoint(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "http://" + l.Addr().String()
	l.Close()
	return addr
}

func TestFailuresLeakNothing(t *testing.T) {
	faultAlways := func(f *fakekms.Fault) func(*fakekms.Server) {
		return func(s *fakekms.Server) { s.SetFault(func(fakekms.Call) *fakekms.Fault { return f }) }
	}
	tests := []struct {
		name    string
		prepare func(*fakekms.Server) // optional
		// body returns the generator's fields after metadata.
		body func(c *failureCase) string
		// fields are the field paths of the error results, in order ("" for none).
		fields []string
		// mention are in the messages of the error results.
		mention []string
		// decryptCalls is how many Decrypt calls the fake gets; -1 is unchecked.
		decryptCalls int
	}{
		{name: "unknown field",
			body: func(c *failureCase) string {
				return "envz:\n- app.env.encrypted\nliterals:\n- TOKEN=" + c.encrypt("", canary) + "\n"
			},
			fields: []string{"envz"}, mention: []string{`unknown field "envz"`}},
		{name: "invalid behavior",
			body: func(c *failureCase) string {
				return "behavior: upsert\nliterals:\n- TOKEN=" + c.encrypt("", canary) + "\n"
			},
			fields: []string{"behavior"}, mention: []string{`behavior: "upsert": want create, merge or replace`}},
		{name: "path escaping the root",
			body: func(c *failureCase) string {
				c.write("../outside.encrypted", c.encrypt("", canary))
				return "files:\n- ../outside.encrypted\n"
			},
			fields: []string{"files[0]"}, mention: []string{`files[0] "../outside.encrypted" (key "outside"): the path leaves the kustomization root`, "KMSGEN_LOAD_RESTRICTOR=LoadRestrictionsNone"}},
		{name: "absolute path",
			body: func(c *failureCase) string {
				c.write("../outside.encrypted", c.encrypt("", canary))
				return "files:\n- " + filepath.Join(c.dir, "outside.encrypted") + "\n"
			},
			fields: []string{"files[0]"}, mention: []string{"files[0]: path", "must be relative to the kustomization root"}},
		{name: "symlink in the root to a ciphertext outside",
			body: func(c *failureCase) string {
				c.write("../outside.encrypted", c.encrypt("", canary))
				if err := os.Symlink(filepath.Join(c.dir, "outside.encrypted"), filepath.Join(c.root, "link.encrypted")); err != nil {
					c.t.Fatal(err)
				}
				return "files:\n- link.encrypted\n"
			},
			fields: []string{"files[0]"}, mention: []string{`files[0] "link.encrypted" (key "link")`, "may not lead outside it, symlinks included"}},
		{name: "missing file, valid literal not sent",
			body: func(c *failureCase) string {
				return "envs:\n- missing.env.encrypted\nliterals:\n- TOKEN=" + c.encrypt("", canary) + "\n"
			},
			fields: []string{"envs[0]"}, mention: []string{`envs[0] "missing.env.encrypted"`, "no such file"}},
		{name: "committed plaintext env file",
			body: func(c *failureCase) string {
				c.plaintexts = append(c.plaintexts, "DB_USER=app\nDB_PASSWORD="+canary+"\n")
				c.write("app.env.encrypted", c.plaintexts[0])
				return "envs:\n- app.env.encrypted\n"
			},
			fields: []string{"envs[0]"}, mention: []string{"was the plaintext committed", "It was not sent to KMS"}},
		{name: "ciphertext too short",
			body: func(c *failureCase) string {
				c.plaintexts = append(c.plaintexts, canary)
				c.write("short.encrypted", base64.StdEncoding.EncodeToString([]byte(canary)))
				return "files:\n- short.encrypted\n"
			},
			fields: []string{"files[0]"}, mention: []string{"too short to be a KMS ciphertext (21 bytes"}},
		{name: "wrong encryption context",
			body: func(c *failureCase) string {
				return threeSources(c, "app=a", "kms:\n  encryptionContext:\n    app: other\n")
			},
			fields: allThree, mention: []string{"InvalidCiphertextException", `kms.encryptionContext: {"app":"other"}`}, decryptCalls: 3},
		{name: "another key pinned",
			body:   func(c *failureCase) string { return threeSources(c, "", "kms:\n  keyId: alias/other\n") },
			fields: allThree, mention: []string{"IncorrectKeyException", `kms.keyId "alias/other"`}, decryptCalls: 3},
		{name: "access denied",
			prepare: faultAlways(&fakekms.Fault{Code: "AccessDeniedException", Message: "not allowed"}),
			body:    func(c *failureCase) string { return threeSources(c, "", "") },
			fields:  allThree, mention: []string{"access denied: kms:Decrypt", "AccessDeniedException: not allowed"}, decryptCalls: 3},
		{name: "disabled key",
			prepare: func(s *fakekms.Server) { s.SetKeyState(keyApp, fakekms.Disabled) },
			body:    func(c *failureCase) string { return threeSources(c, "", "") },
			fields:  allThree, mention: []string{"DisabledException", "enable-key"}, decryptCalls: 3},
		{name: "key pending deletion",
			prepare: func(s *fakekms.Server) { s.SetKeyState(keyApp, fakekms.PendingDeletion) },
			body:    func(c *failureCase) string { return threeSources(c, "", "") },
			fields:  allThree, mention: []string{"KMSInvalidStateException", "cancel-key-deletion"}, decryptCalls: 3},
		{name: "key not found",
			body:   func(c *failureCase) string { return threeSources(c, "", "kms:\n  keyId: alias/missing\n") },
			fields: allThree, mention: []string{"NotFoundException", "key alias/missing was not found in region eu-west-1"}, decryptCalls: 3},
		{name: "throttled past retries",
			prepare: faultAlways(&fakekms.Fault{Code: "ThrottlingException", Message: "Rate exceeded"}),
			body:    func(c *failureCase) string { return threeSources(c, "", "") },
			fields:  allThree, mention: []string{"throttling", "after 3 attempts"}, decryptCalls: 9},
		{name: "response names another key",
			prepare: faultAlways(&fakekms.Fault{ResponseKeyID: fakekms.ARN(keyOther)}),
			body:    func(c *failureCase) string { return threeSources(c, "", "kms:\n  keyId: "+fakekms.ARN(keyApp)+"\n") },
			fields:  allThree, mention: []string{"but kms.keyId pins " + fakekms.ARN(keyApp), "the plaintext was discarded"}, decryptCalls: 3},
		{name: "endpoint unreachable",
			body: func(c *failureCase) string {
				return threeSources(c, "", "kms:\n  endpoint: "+closedEndpoint(c.t)+"\n")
			},
			fields: allThree, mention: []string{"could not reach http://127.0.0.1:"}, decryptCalls: 0},
		{name: "timeout",
			prepare: faultAlways(&fakekms.Fault{Delay: time.Minute}),
			body: func(c *failureCase) string {
				c.opts.CallTimeout = 200 * time.Millisecond
				return threeSources(c, "", "")
			},
			fields: allThree, mention: []string{"no answer from", "within 200ms"}, decryptCalls: -1},
		{name: "no credentials",
			body: func(c *failureCase) string {
				awstest.Clear(c.t)
				c.t.Setenv("AWS_REGION", fakekms.Region)
				c.t.Setenv("AWS_ENDPOINT_URL", c.fake.URL)
				return threeSources(c, "", "")
			},
			fields: allThree, mention: []string{"no usable AWS credentials"}, decryptCalls: 0},
		{name: "decrypted env file not UTF-8",
			body: func(c *failureCase) string {
				c.write("app.env.encrypted", c.encrypt("", "A=1\nB=\xff\xfe"+canary+"\n"))
				return "envs:\n- app.env.encrypted\n"
			},
			fields: []string{"envs[0]"}, mention: []string{`envs[0] "app.env.encrypted": decrypted env file: line 2: not valid UTF-8`}, decryptCalls: 1},
		{name: "decrypted env file with an invalid key",
			body: func(c *failureCase) string {
				c.write("app.env.encrypted", c.encrypt("", "A=1\n"+canary+" has spaces=1\n"))
				return "envs:\n- app.env.encrypted\n"
			},
			fields: []string{"envs[0]"}, mention: []string{`envs[0] "app.env.encrypted" line 2: invalid Secret key`}, decryptCalls: 1},
		{name: "key repeated across env and literal",
			body: func(c *failureCase) string {
				c.write("app.env.encrypted", c.encrypt("", "TOKEN="+canary+"\n"))
				return "envs:\n- app.env.encrypted\nliterals:\n- TOKEN=" + c.encrypt("", "other-"+canary) + "\n"
			},
			fields: []string{"literals[0]"}, mention: []string{`literals[0] (inline) (key "TOKEN"): key "TOKEN" repeats the key from envs[0] "app.env.encrypted" line 1`}, decryptCalls: 2},
		{name: "secret pasted twice on lines of its own",
			body: func(c *failureCase) string {
				c.write("app.env.encrypted", c.encrypt("", "DB_PASSWORD=\n"+canary+"\n"+canary+"\n"))
				return "envs:\n- app.env.encrypted\n"
			},
			fields: []string{"envs[0]"}, mention: []string{`envs[0] "app.env.encrypted" line 3: the key (not shown: it was read from secret content) repeats the key from envs[0] "app.env.encrypted" line 2`}, decryptCalls: 1},
		{name: "secret pasted on its own line in two env files",
			body: func(c *failureCase) string {
				c.write("a.env.encrypted", c.encrypt("", canary+"\n"))
				c.write("b.env.encrypted", c.encrypt("", "B=1\n"+canary+"\n"))
				return "envs:\n- a.env.encrypted\n- b.env.encrypted\n"
			},
			fields: []string{"envs[1]"}, mention: []string{`envs[1] "b.env.encrypted" line 2: the key (not shown`}, decryptCalls: 2},
		{name: "several failing sources",
			body: func(c *failureCase) string {
				c.plaintexts = append(c.plaintexts, "PASSWORD="+canary+"\n")
				c.write("plain.env.encrypted", c.plaintexts[0])
				c.write("empty.encrypted", "\n")
				return "envs:\n- missing.env.encrypted\n- plain.env.encrypted\nliterals:\n- OK=" + c.encrypt("", canary) +
					"\n- SHORT=QUJD\nfiles:\n- empty.encrypted\n"
			},
			fields:  []string{"envs[0]", "envs[1]", "literals[1]", "files[0]"},
			mention: []string{"no such file", "was the plaintext committed", "too short", "empty: there is no ciphertext"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			c := &failureCase{t: t, fake: newFake(t), dir: dir, root: filepath.Join(dir, "root")}
			c.write("kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n")
			if tc.prepare != nil {
				tc.prepare(c.fake)
			}
			gen := "apiVersion: kmsgen.dev/v1alpha1\nkind: KMSSecretGenerator\nmetadata:\n  name: app-secrets\n" + tc.body(c)
			p := &fn.Processor{Context: t.Context(), Generator: newGenerator(c.opts), WorkDir: c.root}
			out, err := execute(t, p, gen)
			if err == nil {
				t.Fatalf("Execute succeeded; output:\n%s", out)
			}
			results, items := parseOutput(t, out)

			var fields, messages []string
			for _, r := range results {
				if r.Severity != krm.Error {
					continue
				}
				field := ""
				if r.Field != nil {
					field = r.Field.Path
				}
				fields = append(fields, field)
				messages = append(messages, r.Message)
				if !strings.HasPrefix(r.Message, `KMSSecretGenerator "app-secrets": `) {
					t.Errorf("result %q does not start by naming the generator", r.Message)
				}
			}
			if diff := cmp.Diff(tc.fields, fields); diff != "" {
				t.Errorf("field paths of the error results (-want +got):\n%s\nmessages: %q", diff, messages)
			}
			all := strings.Join(messages, "\n")
			for _, m := range tc.mention {
				if !strings.Contains(all, m) {
					t.Errorf("no error result mentions %q; messages:\n%s", m, all)
				}
			}
			if len(messages) > 0 {
				// The one line: the first failure, said once for every
				// source that met the same (the message less its source),
				// then where the others are.
				const prefix = `KMSSecretGenerator "app-secrets": `
				split := func(m, field string) (source, inner string) {
					rest := strings.TrimPrefix(m, prefix)
					if i := strings.Index(rest, ": "); field != "" && strings.HasPrefix(rest, field) && i > 0 {
						return rest[:i], rest[i+2:]
					}
					return "", rest
				}
				_, firstInner := split(messages[0], fields[0])
				var same, sources, others []string
				for i, m := range messages {
					source, inner := split(m, fields[i])
					if inner == firstInner {
						same, sources = append(same, m), append(sources, source)
					} else {
						others = append(others, fields[i])
					}
				}
				want := messages[0]
				if len(same) > 1 {
					want = prefix + firstInner + " (" + strconv.Itoa(len(same)) + " sources: " + fn.List(sources, fn.MaxListed) + ")"
				}
				if len(others) > 0 {
					want += " (and " + strconv.Itoa(len(others)) + " more errors: " + fn.List(others, fn.MaxListed) + ")"
				}
				if err.Error() != want {
					t.Errorf("error = %q\nwant    %q", err, want)
				}
			}
			for _, it := range items {
				if it.GetKind() == "Secret" {
					t.Errorf("the output holds a Secret:\n%s", out)
				}
			}
			for _, where := range []struct{ name, text string }{{"error", err.Error()}, {"output", out}} {
				if leak := findLeak(where.text, c.plaintexts); leak != "" {
					t.Errorf("the %s holds %s:\n%s", where.name, leak, where.text)
				}
			}
			if n := c.fake.Calls("Decrypt"); tc.decryptCalls >= 0 && n != tc.decryptCalls {
				t.Errorf("Decrypt calls = %d, want %d", n, tc.decryptCalls)
			}
		})
	}
}

// execute runs p through krm.Execute on resourceList(gen).
func execute(t *testing.T, p krm.Processor, gen string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := krm.Execute(p, &kio.ByteReadWriter{Reader: strings.NewReader(resourceList(gen)), Writer: &out})
	return out.String(), err
}

// resourceList is the ResourceList kustomize sends an exec generator gen:
// gen as the functionConfig, with its function annotation (added when gen
// has none) and local-config, and as the only item, with kustomize's index
// annotations too.
func resourceList(gen string) string {
	fc := yaml.MustParse(gen)
	set := func(rn *yaml.RNode, annotations map[string]string) string {
		for _, k := range yaml.SortedMapKeys(annotations) {
			if rn.GetAnnotations()[k] == "" {
				if err := rn.PipeE(yaml.SetAnnotation(k, annotations[k])); err != nil {
					panic(err)
				}
			}
		}
		return strings.TrimSpace(rn.MustString())
	}
	config := set(fc, map[string]string{fn.FunctionAnnotation: "exec:\n  path: kmsgen\n", "config.kubernetes.io/local-config": "true"})
	item := set(fc.Copy(), map[string]string{"config.kubernetes.io/index": "0", "internal.config.kubernetes.io/index": "0", "config.k8s.io/id": "1"})
	return "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- " + strings.ReplaceAll(item, "\n", "\n  ") +
		"\nfunctionConfig:\n  " + strings.ReplaceAll(config, "\n", "\n  ") + "\n"
}

// parseOutput returns the results and the items of an output ResourceList.
func parseOutput(t *testing.T, out string) ([]krm.Result, []*yaml.RNode) {
	t.Helper()
	rl, err := yaml.Parse(out)
	if err != nil {
		t.Fatalf("output is not YAML: %v\n%s", err, out)
	}
	var results []krm.Result
	if node := rl.Field("results"); node != nil {
		if err := node.Value.YNode().Decode(&results); err != nil {
			t.Fatalf("decoding results: %v", err)
		}
	}
	var items []*yaml.RNode
	if node := rl.Field("items"); node != nil {
		if items, err = node.Value.Elements(); err != nil {
			t.Fatal(err)
		}
	}
	return results, items
}

// findLeak describes the first form of a plaintext found in text: the
// canary itself, its standard base64 at any of the three byte alignments,
// or the standard base64 of a whole plaintext; "" if none.
func findLeak(text string, plaintexts []string) string {
	if strings.Contains(text, canary) {
		return "the canary"
	}
	for shift := range 3 {
		enc := base64.StdEncoding.EncodeToString(append(make([]byte, shift), canary...))
		// Keep only the characters that depend on the canary's bytes alone.
		start := 0
		if shift > 0 {
			start = 4
		}
		if mid := enc[start : len(enc)-4]; strings.Contains(text, mid) {
			return "the canary in base64 (alignment " + strconv.Itoa(shift) + ")"
		}
	}
	for _, p := range plaintexts {
		if strings.Contains(text, base64.StdEncoding.EncodeToString([]byte(p))) {
			return "the base64 of a plaintext"
		}
	}
	return ""
}
