package genfile

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"kmsgen.dev/kmsgen/internal/testfiles"
)

const gen = "apiVersion: kmsgen.dev/v1alpha1\nkind: KMSSecretGenerator\nmetadata:\n  name: %s\n"

func generator(name string) string { return strings.ReplaceAll(gen, "%s", name) }

func TestEditKeepsFormatting(t *testing.T) {
	dir := t.TempDir()
	original := `# the app's secrets
apiVersion: kmsgen.dev/v1alpha1
kind: KMSSecretGenerator
metadata:
  name: app # the Secret's name
literals:
  - A=old   # rotated yearly
  - B=keep
kms:
  keyId: alias/old
`
	path := filepath.Join(dir, "gen.yaml")
	testfiles.Write(t, dir, map[string]string{"gen.yaml": original})
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	g := f.Generators()[0]
	for _, err := range []error{
		SetLiteral(g, "A", "new\n"),
		SetLiteral(g, "C", "-----BEGIN X-----\nline\n-----END X-----\n"),
		SetKMS(g, "alias/new", map[string]string{"app": "x"}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	content, err := f.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	want := `# the app's secrets
apiVersion: kmsgen.dev/v1alpha1
kind: KMSSecretGenerator
metadata:
  name: app # the Secret's name
literals:
  - A=new # rotated yearly
  - B=keep
  - |-
    C=-----BEGIN X-----
    line
    -----END X-----
kms:
  keyId: alias/new
  encryptionContext:
    app: x
`
	if diff := cmp.Diff(want, string(content)); diff != "" {
		t.Errorf("edited file (-want +got):\n%s", diff)
	}
}

func TestInline(t *testing.T) {
	dir := t.TempDir()
	original := `# overlay
resources: [../base]
generators:
# the app's secrets, inline
- |-
  apiVersion: kmsgen.dev/v1alpha1
  kind: KMSSecretGenerator
  metadata:
    name: inline-block # its name
  literals:
  - A=old
  kms: {keyId: alias/old}
- "apiVersion: kmsgen.dev/v1alpha1\nkind: KMSSecretGenerator\nmetadata:\n  name: quoted\nkms: {keyId: alias/old}\n"
- gen.yaml
`
	path := filepath.Join(dir, "kustomization.yaml")
	testfiles.Write(t, dir, map[string]string{"kustomization.yaml": original})
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{true, true, false} {
		entry := f.generatorsEntry(i).Value
		if got := IsInline(entry); got != want {
			t.Errorf("IsInline(generators[%d]) = %v, want %v", i, got, want)
		}
	}
	if _, err := f.Inline(2); err == nil {
		t.Error("Inline of a path: no error")
	}
	// Reading an entry without editing it leaves the file as it was.
	for i := range 2 {
		if _, err := f.Inline(i); err != nil {
			t.Fatal(err)
		}
	}
	if content, err := f.Bytes(); err != nil || string(content) != original {
		t.Errorf("unedited inline entries changed the file (%v):\n%s", err, content)
	}
	block, err := f.Inline(0)
	if err != nil {
		t.Fatal(err)
	}
	quoted, _ := f.Inline(1)
	for _, err := range []error{
		SetLiteral(block[0], "A", "new"),
		SetKMS(block[0], "alias/new", nil),
		SetKMS(quoted[0], "alias/new", nil),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	content, err := f.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	// The edited values change, and nothing else: comments, styles, the path entry.
	want := strings.NewReplacer("A=old", "A=new", "alias/old", "alias/new").Replace(original)
	if diff := cmp.Diff(want, string(content)); diff != "" {
		t.Errorf("edited kustomization (-want +got):\n%s", diff)
	}
}
