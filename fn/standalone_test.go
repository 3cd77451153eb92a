package fn_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kmsgen.dev/kmsgen/fn"
	"kmsgen.dev/kmsgen/fn/api"
	"kmsgen.dev/kmsgen/fn/awskms"
	"kmsgen.dev/kmsgen/fn/encrypt"
	"kmsgen.dev/kmsgen/internal/krustytest"
	"kmsgen.dev/kmsgen/internal/testfiles"
)

func TestStandaloneNamesLikeKustomize(t *testing.T) {
	const (
		env  = "DB_USER=app\nDB_PASSWORD=hunter2\n"
		cert = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"
	)
	options := &types.GeneratorOptions{Labels: map[string]string{"team": "a"}, Annotations: map[string]string{"note": "b"}, Immutable: true}
	tests := []struct {
		name string
		// head is the generator without its sources.
		head string
		// args are the builtin secretGenerator's, sources aside.
		args     types.GeneratorArgs
		typ      string
		wantName string // "" when hashed
	}{
		{name: "hashed", head: "metadata:\n  name: app\n", args: types.GeneratorArgs{Name: "app"}},
		{name: "namespace, type and options",
			head: "metadata:\n  name: app\n  namespace: prod\ntype: kubernetes.io/tls\n" +
				"options:\n  labels: {team: a}\n  annotations: {note: b}\n  immutable: true\n",
			args: types.GeneratorArgs{Name: "app", Namespace: "prod", Options: options}, typ: "kubernetes.io/tls"},
		{name: "disableNameSuffixHash keeps the name",
			head:     "metadata:\n  name: app\noptions:\n  disableNameSuffixHash: true\n",
			args:     types.GeneratorArgs{Name: "app", Options: &types.GeneratorOptions{DisableNameSuffixHash: true}},
			wantName: "app"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFake(t)
			root := t.TempDir()
			ct := func(p string) string {
				return base64.StdEncoding.EncodeToString(fake.Encrypt(keyApp, nil, []byte(p)))
			}
			testfiles.Write(t, root, map[string]string{"app.env.encrypted": ct(env), "certs/tls.crt.encrypted": ct(cert)})
			gen := "apiVersion: kmsgen.dev/v1alpha1\nkind: KMSSecretGenerator\n" + tc.head +
				"envs:\n- app.env.encrypted\nliterals:\n- TOKEN=" + ct("t0k3n") + "\nfiles:\n- certs/tls.crt.encrypted\n"
			secrets, err := newGenerator(awskms.Options{}).Standalone(t.Context(), []fn.GeneratorFile{{Name: "gen.yaml", Content: []byte(gen), Root: root}})
			if err != nil {
				t.Fatalf("Standalone: %v", err)
			}
			if len(secrets) != 1 {
				t.Fatalf("got %d Secrets, want 1", len(secrets))
			}

			args := tc.args
			args.KvPairSources = types.KvPairSources{
				EnvSources: []string{"app.env"}, LiteralSources: []string{"TOKEN=t0k3n"}, FileSources: []string{"certs/tls.crt"}}
			want := krustytest.Build(t, types.Kustomization{SecretGenerator: []types.SecretArgs{{GeneratorArgs: args, Type: tc.typ}}},
				map[string]string{"app.env": env, "certs/tls.crt": cert})
			wantName := yaml.MustParse(want).GetName()
			if tc.wantName != "" && wantName != tc.wantName {
				t.Fatalf("kustomize named it %q, want %q", wantName, tc.wantName)
			}
			if tc.wantName == "" && !strings.HasPrefix(wantName, "app-") {
				t.Fatalf("kustomize named it %q, want a hash suffix", wantName)
			}
			if got := secrets[0].GetName(); got != wantName {
				t.Errorf("name = %q, want %q as kustomize names it", got, wantName)
			}
			// The whole Secret, as kustomize reads it back, is the builtin's.
			got := krustytest.Reparsed(t, secrets[0].MustString())
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Secret (-kustomize builtin +kmsgen):\n%s", diff)
			}
		})
	}
}

