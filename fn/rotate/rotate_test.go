package rotate_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/google/go-cmp/cmp"

	"kmsgen.dev/kmsgen/fn"
	"kmsgen.dev/kmsgen/fn/api"
	"kmsgen.dev/kmsgen/fn/awskms"
	"kmsgen.dev/kmsgen/fn/ciphertext"
	"kmsgen.dev/kmsgen/fn/envelope"
	"kmsgen.dev/kmsgen/fn/repo"
	"kmsgen.dev/kmsgen/fn/rotate"
	"kmsgen.dev/kmsgen/internal/awstest"
	"kmsgen.dev/kmsgen/internal/fakekms"
	"kmsgen.dev/kmsgen/internal/kmstest"
	"kmsgen.dev/kmsgen/internal/testfiles"
)

const (
	oldKey   = "11111111-1111-1111-1111-111111111111" // alias/old
	newKey   = "22222222-2222-2222-2222-222222222222" // alias/new
	otherKey = "33333333-3333-3333-3333-333333333333" // alias/other
	// canary is in every plaintext; it must never show up in an error.
	canary = "CANARY-r0tate-PLAINTEXT"
)

var (
	oldCtx = map[string]string{"app": "old"}
	newCtx = map[string]string{"app": "new", "env": "prod"}
)

// newFake starts a fake KMS with the old, new and other keys and points the
// AWS SDK at it; the client retries without waiting.
func newFake(t *testing.T) (*fakekms.Server, *awskms.Client) {
	t.Helper()
	fake := kmstest.Start(t, kmstest.NewKey(oldKey, "alias/old"), kmstest.NewKey(newKey, "alias/new"), kmstest.NewKey(otherKey, "alias/other"))
	return fake, awskms.New(awskms.Options{ClientOptions: []func(*kms.Options){awstest.FastRetries}})
}

// plaintexts are the Secret's data the tree of newTree decrypts to.
var plaintexts = map[string]string{
	"DB_PASSWORD": canary + "-db",
	"API_URL":     "https://example.test",
	"INLINE_ENV":  canary + "-inline-env",
	"API_TOKEN":   canary + "-token",
	"QUOTED":      canary + "-quoted",
	"tls.key":     canary + "-tls-key",
	"big.json":    canary + strings.Repeat("-big.json", 600),   // over 4096 bytes: an envelope
	"inline.big":  canary + strings.Repeat("-inline.big", 500), // an inline envelope
}

// generatorText is the generator of newTree, written as genfile writes it
// (so that only the rotated values and the kms block may change).
func generatorText(inlineEnv, token, quoted, inlineBig, kmsBlock string) string {
	return `# The app's secrets; kmsgen reencrypt keeps this comment.
apiVersion: kmsgen.dev/v1alpha1
kind: KMSSecretGenerator
metadata:
  name: app-secrets
  annotations:
    config.kubernetes.io/function: |
      exec:
        path: kmsgen
envs:
  - app.env.encrypted # a symlink to data/app.env.encrypted
  # an inline env
  - ciphertext: ` + inlineEnv + `
literals:
  - API_TOKEN=` + token + `
  - QUOTED="` + quoted + `" # quoted, as kustomize allows
files:
  - tls.key=certs/tls.key.raw
  - big.json.encrypted
  - key: inline.big
    ciphertext: |-
` + indent(strings.TrimSuffix(inlineBig, "\n")+"\n", "      ") + kmsBlock
}

// indent indents each non-empty line of text, as a YAML block scalar.
func indent(text, prefix string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(text, "\n") {
		if strings.TrimSpace(line) != "" {
			b.WriteString(prefix)
		}
		b.WriteString(line)
	}
	return b.String()
}

const oldKMS = "kms:\n  keyId: alias/old # pinned\n  encryptionContext: {app: old}\n"

func b64(blob []byte) string { return base64.StdEncoding.EncodeToString(blob) }

