package cli

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X kmsgen.dev/kmsgen/internal/cli.version=v0.2.0".
var version string

// Version is the build-time version, else the module version.
func Version() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		return info.Main.Version
	}
	return "(devel)"
}

func newVersion() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print kmsgen's version",
		Long: `version prints the version set when kmsgen was built (make build uses git describe;
-ldflags "-X kmsgen.dev/kmsgen/internal/cli.version=v0.2.0"), else the Go module version.`,
		Example: `  kmsgen version
  docker run --rm <your registry>/kmsgen:v0.2.0 version`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), Version())
			return err
		},
	}
}
