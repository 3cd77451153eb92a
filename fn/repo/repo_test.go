package repo

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"kmsgen.dev/kmsgen/internal/testfiles"
)

func generator(name string) string {
	return "apiVersion: kmsgen.dev/v1alpha1\nkind: KMSSecretGenerator\nmetadata:\n  name: " + name + "\n"
}

// inline is a generator as a YAML string in a flow list.
func inline(name string) string {
	return `"apiVersion: kmsgen.dev/v1alpha1\nkind: KMSSecretGenerator\nmetadata:\n  name: ` + name + `\n"`
}

// found is what a test sees of a Generator, paths relative to the tree.
type found struct {
	Name, Where, Root, Kustomization, Package string
	AsResource                                []string
}

func describe(dir string, r *Repository) []found {
	rel := func(p string) string {
		if p == "" {
			return ""
		}
		r, _ := filepath.Rel(dir, p)
		return filepath.ToSlash(r)
	}
	var out []found
	for _, g := range r.Generators {
		f := found{Name: g.ID(), Where: rel(g.File.Path), Root: rel(g.Root), Kustomization: rel(g.Kustomization), Package: rel(g.Package)}
		if g.Inline >= 0 {
			f.Where += "#" + string(rune('0'+g.Inline))
		}
		for _, u := range g.AsResource {
			f.AsResource = append(f.AsResource, rel(u.Kustomization)+" "+u.Field)
		}
		out = append(out, f)
	}
	return out
}

func TestScan(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		scan  []string // relative to the tree; "." when empty
		want  []found
		notes []string // each note contains one, in order
	}{
		{name: "generators files, multi-document files, kpt packages, hidden and non-YAML files", files: map[string]string{
			"app/kustomization.yaml": "generators:\n- secrets/gen.yaml\n- local.yaml\n",
			"app/secrets/gen.yaml":   generator("in-subdir"),
			"app/local.yaml":         "# comment\n" + generator("local") + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\n" + generator("local-2"),
			"kpt/pkg/Kptfile":        "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata: {name: pkg}\n",
			"kpt/pkg/gen.yml":        generator("kpt"),
			"kpt/pkg/sub/gen.yaml":   generator("kpt-sub"),
			".hidden/gen.yaml":       generator("hidden"),
			"app/notes.txt":          generator("not-yaml"),
			"loose/gen.yaml":         generator("loose"),
		}, want: []found{
			{Name: "local", Where: "app/local.yaml", Root: "app", Kustomization: "app/kustomization.yaml"},
			{Name: "local-2", Where: "app/local.yaml", Root: "app", Kustomization: "app/kustomization.yaml"},
			{Name: "in-subdir", Where: "app/secrets/gen.yaml", Root: "app", Kustomization: "app/kustomization.yaml"},
			{Name: "kpt", Where: "kpt/pkg/gen.yml", Root: "kpt/pkg", Package: "kpt/pkg"},
			{Name: "kpt-sub", Where: "kpt/pkg/sub/gen.yaml", Root: "kpt/pkg/sub", Package: "kpt/pkg"},
			{Name: "loose", Where: "loose/gen.yaml", Root: "loose"},
		}},
		{name: "an overlay reaches its base's generator and its own inline ones", scan: []string{"overlays/prod"}, files: map[string]string{
			"base/kustomization.yaml":          "resources: [deployment.yaml]\ngenerators: [secrets.yaml]\n",
			"base/deployment.yaml":             "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n",
			"base/secrets.yaml":                generator("base"),
			"overlays/prod/kustomization.yaml": "resources: [../../base]\ngenerators:\n- |-\n  " + strings.ReplaceAll(strings.TrimSpace(generator("block")), "\n", "\n  ") + "\n- " + inline("quoted") + "\n",
			"overlays/dev/kustomization.yaml":  "resources: [../../base]\ngenerators: [" + inline("dev") + "]\n",
		}, want: []found{
			{Name: "base", Where: "base/secrets.yaml", Root: "base", Kustomization: "base/kustomization.yaml"},
			{Name: "block", Where: "overlays/prod/kustomization.yaml#0", Root: "overlays/prod", Kustomization: "overlays/prod/kustomization.yaml"},
			{Name: "quoted", Where: "overlays/prod/kustomization.yaml#1", Root: "overlays/prod", Kustomization: "overlays/prod/kustomization.yaml"},
		}},
		{name: "listed under resources, bases and components: never run", files: map[string]string{
			"app/kustomization.yaml":          "resources: [secrets.yaml]\nbases: [old-base]\ncomponents: [../comp]\n",
			"app/secrets.yaml":                generator("as-resource"),
			"app/old-base/kustomization.yaml": "resources: [gen.yaml]\n",
			"app/old-base/gen.yaml":           generator("in-base"),
			"comp/kustomization.yaml":         "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\ngenerators: [gen.yaml]\n",
			"comp/gen.yaml":                   generator("component"),
		}, want: []found{
			{Name: "in-base", Where: "app/old-base/gen.yaml", Root: "app/old-base", AsResource: []string{"app/old-base/kustomization.yaml resources"}},
			{Name: "as-resource", Where: "app/secrets.yaml", Root: "app", AsResource: []string{"app/kustomization.yaml resources"}},
			{Name: "component", Where: "comp/gen.yaml", Root: "comp", Kustomization: "comp/kustomization.yaml"},
		}},
		{name: "a directory under generators: its resources are generator configurations run by the kustomization that lists it", files: map[string]string{
			"app/kustomization.yaml":      "generators: [gens]\n",
			"app/gens/kustomization.yaml": "resources: [a.yaml, b.yaml]\n",
			"app/gens/a.yaml":             generator("a"),
			"app/gens/b.yaml":             generator("b"),
		}, want: []found{
			{Name: "a", Where: "app/gens/a.yaml", Root: "app", Kustomization: "app/kustomization.yaml"},
			{Name: "b", Where: "app/gens/b.yaml", Root: "app", Kustomization: "app/kustomization.yaml"},
		}},
		{name: "a file given: the kustomization above runs it", scan: []string{"app/secrets/gen.yaml"}, files: map[string]string{
			"app/kustomization.yaml": "generators: [secrets/gen.yaml, other.yaml]\n",
			"app/secrets/gen.yaml":   generator("given"),
			"app/other.yaml":         generator("not-given"),
		}, want: []found{
			{Name: "given", Where: "app/secrets/gen.yaml", Root: "app", Kustomization: "app/kustomization.yaml"},
		}},
		{name: "remote bases and missing entries are noted", files: map[string]string{
			"app/kustomization.yaml": "resources:\n- github.com/example/repo/base?ref=v1\n- https://example.test/base.yaml\n- missing.yaml\ngenerators: [gen.yaml]\n",
			"app/gen.yaml":           generator("app"),
		}, want: []found{
			{Name: "app", Where: "app/gen.yaml", Root: "app", Kustomization: "app/kustomization.yaml"},
		}, notes: []string{`app/kustomization.yaml resources[0]: remote base "github.com/example/repo/base?ref=v1" not followed`,
			`app/kustomization.yaml resources[1]: remote base "https://example.test/base.yaml" not followed`,
			`app/kustomization.yaml resources[2]: "missing.yaml": stat`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir) // notes show paths relative to the working directory
			testfiles.Write(t, dir, tc.files)
			scan := tc.scan
			if scan == nil {
				scan = []string{"."}
			}
			var paths []string
			for _, p := range scan {
				paths = append(paths, filepath.Join(dir, p))
			}
			r, err := Scan(paths)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, describe(dir, r)); diff != "" {
				t.Errorf("generators (-want +got):\n%s", diff)
			}
			if len(r.Notes) != len(tc.notes) {
				t.Fatalf("notes %v, want %d", r.Notes, len(tc.notes))
			}
			for i, n := range r.Notes {
				if !strings.Contains(n.String(), tc.notes[i]) {
					t.Errorf("note %d = %q, want it to contain %q", i, n, tc.notes[i])
				}
			}
		})
	}
}

