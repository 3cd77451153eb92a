package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"kmsgen.dev/kmsgen/fn"
)

func newCheck(ctx context.Context) *cobra.Command {
	var dryRun, offline bool
	var output string
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

With -o json it prints one JSON document instead, for CI: per generator its file, ID and
status, each source's status and error, the failures of no one source, the warnings and a
summary (the schema is in README.md); the exit code is the same.

With --dry-run nothing is decrypted: check reads and parses every ciphertext and asks KMS,
with Decrypt DryRun, whether this identity may decrypt each one (an envelope's data key)
under its generator's kms settings. That is a permission check: what the ciphertexts hold
(env files, keys) is not checked.

With --offline nothing is sent to KMS and no AWS access is needed: check reads and parses
every generator (strictly: unknown fields, bad paths and keys fail) and every ciphertext,
so a plaintext committed where a ciphertext belongs (an env file a generator names, or a
literal) fails, as does a plaintext beside a ciphertext file (myproject_secrets beside
myproject_secrets.encrypted, or .enc); a plaintext git ignores is a warning. This is the
offline half of check, and what the pre-commit hook runs (.pre-commit-hooks.yaml).

It warns when a kustomization lists an exec KMSSecretGenerator: kustomize build without
--enable-alpha-plugins --enable-exec leaves it out silently, exiting 0. Warnings do not fail.

Environment: as for the function (AWS_PROFILE, AWS_REGION, credentials, AWS_ENDPOINT_URL_KMS,
KMSGEN_CONCURRENCY, KMSGEN_TIMEOUT, ...). All generators share one batch of KMS calls.

Exit codes: 0 every generator is fine, 1 a generator failed or none was found, 2 wrong
command line.`,
		Example: `  # in CI, with the credentials of the deployment
  kmsgen check .

  # only that this identity may decrypt every ciphertext, decrypting nothing
  kmsgen check --dry-run overlays/prod kpt/secrets.yaml

  # before a commit, without AWS: generators valid, no plaintext where a ciphertext belongs
  kmsgen check --offline .

  # machine-readable: the failing sources
  kmsgen check -o json . | jq -r '.generators[].sources[] | select(.status == "failed") | .field + ": " + .error'`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{cobra.MinimumNArgs(1)(cmd, args)}
			}
			if dryRun && offline {
				return usageError{errors.New("--dry-run asks KMS and --offline calls no AWS API: give one of them")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			mode := fn.CheckDecrypt
			switch {
			case dryRun:
				mode = fn.CheckDryRun
			case offline:
				mode = fn.CheckOffline
			}
			if output != "text" && output != "json" {
				return usageError{fmt.Errorf("-o %q: want text or json", output)}
			}
			return runCheck(ctx, cmd.OutOrStdout(), cmd.ErrOrStderr(), args, mode, output == "json")
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "only ask KMS whether Decrypt is allowed (Decrypt DryRun); decrypt nothing")
	cmd.Flags().BoolVar(&offline, "offline", false, "call no AWS API: check the generators and that every source is a ciphertext (the pre-commit hook)")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json (for CI; the schema is in README.md)")
	return cmd
}

func runCheck(ctx context.Context, w, stderr io.Writer, paths []string, mode fn.CheckMode, asJSON bool) error {
	gen, err := checkGenerator(mode, stderr)
	if err != nil {
		return err
	}
	report, err := gen.CheckPaths(ctx, paths, mode)
	if err != nil {
		return err
	}
	write := report.WriteText
	if asJSON {
		write = report.WriteJSON
	}
	if err := write(w); err != nil {
		return err
	}
	return report.Err()
}

// checkGenerator is the Generator check uses: offline, one with no KMS
// client, so that no AWS configuration is read and no credential is needed.
func checkGenerator(mode fn.CheckMode, stderr io.Writer) (*fn.Generator, error) {
	if mode != fn.CheckOffline {
		return newGenerator(stderr)
	}
	restrictor, err := fn.LoadRestrictorFromEnv(os.Getenv)
	return &fn.Generator{Restrictor: restrictor}, err
}