// seal makes an envelope of plaintext under keyID with ctx, as kmsgen
// encrypt does (a data key wrapped by the fake).
func seal(t *testing.T, fake *fakekms.Server, keyID string, ctx map[string]string, plaintext string) string {
	t.Helper()
	dataKey := bytes.Repeat([]byte{byte(len(plaintext))}, 32)
	env, err := envelope.Seal(fake.Encrypt(keyID, ctx, dataKey), dataKey, ctx, []byte(plaintext))
	if err != nil {
		t.Fatal(err)
	}
	return string(env.Marshal())
}

// newTree writes a kustomization whose generator uses every form of
// ciphertext, in files and inline, under the old key and context. The
// files have distinct modes, and app.env.encrypted is a symlink.
func newTree(t *testing.T, fake *fakekms.Server) string {
	t.Helper()
	enc := func(plaintext string) []byte { return fake.Encrypt(oldKey, oldCtx, []byte(plaintext)) }
	dir := t.TempDir()
	testfiles.Write(t, dir, map[string]string{
		"kustomization.yaml":      "generators:\n- secrets.yaml\n",
		"data/app.env.encrypted":  b64(enc("DB_PASSWORD="+plaintexts["DB_PASSWORD"]+"\nAPI_URL="+plaintexts["API_URL"]+"\n")) + "\n",
		"certs/tls.key.raw":       string(enc(plaintexts["tls.key"])),
		"big.json.encrypted":      seal(t, fake, oldKey, oldCtx, plaintexts["big.json"]),
		"unrelated.txt":           "not a ciphertext\n",
		"secrets.yaml":            generatorText(b64(enc("INLINE_ENV="+plaintexts["INLINE_ENV"])), b64(enc(plaintexts["API_TOKEN"])), b64(enc(plaintexts["QUOTED"])), seal(t, fake, oldKey, oldCtx, plaintexts["inline.big"]), oldKMS),
		"other/kustomization.yml": "resources: []\n",
	})
	for name, mode := range map[string]fs.FileMode{"secrets.yaml": 0o640, "certs/tls.key.raw": 0o400, "big.json.encrypted": 0o644, "data/app.env.encrypted": 0o600} {
		check(t, os.Chmod(filepath.Join(dir, name), mode))
	}
	check(t, os.Symlink("data/app.env.encrypted", filepath.Join(dir, "app.env.encrypted")))
	return dir
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// file is what a snapshot holds of a file.
type file struct {
	Content string
	Mode    fs.FileMode
	Link    string // symlink target
}

// snapshot maps every file under dir to its content, mode and link.
func snapshot(t *testing.T, dir string) map[string]file {
	t.Helper()
	files := map[string]file{}
	check(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		if info.Mode()&fs.ModeSymlink != 0 {
			link, err := os.Readlink(p)
			files[rel] = file{Link: link}
			return err
		}
		content, err := os.ReadFile(p)
		files[rel] = file{Content: string(content), Mode: info.Mode().Perm()}
		return err
	}))
	return files
}

func find(t *testing.T, paths ...string) []*repo.Generator {
	t.Helper()
	r, err := repo.Scan(paths)
	if err != nil {
		t.Fatal(err)
	}
	return r.Generators
}

// generate builds the Secrets of the generators under dir, as the function
// does, and returns their data by Secret name.
func generate(t *testing.T, client *awskms.Client, dir string) (map[string]map[string]string, error) {
	t.Helper()
	var inputs []fn.Input
	for _, g := range find(t, dir) {
		in, err := fn.NewInput(g.Node, g.Root, g.File.Path)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, in)
	}
	secrets, err := (&fn.Generator{KMS: client}).Generate(context.Background(), inputs)
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]string{}
	for _, s := range secrets {
		data := map[string]string{}
		for k, v := range s.GetDataMap() {
			b, err := base64.StdEncoding.DecodeString(v)
			check(t, err)
			data[k] = string(b)
		}
		out[s.GetName()] = data
	}
	return out, nil
}

