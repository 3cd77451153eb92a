package fn_test

import (
	"bytes"
	"encoding/base64"
	"flag"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/template"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/kustomize/kyaml/fn/framework/frameworktestutil"
	"sigs.k8s.io/kustomize/kyaml/kio"

	"kmsgen.dev/kmsgen/fn"
	"kmsgen.dev/kmsgen/fn/awskms"
	"kmsgen.dev/kmsgen/fn/krm"
	"kmsgen.dev/kmsgen/internal/fakekms"
)

var update = flag.Bool("update", false, "rewrite the expected.yaml of the golden cases from the actual output")

// goldenCases are the directories under testdata/golden; each must run.
var goldenCases = []string{
	"behavior-merge", "behavior-replace", "disable-name-suffix-hash", "env-file",
	"error-kms", "error-validation", "files", "generator-options", "inline",
	"literals", "no-kustomization", "options",
}

// caseDirToken replaces the absolute path of the case directory, which
// differs between runs, in the actual output.
const caseDirToken = "$CASE_DIR"

// TestProcessorGolden runs the Processor on every testdata/golden/<case>.
//
// Every file of a case is a text/template, so that the plaintext of each
// ciphertext is written next to where it is used: {{ encrypt "P" }} is the
// base64 text of the fake KMS's ciphertext of P under alias/app with no
// encryption context, {{ encryptCtx "k=v" "P" }} the same with a context,
// and {{ encryptRaw "P" }} the raw binary blob. The cases are rendered into
// a temporary copy, against a fake KMS holding the same keys, and the
// checker runs there: the Processor decrypts real ciphertexts, read from
// files in its WorkDir or inline, exactly as in production. The fake's
// ciphertexts are deterministic, so expected.yaml (the echoed functionConfig
// holds ciphertexts) renders to the same text as the output.
//
// Failing cases have both errors.txt (one regexp per line, matched against
// the returned error) and expected.yaml (the whole output ResourceList:
// error results, no Secret). `go test ./fn -run TestProcessorGolden -update`
// rewrites every expected.yaml from the actual output, ciphertexts turned
// back into their template; review the diff before committing.
func TestProcessorGolden(t *testing.T) {
	fake := newFake(t)
	src, err := filepath.Abs(filepath.Join("testdata", "golden"))
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	r := &renderer{fake: fake, back: map[string]string{}}
	r.renderTree(t, src, filepath.Join(work, "golden"))
	t.Chdir(work)

	newProcessor := func() krm.Processor {
		wd, err := os.Getwd() // each case runs in its directory
		if err != nil {
			t.Fatal(err)
		}
		return &fn.Processor{Context: t.Context(), Generator: newGenerator(awskms.Options{}), WorkDir: wd}
	}
	// compare checks the normalised actual output against expected.yaml,
	// or rewrites the source expected.yaml under -update.
	compare := func(t *testing.T, expected, actual string) {
		t.Helper()
		wd, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		actual = strings.ReplaceAll(actual, wd, caseDirToken)
		if *update {
			rel, err := filepath.Rel(filepath.Join(work, "golden"), wd)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(src, rel, "expected.yaml"), []byte(r.unrender(actual)), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		if diff := cmp.Diff(strings.TrimSpace(expected), strings.TrimSpace(actual)); diff != "" {
			t.Errorf("output ResourceList (-expected.yaml +actual):\n%s", diff)
		}
	}
	entries, err := os.ReadDir("golden")
	if err != nil {
		t.Fatal(err)
	}
	var ran []string
	for _, e := range entries {
		ran = append(ran, e.Name())
		t.Run(e.Name(), func(t *testing.T) {
			t.Chdir(filepath.Join(work, "golden", e.Name()))
			input, err := os.ReadFile("input.yaml")
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile("expected.yaml")
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			err = krm.Execute(newProcessor(), &kio.ByteReadWriter{Reader: bytes.NewReader(input), Writer: &out})
			compare(t, string(want), out.String())
			errorsTxt, readErr := os.ReadFile("errors.txt")
			switch {
			case readErr == nil && err == nil:
				t.Error("succeeded; errors.txt expects a failure")
			case readErr == nil:
				frameworktestutil.RequireEachLineMatches(t, string(errorsTxt), err.Error())
			case err != nil:
				t.Errorf("failed: %v", err)
			}
		})
	}
	if diff := cmp.Diff(goldenCases, ran); diff != "" {
		t.Errorf("golden cases run (-want +got):\n%s", diff)
	}
}

// renderer renders the golden templates and remembers, for -update, the
// template expression of each ciphertext it made.
type renderer struct {
	fake *fakekms.Server
	back map[string]string // base64 ciphertext → template expression
}

func (r *renderer) funcs() template.FuncMap {
	text := func(expr string, blob []byte) string {
		s := base64.StdEncoding.EncodeToString(blob)
		r.back[s] = "{{ " + expr + " }}"
		return s
	}
	return template.FuncMap{
		"encrypt": func(plaintext string) string {
			return text("encrypt "+strconv.Quote(plaintext), r.fake.Encrypt(keyApp, nil, []byte(plaintext)))
		},
		"encryptCtx": func(context, plaintext string) string {
			ctx := map[string]string{}
			for _, kv := range strings.Split(context, ",") {
				k, v, _ := strings.Cut(kv, "=")
				ctx[k] = v
			}
			return text("encryptCtx "+strconv.Quote(context)+" "+strconv.Quote(plaintext), r.fake.Encrypt(keyApp, ctx, []byte(plaintext)))
		},
		"encryptRaw": func(plaintext string) string {
			return string(r.fake.Encrypt(keyApp, nil, []byte(plaintext)))
		},
	}
}

// renderTree renders every file under src into dst.
func (r *renderer) renderTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		out := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(out, 0o755)
		}
		content, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		tmpl, err := template.New(rel).Funcs(r.funcs()).Option("missingkey=error").Parse(string(content))
		if err != nil {
			return err
		}
		var b bytes.Buffer
		if err := tmpl.Execute(&b, nil); err != nil {
			return err
		}
		return os.WriteFile(out, b.Bytes(), 0o600)
	})
	if err != nil {
		t.Fatalf("rendering the golden cases: %v", err)
	}
}

// unrender turns the ciphertexts in text back into their templates.
func (r *renderer) unrender(text string) string {
	for _, ct := range slices.Sorted(maps.Keys(r.back)) {
		text = strings.ReplaceAll(text, ct, r.back[ct])
	}
	return text
}
