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
	opts, optsErr := fn.OptionsFromEnv(os.Getenv)
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	p := &fn.Processor{Context: ctx, Generator: fn.NewGenerator(opts), WorkDir: wd, SetupErr: optsErr,
		Output: os.Getenv(fn.EnvOutput)}
	return framework.Execute(p, &kio.ByteReadWriter{Reader: stdin, Writer: stdout, KeepReaderAnnotations: true})
}