// parseAt parses the ciphertext of a file under dir.
func parseAt(t *testing.T, dir, name string) ciphertext.Ciphertext {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	check(t, err)
	ct, err := ciphertext.Parse(b, true)
	check(t, err)
	return ct
}

func assertNoCanary(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), canary) {
		t.Errorf("an error holds a plaintext: %v", err)
	}
}

func TestRotate(t *testing.T) {
	tests := []struct {
		name    string
		keyID   string
		context map[string]string
		// wantCtx is the generator's context afterwards.
		wantCtx map[string]string
		// wantKMS is the generator's kms block afterwards.
		wantKMS      string
		wantResealed bool
	}{
		{name: "new key, same context", keyID: "alias/new", wantCtx: oldCtx,
			wantKMS: "kms:\n  keyId: alias/new # pinned\n  encryptionContext: {app: old}\n"},
		{name: "new key and new context", keyID: "alias/new", context: newCtx, wantCtx: newCtx,
			wantKMS: "kms:\n  keyId: alias/new # pinned\n  encryptionContext: {app: new, env: prod}\n", wantResealed: true},
		{name: "new key ARN and a context without the old key", keyID: fakekms.ARN(newKey), context: map[string]string{"team": "a"}, wantCtx: map[string]string{"team": "a"},
			wantKMS: "kms:\n  keyId: " + fakekms.ARN(newKey) + " # pinned\n  encryptionContext: {team: a}\n", wantResealed: true},
		{name: "same key, new context", keyID: "alias/old", context: newCtx, wantCtx: newCtx,
			wantKMS: "kms:\n  keyId: alias/old # pinned\n  encryptionContext: {app: new, env: prod}\n", wantResealed: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake, client := newFake(t)
			dir := newTree(t, fake)
			before := snapshot(t, dir)
			wantData := map[string]map[string]string{"app-secrets": plaintexts}
			got, err := generate(t, client, dir)
			check(t, err)
			if diff := cmp.Diff(wantData, got); diff != "" {
				t.Fatalf("the fixture does not decrypt (-want +got):\n%s", diff)
			}
			oldBig := parseAt(t, dir, "big.json.encrypted").Envelope
			decrypts := fake.Calls("Decrypt")

			res, err := rotate.Rotate(context.Background(), client, find(t, dir), rotate.Options{KeyID: tc.keyID, Context: tc.context})
			assertNoCanary(t, err)
			if err != nil {
				t.Fatalf("Rotate: %v", err)
			}
			after := snapshot(t, dir)

			// What it says it did: every ciphertext once, in source order, in its form.
			var rotated []rotate.Rotated
			for _, r := range res.Rotated {
				r.File, _ = filepath.Rel(dir, r.File)
				rotated = append(rotated, r)
			}
			env, raw, txt := ciphertext.Envelope, ciphertext.Raw, ciphertext.Text
			wantRotated := []rotate.Rotated{
				{File: "data/app.env.encrypted", Form: txt},
				{File: "secrets.yaml", Field: "envs[1]", Form: txt},
				{File: "secrets.yaml", Field: "literals[0]", Form: txt},
				{File: "secrets.yaml", Field: "literals[1]", Form: txt},
				{File: "certs/tls.key.raw", Form: raw},
				{File: "big.json.encrypted", Form: env, Resealed: tc.wantResealed},
				{File: "secrets.yaml", Field: "files[2]", Form: env, Resealed: tc.wantResealed},
			}
			if diff := cmp.Diff(wantRotated, rotated); diff != "" {
				t.Errorf("Rotated (-want +got):\n%s", diff)
			}
			if n := fake.Calls("ReEncrypt"); n != 7 {
				t.Errorf("ReEncrypt calls = %d, want 7", n)
			}
			if n, want := fake.Calls("Decrypt")-decrypts, map[bool]int{true: 2, false: 0}[tc.wantResealed]; n != want {
				t.Errorf("Decrypt calls = %d, want %d (the envelopes' data keys, only to seal them again for a new context)", n, want)
			}
			if len(res.Updated) != 1 || res.Updated[0].ID != "app-secrets" || len(res.Unchanged) != 0 {
				t.Errorf("Updated %v, Unchanged %v; want app-secrets updated", res.Updated, res.Unchanged)
			}

			// Forms, modes and the symlink are kept; unrelated files are untouched.
			for name, f := range before {
				g := after[name]
				if f.Mode != g.Mode || f.Link != g.Link {
					t.Errorf("%s: mode %v link %q, want mode %v link %q", name, g.Mode, g.Link, f.Mode, f.Link)
				}
				changed := f.Content != g.Content
				if wantChanged := !slices.Contains([]string{"kustomization.yaml", "unrelated.txt", "other/kustomization.yml", "app.env.encrypted"}, name); changed != wantChanged {
					t.Errorf("%s: changed = %v, want %v", name, changed, wantChanged)
				}
			}
			if len(after) != len(before) {
				t.Errorf("files after: %v, want %v (no temporary file left)", slices.Sorted(maps.Keys(after)), slices.Sorted(maps.Keys(before)))
			}
			text := after["data/app.env.encrypted"].Content
			if strings.Count(text, "\n") != 1 || !strings.HasSuffix(text, "\n") {
				t.Errorf("text ciphertext file %q: want one line of base64 and a newline", text)
			}
			for name, form := range map[string]ciphertext.Form{"data/app.env.encrypted": txt, "certs/tls.key.raw": raw, "big.json.encrypted": env} {
				if got := parseAt(t, dir, name).Form; got != form {
					t.Errorf("%s: form %v, want %v", name, got, form)
				}
			}
			newBig := parseAt(t, dir, "big.json.encrypted").Envelope
			if sameBody := bytes.Equal(oldBig.Body, newBig.Body) && bytes.Equal(oldBig.Nonce, newBig.Nonce); sameBody == tc.wantResealed {
				t.Errorf("envelope body unchanged = %v, want %v (sealed again only for a new context, with a fresh nonce)", sameBody, !tc.wantResealed)
			}

			// The generator keeps its text but for the new ciphertexts and kms block.
			gen := find(t, dir)[0]
			spec, err := api.Decode(gen.Node)
			check(t, err)
			if diff := cmp.Diff(awskms.Target{KeyID: tc.keyID, Context: tc.wantCtx}, fn.Target(spec.KMS)); diff != "" {
				t.Errorf("kms (-want +got):\n%s", diff)
			}
			sources, err := spec.Validate()
			check(t, err)
			inline := map[string]string{}
			for _, s := range sources {
				inline[s.Field] = s.Ciphertext
			}
			for _, field := range []string{"envs[1]", "literals[0]", "literals[1]"} {
				if strings.Contains(before["secrets.yaml"].Content, inline[field]) {
					t.Errorf("%s was not rewritten", field)
				}
			}
			want := generatorText(inline["envs[1]"], inline["literals[0]"], inline["literals[1]"], inline["files[2]"], tc.wantKMS)
			if diff := cmp.Diff(want, after["secrets.yaml"].Content); diff != "" {
				t.Errorf("secrets.yaml (-want +got):\n%s", diff)
			}

			// The Secret is the same, decrypted under the new key alone.
			fake.SetKeyState(oldKey, fakekms.Disabled)
			if tc.keyID == "alias/old" { // same key: disable another one to prove nothing else is used
				fake.SetKeyState(oldKey, fakekms.Enabled)
				fake.SetKeyState(newKey, fakekms.Disabled)
			}
			got, err = generate(t, client, dir)
			assertNoCanary(t, err)
			if err != nil {
				t.Fatalf("Generate after rotating: %v", err)
			}
			if diff := cmp.Diff(wantData, got); diff != "" {
				t.Errorf("Secret after rotating (-want +got):\n%s", diff)
			}
			if tc.keyID != "alias/old" {
				// And the old key cannot decrypt them any more: they moved.
				fake.SetKeyState(oldKey, fakekms.Enabled)
				fake.SetKeyState(newKey, fakekms.Disabled)
				if _, err := generate(t, client, dir); err == nil || !strings.Contains(err.Error(), "disabled") {
					t.Errorf("Generate with the new key disabled: %v, want a disabled-key error", err)
				}
			}
		})
	}
}

