package cli

import (
	"context"
	"io"
	"os"

	"kmsgen.dev/kmsgen/fn"
)

// runFunction is the KRM function: ResourceList in, ResourceList out.
// After a success, warnings also go to stderr, since kustomize prints no
// results of a function that succeeds; a failure keeps stderr to its one
// line (main prints it).
func runFunction(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer) error {
	gen, setupErr := newGenerator(stderr)
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	p := &fn.Processor{Context: ctx, Generator: gen, WorkDir: wd, SetupErr: setupErr, Output: os.Getenv(fn.EnvOutput)}
	return p.Run(stdin, stdout, stderr)
}
