package fn

import (
	"fmt"
	"os"
	"path"
	"path/filepath"

	"sigs.k8s.io/kustomize/kyaml/kio/kioutil"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kmsgen.dev/kmsgen/fn/krm"

	"kmsgen.dev/kmsgen/fn/api"
	"kmsgen.dev/kmsgen/fn/nameref"
	"kmsgen.dev/kmsgen/fn/secret"
)

// kpt's contract, as kmsgen defines it.
const (
	// GeneratorAnnotation marks each Secret kmsgen generates under kpt with
	// its generator's name; a re-render replaces the Secret it marks.
	GeneratorAnnotation = "kmsgen.dev/generator"
	// EnvOutput=stdout is the user's promise that kpt's output goes to
	// stdout or a directory of their choosing, not into the package.
	EnvOutput = "KMSGEN_OUTPUT"
	// OutputStdout is the only value of EnvOutput.
	OutputStdout = "stdout"
	// SecretFileSuffix ends the package path given to a generated Secret,
	// next to its generator: `<generator name>.kmsgen-secret.yaml`.
	SecretFileSuffix = ".kmsgen-secret.yaml"
)

// packagePathAnnotation is the absolute path of the package, which kpt fn
// render (not kpt fn eval) puts on every item.
const packagePathAnnotation = "internal.config.kubernetes.io/package-path"

// evalHint explains where paths resolve when kpt gives no package path.
const evalHint = "kpt fn eval passes functions no package path, so paths resolve against the working directory: run kpt fn eval from the package root" +
	" (with --image, also mount it where the image works: --mount type=bind,src=\"$PWD\",dst=/work)"

// renderContainerHint explains a package path that does not exist where
// kmsgen runs: a container under kpt fn render.
const renderContainerHint = "kpt fn render gives functions the package's path on the host, which a container cannot see: under kpt fn render run kmsgen as an exec function, or use inline ciphertexts"

// FunctionAnnotation is where kustomize finds how to run a generator.
const FunctionAnnotation = "config.kubernetes.io/function"

// sentByKustomize reports whether kustomize sent the ResourceList, by what
// kustomize always sends a generator and kpt never does: the generator as
// the functionConfig, with the annotation kustomize found the function by,
// and the same generator as the only item, without a path. Anything else is
// treated as kpt (or another KRM host that may write the output to disk):
// the plaintext guard applies. Deciding by what kpt happens to send would
// fail open when kpt sends zero items (kpt fn eval with a selector that
// matches nothing, or on an empty package).
func sentByKustomize(rl *krm.ResourceList) bool {
	fc := rl.FunctionConfig
	if fc == nil || !api.IsGenerator(fc) || fc.GetAnnotations()[FunctionAnnotation] == "" || len(rl.Items) != 1 {
		return false
	}
	it := rl.Items[0]
	return api.IsGenerator(it) && api.IDOf(it) == api.IDOf(fc) && itemPath(it) == ""
}

func itemPath(rn *yaml.RNode) string {
	a := rn.GetAnnotations()
	if p := a[kioutil.PathAnnotation]; p != "" {
		return p
	}
	return a[kioutil.LegacyPathAnnotation]
}

