package encrypt

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"kmsgen.dev/kmsgen/fn/api"
	"kmsgen.dev/kmsgen/internal/testfiles"
)

// TestForFile: the settings of the generators that name a file, as their
// hosts resolve paths (a base's generator run from the base's
// kustomization), agreeing or refused.
func TestForFile(t *testing.T) {
	gen := func(name, body string) string {
		return "apiVersion: kmsgen.dev/v1alpha1\nkind: KMSSecretGenerator\nmetadata:\n  name: " + name + "\n" + body
	}
	cases := []struct {
		name    string
		files   map[string]string
		path    string
		given   api.KMS
		want    *SourceFile
		wantErr string
	}{
		{name: "named under envs by a kustomization's generator",
			files: map[string]string{
				"base/kustomization.yaml": "generators: [gen.yaml]\n",
				"base/gen.yaml":           gen("app", "envs: [app.env.encrypted]\nkms: {keyId: alias/app, encryptionContext: {app: x}}\n"),
			},
			path: "base/app.env.encrypted",
			want: &SourceFile{Path: "base/app.env.encrypted", Env: true, KMS: api.KMS{KeyID: "alias/app", EncryptionContext: map[string]string{"app": "x"}}}},
		{name: "named by two generators that agree",
			files: map[string]string{
				"a.yaml": gen("a", "files: [tls.crt=tls.crt.encrypted]\nkms: {keyId: alias/app}\n"),
				"b.yaml": gen("b", "files: [tls.crt.encrypted]\nkms: {keyId: alias/app}\n"),
			},
			path: "tls.crt.encrypted",
			want: &SourceFile{Path: "tls.crt.encrypted", KMS: api.KMS{KeyID: "alias/app"}}},
		{name: "named by two generators that disagree",
			files: map[string]string{
				"a.yaml": gen("a", "files: [tls.crt.encrypted]\nkms: {keyId: alias/app, encryptionContext: {app: a}}\n"),
				"b.yaml": gen("b", "files: [tls.crt.encrypted]\nkms: {keyId: alias/app, encryptionContext: {app: b}}\n"),
			},
			path: "tls.crt.encrypted", wantErr: "named by generators with different kms settings"},
		{name: "named by none",
			files:   map[string]string{"a.yaml": gen("a", "files: [other.encrypted]\n")},
			path:    "tls.crt.encrypted",
			wantErr: "no KMSSecretGenerator under"},
		{name: "named by none, settings given",
			files: map[string]string{"a.yaml": gen("a", "files: [other.encrypted]\n")},
			path:  "tls.crt.encrypted", given: api.KMS{KeyID: "alias/x"},
			want: &SourceFile{Path: "tls.crt.encrypted", KMS: api.KMS{KeyID: "alias/x"}}},
		{name: "given settings contradict the generator's",
			files: map[string]string{"a.yaml": gen("a", "files: [tls.crt.encrypted]\nkms: {keyId: alias/app}\n")},
			path:  "tls.crt.encrypted", given: api.KMS{KeyID: "alias/other"}, wantErr: "keyId"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			testfiles.Write(t, dir, tc.files)
			testfiles.Write(t, dir, map[string]string{tc.path: "AQICAHh..."})
			t.Chdir(dir)
			got, err := ForFile(t.Context(), tc.path, tc.given)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.NamedBy = nil
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ForFile (-want +got):\n%s", diff)
			}
		})
	}
}
