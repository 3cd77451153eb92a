package cli

import (
	"bytes"
	"context"
	"os"

	"github.com/spf13/cobra"
	"sigs.k8s.io/kustomize/kyaml/yaml"
	sigsyaml "sigs.k8s.io/yaml"

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
			gen, err := fn.NewGenerator(os.Getenv)
			if err != nil {
				return err
			}
			secrets, err := gen.Standalone(ctx, files)
			if err != nil {
				return err
			}
			out, err := asKustomizeYAML(secrets)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}
}

// asKustomizeYAML writes resources exactly as `kustomize build` does (JSON
// to YAML, so fields sorted, documents separated by ---), so that the output
// of kmsgen build equals kustomize's for the same generators.
func asKustomizeYAML(nodes []*yaml.RNode) ([]byte, error) {
	var buf bytes.Buffer
	for i, rn := range nodes {
		j, err := rn.MarshalJSON()
		if err != nil {
			return nil, err
		}
		y, err := sigsyaml.JSONToYAML(j)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			buf.WriteString("---\n")
		}
		buf.Write(y)
	}
	return buf.Bytes(), nil
}