// processKpt expands generators as kpt runs kmsgen. kpt has no hashing and
// no name-reference step, so kmsgen appends the hash and rewrites references
// itself; it keeps the generators; and it replaces the Secrets of an earlier
// render. It runs the functionConfig's generator when there is one (a
// pipeline step's configPath, or eval's --fn-config), else every generator
// in the package.
func (p *Processor) processKpt(rl *krm.ResourceList) error {
	nodes := kptGenerators(rl)
	if len(nodes) == 0 && len(rl.Items) == 0 && rl.FunctionConfig == nil {
		return fail(rl, Errors{{Err: fmt.Errorf("no ResourceList with a %s on stdin: without arguments kmsgen is a KRM function, which kustomize build --enable-alpha-plugins --enable-exec and kpt run (see kmsgen --help)", api.Kind)}}, nil)
	}
	if len(nodes) == 0 {
		return fail(rl, Errors{{Err: fmt.Errorf("no %s in the package (%d resources): kmsgen has nothing to generate", api.Kind, len(rl.Items))}}, nil)
	}
	if p.SetupErr != nil {
		return fail(rl, Errors{{Err: p.SetupErr}}, nil)
	}
	var inputs []Input
	var errs Errors
	for _, rn := range nodes {
		in, err := p.kptInput(rn)
		if err != nil {
			errs = append(errs, err...)
			continue
		}
		inputs = append(inputs, in)
	}
	if len(errs) > 0 {
		return fail(rl, errs, nil)
	}
	secrets, err := p.Generator.Generate(p.Context, inputs)
	if err != nil {
		return fail(rl, asErrors(err, ""), nil)
	}
	pkgs := newKptPackages(rl.Items)
	items := rl.Items
	var warnings []*krm.Result
	for i, s := range secrets {
		var dangling []*krm.Result
		if items, dangling, err = placeSecret(items, pkgs, inputs[i], nodes[i], s); err != nil {
			return fail(rl, Errors{{File: inputs[i].File, Generator: inputs[i].Generator.ID(), Err: err}}, nil)
		}
		warnings = append(warnings, dangling...)
	}
	if err := sameNameConflicts(inputs, secrets); err != nil {
		return fail(rl, err, nil)
	}
	rl.Items = items
	rl.Results = append(rl.Results, warnings...)
	return nil
}

// kptGenerators returns the generator items to run.
func kptGenerators(rl *krm.ResourceList) []*yaml.RNode {
	fc := rl.FunctionConfig
	var all []*yaml.RNode
	for _, it := range rl.Items {
		if !api.IsGenerator(it) {
			continue
		}
		if fc != nil && api.IsGenerator(fc) && !sameGenerator(it, fc) {
			continue
		}
		all = append(all, it)
	}
	if len(all) == 0 && fc != nil && api.IsGenerator(fc) {
		return []*yaml.RNode{fc} // a --fn-config that is not in the package
	}
	return all
}

// sameGenerator reports whether the item it is the functionConfig fc: the
// same ID and, when fc says where it comes from, the same file and package
// (same-named generators may live in several packages).
func sameGenerator(it, fc *yaml.RNode) bool {
	if api.IDOf(it) != api.IDOf(fc) {
		return false
	}
	if p := itemPath(fc); p != "" && p != itemPath(it) {
		return false
	}
	pkg := fc.GetAnnotations()[packagePathAnnotation]
	return pkg == "" || pkg == it.GetAnnotations()[packagePathAnnotation]
}

// kptInput decodes one generator and finds its directory: paths are
// relative to the generator's own file in the package.
func (p *Processor) kptInput(rn *yaml.RNode) (Input, Errors) {
	file := itemPath(rn)
	in, err := NewInput(rn, "", file)
	if err != nil {
		return Input{}, asErrors(err, "")
	}
	gen := in.Generator
	if pkg := rn.GetAnnotations()[packagePathAnnotation]; pkg != "" {
		in.Root = filepath.Join(pkg, filepath.Dir(filepath.FromSlash(file)))
		if _, err := os.Stat(pkg); err != nil {
			in.RootHint = renderContainerHint
		}
	} else {
		in.Root = filepath.Join(p.WorkDir, filepath.Dir(filepath.FromSlash(file)))
		in.RootHint = evalHint
	}
	fail := func(format string, args ...any) (Input, Errors) {
		return Input{}, Errors{{File: file, Generator: gen.ID(), Err: fmt.Errorf(format, args...)}}
	}
	switch {
	case gen.Behavior == api.BehaviorMerge || gen.Behavior == api.BehaviorReplace:
		return fail("behavior %s needs kustomize (a base to merge into); under kpt a generator can only create", gen.Behavior)
	case p.Output != "" && p.Output != OutputStdout:
		return fail("%s=%q: the only value is %s", EnvOutput, p.Output, OutputStdout)
	case p.Output != OutputStdout && !gen.Kpt.AllowPlaintextInPackage:
		return fail("refusing to emit the Secret: kpt fn render writes its result into the package on disk by default, and kmsgen cannot tell. "+
			"If the output goes to -o stdout, -o unwrap or -o DIR, run with %s=%s (exec functions inherit kpt's environment; pass it to a container with -e); "+
			"to write it into the package on purpose, set kpt.allowPlaintextInPackage: true in the generator and keep %s out of git",
			EnvOutput, OutputStdout, secretPath(file, gen.Metadata.Name))
	}
	return in, nil
}

