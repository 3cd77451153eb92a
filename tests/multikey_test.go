package tests

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"kmsgen.dev/kmsgen/fn/ciphertext"
	"kmsgen.dev/kmsgen/internal/awstest"
	"kmsgen.dev/kmsgen/internal/emulator"
	"kmsgen.dev/kmsgen/internal/testfiles"
)

// regionGate is a proxy in front of an emulator that drops the connection
// of every request signed for a blocked region: that region's KMS
// endpoint is unreachable, the others answer.
type regionGate struct {
	URL     string
	mu      sync.Mutex
	blocked map[string]bool
	dropped map[string]int
}

func newRegionGate(t *testing.T, target string) *regionGate {
	t.Helper()
	u, err := url.Parse(target)
	check(t, err)
	proxy := httputil.NewSingleHostReverseProxy(u)
	g := &regionGate{blocked: map[string]bool{}, dropped: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		region := signedRegion(r.Header.Get("Authorization"))
		g.mu.Lock()
		blocked := g.blocked[region]
		if blocked {
			g.dropped[region]++
		}
		g.mu.Unlock()
		if !blocked {
			proxy.ServeHTTP(w, r)
			return
		}
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
		}
	}))
	t.Cleanup(srv.Close)
	g.URL = srv.URL
	return g
}

func (g *regionGate) block(region string, on bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.blocked[region] = on
}

func (g *regionGate) droppedIn(region string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.dropped[region]
}

// signedRegion is the region of a SigV4 credential scope.
func signedRegion(authorization string) string {
	_, scope, _ := strings.Cut(authorization, "Credential=")
	parts := strings.Split(scope, "/")
	if len(parts) < 3 {
		return ""
	}
	return parts[2]
}

// mkKeys parses an envelope and returns its key ARNs and its text from the
// Nonce line on (what adding or removing keys must leave unchanged).
func mkKeys(t *testing.T, path string) ([]string, string) {
	t.Helper()
	text, err := os.ReadFile(path)
	check(t, err)
	ct, err := ciphertext.Parse(text, true)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	i := strings.Index(string(text), "Nonce: ")
	if i < 0 {
		t.Fatalf("%s: no Nonce line", path)
	}
	return ct.KeyARNs(), string(text[i:])
}

