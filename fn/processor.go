package fn

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kmsgen.dev/kmsgen/fn/krm"

	"kmsgen.dev/kmsgen/fn/api"
	"kmsgen.dev/kmsgen/fn/kustomization"
	"kmsgen.dev/kmsgen/fn/limits"
	"kmsgen.dev/kmsgen/fn/secret"
)

// Processor is the KRM function. Under kustomize (listed under
// `generators:`, the generator as the functionConfig) it emits the Secret
// unhashed, marked so that kustomize hashes it and applies the behavior,
// exactly as for its builtin secretGenerator; drops the echoed generator;
// and merges in the generatorOptions of the kustomization in WorkDir, which
// is where kustomize runs exec functions. Under kpt, see processKpt.
type Processor struct {
	Context   context.Context
	Generator *Generator
	// WorkDir is the kustomization root: file paths resolve against it.
	WorkDir string
	// SetupErr, when set, is a configuration error found before the
	// generator was read (a bad KMSGEN_* setting, say); Process reports it
	// as the generator's failure, so it reaches the results too.
	SetupErr error
	// Output is the value of KMSGEN_OUTPUT (kpt only).
	Output string
}

var _ krm.Processor = (*Processor)(nil)

// Run is the function as a process runs it: the ResourceList from stdin (at
// most limits.YAML), the result to stdout; the run is cancelled when the
// host dies (stdout, a pipe, loses its reader). After a success, warnings also
// go to stderr, one line each, since kustomize prints no results of a
// function that succeeds; a failure's error holds the SDK's warning count
// (Generator.NoteSDKWarnings), for the caller's one line.
func (p *Processor) Run(stdin io.Reader, stdout, stderr io.Writer) error {
	ctx, stop := whileReadBy(p.Context, stdout)
	defer stop()
	run := *p
	run.Context = ctx
	withWarnings := krm.ProcessorFunc(func(rl *krm.ResourceList) error {
		err := run.Process(rl)
		for _, r := range rl.Results {
			if err == nil && r.Severity == krm.Warning {
				fmt.Fprintf(stderr, "kmsgen: warning: %s\n", OneLine(errors.New(r.Message)))
			}
		}
		return err
	})
	in := &limits.Reader{R: stdin, Limit: limits.YAML, What: "the ResourceList on stdin"}
	out := bufio.NewWriterSize(stdout, 64<<10) // kyaml writes a line at a time
	err := krm.Execute(withWarnings, &kio.ByteReadWriter{Reader: in, Writer: out, KeepReaderAnnotations: true})
	if ferr := out.Flush(); ferr != nil && err == nil {
		err = fmt.Errorf("writing the ResourceList to stdout: %w", ferr)
	}
	return p.Generator.NoteSDKWarnings(err)
}

// Process implements krm.Processor for kustomize and for
// kpt, telling them apart by their input. On failure it adds an error
// result per failure, leaves no generated Secret in the items and returns
// the error.
func (p *Processor) Process(rl *krm.ResourceList) error {
	if !sentByKustomize(rl) {
		return p.processKpt(rl)
	}
	return p.processKustomize(rl)
}

// missingMountHint is added to a file source's error when the directory
// kmsgen runs in holds no kustomization: kustomize runs exec functions in
// the kustomization root, so this is a container function whose host did
// not mount it there.
func missingMountHint(dir string) string {
	return fmt.Sprintf("%s holds no kustomization, so the kustomization root is not mounted there: "+
		"for a container function, add --mount type=bind,src=.,dst=%s to kustomize build (src is relative to the kustomization listing the generator), "+
		"or use inline ciphertexts", dir, dir)
}

// processKustomize is the function as a kustomize generator.
func (p *Processor) processKustomize(rl *krm.ResourceList) error {
	in, err := NewInput(rl.FunctionConfig, p.WorkDir, "")
	gen := in.Generator
	if err != nil {
		return fail(rl, asErrors(err, api.IDOf(rl.FunctionConfig)), gen)
	}
	if p.SetupErr != nil {
		return fail(rl, Errors{{Generator: gen.ID(), Err: p.SetupErr}}, gen)
	}
	global, _, err := kustomization.GeneratorOptions(p.WorkDir)
	switch {
	case errors.Is(err, kustomization.ErrNotFound):
		in.RootHint = missingMountHint(p.WorkDir)
		rl.Results = append(rl.Results, &krm.Result{
			Severity:    krm.Warning,
			ResourceRef: ref(gen),
			Message: fmt.Sprintf("the kustomization's generatorOptions were not applied: %v. "+
				"kustomize runs exec functions in the kustomization root; a container function sees it only if it is mounted there", err),
		})
	case err != nil:
		return fail(rl, Errors{{Generator: gen.ID(), Err: fmt.Errorf("generatorOptions: %w", err)}}, gen)
	}
	in.GlobalOptions = global
	secrets, err := p.Generator.Generate(p.Context, []Input{in})
	if err != nil {
		return fail(rl, asErrors(err, gen.ID()), gen)
	}
	opts := kustomization.Merge(gen.Options, global)
	needsHash := opts == nil || !opts.DisableNameSuffixHash
	if err := secret.MarkForKustomize(secrets[0], needsHash, gen.Behavior); err != nil {
		return fail(rl, asErrors(err, gen.ID()), gen)
	}
	rl.Items = append(withoutGenerators(rl.Items), secrets[0])
	return nil
}

// fail records errs as error results and leaves the items as they came,
// but for the generators kustomize echoes.
func fail(rl *krm.ResourceList, errs Errors, gen *api.KMSSecretGenerator) error {
	for _, e := range errs {
		r := &krm.Result{Severity: krm.Error, Message: e.Error(), ResourceRef: ref(gen)}
		if gen == nil && e.Generator != "" {
			ns, name := api.SplitID(e.Generator)
			r.ResourceRef = refTo(ns, name)
		}
		if e.Field != "" {
			r.Field = &krm.Field{Path: e.Field}
		}
		if e.File != "" {
			r.File = &krm.File{Path: e.File}
		}
		rl.Results = append(rl.Results, r)
	}
	if sentByKustomize(rl) {
		rl.Items = withoutGenerators(rl.Items)
	}
	return errs
}

func ref(gen *api.KMSSecretGenerator) *yaml.ResourceIdentifier {
	if gen == nil {
		return nil
	}
	return refTo(gen.Metadata.Namespace, gen.Metadata.Name)
}

// refTo refers to the generator namespace/name.
func refTo(namespace, name string) *yaml.ResourceIdentifier {
	return &yaml.ResourceIdentifier{
		TypeMeta: yaml.TypeMeta{APIVersion: api.APIVersion, Kind: api.Kind},
		NameMeta: yaml.NameMeta{Name: name, Namespace: namespace},
	}
}

// withoutGenerators drops KMSSecretGenerator items: kustomize passes the
// generator itself as an item, and it is not part of the output.
func withoutGenerators(items []*yaml.RNode) []*yaml.RNode {
	out := items[:0:0]
	for _, it := range items {
		if api.IsGenerator(it) {
			continue
		}
		out = append(out, it)
	}
	return out
}
