// Package cli is kmsgen's command line: with no arguments it is the KRM
// function (a ResourceList on stdin, the result on stdout); its subcommands
// are the tools around it.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"kmsgen.dev/kmsgen/fn"
)

// Exit codes.
const (
	ExitOK     = 0 // success
	ExitFailed = 1 // a generator could not be expanded (KMS, files, validation)
	ExitUsage  = 2 // the command line was wrong
)

// usageError marks errors of the command line itself.
type usageError struct{ error }

// silentExit ends a command with an exit code and nothing on stderr.
type silentExit int

func (e silentExit) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// Main runs kmsgen with args (without the program name) and returns the
// exit code.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRoot(ctx)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	err := root.Execute()
	if err == nil {
		return ExitOK
	}
	var silent silentExit
	if errors.As(err, &silent) {
		return int(silent)
	}
	fmt.Fprintf(stderr, "kmsgen: %s\n", fn.OneLine(err))
	var uerr usageError
	if errors.As(err, &uerr) {
		return ExitUsage
	}
	return ExitFailed
}

func newRoot(ctx context.Context) *cobra.Command {
	root := &cobra.Command{
		Use:   "kmsgen",
		Short: "Generate Kubernetes Secrets from AWS KMS ciphertexts, as kustomize's secretGenerator would",
		Long: `kmsgen expands KMSSecretGenerator resources (kmsgen.dev/v1alpha1) into Secrets whose data
AWS KMS decrypts at build time. Without arguments it is a KRM function: it reads a
ResourceList on stdin and writes the result to stdout, as kustomize runs it:

  kustomize build --enable-alpha-plugins --enable-exec DIR

(--enable-alpha-plugins without --enable-exec silently skips exec functions.)

Environment: the AWS SDK's usual settings (AWS_PROFILE, AWS_REGION, credentials,
AWS_ENDPOINT_URL_KMS, AWS_MAX_ATTEMPTS, ...), KMSGEN_CONCURRENCY (Decrypt calls in
flight, default 32) and KMSGEN_TIMEOUT (per call, default 30s).

Exit codes: 0 success, 1 a generator failed, 2 the command line was wrong.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				var names []string
				for _, c := range cmd.Commands() {
					if c.IsAvailableCommand() {
						names = append(names, c.Name())
					}
				}
				return usageError{fmt.Errorf("unknown command %q (commands: %s; with no arguments kmsgen is the KRM function)", args[0], strings.Join(names, ", "))}
			}
			return nil
		},
		Example: `  # as kustomize runs it: a ResourceList on stdin
  kustomize build --enable-alpha-plugins --enable-exec overlays/prod

  # the life cycle
  kmsgen encrypt --key-id alias/myapp --context app=myapp --new-generator myapp-secrets < app.env > secrets.yaml
  kmsgen check .
  kmsgen reencrypt --key-id alias/myapp-2027 .`,
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runFunction(ctx, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.AddCommand(newBuild(ctx), newCheck(ctx), newDiff(ctx), newDiscover(), newEdit(ctx), newEncrypt(ctx), newInstall(), newReencrypt(ctx), newShow(ctx), newTextconv(ctx), newVersion())
	return root
}