// TestStandaloneRootPerFile: each file's paths resolve against its own Root.
func TestStandaloneRootPerFile(t *testing.T) {
	fake := newFake(t)
	var files []fn.GeneratorFile
	for _, name := range []string{"one", "two"} {
		root := t.TempDir()
		testfiles.Write(t, root, map[string]string{"v.encrypted": base64.StdEncoding.EncodeToString(fake.Encrypt(keyApp, nil, []byte(name)))})
		files = append(files, fn.GeneratorFile{Name: name + ".yaml", Root: root, Content: []byte(
			"apiVersion: kmsgen.dev/v1alpha1\nkind: KMSSecretGenerator\nmetadata: {name: " + name + "}\n" +
				"files: [v.encrypted]\noptions: {disableNameSuffixHash: true}\n")})
	}
	secrets, err := newGenerator(awskms.Options{}).Standalone(t.Context(), files)
	if err != nil {
		t.Fatalf("Standalone: %v", err)
	}
	got := map[string]string{}
	for _, s := range secrets {
		got[s.GetName()] = s.GetDataMap()["v"]
	}
	want := map[string]string{"one": base64.StdEncoding.EncodeToString([]byte("one")), "two": base64.StdEncoding.EncodeToString([]byte("two"))}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("name → data v (-want +got):\n%s", diff)
	}
	if n := fake.Calls("Decrypt"); n != 2 {
		t.Errorf("Decrypt calls = %d, want 2", n)
	}
}

func TestStandaloneErrors(t *testing.T) {
	const gen = "apiVersion: kmsgen.dev/v1alpha1\nkind: KMSSecretGenerator\nmetadata: {name: app}\nliterals: [TOKEN=%s]\n"
	tests := []struct {
		name    string
		content string
		want    string
	}{
		{"not a generator", gen + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
			"gen.yaml: document 2 is a v1 ConfigMap, not a kmsgen.dev/v1alpha1/KMSSecretGenerator"},
		{"empty file", "", "no KMSSecretGenerator found in the files given"},
		{"only a comment", "# nothing here\n", "no KMSSecretGenerator found in the files given"},
		{"invalid generator", strings.Replace(gen, "metadata: {name: app}\n", "metadata: {name: app}\nbehavior: upsert\n", 1),
			`gen.yaml: KMSSecretGenerator "app": behavior: "upsert": want create, merge or replace`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFake(t)
			content := strings.ReplaceAll(tc.content, "%s", base64.StdEncoding.EncodeToString(fake.Encrypt(keyApp, nil, []byte("t0k3n"))))
			root := t.TempDir()
			secrets, err := newGenerator(awskms.Options{}).Standalone(t.Context(),
				[]fn.GeneratorFile{{Name: "gen.yaml", Content: []byte(content), Root: root}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Standalone error = %v, want it to contain %q", err, tc.want)
			}
			if secrets != nil {
				t.Errorf("Standalone returned %d Secrets with an error", len(secrets))
			}
			if n := fake.Calls("Decrypt"); n != 0 {
				t.Errorf("Decrypt calls = %d, want 0", n)
			}
		})
	}
}

// TestStandaloneLargeEnvFile: an env file of 10⁵ lines (an envelope of
// 2.4 MB) builds into a Secret of 10⁵ keys, hashed and printed, in linear
// time: kyaml's field setter, kustomize's hasher and kyaml's MarshalJSON
// each take minutes for this (a quadratic return shows as a test timeout).
func TestStandaloneLargeEnvFile(t *testing.T) {
	newFake(t)
	var env strings.Builder
	for i := range 100_000 {
		fmt.Fprintf(&env, "KEY_%06d=value-%d\n", i, i)
	}
	text, err := encrypt.Text(t.Context(), awskms.New(awskms.Options{}), api.KMS{KeyID: keyApp}, []byte(env.String()))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	testfiles.Write(t, dir, map[string]string{"big.env.encrypted": string(text)})
	gen := "apiVersion: kmsgen.dev/v1alpha1\nkind: KMSSecretGenerator\nmetadata: {name: big}\nenvs: [big.env.encrypted]\n"
	secrets, err := newGenerator(awskms.Options{}).Standalone(t.Context(), []fn.GeneratorFile{{Name: "gen.yaml", Content: []byte(gen), Root: dir}})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(secrets[0].Field("data").Value.YNode().Content) / 2; got != 100_000 {
		t.Errorf("%d keys, want 100000", got)
	}
	out, err := fn.KustomizeYAML(secrets) // kmsgen build's output
	if err != nil || !strings.Contains(string(out), "  KEY_099999: ") {
		t.Errorf("kmsgen build's output (%v) lacks the last key", err)
	}
}
