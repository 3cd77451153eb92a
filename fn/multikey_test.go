package fn_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kmsgen.dev/kmsgen/fn"
	"kmsgen.dev/kmsgen/fn/api"
	"kmsgen.dev/kmsgen/fn/awskms"
	"kmsgen.dev/kmsgen/fn/ciphertext"
	"kmsgen.dev/kmsgen/fn/envelope"
	"kmsgen.dev/kmsgen/internal/fakekms"
	"kmsgen.dev/kmsgen/internal/kmstest"
)

const mkCanary = "CANARY-multikey-fn-PLAINTEXT"

var mkCtx = map[string]string{"app": "dr"}

// mkWorld is a fake KMS with key A in eu-west-1 (the configured region)
// and key B in us-east-1, and a multi-key envelope of an env file under
// both, in a kustomization root.
type mkWorld struct {
	fake       *fakekms.Server
	arnA, arnB string
	root       string
	env        *envelope.Envelope
	dataKey    []byte
}

func newMKWorld(t *testing.T) *mkWorld {
	t.Helper()
	w := &mkWorld{fake: kmstest.Start(t), root: t.TempDir()}
	w.arnA = w.fake.CreateKeyIn("eu-west-1", keyApp, "alias/app")
	w.arnB = w.fake.CreateKeyIn("us-east-1", keyOther, "alias/dr")
	w.dataKey = bytes.Repeat([]byte{0x5a}, 32)
	env, err := envelope.Seal(nil, w.dataKey, mkCtx, []byte("DB_PASSWORD="+mkCanary+"\nAPI_URL=https://example.test\n"))
	if err != nil {
		t.Fatal(err)
	}
	env.Keys = []envelope.WrappedKey{
		{KeyARN: w.arnA, Blob: w.fake.Encrypt(w.arnA, mkCtx, w.dataKey)},
		{KeyARN: w.arnB, Blob: w.fake.Encrypt(w.arnB, mkCtx, w.dataKey)},
	}
	w.env = env
	return w
}

