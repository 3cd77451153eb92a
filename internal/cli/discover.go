package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"kmsgen.dev/kmsgen/fn"
)

func newDiscover() *cobra.Command {
	return &cobra.Command{
		Use:   "discover [DIR]",
		Short: "Exit 0 if the kustomization in DIR reaches a KMSSecretGenerator, 1 if not",
		Long: `discover follows the kustomization in DIR (default: the working directory) as kustomize
build would: its resources and bases (../ included), components and generators (files,
directories and inline YAML strings). It exits 0 when they reach a KMSSecretGenerator, and
1 when they do not or DIR holds no kustomization, printing nothing either way, like grep -q.
It reads no ciphertext, calls no KMS and needs no AWS setting, so it fits an Argo CD
plugin's discover command (examples/argocd/plugin.yaml), which runs in the application's
directory inside the whole repository: an overlay whose generator is in its base is found.

Exit codes: 0 found, 1 not found, 2 the kustomization in DIR cannot be read or the command
line was wrong (with a message on stderr).`,
		Example: `  # Argo CD's discover needs status 0, and output only for a match
  kmsgen discover . && echo kmsgen || test $? -eq 1`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usageError{fmt.Errorf("discover takes at most one directory, got %d arguments", len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			found, err := fn.Discover(dir)
			switch {
			case err != nil:
				return usageError{err} // exit 2: neither found nor not found
			case !found:
				return silentExit(ExitFailed)
			}
			return nil
		},
	}
}
