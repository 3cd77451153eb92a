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
	"kmsgen.dev/kmsgen/fn/rotate"
	"kmsgen.dev/kmsgen/internal/atomicfile"
)

type reencryptCmd struct {
	kms kmsFlags // only --key-id and --context: the rest stays the generator's
	// addKeyIDs and removeKeyIDs change the keys of multi-key envelopes.
	addKeyIDs, removeKeyIDs []string
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

  kmsgen reencrypt [--add-key-id KEY]... [--remove-key-id KEYARN]... PATH...
With --add-key-id and --remove-key-id (repeatable, instead of --key-id), the envelopes of the
generators get more or fewer keys, their nonce, tag and body unchanged byte for byte: an
added key gets its own copy of the data key (unwrapped with one usable key of the envelope,
checked against its body, and wrapped under the new key in that key's region; a version 1
envelope's key is then recorded by its ARN), a removed key ARN loses its copy. The last key
of an envelope is never removed, nor the key ARN kms.keyId pins. A direct KMS ciphertext has
one key: adding a key to one is refused (use a KMS multi-region key for it, or encrypt it
again with several --key-id); removing leaves it alone. kms.keyId is left as it is. This
needs kms:Decrypt on one of the envelope's keys and kms:Encrypt on each key added.

Environment: the AWS SDK's usual settings, and KMSGEN_TIMEOUT (per call, default 30s).

Exit codes: 0 done (or nothing to do), 1 a generator, file or KMS call failed (no file
was changed), 2 wrong command line.`,
		Example: `  # move every generator of the repository to a new key
  kmsgen reencrypt --key-id alias/myproject-2026 .

  # a new key and a new encryption context for one generator
  kmsgen reencrypt --key-id arn:aws:kms:eu-west-1:111122223333:alias/prod \
      --context app=myproject --context env=prod overlays/prod/secrets.yaml

  # let a key in another region also open every envelope, then drop an old key
  kmsgen reencrypt --add-key-id arn:aws:kms:us-east-1:111122223333:key/5678efgh-... .
  kmsgen reencrypt --remove-key-id arn:aws:kms:eu-west-1:111122223333:key/0000aaaa-... .`,
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
	addContextFlag(cmd, &r.kms.context, "the new encryption context (else each generator keeps its own): "+strings.TrimPrefix(contextFlagUsage, "encryption context "))
	cmd.Flags().StringArrayVar(&r.addKeyIDs, "add-key-id", nil, "wrap each envelope's data key under this key too, body unchanged (repeatable)")
	cmd.Flags().StringArrayVar(&r.removeKeyIDs, "remove-key-id", nil, "remove this key ARN's copy of each envelope's data key, body unchanged (repeatable)")
	return cmd
}

func (r *reencryptCmd) run(ctx context.Context, cmd *cobra.Command, args []string) error {
	rekey := len(r.addKeyIDs)+len(r.removeKeyIDs) > 0
	switch {
	case rekey && (r.kms.keyID != "" || len(r.kms.context) > 0):
		return usageError{errors.New("--add-key-id and --remove-key-id change the keys of envelopes and keep everything else: they do not go with --key-id or --context")}
	case rekey:
		return r.runKeys(ctx, cmd, args)
	case r.kms.keyID == "":
		return usageError{errors.New("--key-id is required: the key to move the ciphertexts to")}
	}
	to, err := r.kms.settings()
	if err != nil {
		return err
	}
	gen, err := newGenerator(cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	atomicfile.CrashFromEnv(os.Getenv("KMSGEN_TEST_CRASH_AT")) // tests of crash safety only
	res, err := rotate.Paths(ctx, gen.KMS, args, rotate.Options{KeyID: to.KeyID, Context: to.EncryptionContext, LoadRestrictor: gen.Restrictor})
	var rerr *rotate.Error
	if errors.As(err, &rerr) {
		printFailures(cmd.ErrOrStderr(), rerr)
		return errors.New(rerr.Summary())
	}
	if err != nil {
		return err
	}
	return res.WriteText(cmd.OutOrStdout())
}

// runKeys adds and removes envelope keys (--add-key-id, --remove-key-id).
func (r *reencryptCmd) runKeys(ctx context.Context, cmd *cobra.Command, args []string) error {
	opts := rotate.Options{AddKeyIDs: r.addKeyIDs, RemoveKeyIDs: r.removeKeyIDs}
	if err := opts.Validate(); err != nil {
		return usageError{err}
	}
	gen, err := fn.NewGenerator(os.Getenv)
	if err != nil {
		return err
	}
	opts.LoadRestrictor = gen.Restrictor
	res, err := rotate.Paths(ctx, gen.KMS, args, opts)
	var rerr *rotate.Error
	switch {
	case errors.As(err, &rerr):
		printFailures(cmd.ErrOrStderr(), rerr)
		return errors.New(rerr.Summary())
	case err != nil:
		return err
	}
	return res.WriteText(cmd.OutOrStdout())
}

// printFailures writes a rotation's failures to w, one line each, those
// alike once with the list of their ciphertexts.
func printFailures(w io.Writer, rerr *rotate.Error) {
	for _, g := range rerr.Errors().Grouped() {
		fmt.Fprintf(w, "kmsgen: %s\n", fn.OneLine(errors.New(g.String())))
	}
}