// TestMultiKeyEmulators: kmsgen encrypt under two keys (in two regions on
// moto), kustomize build equal to the builtin secretGenerator's, still
// equal with key A unusable (disabled on local-kms; its region unreachable
// on moto, which enforces no key state), and reencrypt adding and removing
// keys with the bodies unchanged byte for byte.
func TestMultiKeyEmulators(t *testing.T) {
	for _, name := range emulators {
		t.Run(name, func(t *testing.T) {
			k := kmsEmulator(t, name)
			ctx := t.Context()
			regionA, regionB := emulator.Region, emulator.Region
			if name == emulator.Moto {
				regionB = "us-east-1"
			}
			aliasA := "alias/" + uniqueName("mk-a")
			arnA, err := k.CreateKeyIn(ctx, regionA, aliasA)
			check(t, err)
			arnB, err := k.CreateKeyIn(ctx, regionB, "alias/"+uniqueName("mk-b"))
			check(t, err)
			arnC, err := k.CreateKeyIn(ctx, regionB, "alias/"+uniqueName("mk-c"))
			check(t, err)
			gate := newRegionGate(t, k.URL)
			env := append(baseEnv(), awstest.Env(gate.URL)...)

			// the builtin secretGenerator's output, from the plaintexts
			plainEnv := "DB_PASSWORD=" + canary + "-db\nAPI_URL=https://example.test\n"
			token := canary + "-token"
			builtinDir := t.TempDir()
			testfiles.Write(t, builtinDir, map[string]string{
				"kustomization.yaml": "secretGenerator:\n- name: app-secrets\n  envs: [app.env]\n  literals: [API_TOKEN=" + token + "]\n",
				"app.env":            plainEnv,
			})
			want := kustomizeBuild(t, builtinDir, baseEnv())
			if want.code != 0 {
				t.Fatalf("builtin secretGenerator: %s", want.stderr)
			}

			// kmsgen: an env file and a literal, each under A and B
			dir := t.TempDir()
			enc := run(t, dir, env, []byte(plainEnv), "kmsgen", "encrypt", "--key-id", aliasA, "--key-id", arnB, "--context", "app=dr")
			if enc.code != 0 {
				t.Fatalf("kmsgen encrypt: exit %d: %s", enc.code, enc.stderr)
			}
			testfiles.Write(t, dir, map[string]string{
				"kustomization.yaml": "generators: [secrets.yaml]\n",
				"app.env.encrypted":  enc.stdout,
				"secrets.yaml":       execGenerator("app-secrets") + "envs: [app.env.encrypted]\nkms:\n  keyId: " + aliasA + "\n  encryptionContext: {app: dr}\n",
			})
			lit := run(t, dir, env, []byte(token), "kmsgen", "encrypt", "--generator", "secrets.yaml", "--literal", "API_TOKEN", "--key-id", aliasA, "--key-id", arnB)
			if lit.code != 0 {
				t.Fatalf("kmsgen encrypt --generator: exit %d: %s", lit.code, lit.stderr)
			}
			envFile := filepath.Join(dir, "app.env.encrypted")
			keys, body := mkKeys(t, envFile)
			if diff := cmp.Diff([]string{arnA, arnB}, keys); diff != "" {
				t.Fatalf("keys of the env file (-want +got):\n%s", diff)
			}
			build := func(what string) {
				t.Helper()
				got := kustomizeBuild(t, dir, env)
				assertNoCanary(t, got.stderr)
				if got.code != 0 {
					t.Fatalf("%s: kustomize build: %s", what, got.stderr)
				}
				if got.stdout != want.stdout {
					t.Errorf("%s: output differs from the builtin secretGenerator's\n--- builtin\n%s\n--- kmsgen\n%s", what, want.stdout, got.stdout)
				}
			}
			build("both keys")

			// key A unusable: built through B; both unusable: each listed
			unusable := func(on bool) {
				if name == emulator.LocalKMS {
					for _, arn := range []string{arnA, arnB} {
						if on {
							check(t, k.DisableKey(ctx, arn))
						} else {
							check(t, k.EnableKey(ctx, arn))
						}
						if arn == arnA && on {
							build("key A disabled")
						}
					}
					return
				}
				gate.block(regionA, on)
				if on {
					build("key A's region unreachable")
					if gate.droppedIn(regionA) == 0 {
						t.Error("no request to key A's region was dropped: B was not reached by falling back")
					}
				}
				gate.block(regionB, on)
			}
			unusable(true)
			failed := kustomizeBuild(t, dir, env)
			assertNoCanary(t, failed.stdout, failed.stderr)
			if failed.code == 0 {
				t.Fatal("built with every key unusable")
			}
			for _, w := range []string{"none of the envelope's 2 keys could be used", arnA + ": ", arnB + ": ", "grant the identity running kmsgen kms:Decrypt on one of them"} {
				if !strings.Contains(failed.stderr, w) {
					t.Errorf("every key unusable: stderr lacks %q:\n%s", w, failed.stderr)
				}
			}
			unusable(false)
			build("both keys usable again")

			// reencrypt: add C, then remove A; the bodies stay byte for byte
			gen := filepath.Join(dir, "secrets.yaml")
			genBefore, err := os.ReadFile(gen)
			check(t, err)
			res := run(t, dir, env, nil, "kmsgen", "reencrypt", "--add-key-id", arnC, ".")
			if res.code != 0 {
				t.Fatalf("reencrypt --add-key-id: exit %d: %s", res.code, res.stderr)
			}
			assertNoCanary(t, res.stdout, res.stderr)
			keys, after := mkKeys(t, envFile)
			if !cmp.Equal([]string{arnA, arnB, arnC}, keys) || after != body {
				t.Errorf("after adding C: keys %v, body unchanged %v", keys, after == body)
			}
			genAfter, err := os.ReadFile(gen)
			check(t, err)
			if string(genAfter) == string(genBefore) || strings.Count(string(genAfter), "Data-Key: ") != 3 {
				t.Errorf("the inline literal did not get key C:\n%s", genAfter)
			}
			res = run(t, dir, env, nil, "kmsgen", "reencrypt", "--remove-key-id", arnA, "--remove-key-id", arnB, ".")
			if res.code != 0 {
				t.Fatalf("reencrypt --remove-key-id: exit %d: %s", res.code, res.stderr)
			}
			keys, after = mkKeys(t, envFile)
			if !cmp.Equal([]string{arnC}, keys) || after != body {
				t.Errorf("after removing A and B: keys %v, body unchanged %v", keys, after == body)
			}
			build("key C alone")

			// the last key stays
			snap := reencryptSnapshot(t, dir)
			res = run(t, dir, env, nil, "kmsgen", "reencrypt", "--remove-key-id", arnC, ".")
			if res.code != 1 || !strings.Contains(res.stderr, "is the envelope's last key") {
				t.Errorf("removing the last key: exit %d, stderr %q", res.code, res.stderr)
			}
			if diff := cmp.Diff(snap, reencryptSnapshot(t, dir)); diff != "" {
				t.Errorf("a refused reencrypt changed files:\n%s", diff)
			}
		})
	}
}