// secretPath is where a generated Secret goes in the package: beside its
// generator.
func secretPath(generatorPath, name string) string {
	return path.Join(path.Dir(generatorPath), name+SecretFileSuffix)
}

// placeSecret names s with its hash, puts it beside its generator item
// gen in the generator's package, replaces the Secrets an earlier render
// made for the same generator in that package, and points every reference
// to the Secret (by its plain name or an earlier hashed one) among that
// package's items at the new name. It returns a warning result for each
// field of the package that still holds the plain name where kmsgen cannot
// tell it is a reference (see danglingReferences).
func placeSecret(items []*yaml.RNode, pkgs kptPackages, in Input, gen *yaml.RNode, s *yaml.RNode) ([]*yaml.RNode, []*krm.Result, error) {
	g := in.Generator
	if g.Options == nil || !g.Options.DisableNameSuffixHash {
		if err := secret.AppendHash(s); err != nil {
			return nil, nil, err
		}
	}
	file := secretPath(in.File, g.Metadata.Name)
	annotations := [][2]string{
		{GeneratorAnnotation, g.Metadata.Name},
		{kioutil.PathAnnotation, file},
		{kioutil.LegacyPathAnnotation, file},
		{kioutil.IndexAnnotation, "0"},
		{kioutil.LegacyIndexAnnotation, "0"},
	}
	if pkg := gen.GetAnnotations()[packagePathAnnotation]; pkg != "" {
		// without it kpt would write the Secret into the package it renders
		annotations = append(annotations, [2]string{packagePathAnnotation, pkg})
	}
	for _, a := range annotations {
		if err := s.PipeE(yaml.SetAnnotation(a[0], a[1])); err != nil {
			return nil, nil, err
		}
	}
	pkg := pkgs.of(gen)
	oldNames := []string{g.Metadata.Name}
	kept := items[:0:0]
	for _, it := range items {
		if it.GetKind() == "Secret" && it.GetAnnotations()[GeneratorAnnotation] == g.Metadata.Name &&
			it.GetNamespace() == g.Metadata.Namespace && pkgs.of(it) == pkg {
			oldNames = append(oldNames, it.GetName())
			continue
		}
		kept = append(kept, it)
	}
	pkgItems := pkgs.in(kept, pkg)
	if err := nameref.RenameSecret(pkgItems, g.Metadata.Namespace, oldNames, s.GetName()); err != nil {
		return nil, nil, err
	}
	var warnings []*krm.Result
	if s.GetName() != g.Metadata.Name {
		warnings = danglingReferences(pkgItems, g, s.GetName())
	}
	return append(kept, s), warnings, nil
}

// sameNameConflicts refuses two generators whose Secrets have the same
// name and namespace but different data: one would silently replace the
// other when applied.
func sameNameConflicts(inputs []Input, secrets []*yaml.RNode) Errors {
	type made struct {
		in   Input
		data string
	}
	seen := map[string]made{}
	var errs Errors
	for i, s := range secrets {
		id, data := api.IDOf(s), ""
		if f := s.Field("data"); f != nil {
			data = f.Value.MustString()
		}
		first, ok := seen[id]
		if !ok {
			seen[id] = made{inputs[i], data}
			continue
		}
		if first.data != data {
			errs = append(errs, &Error{File: inputs[i].File, Generator: inputs[i].Generator.ID(),
				Err: fmt.Errorf("its Secret %s has the name and namespace of the Secret of %s %q (%s) but other data: one would replace the other when applied; give the generators different names, or keep the hash suffix",
					id, api.Kind, first.in.Generator.ID(), first.in.File)})
		}
	}
	return errs
}
