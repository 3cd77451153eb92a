package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	"kmsgen.dev/kmsgen/fn"
	"kmsgen.dev/kmsgen/internal/gittree"
)

func newDiff(ctx context.Context) *cobra.Command {
	var exitCode bool
	cmd := &cobra.Command{
		Use:   "diff [REV] [--] [PATH...]",
		Short: "Which keys of the generated Secrets changed since a git revision; never values",
		Long: `diff compares the KMSSecretGenerators under PATH... (default: the current directory) at
git revision REV (default HEAD) with the working tree, and prints, for each generator whose
Secret differs, its Secret's names and the keys added (+), removed (-) or whose value changed
(~). Both sides are decrypted, in one batch of KMS calls, and compared in memory: no value is
printed, nor anything computed from one (no hash, no length), so the output confirms no
guess. Generators are matched by file and namespace/name; one only on one side is listed as
added or removed with its keys. A word that names both a revision and a path is ambiguous:
put -- before the paths, as with git diff.

Exit codes: 0 (with --exit-code: 0 no difference, 1 a difference), 1 a generator failed,
2 wrong command line.`,
		Example: `  # what a pull request changes in the production Secrets
  kmsgen diff origin/main overlays/prod

  # in a pre-push check
  kmsgen diff --exit-code HEAD~1`,
		RunE: func(cmd *cobra.Command, args []string) error {
			rev, paths, err := diffArgs(ctx, args, cmd.ArgsLenAtDash())
			if err != nil {
				return err
			}
			differ, err := runDiff(ctx, cmd.OutOrStdout(), cmd.ErrOrStderr(), rev, paths)
			if err != nil {
				return err
			}
			if differ && exitCode {
				return silentExit(ExitFailed)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&exitCode, "exit-code", false, "exit 1 when a Secret differs, as git diff --exit-code")
	return cmd
}

// diffArgs splits [REV] [--] [PATH...], as git diff does.
func diffArgs(ctx context.Context, args []string, dash int) (rev string, paths []string, err error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", nil, err
	}
	rev, paths = "HEAD", args
	switch {
	case dash == 0:
	case dash == 1 || dash < 0 && len(args) > 0 && gittree.IsRevision(ctx, wd, args[0]):
		if _, statErr := os.Stat(args[0]); dash < 0 && statErr == nil {
			return "", nil, usageError{fmt.Errorf("%q is both a revision and a path: put -- before the paths (kmsgen diff %s -- PATH)", args[0], args[0])}
		}
		rev, paths = args[0], args[1:]
	case dash > 1:
		return "", nil, usageError{fmt.Errorf("one revision at most before --, got %q", args[:dash])}
	}
	if len(paths) == 0 {
		paths = []string{"."}
	}
	return rev, paths, nil
}

// runDiff prints how the generators under paths differ between rev and the
// working tree, and reports whether any does.
func runDiff(ctx context.Context, w, stderr io.Writer, rev string, paths []string) (bool, error) {
	wd, err := os.Getwd()
	if err != nil {
		return false, err
	}
	top, err := gittree.Toplevel(ctx, wd)
	if err != nil {
		return false, err
	}
	if !gittree.IsRevision(ctx, wd, rev) {
		return false, usageError{fmt.Errorf("%q is not a revision of the repository at %s", rev, top)}
	}
	old, err := os.MkdirTemp("", "kmsgen-diff-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(old)
	if err := gittree.Extract(ctx, top, rev, old); err != nil {
		return false, err
	}
	var rels []string
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return false, err
		}
		rel, err := filepath.Rel(top, abs)
		if err != nil || !filepath.IsLocal(rel) && rel != "." {
			return false, usageError{fmt.Errorf("%s is outside the repository at %s", p, top)}
		}
		rels = append(rels, rel)
	}
	before, after := existing(old, rels), existing(top, rels)
	for i, rel := range rels {
		if !slices.Contains(before.Paths, rel) && !slices.Contains(after.Paths, rel) {
			return false, usageError{fmt.Errorf("%s exists neither in the working tree nor at %s (a revision goes first; put -- before paths)", paths[i], rev)}
		}
	}
	gen, err := newGenerator(stderr)
	if err != nil {
		return false, err
	}
	trees, err := gen.Contents(ctx, before, after)
	if err != nil {
		return false, gen.NoteSDKWarnings(err)
	}
	defer func() {
		for _, tree := range trees {
			for _, c := range tree {
				c.Clear()
			}
		}
	}()
	diffs := fn.Diff(trees[0], trees[1])
	printDiff(w, rev, diffs, len(trees[1])+countRemoved(diffs))
	return len(diffs) > 0, nil
}

// existing is the tree at root with those of rels that exist there: a path
// added or deleted since the revision is absent on one side.
func existing(root string, rels []string) fn.Tree {
	t := fn.Tree{Root: root}
	for _, rel := range rels {
		if _, err := os.Stat(filepath.Join(root, rel)); !errors.Is(err, os.ErrNotExist) {
			t.Paths = append(t.Paths, rel)
		}
	}
	return t
}

func countRemoved(diffs []fn.SecretDiff) int {
	n := 0
	for _, d := range diffs {
		if d.Change == fn.Removed {
			n++
		}
	}
	return n
}

func printDiff(w io.Writer, rev string, diffs []fn.SecretDiff, total int) {
	for _, d := range diffs {
		switch d.Change {
		case fn.Added:
			fmt.Fprintf(w, "%s: KMSSecretGenerator %q: new since %s, Secret %s\n", d.Where, d.ID, rev, d.After)
		case fn.Removed:
			fmt.Fprintf(w, "%s: KMSSecretGenerator %q: removed since %s (Secret %s)\n", d.Where, d.ID, rev, d.Before)
		default:
			fmt.Fprintf(w, "%s: KMSSecretGenerator %q: Secret %s → %s\n", d.Where, d.ID, d.Before, d.After)
		}
		for _, k := range d.Keys {
			fmt.Fprintf(w, "  %s %s\n", k.Change, k.Key)
		}
	}
	fmt.Fprintf(w, "%d of %d generators differ from %s\n", len(diffs), total, rev)
}
