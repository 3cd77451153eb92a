package fn

import (
	"context"
	"encoding/json"
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
	// SourceList are its sources, in order, when it could be decoded.
	SourceList []api.Source
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
// (ciphertextSuffixes; a warning when git ignores the plaintext); a
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
		c.Sources, c.SourceList = len(in.Sources), in.Sources
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
	said := map[string]string{} // a message said in full → the generator it was said for
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
		for _, p := range problems(c, said) {
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

// problems returns the lines of c's failures: each source (or field) and
// its message, which names the fix; sources that met the same failure on
// one line (ErrorGroup), and a message already said in full for an
// earlier generator (in said) only referred to. The file and the generator
// are on the line above.
func problems(c Checked, said map[string]string) []string {
	if c.Err == nil {
		return nil
	}
	var es Errors
	if !errors.As(c.Err, &es) {
		return []string{OneLine(c.Err)}
	}
	var lines []string
	for _, g := range es.Grouped() {
		msg := OneLine(g.Errors[0].Err)
		label := g.Errors[0].Source
		if label == "" {
			label = g.Errors[0].Field
		}
		where := ""
		if len(g.Errors) > 1 {
			where = g.Where(false, false)
		}
		if before, ok := said[g.Message]; ok {
			msg = "the same error as for " + before + " above"
		} else {
			said[g.Message] = fmt.Sprintf("%s: %s %q", c.File, api.Kind, c.ID)
		}
		switch {
		case where != "":
			lines = append(lines, fmt.Sprintf("%s (%s)", msg, where))
		case label != "":
			lines = append(lines, label+": "+msg)
		default:
			lines = append(lines, msg)
		}
	}
	return lines
}

// CheckJSONVersion is the version of WriteJSON's schema; a change that
// could break a reader gets a new one.
const CheckJSONVersion = 1

// Source statuses in WriteJSON.
const (
	StatusOK        = "ok"
	StatusFailed    = "failed"
	StatusUnchecked = "unchecked" // its generator failed elsewhere before this source was fully checked
)

type checkJSON struct {
	Version    int             `json:"version"`
	Mode       string          `json:"mode"`
	OK         bool            `json:"ok"`
	Summary    checkSummary    `json:"summary"`
	Generators []generatorJSON `json:"generators"`
	Warnings   []string        `json:"warnings"`
}

type checkSummary struct {
	Generators int `json:"generators"`
	OK         int `json:"ok"`
	Failed     int `json:"failed"`
	Warnings   int `json:"warnings"`
}

type generatorJSON struct {
	File    string        `json:"file"`
	ID      string        `json:"id"`
	Status  string        `json:"status"`
	Sources []sourceJSON  `json:"sources"`
	Errors  []problemJSON `json:"errors"`
}

type sourceJSON struct {
	Field  string `json:"field"`
	Kind   string `json:"kind"`
	Path   string `json:"path,omitempty"`
	Key    string `json:"key,omitempty"`
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// modeNames name the check modes in WriteJSON, as the flags do.
var modeNames = map[CheckMode]string{CheckDecrypt: "decrypt", CheckDryRun: "dry-run", CheckOffline: "offline"}

var kindNames = map[api.SourceKind]string{api.Env: "env", api.Literal: "literal", api.File: "file"}

type problemJSON struct {
	Field string `json:"field,omitempty"`
	Error string `json:"error"`
}

// WriteJSON writes the report as one JSON document for CI (schema
// CheckJSONVersion, documented in README.md): per generator its file, ID,
// status, each source's status and error, and the failures that belong to
// no one source; the warnings; a summary. Like WriteText, it holds no value
// and no key read from decrypted content.
func (r *CheckReport) WriteJSON(w io.Writer) error {
	out := checkJSON{Version: CheckJSONVersion, Mode: modeNames[r.Mode], OK: r.Failed() == 0, Generators: []generatorJSON{}, Warnings: []string{},
		Summary: checkSummary{Generators: len(r.Generators), OK: len(r.Generators) - r.Failed(), Failed: r.Failed(), Warnings: len(r.Warnings)}}
	for _, c := range r.Generators {
		g := generatorJSON{File: c.File, ID: c.ID, Status: StatusOK, Sources: []sourceJSON{}, Errors: []problemJSON{}}
		bySource := map[string][]string{}
		if c.Err != nil {
			g.Status = StatusFailed
			var es Errors
			if !errors.As(c.Err, &es) {
				es = Errors{{Err: c.Err}}
			}
			fields := map[string]bool{}
			for _, s := range c.SourceList {
				fields[s.Field] = true
			}
			for _, e := range es {
				msg := OneLine(e.Err)
				if fields[e.Field] {
					bySource[e.Field] = append(bySource[e.Field], msg)
				} else {
					g.Errors = append(g.Errors, problemJSON{Field: e.Field, Error: msg})
				}
			}
		}
		for _, s := range c.SourceList {
			sj := sourceJSON{Field: s.Field, Kind: kindNames[s.Kind], Path: s.Path, Key: s.Key, Status: StatusOK}
			switch {
			case len(bySource[s.Field]) > 0:
				sj.Status, sj.Error = StatusFailed, strings.Join(bySource[s.Field], "; ")
			case c.Err != nil:
				sj.Status = StatusUnchecked
			}
			g.Sources = append(g.Sources, sj)
		}
		out.Generators = append(out.Generators, g)
	}
	out.Warnings = append(out.Warnings, r.Warnings...)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
