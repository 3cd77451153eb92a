package rotate

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"strings"

	"kmsgen.dev/kmsgen/fn"
	"kmsgen.dev/kmsgen/fn/api"
	"kmsgen.dev/kmsgen/fn/awskms"
	"kmsgen.dev/kmsgen/fn/ciphertext"
	"kmsgen.dev/kmsgen/fn/repo"
)

// plan is everything Rotate reads before calling KMS.
type plan struct {
	opts  Options
	gens  []*genPlan
	items []*item // in generator and source order
	files map[string]*item
	fails []*Failure
}

type genPlan struct {
	g        *repo.Generator
	name     Generator
	src, dst awskms.Target
	// unchanged: already on the destination, left alone.
	unchanged bool
}

// item is one ciphertext: a file (possibly shared) or an inline source.
type item struct {
	// path is the ciphertext file, symlinks resolved; "" when inline.
	path string
	mode fs.FileMode
	ct   ciphertext.Ciphertext
	refs []ref // the first one decides the source settings
	out  ciphertext.Ciphertext
	// resealed is set when the envelope's body was sealed again.
	resealed bool
	// changed is set when keys were added to or removed from the
	// envelope (Options.AddKeyIDs, RemoveKeyIDs).
	changed bool
}

type ref struct {
	gen    *genPlan
	source api.Source
}

func (r ref) String() string { return fmt.Sprintf("%s of %s", r.source, r.gen.name) }

func (p *plan) fail(g *genPlan, source string, also []string, err error) {
	p.fails = append(p.fails, &Failure{Generator: g.name, Source: source, Also: also, Err: err})
}

// add plans one generator: decodes and validates it as the function does,
// and reads its ciphertexts.
func (p *plan) add(g *repo.Generator) {
	gp := &genPlan{g: g, name: Generator{Where: g.Where(), ID: g.ID()}}
	in, err := fn.NewInput(g.Node, g.Root, g.Where())
	if err != nil {
		p.failInput(gp, err)
		return
	}
	gp.src = fn.Target(in.Generator.KMS)
	gp.dst = gp.src
	if !p.opts.keysMode() {
		gp.dst.KeyID = p.opts.KeyID
		if p.opts.Context != nil {
			gp.dst.Context = p.opts.Context
		}
		gp.unchanged = gp.src.KeyID == gp.dst.KeyID && sameContext(gp.src.Context, gp.dst.Context)
		if err := sameRegion(gp.src, gp.dst); err != nil {
			p.fail(gp, "", nil, err)
			return
		}
	}
	p.gens = append(p.gens, gp)

	var files *fn.Files
	for _, s := range in.Sources {
		if s.Path == "" {
			ct, err := ciphertext.Parse([]byte(s.Ciphertext), false)
			if err != nil {
				p.fail(gp, s.String(), nil, err)
				continue
			}
			p.items = append(p.items, &item{ct: ct, refs: []ref{{gp, s}}})
			continue
		}
		if files == nil {
			if files, err = fn.OpenFiles(in, p.opts.LoadRestrictor); err != nil {
				p.fail(gp, "", nil, err)
				return
			}
			defer files.Close()
		}
		p.addFile(gp, files, s)
	}
}

// failInput records a generator that fn.NewInput refused: one failure per
// problem, at its field.
func (p *plan) failInput(gp *genPlan, err error) {
	var es fn.Errors
	if !errors.As(err, &es) {
		p.fail(gp, "", nil, err)
		return
	}
	for _, e := range es {
		p.fail(gp, e.Source, nil, e.Err)
	}
}

// addFile plans the ciphertext file of source s, once per file: a file
// shared by generators with the same kms settings is one item.
func (p *plan) addFile(gp *genPlan, files *fn.Files, s api.Source) {
	it, err := readFile(files, s)
	if err != nil {
		p.fail(gp, s.String(), nil, err)
		return
	}
	shared, ok := p.files[it.path]
	if !ok {
		it.refs = []ref{{gp, s}}
		p.files[it.path] = it
		p.items = append(p.items, it)
		return
	}
	if first := shared.refs[0]; !sameSource(first.gen.src, gp.src) {
		p.fail(gp, s.String(), nil, fmt.Errorf("the file is also used by %s, whose kms settings differ (%s here, %s there), so it cannot be re-encrypted for both: give the generators the same kms settings, or each its own copy of the file",
			first, describe(gp.src), describe(first.gen.src)))
		return
	}
	shared.refs = append(shared.refs, ref{gp, s})
}

// readFile reads and parses the ciphertext file of s as the function reads
// it (fn.Files), and finds the file to rewrite (symlinks resolved, still
// inside the confining directory).
func readFile(files *fn.Files, s api.Source) (*item, error) {
	data, err := files.Read(s.Path)
	if err != nil {
		return nil, err
	}
	ct, err := ciphertext.Parse(data, true)
	if err != nil {
		return nil, err
	}
	real, mode, err := files.Resolve(s.Path)
	if err != nil {
		return nil, err
	}
	return &item{path: real, mode: mode, ct: ct}, nil
}

// sameRegion refuses, before any call, a new key ARN in another region than
// the generator's ciphertexts, when both are known: KMS re-encrypts within
// one region.
func sameRegion(src, dst awskms.Target) error {
	dstRegion := dst.KeyRegion()
	srcRegion := src.Region
	if srcRegion == "" {
		srcRegion = src.KeyRegion()
	}
	if dstRegion != "" && srcRegion != "" && dstRegion != srcRegion {
		return fmt.Errorf("the new key is in region %s and this generator's ciphertexts in %s: KMS re-encrypts within one region; create the new key in %s (moving to another region means decrypting and encrypting again)", dstRegion, srcRegion, srcRegion)
	}
	return nil
}

func sameContext(a, b map[string]string) bool { return maps.Equal(a, b) }

// sameSource reports whether two generators decrypt a file the same way.
func sameSource(a, b awskms.Target) bool {
	return a.KeyID == b.KeyID && sameContext(a.Context, b.Context) && a.Region == b.Region && a.Endpoint == b.Endpoint && a.RoleARN == b.RoleARN
}

// describe shows kms settings in messages (none of them is secret).
func describe(t awskms.Target) string {
	parts := []string{"keyId " + orNone(t.KeyID), "encryptionContext " + awskms.ContextString(t.Context)}
	for _, f := range [][2]string{{"region", t.Region}, {"endpoint", t.Endpoint}, {"roleArn", t.RoleARN}} {
		if f[1] != "" {
			parts = append(parts, f[0]+" "+f[1])
		}
	}
	return strings.Join(parts, ", ")
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// also names the references of a shared file but the first.
func (it *item) also() []string {
	var out []string
	for _, r := range it.refs[1:] {
		out = append(out, r.String())
	}
	return out
}
