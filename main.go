// Command kmsgen is a Kustomize KRM function that expands KMSSecretGenerator
// resources into Secrets decrypted with AWS KMS. See README.md.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"kmsgen.dev/kmsgen/internal/cli"
	"kmsgen.dev/kmsgen/internal/harden"
)

func main() {
	// Decrypted values will be in memory: no core dump may hold them.
	if err := harden.Process(); err != nil {
		fmt.Fprintf(os.Stderr, "kmsgen: warning: %v\n", err)
	}
	// SIGQUIT cancels too, rather than dump every goroutine's stack (and,
	// under GOTRACEBACK=crash, abort for a core dump).
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGQUIT)
	code := cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
