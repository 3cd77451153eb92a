package fn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"kmsgen.dev/kmsgen/fn/api"
	"kmsgen.dev/kmsgen/fn/genfile"
	"kmsgen.dev/kmsgen/fn/kustomization"
	"kmsgen.dev/kmsgen/fn/repo"
	"kmsgen.dev/kmsgen/internal/plural"
)

// Checked is one generator CheckPaths found, and what became of it.
type Checked struct {
	// File is the generator's file, as shown to the user.
	File string
	// ID is the generator's namespace/name.
	ID string
	// Sources is its number of sources; -1 when it could not be decoded.
	Sources int
	// Err is nil when the generator is fine, else Errors naming each
	// failing source; it holds no plaintext.
	Err error
}

// CheckReport is what CheckPaths found.
type CheckReport struct {
	Generators []Checked
	// Warnings are problems that do not fail the check.
	Warnings []string
	// Mode is how far the ciphertexts were taken.
	Mode CheckMode
}

// Failed is the number of generators that failed.
func (r *CheckReport) Failed() int {
	n := 0
	for _, c := range r.Generators {
		if c.Err != nil {
			n++
		}
	}
	return n
}

// CheckPaths finds every KMSSecretGenerator in paths as repo.Scan finds
// them (files, or directories with every kustomization in them and what
// those reach) and checks each with Check as its host would expand it: its
// paths relative to the kustomization that runs it (with that
// kustomization's generatorOptions), else to its own directory. Besides
// Check's findings, a generator that a kustomization lists under resources
// fails (kustomize emits it as an object and never runs kmsgen), and so
// does one with a plaintext beside a ciphertext file it names
// (CiphertextSuffixes; a warning when git ignores the plaintext); a
// generator nothing runs, a remote base not followed and an exec generator
// that kustomize build without --enable-exec would drop are warnings. It
// fails only when nothing can be checked (a path cannot be read, no
// generator is found); each generator's failure is in the report.
func (g *Generator) CheckPaths(ctx context.Context, paths []string, mode CheckMode) (*CheckReport, error) {
	r, err := repo.Scan(paths)
	if err != nil {
		return nil, err
	}
	if len(r.Generators) == 0 {
		return nil, fmt.Errorf("no %s found under %s", api.Kind, strings.Join(paths, " "))
	}
	report := &CheckReport{Generators: make([]Checked, len(r.Generators)), Mode: mode}
	var inputs []Input
	var at []int // the index in report.Generators of each input
	for i, gen := range r.Generators {
		c := &report.Generators[i]
		c.File, c.ID, c.Sources = gen.Where(), gen.ID(), -1
		in, err := repoInput(gen)
		if err != nil {
			c.Err = err
			continue
		}
		c.Sources = len(in.Sources)
		if len(gen.AsResource) > 0 {
			c.Err = Errors{{File: c.File, Generator: c.ID, Err: asResourceError(gen.AsResource)}}
			continue
		}
		inputs, at = append(inputs, in), append(at, i)
	}
	report.Warnings = repoWarnings(r)
	for k, err := range g.Check(ctx, inputs, mode) {
		beside, warnings := plaintextBeside(ctx, inputs[k], g.Restrictor)
		report.Warnings = append(report.Warnings, warnings...)
		if len(beside) > 0 {
			var es Errors
			if err != nil {
				es = asErrors(err, inputs[k].Generator.ID())
			}
			err = append(es, beside...)
		}
		report.Generators[at[k]].Err = err
	}
	return report, nil
}

// repoInput is the Input of a generator found in a repository, with the
// generatorOptions of the kustomization that runs it, as the function
// would see it.
func repoInput(g *repo.Generator) (Input, error) {
	in, err := NewInput(g.Node, g.Root, g.Where())
	if err != nil || g.Kustomization == "" {
		return in, err
	}
	if filepath.Dir(g.File.Path) != g.Root {
		in.RootHint = fmt.Sprintf("%s runs this generator, so kustomize resolves its paths in that directory", genfile.Display(g.Kustomization))
	}
	global, _, err := kustomization.GeneratorOptions(g.Root)
	if err != nil {
		return in, Errors{{File: g.Where(), Generator: in.Generator.ID(), Err: fmt.Errorf("generatorOptions: %w", err)}}
	}
	in.GlobalOptions = global
	return in, nil
}