// failOn fails the calls of op whose ordinal (1-based, over all calls of
// op) is in nth.
func failOn(op string, nth ...int) fakekms.FaultFunc {
	count := 0 // the fake calls a FaultFunc under its lock
	return func(c fakekms.Call) *fakekms.Fault {
		if c.Operation != op {
			return nil
		}
		count++
		if slices.Contains(nth, count) {
			return &fakekms.Fault{Code: "AccessDeniedException", Message: "injected"}
		}
		return nil
	}
}

// TestAllOrNothing: a failure of any KMS call leaves every file as it was,
// and the error names every failing source.
func TestAllOrNothing(t *testing.T) {
	// The ReEncrypt calls come in source order: envs, literals, files.
	sources := []string{
		`envs[0] "app.env.encrypted"`, "envs[1] (inline)", `literals[0] (inline) (key "API_TOKEN")`, `literals[1] (inline) (key "QUOTED")`,
		`files[0] "certs/tls.key.raw" (key "tls.key")`, `files[1] "big.json.encrypted" (key "big.json")`, `files[2] (inline) (key "inline.big")`,
	}
	tests := []struct {
		name    string
		fault   fakekms.FaultFunc
		context map[string]string
		want    []string // the failing sources, in order
		// reEncrypts is the number of ReEncrypt calls: every ciphertext is
		// still tried after a failure, so that all failures are listed.
		reEncrypts int
	}{
		{name: "1st ReEncrypt", fault: failOn("ReEncrypt", 1), want: sources[:1]},
		{name: "2nd ReEncrypt", fault: failOn("ReEncrypt", 2), want: sources[1:2]},
		{name: "5th ReEncrypt (raw)", fault: failOn("ReEncrypt", 5), want: sources[4:5]},
		{name: "last ReEncrypt", fault: failOn("ReEncrypt", 7), want: sources[6:]},
		{name: "two ReEncrypts", fault: failOn("ReEncrypt", 3, 6), want: []string{sources[2], sources[5]}},
		{name: "every ReEncrypt", fault: failOn("ReEncrypt", 1, 2, 3, 4, 5, 6, 7), want: sources},
		{name: "Decrypt of an envelope's data key for a new context", fault: failOn("Decrypt", 2), context: newCtx, want: sources[6:], reEncrypts: 6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake, client := newFake(t)
			dir := newTree(t, fake)
			before := snapshot(t, dir)
			fake.SetFault(tc.fault)
			_, err := rotate.Rotate(context.Background(), client, find(t, dir), rotate.Options{KeyID: "alias/new", Context: tc.context})
			assertNoCanary(t, err)
			var rerr *rotate.Error
			if !errors.As(err, &rerr) {
				t.Fatalf("Rotate error = %v (%T), want *rotate.Error", err, err)
			}
			var got []string
			for _, f := range rerr.Failures {
				got = append(got, f.Source)
				if !strings.Contains(f.Error(), `secrets.yaml: KMSSecretGenerator "app-secrets": `+f.Source+": ") || !strings.Contains(f.Error(), "access denied") {
					t.Errorf("failure %q does not name the generator, the source and the cause", f.Error())
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("failing sources (-want +got):\n%s", diff)
			}
			if !rerr.Called || rerr.Total != 7 || !strings.HasSuffix(rerr.Summary(), "of 7 ciphertexts could not be re-encrypted; no file was changed") {
				t.Errorf("summary %q (called %v, total %d)", rerr.Summary(), rerr.Called, rerr.Total)
			}
			if diff := cmp.Diff(before, snapshot(t, dir)); diff != "" {
				t.Errorf("files changed despite the failure (-before +after):\n%s", diff)
			}
			if tc.reEncrypts == 0 {
				tc.reEncrypts = 7
			}
			if n := fake.Calls("ReEncrypt"); n != tc.reEncrypts {
				t.Errorf("ReEncrypt calls = %d, want %d", n, tc.reEncrypts)
			}
		})
	}
}

