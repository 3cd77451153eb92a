package cli

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"strconv"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"kmsgen.dev/kmsgen/fn"
)

func newShow(ctx context.Context) *cobra.Command {
	var reveal bool
	cmd := &cobra.Command{
		Use:   "show PATH...",
		Short: "List the keys of the Secrets generators make; values only with --reveal",
		Long: `show decrypts the KMSSecretGenerators in PATH... (generator files, or directories searched
as check searches them) and prints, for each, the Secret it makes, named as its host names it
(with kustomize's hash suffix unless disabled), and the Secret's keys. Paths resolve as the
host resolves them: relative to the kustomization that runs the generator, with its
generatorOptions, else to the generator's own directory.

Values are never printed unless --reveal is given, and then only to stdout, one per line as
KEY: "value" (a Go-quoted string; a value that is not UTF-8 text as KEY: base64:...).`,
		Example: `  # which keys does the production Secret hold?
  kmsgen show overlays/prod

  # debugging: the values too
  kmsgen show --reveal app-secrets.yaml`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{cobra.MinimumNArgs(1)(cmd, args)}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runShow(ctx, cmd.OutOrStdout(), cmd.ErrOrStderr(), args, reveal)
		},
	}
	cmd.Flags().BoolVar(&reveal, "reveal", false, "print the values too (to stdout)")
	return cmd
}

func runShow(ctx context.Context, w, stderr io.Writer, paths []string, reveal bool) error {
	gen, err := newGenerator(stderr)
	if err != nil {
		return err
	}
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	trees, err := gen.Contents(ctx, fn.Tree{Root: wd, Paths: paths})
	if err != nil {
		return gen.NoteSDKWarnings(err)
	}
	if len(trees[0]) == 0 {
		return fmt.Errorf("no KMSSecretGenerator found in %v", paths)
	}
	for _, c := range trees[0] {
		fmt.Fprintf(w, "%s: KMSSecretGenerator %q → Secret %s\n", c.Where, c.ID, c.Secret)
		for _, k := range c.Keys() {
			if reveal {
				fmt.Fprintf(w, "  %s: %s\n", k, showValue(c.Data[k]))
			} else {
				fmt.Fprintf(w, "  %s\n", k)
			}
		}
		c.Clear()
	}
	return nil
}

// showValue is a value on one line, unambiguous: Go-quoted text, or base64
// for bytes that are not UTF-8.
func showValue(v []byte) string {
	if utf8.Valid(v) {
		return strconv.Quote(string(v))
	}
	return "base64:" + base64.StdEncoding.EncodeToString(v)
}
