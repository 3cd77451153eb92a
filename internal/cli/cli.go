// Package cli is kmsgen's command line: with no arguments it is the KRM
// function (a ResourceList on stdin, the result on stdout); its subcommands
// are the tools around it.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

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
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error { return usageError{suggestFlag(cmd, err)} })
	addCompletion(root)
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
				didYouMean := ""
				if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
					didYouMean = fmt.Sprintf(": did you mean %s?", strings.Join(s, " or "))
				}
				return usageError{fmt.Errorf("unknown command %q%s (commands: %s; with no arguments kmsgen is the KRM function)", args[0], didYouMean, strings.Join(names, ", "))}
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
			if v, _ := cmd.Flags().GetBool("version"); v {
				_, err := fmt.Fprintln(cmd.OutOrStdout(), Version())
				return err
			}
			if f, ok := cmd.InOrStdin().(*os.File); ok && isTerminal(f) {
				// A person typed kmsgen: the function would wait for a
				// ResourceList that is not coming.
				cmd.SetOut(cmd.ErrOrStderr())
				cmd.Help()
				fmt.Fprintln(cmd.ErrOrStderr(), "\nkmsgen: stdin is a terminal: without arguments kmsgen is the KRM function and reads a ResourceList from stdin (pipe one in), else give a command")
				return silentExit(ExitUsage)
			}
			return runFunction(ctx, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	// --version is a flag of kmsgen's own, not cobra's Version field: that
	// one prints through a text/template, and linking text/template keeps
	// every exported method of every type in the binary (+4.9 MB).
	root.Flags().Bool("version", false, "print kmsgen's version, as kmsgen version does")
	root.SuggestionsMinimumDistance = 2
	root.AddCommand(newBuild(ctx), newCheck(ctx), newDiff(ctx), newDiscover(), newEdit(ctx), newEncrypt(ctx), newInstall(), newReencrypt(ctx), newShow(ctx), newTextconv(ctx), newVersion())
	return root
}

// addCompletion adds cobra's completion command (bash, zsh, fish,
// powershell), once root's output is set: its scripts go where root's
// output went then. A shell it does not know is a usage error (cobra would
// show the command's help and exit 0).
func addCompletion(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	c, _, err := root.Find([]string{"completion"})
	if err != nil || c == root {
		return
	}
	c.Args = cobra.ArbitraryArgs
	c.RunE = func(cmd *cobra.Command, args []string) error {
		return usageError{fmt.Errorf("completion: want bash, zsh, fish or powershell, got %q", strings.Join(args, " "))}
	}
}

// suggestFlag adds to an unknown flag's error the nearest flag of cmd, as
// cobra does for commands: "unknown flag: --dryrun (did you mean --dry-run?)".
func suggestFlag(cmd *cobra.Command, err error) error {
	msg := err.Error()
	name, ok := strings.CutPrefix(msg, "unknown flag: --")
	if !ok {
		return err
	}
	name, _, _ = strings.Cut(name, "=")
	best, bestDist := "", cmd.SuggestionsMinimumDistance
	if r := cmd.Root(); bestDist <= 0 && r != nil {
		bestDist = r.SuggestionsMinimumDistance
	}
	if bestDist <= 0 {
		bestDist = 2
	}
	bestDist++ // at most SuggestionsMinimumDistance edits
	consider := func(flag string) {
		d := levenshtein(strings.ToLower(name), flag)
		if strings.HasPrefix(flag, strings.ToLower(name)) && len(name) > 1 {
			d = min(d, 1)
		}
		if d < bestDist {
			best, bestDist = flag, d
		}
	}
	visit := func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		consider(f.Name)
		if f.Name == "context" {
			consider("encryption-context") // its alias (addContextFlag)
		}
	}
	cmd.Flags().VisitAll(visit)
	cmd.InheritedFlags().VisitAll(visit)
	if best == "" {
		return err
	}
	return fmt.Errorf("%s (did you mean --%s?)", msg, best)
}

// levenshtein is the edit distance between a and b, in bytes (flag names
// are ASCII).
func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
