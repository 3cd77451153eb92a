package fn

import (
	"errors"

	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kmsgen.dev/kmsgen/fn/api"
	"kmsgen.dev/kmsgen/fn/awskms"
)

// Input is one validated generator and where its files are.
type Input struct {
	Generator *api.KMSSecretGenerator
	// Sources are the generator's sources as Validate parsed them, in
	// kustomize's order.
	Sources []api.Source
	// Root is the directory the generator's paths are relative to; no file
	// outside it is read, whether by path or through a symlink.
	Root string
	// GlobalOptions are the kustomization's generatorOptions, if any.
	GlobalOptions *types.GeneratorOptions
	// File is the file the generator was read from, for messages; empty
	// under kustomize.
	File string
	// RootHint, when set, is added to errors reading files: where paths
	// resolve and why.
	RootHint string
}

// NewInput is the one way a generator becomes an Input, for every host and
// command: rn is decoded strictly and validated, and its paths will be
// read relative to root. file names where rn was read from in messages
// (empty under kustomize, which gives no file).
//
// On failure it returns Errors, each naming file, the generator's ID and
// the field at fault; the Input's Generator is still set when decoding
// worked, so that results can refer to it.
func NewInput(rn *yaml.RNode, root, file string) (Input, error) {
	in := Input{Root: root, File: file}
	gen, err := api.Decode(rn)
	if err != nil {
		return in, withFile(asErrors(err, api.IDOf(rn)), file)
	}
	in.Generator = gen
	sources, err := gen.Validate()
	if err != nil {
		var verr *api.ValidationError
		if errors.As(err, &verr) {
			return in, withFile(validationErrors(gen.ID(), verr), file)
		}
		return in, Errors{{File: file, Generator: gen.ID(), Err: err}}
	}
	in.Sources = sources
	return in, nil
}

// Target is where and how the ciphertexts of a generator with settings k
// are decrypted.
func Target(k api.KMS) awskms.Target {
	return awskms.Target{KeyID: k.KeyID, Context: k.EncryptionContext, Region: k.Region, Endpoint: k.Endpoint, RoleARN: k.RoleARN}
}

func withFile(es Errors, file string) Errors {
	for _, e := range es {
		e.File = file
	}
	return es
}
