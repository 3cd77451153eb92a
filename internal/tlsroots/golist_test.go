//go:build linux

package tlsroots

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"testing"
)

// TestBundleFilesAreGos holds bundleFiles to crypto/x509's certFiles in the
// toolchain that builds kmsgen: a Go upgrade that changes the list fails
// here instead of trusting a file Go does not read.
func TestBundleFilesAreGos(t *testing.T) {
	src := filepath.Join(runtime.GOROOT(), "src", "crypto", "x509", "root_linux.go")
	f, err := parser.ParseFile(token.NewFileSet(), src, nil, 0)
	if err != nil {
		t.Fatalf("reading Go's list: %v", err)
	}
	var goFiles []string
	ast.Inspect(f, func(n ast.Node) bool {
		spec, ok := n.(*ast.ValueSpec)
		if !ok || len(spec.Names) != 1 || spec.Names[0].Name != "certFiles" {
			return true
		}
		for _, elt := range spec.Values[0].(*ast.CompositeLit).Elts {
			s, err := strconv.Unquote(elt.(*ast.BasicLit).Value)
			if err != nil {
				t.Fatal(err)
			}
			goFiles = append(goFiles, s)
		}
		return false
	})
	if len(goFiles) == 0 {
		t.Fatalf("no certFiles in %s", src)
	}
	if !slices.Equal(goFiles, bundleFiles) {
		t.Errorf("bundleFiles = %q\nGo's certFiles = %q", bundleFiles, goFiles)
	}
}
