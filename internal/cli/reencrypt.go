package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"kmsgen.dev/kmsgen/fn"
	"kmsgen.dev/kmsgen/fn/api"
	"kmsgen.dev/kmsgen/fn/awskms"
	"kmsgen.dev/kmsgen/fn/ciphertext"
	"kmsgen.dev/kmsgen/fn/genfile"
	"kmsgen.dev/kmsgen/fn/rotate"
)

type reencryptCmd struct {
	kms kmsFlags // only --key-id and --context: the rest stays the generator's
}

func newReencrypt(ctx context.Context) *cobra.Command {
	r := &reencryptCmd{}
	cmd := &cobra.Command{
		Use:   "reencrypt --key-id NEWKEY [--context k=v]... PATH...",
		Short: "Move every ciphertext of generators to another KMS key or encryption context",
		Long: `reencrypt moves every ciphertext that the KMSSecretGenerators in PATH... reference to the
key --key-id and, with --context, to a new encryption context. A PATH is a generator file
or a directory searched for generator files (hidden directories skipped).

Ciphertext files and inline ciphertexts (envs, files, literals) are all moved:
  - a KMS ciphertext with KMS ReEncrypt, so its plaintext never leaves KMS;
  - a kmsgen envelope by re-encrypting its wrapped data key; with --context, its body is
    also opened under the old context and sealed again under the new one (the context is
    part of its GCM additional data), with the same data key, which is erased right after.
Each keeps its form (base64 text, raw binary, envelope). Then each generator's kms.keyId
(and, with --context, kms.encryptionContext) is set to the new values; its formatting and
comments, and every other kms setting, stay. The calls use each generator's own kms
settings (region, endpoint, roleArn): ReEncrypt works within one region, so the new key
must be in the generator's region. A file shared by several generators is moved once; one
shared by generators with different kms settings is refused.

All or nothing: everything is read and checked before any KMS call, and files are written
only when every ciphertext was moved, each through a temporary file renamed into place
(mode kept). If anything fails, every failure is listed and no file changes. A generator
already on the new key (and context) is left alone; when all are, there is nothing to do.

The caller needs kms:ReEncryptFrom on the old key and kms:ReEncryptTo on the new one, and
kms:Decrypt on the old key for envelopes when --context changes. Older commits still hold
ciphertexts under the old key: keep it enabled as long as you may build them.

Environment: the AWS SDK's usual settings, and KMSGEN_TIMEOUT (per call, default 30s).

Exit codes: 0 done (or nothing to do), 1 a generator, file or KMS call failed (no file
was changed), 2 wrong command line.`,
		Example: `  # move every generator of the repository to a new key
  kmsgen reencrypt --key-id alias/myproject-2026 .

  # a new key and a new encryption context for one generator
  kmsgen reencrypt --key-id arn:aws:kms:eu-west-1:111122223333:alias/prod \
      --context app=myproject --context env=prod overlays/prod/secrets.yaml`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{errors.New("reencrypt needs at least one PATH: a generator file or a directory")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return r.run(ctx, cmd, args)
		},
	}
	cmd.Flags().StringVar(&r.kms.keyID, "key-id", "", "the new key: key ID, key ARN, alias (alias/NAME) or alias ARN (required)")
	cmd.Flags().StringArrayVar(&r.kms.context, "context", nil, "the new encryption context, one k=v entry per flag (repeatable); without it each generator keeps its own")
	return cmd
}

func (r *reencryptCmd) run(ctx context.Context, cmd *cobra.Command, args []string) error {
	if r.kms.keyID == "" {
		return usageError{errors.New("--key-id is required: the key to move the ciphertexts to")}
	}
	target, err := r.kms.target()
	if err != nil {
		return err
	}
	gens, err := genfile.Find(args)
	if err != nil {
		return err
	}
	if len(gens) == 0 {
		return fmt.Errorf("no %s found in %s", api.Kind, strings.Join(args, ", "))
	}
	opts, err := fn.OptionsFromEnv(os.Getenv)
	if err != nil {
		return err
	}
	res, err := rotate.Rotate(ctx, awskms.New(opts), gens, rotate.Options{KeyID: target.KeyID, Context: target.Context})
	var rerr *rotate.Error
	if errors.As(err, &rerr) {
		for _, f := range rerr.Failures {
			fmt.Fprintf(cmd.ErrOrStderr(), "kmsgen: %s\n", fn.OneLine(f))
		}
		return errors.New(rerr.Summary())
	}
	if err != nil {
		return err
	}
	return printResult(cmd.OutOrStdout(), res, target)
}

// printResult writes one line per ciphertext moved and per generator, and
// a summary. Nothing in it is secret: paths, fields, key IDs, contexts.
func printResult(w io.Writer, res *rotate.Result, t awskms.Target) error {
	var b strings.Builder
	files, inline := 0, 0
	for _, r := range res.Rotated {
		what := r.Form.String()
		if r.Field != "" {
			inline++
			fmt.Fprintf(&b, "reencrypted %s %s (inline %s)\n", genfile.Display(r.File), r.Field, what)
			continue
		}
		files++
		if r.Form == ciphertext.Envelope && r.Resealed {
			what += ", body sealed again for the new context"
		}
		fmt.Fprintf(&b, "reencrypted %s (%s)\n", genfile.Display(r.File), what)
	}
	settings := "kms.keyId " + t.KeyID
	if t.Context != nil {
		settings += ", kms.encryptionContext " + awskms.ContextString(t.Context)
	}
	for _, g := range res.Updated {
		fmt.Fprintf(&b, "updated %s: %s\n", g, settings)
	}
	for _, g := range res.Unchanged {
		fmt.Fprintf(&b, "unchanged %s: already on %s\n", g, settings)
	}
	switch {
	case len(res.Updated) == 0:
		b.WriteString("nothing to do: every generator already uses " + settings + "\n")
	default:
		ctxNote := "each generator keeps its encryption context"
		if t.Context != nil {
			ctxNote = "encryption context " + awskms.ContextString(t.Context)
		}
		fmt.Fprintf(&b, "done: %s (%d in files, %d inline) of %s now under %s, %s\n",
			counted(files+inline, "ciphertext", "ciphertexts"), files, inline,
			counted(len(res.Updated), "generator", "generators"), t.KeyID, ctxNote)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// counted is "1 thing" or "n things".
func counted(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
