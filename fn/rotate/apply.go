package rotate

import (
	"fmt"
	"path/filepath"
	"slices"

	"kmsgen.dev/kmsgen/fn/genfile"
	"kmsgen.dev/kmsgen/internal/atomicfile"
)

// apply writes every ciphertext file and every generator file at once,
// through a journal (atomicfile.Journal), so that a crash at any point
// leaves either the old files or a journal that a re-run completes.
func (p *plan) apply() (*Result, error) {
	res := &Result{To: p.opts}
	var changes []atomicfile.Change
	var files []*genfile.File
	keysMode := p.opts.keysMode()
	touched := map[*genPlan]bool{} // keys mode: the generators with an envelope that changed
	for _, it := range p.items {
		first := it.refs[0]
		if first.gen.unchanged || (keysMode && !it.changed) {
			continue
		}
		for _, r := range it.refs {
			touched[r.gen] = true
		}
		r := Rotated{File: it.path, Form: it.out.Form, Resealed: it.resealed, Keys: it.out.KeyARNs()}
		if it.path == "" {
			r.File, r.Field = first.gen.g.Where(), first.source.Field
			if err := genfile.SetInline(first.gen.g.Node, first.source, string(it.out.Bytes())); err != nil {
				return nil, fmt.Errorf("%s: %w", first.gen.name, err)
			}
			if keysMode && !slices.Contains(files, first.gen.g.File) {
				files = append(files, first.gen.g.File)
			}
		} else {
			changes = append(changes, atomicfile.Change{Path: it.path, Content: it.out.Bytes(), Mode: it.mode})
		}
		res.Rotated = append(res.Rotated, r)
	}
	for _, gp := range p.gens {
		if keysMode {
			if touched[gp] {
				res.Updated = append(res.Updated, gp.name)
			} else {
				res.Unchanged = append(res.Unchanged, gp.name)
			}
			continue // kms.keyId stays: only the envelopes' key lines changed
		}
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
	if len(changes) == 0 {
		return res, nil // everything was already on the destination
	}
	if err := atomicfile.Journal(commonDir(changes), changes); err != nil {
		return nil, err
	}
	return res, nil
}

// commonDir is the deepest directory holding every changed file: where the
// journal goes, and where a re-run under any of the paths finds it.
func commonDir(changes []atomicfile.Change) string {
	dir := filepath.Dir(changes[0].Path)
	for _, c := range changes[1:] {
		for !under(c.Path, dir) {
			dir = filepath.Dir(dir)
		}
	}
	return dir
}

func under(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && filepath.IsLocal(rel)
}
