package cli

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"kmsgen.dev/kmsgen/fn"
	"kmsgen.dev/kmsgen/fn/api"
	"kmsgen.dev/kmsgen/fn/awskms"
	"kmsgen.dev/kmsgen/fn/ciphertext"
	"kmsgen.dev/kmsgen/fn/envfile"
	"kmsgen.dev/kmsgen/fn/limits"
)

func newTextconv(ctx context.Context) *cobra.Command {
	var k kmsFlags
	cmd := &cobra.Command{
		Use:   "textconv FILE",
		Short: "Print an encrypted file's keys, never its values: git diff's textconv for ciphertexts",
		Long: `textconv decrypts FILE (a ciphertext in any form kmsgen reads) and prints what git diff may
show of it: a header with the ciphertext's SHA-256 (of the ciphertext, which is in git
anyway, so that a changed ciphertext always shows as a change), then, for an env file, its
keys, one per line. No value is printed, nor anything computed from one: a line whose keys
did not change hides which values did; kmsgen diff names those.

git gives textconv the file alone, not the generator that names it: give the encryption
context and key with --context and --key-id in the git configuration when the generator
sets them. When FILE cannot be decrypted, textconv says why in the header and exits 0, so
that git diff still works.

  # .gitattributes
  *.encrypted diff=kmsgen
  # once per clone (add --context k=v for a generator's encryption context)
  git config diff.kmsgen.textconv "kmsgen textconv"`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{cobra.ExactArgs(1)(cmd, args)}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			settings, err := k.settings()
			if err != nil {
				return err
			}
			return runTextconv(ctx, cmd.OutOrStdout(), cmd.ErrOrStderr(), args[0], settings)
		},
	}
	k.add(cmd)
	return cmd
}

func runTextconv(ctx context.Context, w, stderr io.Writer, path string, settings api.KMS) error {
	data, err := limits.ReadFile(path, limits.Ciphertext)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	fmt.Fprintf(w, "# kmsgen: ciphertext sha256:%x\n", sum[:8])
	ct, err := ciphertext.Parse(data, true)
	if err != nil {
		fmt.Fprintf(w, "# kmsgen: not a ciphertext kmsgen reads: %s\n", fn.OneLine(err))
		return nil
	}
	if keys := ct.KeyARNs(); keys != nil {
		fmt.Fprintf(w, "# kmsgen: a multi-key envelope; its data key is wrapped under %s\n", strings.Join(keys, ", "))
	}
	kms, err := newKMS(stderr)
	if err != nil {
		return err
	}
	plaintext, err := fn.Open(ctx, kms, settings, ct)
	if err != nil {
		fmt.Fprintf(w, "# kmsgen: keys not shown: %s\n", fn.OneLine(err))
		var kerr *awskms.Error
		if errors.As(err, &kerr) && kerr.Code == "InvalidCiphertextException" {
			fmt.Fprintln(w, "# kmsgen: give the generator's encryption context: git config diff.kmsgen.textconv \"kmsgen textconv --context k=v\"")
		}
		return nil
	}
	defer clear(plaintext)
	entries, err := envfile.Parse(plaintext)
	if err != nil || len(entries) == 0 {
		fmt.Fprintln(w, "# kmsgen: an encrypted file, not an env file: content not shown")
		return nil
	}
	fmt.Fprintf(w, "# kmsgen: an encrypted env file, %d keys; values not shown (kmsgen diff names the keys whose values changed)\n", len(entries))
	for _, e := range entries {
		fmt.Fprintln(w, e.Key)
	}
	return nil
}
