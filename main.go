// Command kmsgen is a Kustomize KRM function that expands KMSSecretGenerator
// resources into Secrets decrypted with AWS KMS. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"kmsgen.dev/kmsgen/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