func TestScanRefusesAFileWithoutGenerator(t *testing.T) {
	dir := t.TempDir()
	testfiles.Write(t, dir, map[string]string{"deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n"})
	if _, err := Scan([]string{filepath.Join(dir, "deploy.yaml")}); err == nil || !strings.Contains(err.Error(), "holds no KMSSecretGenerator") {
		t.Errorf("Scan of a file without a generator: %v", err)
	}
}

func TestFollow(t *testing.T) {
	dir := t.TempDir()
	testfiles.Write(t, dir, map[string]string{
		"base/kustomization.yaml":          "generators: [gen.yaml]\n",
		"base/gen.yaml":                    generator("base"),
		"overlays/prod/kustomization.yaml": "resources: [../../base]\n",
		"plain/kustomization.yaml":         "resources: [cm.yaml]\n",
		"plain/cm.yaml":                    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
		"plain/gen.yaml":                   generator("not-listed"),
	})
	for _, tc := range []struct {
		dir  string
		want int
	}{{"overlays/prod", 1}, {"base", 1}, {"plain", 0}} {
		r, err := Follow(filepath.Join(dir, tc.dir))
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Generators) != tc.want {
			t.Errorf("Follow(%s): %d generators, want %d", tc.dir, len(r.Generators), tc.want)
		}
	}
	if _, err := Follow(filepath.Join(dir, "base", "..")); err == nil {
		t.Error("Follow of a directory without a kustomization: no error")
	}
}