func (w *mkWorld) input(t *testing.T, text []byte, kms string) fn.Input {
	t.Helper()
	if err := os.WriteFile(filepath.Join(w.root, "app.env.encrypted"), text, 0o600); err != nil {
		t.Fatal(err)
	}
	rn, err := yaml.Parse("apiVersion: kmsgen.dev/v1alpha1\nkind: KMSSecretGenerator\nmetadata:\n  name: app-secrets\nenvs: [app.env.encrypted]\nkms:\n  encryptionContext: {app: dr}\n" + kms)
	if err != nil {
		t.Fatal(err)
	}
	in, err := fn.NewInput(rn, w.root, "generator.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// TestGenerateMultiKey: a multi-key envelope builds through whichever key
// can be used, and a tampered one fails at once, whatever keys remain.
func TestGenerateMultiKey(t *testing.T) {
	denyA := func(w *mkWorld) {
		w.fake.SetFault(func(c fakekms.Call) *fakekms.Fault {
			if c.KeyID == w.arnA {
				return &fakekms.Fault{Code: "AccessDeniedException", Message: "injected"}
			}
			return nil
		})
	}
	tests := []struct {
		name      string
		prepare   func(w *mkWorld)
		text      func(t *testing.T, w *mkWorld) []byte
		kms       string
		wantCalls int
		wantErr   error    // errors.Is; nil with contains empty means success
		contains  []string // in the error
	}{
		{name: "both keys usable", wantCalls: 1},
		{name: "access denied on A: built through B", prepare: denyA, wantCalls: 2},
		{name: "A disabled: built through B", prepare: func(w *mkWorld) { w.fake.SetKeyState(keyApp, fakekms.Disabled) }, wantCalls: 2},
		{name: "pinned to B's ARN", kms: "  keyId: arn:aws:kms:us-east-1:111122223333:key/" + keyOther + "\n", wantCalls: 1},
		{name: "body tampered, checksums fixed: no fallback",
			text: func(t *testing.T, w *mkWorld) []byte {
				bad := w.env.WithKeys(w.env.Keys)
				bad.Body = bytes.Clone(bad.Body)
				bad.Body[0] ^= 1
				return bad.Marshal()
			},
			wantCalls: 1, wantErr: envelope.ErrAuth},
		{name: "A's copy of another data key: no fallback to B",
			text: func(t *testing.T, w *mkWorld) []byte {
				keys := []envelope.WrappedKey{{KeyARN: w.arnA, Blob: w.fake.Encrypt(w.arnA, mkCtx, bytes.Repeat([]byte{1}, 32))}, w.env.Keys[1]}
				return w.env.WithKeys(keys).Marshal()
			},
			wantCalls: 1, wantErr: envelope.ErrAuth},
		{name: "another encryption context: no fallback", kms: "",
			text: func(t *testing.T, w *mkWorld) []byte {
				keys := []envelope.WrappedKey{{KeyARN: w.arnA, Blob: w.fake.Encrypt(w.arnA, map[string]string{"app": "other"}, w.dataKey)}, w.env.Keys[1]}
				return w.env.WithKeys(keys).Marshal()
			},
			wantCalls: 1, contains: []string{"InvalidCiphertextException", "not trying the envelope's other keys"}},
		{name: "every key fails: each listed",
			prepare: func(w *mkWorld) {
				denyA(w)
				w.fake.SetKeyState(keyOther, fakekms.PendingDeletion)
			},
			wantCalls: 2, contains: []string{`KMSSecretGenerator "app-secrets": envs[0] "app.env.encrypted"`,
				"none of the envelope's 2 keys could be used", "arn:aws:kms:eu-west-1:111122223333:key/" + keyApp + ": access denied",
				"arn:aws:kms:us-east-1:111122223333:key/" + keyOther + ": key arn:aws:kms:us-east-1:111122223333:key/" + keyOther + " in region us-east-1 cannot be used in its current state",
				"grant the identity running kmsgen kms:Decrypt on one of them"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newMKWorld(t)
			if tc.prepare != nil {
				tc.prepare(w)
			}
			text := w.env.Marshal()
			if tc.text != nil {
				text = tc.text(t, w)
			}
			in := w.input(t, text, tc.kms)
			secrets, err := newGenerator(awskms.Options{}).Generate(t.Context(), []fn.Input{in})
			if n := w.fake.Calls("Decrypt"); n != tc.wantCalls {
				t.Errorf("Decrypt calls = %d, want %d", n, tc.wantCalls)
			}
			if tc.wantErr == nil && tc.contains == nil {
				if err != nil {
					t.Fatal(err)
				}
				got := map[string]string{}
				for k, v := range secrets[0].GetDataMap() {
					got[k] = v
				}
				want := map[string]string{"DB_PASSWORD": b64s(mkCanary), "API_URL": b64s("https://example.test")}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("data (-want +got):\n%s", diff)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("error = %v, want %v", err, tc.wantErr)
			}
			for _, s := range tc.contains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			if strings.Contains(err.Error(), mkCanary) || secrets != nil {
				t.Errorf("the failure leaked a plaintext or a Secret: %v", err)
			}
		})
	}
}

// TestCheckDryRunMultiKey: the dry run asks for one usable key.
func TestCheckDryRunMultiKey(t *testing.T) {
	w := newMKWorld(t)
	w.fake.SetFault(func(c fakekms.Call) *fakekms.Fault {
		if c.KeyID == w.arnA {
			return &fakekms.Fault{Code: "AccessDeniedException"}
		}
		return nil
	})
	in := w.input(t, w.env.Marshal(), "")
	if errs := newGenerator(awskms.Options{}).Check(t.Context(), []fn.Input{in}, fn.CheckDryRun); errs[0] != nil {
		t.Errorf("dry run: %v, want allowed through B", errs[0])
	}
}

// TestOpenMultiKey: fn.Open (kmsgen edit, show, textconv) opens a
// multi-key envelope through B when A is denied.
func TestOpenMultiKey(t *testing.T) {
	w := newMKWorld(t)
	w.fake.SetFault(func(c fakekms.Call) *fakekms.Fault {
		if c.KeyID == w.arnA {
			return &fakekms.Fault{Code: "AccessDeniedException"}
		}
		return nil
	})
	ct, err := ciphertext.Parse(w.env.Marshal(), true)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{w.arnA, w.arnB}, ct.KeyARNs()); diff != "" {
		t.Errorf("KeyARNs (-want +got):\n%s", diff)
	}
	got, err := fn.Open(t.Context(), newGenerator(awskms.Options{}).KMS, api.KMS{EncryptionContext: mkCtx}, ct)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(got), mkCanary) {
		t.Error("the plaintext is not the env file")
	}
}

func b64s(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
