package cli

import (
	"context"
	"io"
	"os"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio"

	"kmsgen.dev/kmsgen/fn"
)

// runFunction is the KRM function: ResourceList in, ResourceList out.
func runFunction(ctx context.Context, stdin io.Reader, stdout io.Writer) error {
	gen, err := newGenerator()
	if err != nil {
		return err
	}
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	p := &fn.Processor{Context: ctx, Generator: gen, WorkDir: wd}
	return framework.Execute(p, &kio.ByteReadWriter{Reader: stdin, Writer: stdout, KeepReaderAnnotations: true})
}
