package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"kmsgen.dev/kmsgen/fn"
	"kmsgen.dev/kmsgen/fn/api"
	"kmsgen.dev/kmsgen/fn/genfile"
	"kmsgen.dev/kmsgen/fn/kustomization"
)

func newCheck(ctx context.Context) *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "check PATH...",
		Short: "Check every KMSSecretGenerator under PATH, for CI, printing no value",
		Long: `check finds every KMSSecretGenerator in PATH... (files, or directories searched recursively,
hidden ones skipped) and checks each as kustomize or kpt would expand it: its fields, its
paths (relative to the kustomization that lists it, else to its own directory, and never
leading outside), every ciphertext (decrypted with KMS, envelopes opened), the env files
inside them and every key. It prints one line per generator, "ok" or "FAIL" followed by one
indented line per problem naming the source and what to do, then the warnings and a summary.
No value, and no key read from decrypted content, is ever printed.

With --dry-run nothing is decrypted: check reads and parses every ciphertext and asks KMS,
with Decrypt DryRun, whether this identity may decrypt each one (an envelope's data key)
under its generator's kms settings. That is a permission check: what the ciphertexts hold
(env files, keys) is not checked.

It warns when a kustomization lists an exec KMSSecretGenerator: kustomize build without
--enable-alpha-plugins --enable-exec leaves it out silently, exiting 0. Warnings do not fail.

Environment: as for the function (AWS_PROFILE, AWS_REGION, credentials, AWS_ENDPOINT_URL_KMS,
KMSGEN_CONCURRENCY, KMSGEN_TIMEOUT, ...). All generators share one batch of KMS calls.

Exit codes: 0 every generator is fine, 1 a generator failed or none was found, 2 wrong
command line.`,
		Example: `  # in CI, with the credentials of the deployment
  kmsgen check .

  # only that this identity may decrypt every ciphertext, decrypting nothing
  kmsgen check --dry-run overlays/prod kpt/secrets.yaml`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{cobra.MinimumNArgs(1)(cmd, args)}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCheck(ctx, cmd.OutOrStdout(), args, dryRun)
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "only ask KMS whether Decrypt is allowed (Decrypt DryRun); decrypt nothing")
	return cmd
}

// checked is one generator found by check and what became of it.
type checked struct {
	file string // for display
	id   string // namespace/name
	// sources is the number of sources; -1 when the generator could not be decoded.
	sources int
	err     error
}

func runCheck(ctx context.Context, w io.Writer, paths []string, dryRun bool) error {
	found, err := genfile.Find(paths)
	if err != nil {
		return err
	}
	if len(found) == 0 {
		return fmt.Errorf("no %s found under %s", api.Kind, strings.Join(paths, " "))
	}
	gen, err := newGenerator()
	if err != nil {
		return err
	}
	results := make([]checked, len(found))
	var inputs []fn.Input
	var at []int // the index in results of each input
	for i, g := range found {
		c := &results[i]
		c.file, c.id, c.sources = genfile.Display(g.File.Path), g.ID(), -1
		in, err := checkInput(g, c.file)
		if err != nil {
			c.err = err
			continue
		}
		c.id = in.Generator.ID()
		c.sources = len(in.Generator.Envs) + len(in.Generator.Literals) + len(in.Generator.Files)
		inputs, at = append(inputs, in), append(at, i)
	}
	for k, err := range gen.Check(ctx, inputs, dryRun) {
		results[at[k]].err = err
	}

	failed := 0
	for _, c := range results {
		status := "ok  "
		if c.err != nil {
			status = "FAIL"
			failed++
		}
		line := fmt.Sprintf("%s %s: %s %q", status, c.file, api.Kind, c.id)
		if c.sources >= 0 {
			line += fmt.Sprintf(" (%s)", counted(c.sources, "source", "sources"))
		}
		fmt.Fprintln(w, line)
		for _, p := range checkProblems(c.err) {
			fmt.Fprintf(w, "     %s\n", p)
		}
	}
	warnings := checkWarnings(found)
	for _, warning := range warnings {
		fmt.Fprintln(w, warning)
	}
	summary := fmt.Sprintf("%s checked: %d ok, %d failed; %s", counted(len(results), api.Kind, api.Kind+"s"), len(results)-failed, failed, counted(len(warnings), "warning", "warnings"))
	if dryRun {
		summary += " (--dry-run: Decrypt permission only, nothing decrypted)"
	}
	fmt.Fprintln(w, summary)
	if failed > 0 {
		return fmt.Errorf("%d of %s failed the check", failed, counted(len(results), api.Kind, api.Kind+"s"))
	}
	return nil
}

// checkInput decodes and validates a generator found in a tree, with the
// kustomization's generatorOptions when a kustomization lists it, as the
// function would see it.
func checkInput(g *genfile.Generator, file string) (fn.Input, error) {
	in, err := fn.NewInput(g.Node, g.Root, file)
	if err != nil || g.Kustomization == "" {
		return in, err
	}
	if filepath.Dir(g.File.Path) != g.Root {
		in.RootHint = fmt.Sprintf("%s lists this generator, so kustomize runs it, and resolves its paths, in that directory", genfile.Display(g.Kustomization))
	}
	global, _, err := kustomization.GeneratorOptions(g.Root)
	if err != nil {
		return in, fn.Errors{{File: file, Generator: in.Generator.ID(), Err: fmt.Errorf("generatorOptions: %w", err)}}
	}
	in.GlobalOptions = global
	return in, nil
}

// checkProblems returns one line per failure of err: the failing source (or
// field) and the message, which names the fix. The file and the generator
// are on the line above.
func checkProblems(err error) []string {
	if err == nil {
		return nil
	}
	var es fn.Errors
	if !errors.As(err, &es) {
		return []string{fn.OneLine(err)}
	}
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = fn.OneLine(e.Err)
		if e.Source != "" {
			lines[i] = e.Source + ": " + lines[i]
		}
	}
	return lines
}

// checkWarnings warns, once per kustomization and file, about each exec
// generator a kustomization lists: kustomize build without --enable-exec
// drops it without a word.
func checkWarnings(found []*genfile.Generator) []string {
	var out []string
	seen := map[[2]string]bool{}
	for _, g := range found {
		k := [2]string{g.Kustomization, g.File.Path}
		if g.Kustomization == "" || !g.IsExec() || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, fmt.Sprintf("warn %s: lists the exec %s %s; kustomize build needs --enable-alpha-plugins --enable-exec, or silently leaves it out",
			genfile.Display(g.Kustomization), api.Kind, genfile.Display(g.File.Path)))
	}
	return out
}
