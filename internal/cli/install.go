package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"kmsgen.dev/kmsgen/internal/atomicfile"
)

func newInstall() *cobra.Command {
	return &cobra.Command{
		Use:   "install DIR",
		Short: "Copy this kmsgen binary to DIR/kmsgen, making DIR if needed",
		Long: `install copies the running kmsgen binary to DIR/kmsgen (mode 0755), atomically,
making DIR and its parents first when they do not exist (as install -D does),
so that an init container built on an image without a shell can put kmsgen on a volume
shared with the container that runs kustomize (the Argo CD repo server, a CMP sidecar).`,
		Example: `  # Argo CD init container (the kmsgen image has no shell)
  command: [/kmsgen, install, /custom-tools]`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{fmt.Errorf("install takes one directory, got %d arguments", len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			dst, err := install(args[0])
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "installed %s\n", dst)
			return err
		},
	}
}

// install copies the running executable to dir/kmsgen atomically
// (atomicfile), so a reader never sees a half-written binary.
func install(dir string) (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("finding the running binary: %w", err)
	}
	binary, err := os.ReadFile(self)
	if err != nil {
		return "", fmt.Errorf("reading the running binary: %w", err)
	}
	// Like install -D: DIR is made with its parents (0755, less the umask).
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("installing into %s: %w", dir, err)
	}
	dst := filepath.Join(dir, "kmsgen")
	if err := atomicfile.Write(dst, binary, 0o755); err != nil {
		return "", fmt.Errorf("installing into %s: %w", dir, err)
	}
	return dst, nil
}
