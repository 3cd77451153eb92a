package fn_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"kmsgen.dev/kmsgen/fn"
)

func TestList(t *testing.T) {
	items := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprint(i)
		}
		return out
	}
	for n, want := range map[int]string{
		0: "", 1: "0", 2: "0 and 1", 3: "0, 1 and 2", 4: "0, 1, 2 and 3", 5: "0, 1, 2 and 2 more", 40: "0, 1, 2 and 37 more",
	} {
		if got := fn.List(items(n), 3); got != want {
			t.Errorf("List of %d = %q, want %q", n, got, want)
		}
	}
}

func TestErrorsGrouped(t *testing.T) {
	denied := errors.New("access denied: kms:Decrypt on key alias/k; grant it")
	source := func(file, gen string, i int, err error) *fn.Error {
		return &fn.Error{File: file, Generator: gen, Field: fmt.Sprintf("files[%d]", i), Source: fmt.Sprintf("files[%d] \"f%d\"", i, i), Err: err}
	}
	var forty fn.Errors
	for i := range 40 {
		forty = append(forty, source("", "app", i, denied))
	}
	mixed := fn.Errors{source("", "app", 0, denied), source("", "app", 1, errors.New("no such file")), source("", "app", 2, denied)}
	across := fn.Errors{source("a.yaml", "a", 0, denied), source("b.yaml", "b", 0, denied), source("b.yaml", "b", 1, denied)}
	generators := fn.Errors{{Generator: "a", Err: denied}, {Generator: "b", Err: denied}}
	tests := []struct {
		name string
		errs fn.Errors
		want string
	}{
		{"one", forty[:1], `KMSSecretGenerator "app": files[0] "f0": ` + denied.Error()},
		{"forty sources, one message", forty,
			`KMSSecretGenerator "app": ` + denied.Error() + ` (40 sources: files[0] "f0", files[1] "f1", files[2] "f2" and 37 more)`},
		{"two", forty[:2], `KMSSecretGenerator "app": ` + denied.Error() + ` (2 sources: files[0] "f0" and files[1] "f1")`},
		{"mixed: the first group, then where the others are", mixed,
			`KMSSecretGenerator "app": ` + denied.Error() + ` (2 sources: files[0] "f0" and files[2] "f2") (and 1 more errors: files[1])`},
		{"across generators and files", across,
			denied.Error() + ` (3 sources: a.yaml: KMSSecretGenerator "a" files[0] "f0", b.yaml: KMSSecretGenerator "b" files[0] "f0" and b.yaml: KMSSecretGenerator "b" files[1] "f1")`},
		{"generators", generators, denied.Error() + ` (2 generators: KMSSecretGenerator "a" and KMSSecretGenerator "b")`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.errs.Error(); got != tc.want {
				t.Errorf("Error() =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
	if g := mixed.Grouped(); len(g) != 2 || len(g[0].Errors) != 2 || g[1].Message != "no such file" {
		t.Errorf("Grouped() = %+v", g)
	}
}

// TestCheckReportText: check's text says each failure once: sources of a
// generator that fail alike on one line, and a failure already said for an
// earlier generator referred to.
func TestCheckReportText(t *testing.T) {
	denied := errors.New("access denied")
	src := func(gen string, i int, err error) *fn.Error {
		return &fn.Error{File: gen + ".yaml", Generator: gen, Field: fmt.Sprintf("files[%d]", i), Source: fmt.Sprintf("files[%d] \"f%d\"", i, i), Err: err}
	}
	r := &fn.CheckReport{Generators: []fn.Checked{
		{File: "a.yaml", ID: "a", Sources: 5, Err: fn.Errors{src("a", 0, denied), src("a", 1, denied), src("a", 2, errors.New("no such file")), src("a", 3, denied), src("a", 4, denied)}},
		{File: "b.yaml", ID: "b", Sources: 1, Err: fn.Errors{src("b", 0, denied)}},
		{File: "c.yaml", ID: "c", Sources: 2, Err: fn.Errors{src("c", 0, denied), src("c", 1, denied)}},
		{File: "d.yaml", ID: "d", Sources: 1},
	}}
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	want := `FAIL a.yaml: KMSSecretGenerator "a" (5 sources)
     access denied (4 sources: files[0] "f0", files[1] "f1", files[3] "f3" and files[4] "f4")
     files[2] "f2": no such file
FAIL b.yaml: KMSSecretGenerator "b" (1 source)
     files[0] "f0": the same error as for a.yaml: KMSSecretGenerator "a" above
FAIL c.yaml: KMSSecretGenerator "c" (2 sources)
     the same error as for a.yaml: KMSSecretGenerator "a" above (2 sources: files[0] "f0" and files[1] "f1")
ok   d.yaml: KMSSecretGenerator "d" (1 source)
4 KMSSecretGenerators checked: 1 ok, 3 failed; 0 warnings
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
