package cli

import (
	"context"

	"github.com/spf13/cobra"

	"kmsgen.dev/kmsgen/fn"
)

func newBuild(ctx context.Context) *cobra.Command {
	return &cobra.Command{
		Use:   "build FILE...",
		Short: "Print the Secrets of generator files, named with kustomize's hash suffix",
		Long: `build expands the KMSSecretGenerators in FILE... (- reads stdin) without kustomize and
prints the Secrets as YAML, each named with the content hash kustomize would append,
so a change of any value is a new Secret name and an old name stays for rollbacks.
Paths in a generator are relative to its file's directory.`,
		Example: `  # the seed workflow's step 3, without a plaintext file
  kmsgen build generator.yaml | kubectl apply -f -`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{cobra.MinimumNArgs(1)(cmd, args)}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			var files []fn.GeneratorFile
			for _, path := range args {
				f, err := fn.ReadGeneratorFile(path, cmd.InOrStdin())
				if err != nil {
					return err
				}
				files = append(files, f)
			}
			gen, err := newGenerator(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			secrets, err := gen.Standalone(ctx, files)
			if err != nil {
				return err
			}
			out, err := fn.KustomizeYAML(secrets)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}
}