// asResourceError is the failure of a generator listed under resources.
func asResourceError(uses []repo.Use) error {
	where := make([]string, len(uses))
	for i, u := range uses {
		where[i] = u.String()
	}
	return fmt.Errorf("listed as a resource (%s): kustomize emits it as an object and never runs kmsgen, so no Secret is made; list it under generators: instead",
		strings.Join(where, ", "))
}

// repoWarnings are what may hide a generator or keep it from running:
// entries not followed, generators nothing runs, and exec generators
// kustomize build leaves out without --enable-exec (once per
// kustomization and file).
func repoWarnings(r *repo.Repository) []string {
	var out []string
	for _, n := range r.Notes {
		out = append(out, n.String())
	}
	seen := map[[2]string]bool{}
	for _, g := range r.Generators {
		switch {
		case !g.Reached() && len(g.AsResource) == 0:
			out = append(out, fmt.Sprintf("%s: no kustomization runs it and no Kptfile is above it, so only kmsgen build expands it; list it under a kustomization's generators:", g.Name()))
		case g.Kustomization != "" && g.IsExec() && !seen[[2]string{g.Kustomization, g.File.Path}]:
			seen[[2]string{g.Kustomization, g.File.Path}] = true
			out = append(out, fmt.Sprintf("%s: lists the exec %s %s; kustomize build needs --enable-alpha-plugins --enable-exec, or silently leaves it out",
				genfile.Display(g.Kustomization), api.Kind, g.Where()))
		}
	}
	return out
}

// WriteText writes the report for a terminal or a CI log: one line per
// generator, "ok" or "FAIL" and its file, ID and number of sources, then
// one indented line per problem naming the source and what to do; then the
// warnings and a summary. No value, and no key read from decrypted
// content, is in it.
func (r *CheckReport) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, c := range r.Generators {
		status := "ok  "
		if c.Err != nil {
			status = "FAIL"
		}
		fmt.Fprintf(&b, "%s %s: %s %q", status, c.File, api.Kind, c.ID)
		if c.Sources >= 0 {
			fmt.Fprintf(&b, " (%s)", plural.Count(c.Sources, "source", "sources"))
		}
		b.WriteString("\n")
		for _, p := range problems(c.Err) {
			fmt.Fprintf(&b, "     %s\n", p)
		}
	}
	for _, warning := range r.Warnings {
		fmt.Fprintf(&b, "warn %s\n", warning)
	}
	fmt.Fprintf(&b, "%s checked: %d ok, %d failed; %s", plural.Count(len(r.Generators), api.Kind, api.Kind+"s"),
		len(r.Generators)-r.Failed(), r.Failed(), plural.Count(len(r.Warnings), "warning", "warnings"))
	switch r.Mode {
	case CheckDryRun:
		b.WriteString(" (--dry-run: Decrypt permission only, nothing decrypted)")
	case CheckOffline:
		b.WriteString(" (--offline: read and parsed, nothing sent to KMS)")
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, PrintableLines(b.String()))
	return err
}

// Err is nil when every generator passed, else an error counting those
// that failed.
func (r *CheckReport) Err() error {
	if n := r.Failed(); n > 0 {
		return fmt.Errorf("%d of %s failed the check", n, plural.Count(len(r.Generators), api.Kind, api.Kind+"s"))
	}
	return nil
}

// problems returns one line per failure of err: the failing source (or
// field) and the message, which names the fix. The file and the generator
// are on the line above.
func problems(err error) []string {
	if err == nil {
		return nil
	}
	var es Errors
	if !errors.As(err, &es) {
		return []string{OneLine(err)}
	}
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = OneLine(e.Err)
		if e.Source != "" {
			lines[i] = e.Source + ": " + lines[i]
		}
	}
	return lines
}
