package rotate

import (
	"fmt"
	"slices"

	"kmsgen.dev/kmsgen/fn/genfile"
	"kmsgen.dev/kmsgen/internal/atomicfile"
)

// apply writes every ciphertext file and every generator file at once.
func (p *plan) apply() (*Result, error) {
	res := &Result{To: p.opts}
	var changes []atomicfile.Change
	for _, it := range p.items {
		first := it.refs[0]
		if first.gen.unchanged {
			continue
		}
		r := Rotated{File: it.path, Form: it.out.Form, Resealed: it.resealed}
		if it.path == "" {
			r.File, r.Field = first.gen.g.Where(), first.source.Field
			if err := genfile.SetInline(first.gen.g.Node, first.source, string(it.out.Bytes())); err != nil {
				return nil, fmt.Errorf("%s: %w", first.gen.name, err)
			}
		} else {
			changes = append(changes, atomicfile.Change{Path: it.path, Content: it.out.Bytes(), Mode: it.mode})
		}
		res.Rotated = append(res.Rotated, r)
	}
	var files []*genfile.File
	for _, gp := range p.gens {
		if gp.unchanged {
			res.Unchanged = append(res.Unchanged, gp.name)
			continue
		}
		if err := genfile.SetKMS(gp.g.Node, p.opts.KeyID, p.opts.Context); err != nil {
			return nil, fmt.Errorf("%s: %w", gp.name, err)
		}
		res.Updated = append(res.Updated, gp.name)
		if !slices.Contains(files, gp.g.File) {
			files = append(files, gp.g.File)
		}
	}
	for _, f := range files {
		change, err := f.Change()
		if err != nil {
			return nil, err
		}
		changes = append(changes, change)
	}
	if err := atomicfile.Apply(changes); err != nil {
		return nil, err
	}
	return res, nil
}