// TestRefusedBeforeAnyCall: problems found while planning stop everything
// before the first KMS call.
func TestRefusedBeforeAnyCall(t *testing.T) {
	head := func(name string) string {
		return "apiVersion: kmsgen.dev/v1alpha1\nkind: KMSSecretGenerator\nmetadata:\n  name: " + name + "\n"
	}
	tests := []struct {
		name  string
		files func(fake *fakekms.Server) map[string]string
		link  [2]string // a symlink to make: name, target
		keyID string
		want  []string // each failure contains one, in order
	}{
		{name: "invalid generator",
			files: func(*fakekms.Server) map[string]string {
				return map[string]string{"a.yaml": head("a") + "literals: [NOEQUALS]\nfiles: [/etc/passwd]\n"}
			},
			want: []string{`a.yaml: KMSSecretGenerator "a": literals[0]: want KEY=<ciphertext of the value>, found no '='`,
				`a.yaml: KMSSecretGenerator "a": files[0]: path "/etc/passwd" must be relative`}},
		{name: "unknown field",
			files: func(*fakekms.Server) map[string]string {
				return map[string]string{"a.yaml": head("a") + "kms: {keyID: x}\n"}
			},
			want: []string{`unknown field "kms.keyID" in KMSSecretGenerator: did you mean "keyId"?`}},
		{name: "missing file and plaintext committed by mistake",
			files: func(*fakekms.Server) map[string]string {
				return map[string]string{"a.yaml": head("a") + "envs: [missing.env, plain.env]\n", "plain.env": "PASSWORD=" + canary + "\n"}
			},
			want: []string{`envs[0] "missing.env": reading the ciphertext: statat missing.env: no such file or directory`, `envs[1] "plain.env": readable text that is not base64`}},
		{name: "symlink out of the root",
			files: func(fake *fakekms.Server) map[string]string {
				return map[string]string{"a.yaml": head("a") + "envs: [link.env]\n"}
			},
			link: [2]string{"link.env", "/etc/hostname"},
			want: []string{`envs[0] "link.env": reading the ciphertext: statat link.env: path escapes from parent`}},
		{name: "inline raw bytes",
			files: func(*fakekms.Server) map[string]string {
				return map[string]string{"a.yaml": head("a") + "literals: ['A=not base64 at all, " + canary + "']\n"}
			},
			want: []string{`literals[0] (inline) (key "A"): not base64 text`}},
		{name: "a file shared with other kms settings",
			files: func(fake *fakekms.Server) map[string]string {
				return map[string]string{
					"kustomization.yaml": "generators: [a.yaml, b.yaml]\n",
					"shared.encrypted":   b64(fake.Encrypt(oldKey, nil, []byte("x"))),
					"a.yaml":             head("a") + "envs: [shared.encrypted]\nkms: {keyId: alias/old}\n",
					"b.yaml":             head("b") + "files: [shared.encrypted]\nkms: {keyId: alias/old, encryptionContext: {app: b}}\n",
				}
			},
			want: []string{`b.yaml: KMSSecretGenerator "b": files[0] "shared.encrypted" (key "shared"): the file is also used by envs[0] "shared.encrypted" of a.yaml: KMSSecretGenerator "a", whose kms settings differ (keyId alias/old, encryptionContext {"app":"b"} here, keyId alias/old, encryptionContext none there), so it cannot be re-encrypted for both`}},
		{name: "the new key in another region",
			files: func(*fakekms.Server) map[string]string {
				return map[string]string{"a.yaml": head("a") + "kms: {region: eu-west-1}\n"}
			},
			keyID: "arn:aws:kms:us-east-1:111122223333:alias/new",
			want:  []string{`a.yaml: KMSSecretGenerator "a": the new key is in region us-east-1 and this generator's ciphertexts in eu-west-1: KMS re-encrypts within one region`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake, client := newFake(t)
			dir := t.TempDir()
			t.Chdir(dir) // messages show paths relative to the working directory
			testfiles.Write(t, dir, tc.files(fake))
			if tc.link[0] != "" {
				check(t, os.Symlink(tc.link[1], filepath.Join(dir, tc.link[0])))
			}
			before := snapshot(t, dir)
			keyID := tc.keyID
			if keyID == "" {
				keyID = "alias/new"
			}
			_, err := rotate.Rotate(context.Background(), client, find(t, dir), rotate.Options{KeyID: keyID})
			assertNoCanary(t, err)
			var rerr *rotate.Error
			if !errors.As(err, &rerr) {
				t.Fatalf("Rotate error = %v (%T), want *rotate.Error", err, err)
			}
			if rerr.Called || len(rerr.Failures) != len(tc.want) {
				t.Fatalf("called %v, failures %v; want %d failures before any call", rerr.Called, err, len(tc.want))
			}
			for i, f := range rerr.Failures {
				if !strings.Contains(f.Error(), tc.want[i]) {
					t.Errorf("failure %d = %q, want it to contain %q", i, f.Error(), tc.want[i])
				}
			}
			if !strings.HasSuffix(rerr.Summary(), "found before any KMS call; no file was changed") {
				t.Errorf("summary %q", rerr.Summary())
			}
			for _, op := range []string{"ReEncrypt", "Decrypt"} {
				if n := fake.Calls(op); n != 0 {
					t.Errorf("%s calls = %d, want 0", op, n)
				}
			}
			if diff := cmp.Diff(before, snapshot(t, dir)); diff != "" {
				t.Errorf("files changed (-before +after):\n%s", diff)
			}
		})
	}
}

