package genfile

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"kmsgen.dev/kmsgen/fn/api"
	"kmsgen.dev/kmsgen/internal/testfiles"
)

// TestSetInlineAndKMS replaces inline ciphertexts in place (position,
// comments, style and a literal's quotes kept) and the kms block (sorted
// context, flow style and comments kept).
func TestSetInlineAndKMS(t *testing.T) {
	const head = "apiVersion: kmsgen.dev/v1alpha1\nkind: KMSSecretGenerator\nmetadata:\n  name: s\n"
	const envelope = "-----BEGIN X-----\nline\n-----END X-----\n"
	tests := []struct {
		name    string
		in      string
		sources []api.Source
		text    string
		keyID   string
		context map[string]string
		want    string
	}{
		{name: "single-line text everywhere",
			in: head + `envs:
  - app.env.encrypted
  # inline env
  - ciphertext: OLD # env comment
literals:
  - A=OLD # a
  - Q="OLD"
  - "S='OLD'"
files:
  - {key: k, ciphertext: OLD}
kms:
  keyId: alias/old # the key
  encryptionContext: {app: old}
`,
			sources: []api.Source{{Kind: api.Env, Field: "envs[1]"}, {Kind: api.Literal, Field: "literals[0]"},
				{Kind: api.Literal, Field: "literals[1]"}, {Kind: api.Literal, Field: "literals[2]"}, {Kind: api.File, Field: "files[0]"}},
			text: "NEW\n", keyID: "alias/new", context: map[string]string{"z": "true", "app": "1"},
			want: head + `envs:
  - app.env.encrypted
  # inline env
  - ciphertext: NEW # env comment
literals:
  - A=NEW # a
  - Q="NEW"
  - "S='NEW'"
files:
  - {key: k, ciphertext: NEW}
kms:
  keyId: alias/new # the key
  encryptionContext: {app: "1", z: "true"}
`},
		{name: "an envelope becomes a literal block, or a quoted string in flow style",
			in: head + `envs:
- ciphertext: |-
    -----BEGIN X-----
    old
    -----END X-----
literals: [A=OLD]
kms: {keyId: alias/old}
`,
			sources: []api.Source{{Kind: api.Env, Field: "envs[0]"}, {Kind: api.Literal, Field: "literals[0]"}},
			text:    envelope, keyID: "alias/new",
			want: head + `envs:
- ciphertext: |-
    -----BEGIN X-----
    line
    -----END X-----
literals: ["A=-----BEGIN X-----\nline\n-----END X-----"]
kms: {keyId: alias/new}
`},
		{name: "no kms block yet, context kept",
			in:      head + "literals:\n- A=OLD\n",
			sources: []api.Source{{Kind: api.Literal, Field: "literals[0]"}},
			text:    "NEW", keyID: "alias/new",
			want: head + "literals:\n- A=NEW\nkms:\n  keyId: alias/new\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			testfiles.Write(t, dir, map[string]string{"gen.yaml": tc.in})
			f, err := Load(filepath.Join(dir, "gen.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			g := f.Generators()[0]
			for _, s := range tc.sources {
				if err := SetInline(g, s, tc.text); err != nil {
					t.Fatalf("SetInline %s: %v", s.Field, err)
				}
			}
			if err := SetKMS(g, tc.keyID, tc.context); err != nil {
				t.Fatal(err)
			}
			got, err := f.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, string(got)); diff != "" {
				t.Errorf("edited file (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSetInlineRefuses(t *testing.T) {
	dir := t.TempDir()
	testfiles.Write(t, dir, map[string]string{"gen.yaml": "kind: KMSSecretGenerator\napiVersion: kmsgen.dev/v1alpha1\nmetadata: {name: s}\nenvs: [a.env, {ciphertext: X}]\nliterals: [{a: b}]\n"})
	f, err := Load(filepath.Join(dir, "gen.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	g := f.Generators()[0]
	for _, tc := range []struct {
		source api.Source
		want   string
	}{
		{api.Source{Kind: api.Env, Field: "envs[0]", Path: "a.env"}, `envs[0] "a.env": not an inline ciphertext`},
		{api.Source{Kind: api.Env, Field: "envs[0]"}, "envs[0]: not a {ciphertext: ...} entry"},
		{api.Source{Kind: api.Env, Field: "envs[2]"}, "envs[2]: no such entry in the generator"},
		{api.Source{Kind: api.File, Field: "files[0]"}, "files[0]: no such entry in the generator"},
		{api.Source{Kind: api.Literal, Field: "literals[0]"}, "literals[0]: not a KEY=<ciphertext> string"},
		{api.Source{Kind: api.Env, Field: "envs"}, `source field "envs": want NAME[INDEX]`},
	} {
		err := SetInline(g, tc.source, "NEW")
		if err == nil || err.Error() != tc.want {
			t.Errorf("SetInline %+v: error %v, want %q", tc.source, err, tc.want)
		}
	}
}
