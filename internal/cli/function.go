package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio"

	"kmsgen.dev/kmsgen/fn"
)

// runFunction is the KRM function: ResourceList in, ResourceList out.
// After a success, warnings also go to stderr, since kustomize prints no
// results of a function that succeeds; a failure keeps stderr to its one
// line (main prints it).
func runFunction(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer) error {
	gen, setupErr := fn.NewGenerator(os.Getenv)
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	p := &fn.Processor{Context: ctx, Generator: gen, WorkDir: wd, SetupErr: setupErr, Output: os.Getenv(fn.EnvOutput)}
	withWarnings := framework.ResourceListProcessorFunc(func(rl *framework.ResourceList) error {
		err := p.Process(rl)
		for _, r := range rl.Results {
			if err == nil && r.Severity == framework.Warning {
				fmt.Fprintf(stderr, "kmsgen: warning: %s\n", fn.OneLine(errors.New(r.Message)))
			}
		}
		return err
	})
	err = framework.Execute(withWarnings, &kio.ByteReadWriter{Reader: stdin, Writer: stdout, KeepReaderAnnotations: true})
	return gen.NoteSDKWarnings(err)
}
