package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

func newInstall() *cobra.Command {
	return &cobra.Command{
		Use:   "install DIR",
		Short: "Copy this kmsgen binary to DIR/kmsgen",
		Long: `install copies the running kmsgen binary to DIR/kmsgen (mode 0755), atomically,
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

// install copies the running executable to dir/kmsgen through a temporary
// file in dir, so a reader never sees a half-written binary.
func install(dir string) (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("finding the running binary: %w", err)
	}
	src, err := os.Open(self)
	if err != nil {
		return "", err
	}
	defer src.Close()
	tmp, err := os.CreateTemp(dir, ".kmsgen-install-*")
	if err != nil {
		return "", fmt.Errorf("installing into %s: %w", dir, err)
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	if _, err := io.Copy(tmp, src); err != nil {
		tmp.Close()
		return "", fmt.Errorf("copying to %s: %w", tmp.Name(), err)
	}
	if err := tmp.Chmod(0o755); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	dst := filepath.Join(dir, "kmsgen")
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return "", fmt.Errorf("installing %s: %w", dst, err)
	}
	return dst, nil
}