func TestRefusesWithoutGeneratorsOrKey(t *testing.T) {
	_, client := newFake(t)
	if _, err := rotate.Rotate(context.Background(), client, nil, rotate.Options{KeyID: "alias/new"}); !errors.Is(err, rotate.ErrNoGenerators) {
		t.Errorf("no generators: %v, want ErrNoGenerators", err)
	}
	for _, key := range []string{"", "arn:aws:s3:::bucket"} {
		if _, err := rotate.Rotate(context.Background(), client, nil, rotate.Options{KeyID: key}); err == nil || errors.Is(err, rotate.ErrNoGenerators) {
			t.Errorf("key %q: %v, want a key error", key, err)
		}
	}
}

// TestSharedAndUnchanged: a file shared by two generators with the same
// settings is moved once; generators already on the destination are left
// alone; when all are, nothing is called or written.
func TestSharedAndUnchanged(t *testing.T) {
	fake, client := newFake(t)
	dir := t.TempDir()
	gen := func(name, sources, kms string) string {
		return "apiVersion: kmsgen.dev/v1alpha1\nkind: KMSSecretGenerator\nmetadata:\n  name: " + name + "\n" + sources + "kms:\n" + kms
	}
	testfiles.Write(t, dir, map[string]string{
		"kustomization.yaml": "generators: [a.yaml, sub/b.yaml]\n",
		"shared.encrypted":   b64(fake.Encrypt(oldKey, oldCtx, []byte("K=shared"))),
		"a.yaml":             gen("a", "files: [shared.encrypted]\n", "  keyId: alias/old\n  encryptionContext: {app: old}\n"),
		"sub/b.yaml":         gen("b", "envs: [shared.encrypted]\n", "  keyId: alias/old\n  encryptionContext: {app: old}\n"),
		// Already moved, in a file of two generators, one of them to move.
		"c.yaml": gen("c", "literals: [K="+b64(fake.Encrypt(newKey, oldCtx, []byte("c")))+"]\n", "  keyId: alias/new\n  encryptionContext: {app: old}\n") +
			"---\n" + gen("d", "literals: [K="+b64(fake.Encrypt(oldKey, nil, []byte("d")))+"]\n", "  keyId: alias/old\n"),
	})
	before := snapshot(t, dir)
	res, err := rotate.Rotate(context.Background(), client, find(t, dir), rotate.Options{KeyID: "alias/new"})
	check(t, err)
	if n := fake.Calls("ReEncrypt"); n != 2 {
		t.Errorf("ReEncrypt calls = %d, want 2 (the shared file once, d's literal)", n)
	}
	ids := func(gs []rotate.Generator) []string {
		var out []string
		for _, g := range gs {
			out = append(out, g.ID)
		}
		slices.Sort(out)
		return out
	}
	if diff := cmp.Diff([]string{"a", "b", "d"}, ids(res.Updated)); diff != "" {
		t.Errorf("Updated (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"c"}, ids(res.Unchanged)); diff != "" {
		t.Errorf("Unchanged (-want +got):\n%s", diff)
	}
	after := snapshot(t, dir)
	if strings.Count(after["c.yaml"].Content, b64(fake.Encrypt(newKey, oldCtx, []byte("c")))) != 1 {
		t.Errorf("generator c was changed:\n%s", after["c.yaml"].Content)
	}
	if after["shared.encrypted"] == before["shared.encrypted"] {
		t.Error("the shared file was not rewritten")
	}
	fake.SetKeyState(oldKey, fakekms.Disabled)
	got, err := generate(t, client, dir)
	check(t, err)
	want := map[string]map[string]string{"a": {"shared": "K=shared"}, "b": {"K": "shared"}, "c": {"K": "c"}, "d": {"K": "d"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Secrets (-want +got):\n%s", diff)
	}

	// Again: every generator is on the destination now.
	fake.SetKeyState(oldKey, fakekms.Enabled)
	calls := fake.Calls("ReEncrypt")
	before = snapshot(t, dir)
	res, err = rotate.Rotate(context.Background(), client, find(t, dir), rotate.Options{KeyID: "alias/new"})
	check(t, err)
	if len(res.Updated) != 0 || len(res.Rotated) != 0 || len(res.Unchanged) != 4 {
		t.Errorf("second run: %+v, want nothing to do", res)
	}
	if n := fake.Calls("ReEncrypt"); n != calls {
		t.Errorf("second run made %d ReEncrypt calls", n-calls)
	}
	if diff := cmp.Diff(before, snapshot(t, dir)); diff != "" {
		t.Errorf("second run changed files (-before +after):\n%s", diff)
	}
}

// TestSymlinkedGenerator: a generator file reached through a symlink stays
// a symlink; its target is rewritten.
func TestSymlinkedGenerator(t *testing.T) {
	fake, client := newFake(t)
	real, dir := t.TempDir(), t.TempDir()
	testfiles.Write(t, real, map[string]string{"gen.yaml": "apiVersion: kmsgen.dev/v1alpha1\nkind: KMSSecretGenerator\nmetadata: {name: s}\n" +
		"literals: [K=" + b64(fake.Encrypt(oldKey, nil, []byte("v"))) + "]\nkms: {keyId: alias/old}\n"})
	link := filepath.Join(dir, "gen.yaml")
	check(t, os.Symlink(filepath.Join(real, "gen.yaml"), link))
	if _, err := rotate.Rotate(context.Background(), client, find(t, link), rotate.Options{KeyID: "alias/new"}); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Lstat(link); err != nil || info.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("the generator's symlink was replaced: %v, %v", info.Mode(), err)
	}
	if got := snapshot(t, real)["gen.yaml"].Content; !strings.Contains(got, "kms: {keyId: alias/new}") {
		t.Errorf("the symlink's target was not rewritten:\n%s", got)
	}
}
