package fn

import (
	"context"
	"encoding/base64"
	"fmt"
	"path/filepath"
	"slices"

	"kmsgen.dev/kmsgen/fn/api"
	"kmsgen.dev/kmsgen/fn/kustomization"
	"kmsgen.dev/kmsgen/fn/repo"
	"kmsgen.dev/kmsgen/fn/secret"
)

// Tree is a checkout to read generators from: Root, and the paths under it
// to search as repo.Scan searches them (files, or directories with every
// kustomization in them and what those reach), relative to Root.
type Tree struct {
	Root  string
	Paths []string
}

// Contents is what one generator makes, for reading rather than applying.
type Contents struct {
	// Where is the generator's file relative to its tree's Root, and the
	// generators entry of an inline generator.
	Where string
	// ID is the generator's namespace/name, which is also the Secret's
	// before its hash suffix.
	ID string
	// Secret is the Secret's name as its host names it: with kustomize's
	// hash suffix unless disableNameSuffixHash.
	Secret string
	// Data are the Secret's keys and decoded values.
	Data map[string][]byte
}

// Keys are the Secret's keys, sorted.
func (c Contents) Keys() []string {
	keys := make([]string, 0, len(c.Data))
	for k := range c.Data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Clear overwrites every value, once they are no longer needed.
func (c Contents) Clear() {
	for _, v := range c.Data {
		clear(v)
	}
}

// Contents decrypts the generators of each tree, as their hosts would
// expand them (paths relative to the kustomization that runs them, with its
// generatorOptions, else to their own file), in one batch of KMS calls: a
// ciphertext found in several trees is decrypted once. It returns one list
// per tree, in repo.Scan's order. A tree without generators gives an empty
// list; any generator that fails fails the call, with Errors naming each.
func (g *Generator) Contents(ctx context.Context, trees ...Tree) ([][]Contents, error) {
	out := make([][]Contents, len(trees))
	var inputs []Input
	var at [][2]int // tree and index in out of each input
	var errs Errors
	for t, tree := range trees {
		paths := make([]string, len(tree.Paths))
		for i, p := range tree.Paths {
			paths[i] = filepath.Join(tree.Root, p)
		}
		r, err := repo.Scan(paths)
		if err != nil {
			return nil, err
		}
		for _, gen := range r.Generators {
			in, err := repoInput(gen)
			if err != nil {
				errs = append(errs, asErrors(err, gen.ID())...)
				continue
			}
			out[t] = append(out[t], Contents{Where: relativeWhere(gen, tree.Root), ID: gen.ID()})
			inputs, at = append(inputs, in), append(at, [2]int{t, len(out[t]) - 1})
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if len(inputs) == 0 {
		return out, nil
	}
	secrets, err := g.Generate(ctx, inputs)
	if err != nil {
		return nil, err
	}
	for i, rn := range secrets {
		c := &out[at[i][0]][at[i][1]]
		if opts := kustomization.Merge(inputs[i].Generator.Options, inputs[i].GlobalOptions); opts == nil || !opts.DisableNameSuffixHash {
			if err := secret.AppendHash(rn); err != nil {
				return nil, err
			}
		}
		c.Secret = api.IDOf(rn)
		c.Data = map[string][]byte{}
		for k, v := range rn.GetDataMap() {
			decoded, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				return nil, fmt.Errorf("%s: Secret %s: data %q is not base64: %w", c.Where, c.Secret, k, err)
			}
			c.Data[k] = decoded
		}
	}
	return out, nil
}

// relativeWhere is gen.Where() with the file relative to root.
func relativeWhere(gen *repo.Generator, root string) string {
	where, err := filepath.Rel(root, gen.File.Path)
	if err != nil {
		where = gen.File.Path
	}
	if gen.Inline >= 0 {
		return fmt.Sprintf("%s (%s[%d])", where, repo.Generators, gen.Inline)
	}
	return where
}
