// Package rotate moves the ciphertexts of KMSSecretGenerators to another
// KMS key or encryption context: `kmsgen reencrypt`.
//
// A direct ciphertext is moved with KMS ReEncrypt, so its plaintext never
// leaves KMS. An envelope keeps its payload: its wrapped data key is moved
// with ReEncrypt, and when the encryption context changes (it is part of the
// GCM additional data) the data key is also decrypted under the old context
// to open the body and seal it again, with a fresh nonce, for the new
// context; the data key and the payload are erased right after.
//
// Everything is planned before any KMS call: every generator is decoded and
// validated, every ciphertext read (files through an os.Root at the
// generator's root, as the function reads them) and parsed. Then every
// ciphertext is re-encrypted, and only when all of them were are the
// ciphertext files and the generator files rewritten, all together
// (genfile.Apply): each ciphertext keeps its form (text, raw, envelope), each
// generator its formatting and comments, with kms.keyId (and, when a new
// context is given, kms.encryptionContext) set to the destination. Any
// failure leaves every file as it was, and the error lists every failing
// ciphertext; no error holds a plaintext.
package rotate

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"kmsgen.dev/kmsgen/fn/api"
	"kmsgen.dev/kmsgen/fn/awskms"
	"kmsgen.dev/kmsgen/fn/ciphertext"
	"kmsgen.dev/kmsgen/fn/envelope"
	"kmsgen.dev/kmsgen/fn/genfile"
)

// Options say where the ciphertexts go.
type Options struct {
	// KeyID is the destination key: key ID, key ARN, alias or alias ARN.
	KeyID string
	// Context, when not nil, replaces every generator's encryption
	// context; when nil, each generator keeps its own.
	Context map[string]string
}

// ErrNoGenerators means there was no generator to rotate.
var ErrNoGenerators = errors.New("no " + api.Kind + " found")

// KMS is what Rotate needs of KMS; *awskms.Client has it.
type KMS interface {
	ReEncrypt(ctx context.Context, src, dst awskms.Target, blob []byte) ([]byte, error)
	Decrypt(ctx context.Context, t awskms.Target, blob []byte) ([]byte, error)
}

// Result says what Rotate did.
type Result struct {
	// Rotated are the ciphertexts re-encrypted, in generator and source
	// order; a file shared by several generators is there once.
	Rotated []Rotated
	// Updated are the generators whose kms block (and inline ciphertexts)
	// were rewritten.
	Updated []Generator
	// Unchanged are the generators already on the destination key and
	// context: they were left alone, and no KMS call was made for them.
	Unchanged []Generator
}

// Generator names a generator.
type Generator struct {
	// File is the generator's file.
	File string
	// ID is its namespace/name.
	ID string
}

func (g Generator) String() string {
	return fmt.Sprintf("%s: %s %q", genfile.Display(g.File), api.Kind, g.ID)
}

// Rotated is one ciphertext re-encrypted.
type Rotated struct {
	// File is the ciphertext file, or for an inline ciphertext the
	// generator's file.
	File string
	// Field is the source of an inline ciphertext ("literals[0]"), empty
	// for a ciphertext file.
	Field string
	// Form is the form it was found and written in.
	Form ciphertext.Form
	// Resealed is set for an envelope whose body was sealed again for the
	// new encryption context.
	Resealed bool
}

// Failure is one generator or ciphertext that could not be planned or
// re-encrypted.
type Failure struct {
	Generator Generator
	// Source is the failing source (api.Source.String()), empty when the
	// generator as a whole failed.
	Source string
	// Also names the other references to a shared ciphertext file.
	Also []string
	Err  error
}

func (f *Failure) Error() string {
	var b strings.Builder
	b.WriteString(f.Generator.String() + ": ")
	if f.Source != "" {
		b.WriteString(f.Source + ": ")
	}
	b.WriteString(f.Err.Error())
	if len(f.Also) > 0 {
		fmt.Fprintf(&b, " (the file is also used by %s)", strings.Join(f.Also, ", "))
	}
	return b.String()
}

func (f *Failure) Unwrap() error { return f.Err }

// Error is a failed rotation: every failure, and whether KMS was called.
// No file was changed.
type Error struct {
	Failures []*Failure
	// Called is set when the failures came from KMS calls, clear when they
	// were found before any call.
	Called bool
	// Total is the number of ciphertexts re-encrypted or attempted.
	Total int
}

// Summary says what failed, without the failures themselves.
func (e *Error) Summary() string {
	if !e.Called {
		return fmt.Sprintf("%d %s found before any KMS call; no file was changed", len(e.Failures), plural(len(e.Failures), "problem", "problems"))
	}
	return fmt.Sprintf("%d of %d %s could not be re-encrypted; no file was changed", len(e.Failures), e.Total, plural(e.Total, "ciphertext", "ciphertexts"))
}

func (e *Error) Error() string {
	parts := make([]string, len(e.Failures))
	for i, f := range e.Failures {
		parts[i] = f.Error()
	}
	return e.Summary() + ": " + strings.Join(parts, "; ")
}

// Unwrap gives errors.Is and errors.As every failure.
func (e *Error) Unwrap() []error {
	out := make([]error, len(e.Failures))
	for i, f := range e.Failures {
		out[i] = f
	}
	return out
}

// plan is everything Rotate reads before calling KMS.
type plan struct {
	opts  Options
	gens  []*genPlan
	items []*item // in generator and source order
	files map[string]*item
	fails []*Failure
}

type genPlan struct {
	g        *genfile.Generator
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
}

type ref struct {
	gen    *genPlan
	source api.Source
}

func (r ref) String() string { return fmt.Sprintf("%s of %s", r.source, r.gen.name) }

// Rotate re-encrypts every ciphertext of gens under opts and rewrites the
// files, or changes nothing and returns an *Error.
func Rotate(ctx context.Context, kms KMS, gens []*genfile.Generator, opts Options) (*Result, error) {
	if opts.KeyID == "" {
		return nil, errors.New("no destination key")
	}
	if err := awskms.ValidateKeyID(opts.KeyID); err != nil {
		return nil, fmt.Errorf("the new key: %w", err)
	}
	if len(gens) == 0 {
		return nil, ErrNoGenerators
	}
	p := &plan{opts: opts, files: map[string]*item{}}
	for _, g := range gens {
		p.add(g)
	}
	if len(p.fails) > 0 {
		return nil, &Error{Failures: p.fails}
	}
	total := 0
	for _, it := range p.items {
		if it.refs[0].gen.unchanged {
			continue
		}
		total++
		if err := it.rotate(ctx, kms); err != nil {
			p.fail(it.refs[0].gen, it.refs[0].source.String(), it.also(), err)
		}
	}
	if len(p.fails) > 0 {
		return nil, &Error{Failures: p.fails, Called: true, Total: total}
	}
	return p.apply()
}

func (p *plan) fail(g *genPlan, source string, also []string, err error) {
	p.fails = append(p.fails, &Failure{Generator: g.name, Source: source, Also: also, Err: err})
}

// add plans one generator: decodes and validates it, and reads its
// ciphertexts.
func (p *plan) add(g *genfile.Generator) {
	gp := &genPlan{g: g, name: Generator{File: g.File.Path, ID: g.ID()}}
	if ns := g.Node.GetNamespace(); ns != "" {
		gp.name.ID = ns + "/" + gp.name.ID
	}
	spec, err := api.Decode(g.Node)
	if err != nil {
		p.fail(gp, "", nil, err)
		return
	}
	if err := spec.Validate(); err != nil {
		p.fail(gp, "", nil, err)
		return
	}
	sources, err := spec.Sources()
	if err != nil {
		p.fail(gp, "", nil, err)
		return
	}
	gp.src = spec.KMS.Target()
	gp.dst = gp.src
	gp.dst.KeyID = p.opts.KeyID
	if p.opts.Context != nil {
		gp.dst.Context = p.opts.Context
	}
	gp.unchanged = gp.src.KeyID == gp.dst.KeyID && sameContext(gp.src.Context, gp.dst.Context)
	if err := sameRegion(gp.src, gp.dst); err != nil {
		p.fail(gp, "", nil, err)
		return
	}
	p.gens = append(p.gens, gp)

	var root *os.Root
	for _, s := range sources {
		if s.Path == "" {
			ct, err := ciphertext.Parse([]byte(s.Ciphertext), false)
			if err != nil {
				p.fail(gp, s.String(), nil, err)
				continue
			}
			p.items = append(p.items, &item{ct: ct, refs: []ref{{gp, s}}})
			continue
		}
		if root == nil {
			if root, err = os.OpenRoot(g.Root); err != nil {
				p.fail(gp, "", nil, fmt.Errorf("opening the root its paths are relative to: %w", err))
				return
			}
			defer root.Close()
		}
		it, err := readFile(root, s)
		if err != nil {
			p.fail(gp, s.String(), nil, err)
			continue
		}
		if shared, ok := p.files[it.path]; ok {
			if first := shared.refs[0]; !sameSource(first.gen.src, gp.src) {
				p.fail(gp, s.String(), nil, fmt.Errorf("the file is also used by %s, whose kms settings differ (%s here, %s there), so it cannot be re-encrypted for both: give the generators the same kms settings, or each its own copy of the file",
					first, describe(gp.src), describe(first.gen.src)))
				continue
			}
			shared.refs = append(shared.refs, ref{gp, s})
			continue
		}
		it.refs = []ref{{gp, s}}
		p.files[it.path] = it
		p.items = append(p.items, it)
	}
}

// readFile reads and parses the ciphertext file of s, confined to root as
// the function reads it, and finds the file to rewrite (symlinks resolved,
// still inside the root).
func readFile(root *os.Root, s api.Source) (*item, error) {
	data, err := root.ReadFile(s.Path)
	if err != nil {
		return nil, fmt.Errorf("reading the ciphertext: %w (paths are relative to %s and may not lead outside it, symlinks included)", err, root.Name())
	}
	ct, err := ciphertext.Parse(data, true)
	if err != nil {
		return nil, err
	}
	realRoot, err := filepath.EvalSymlinks(root.Name())
	if err != nil {
		return nil, err
	}
	real, err := filepath.EvalSymlinks(filepath.Join(root.Name(), s.Path))
	if err != nil {
		return nil, err
	}
	if rel, err := filepath.Rel(realRoot, real); err != nil || !filepath.IsLocal(rel) {
		return nil, fmt.Errorf("the file leads outside %s", root.Name())
	}
	info, err := os.Stat(real)
	if err != nil {
		return nil, err
	}
	return &item{path: real, mode: info.Mode().Perm(), ct: ct}, nil
}

// sameRegion refuses, before any call, a new key ARN in another region than
// the generator's ciphertexts, when both are known: KMS re-encrypts within
// one region.
func sameRegion(src, dst awskms.Target) error {
	dstRegion := arnRegion(dst.KeyID)
	srcRegion := src.Region
	if srcRegion == "" {
		srcRegion = arnRegion(src.KeyID)
	}
	if dstRegion != "" && srcRegion != "" && dstRegion != srcRegion {
		return fmt.Errorf("the new key is in region %s and this generator's ciphertexts in %s: KMS re-encrypts within one region; create the new key in %s (moving to another region means decrypting and encrypting again)", dstRegion, srcRegion, srcRegion)
	}
	return nil
}

func arnRegion(keyID string) string {
	if a, err := arn.Parse(keyID); err == nil {
		return a.Region
	}
	return ""
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

func (it *item) also() []string {
	var out []string
	for _, r := range it.refs[1:] {
		out = append(out, r.String())
	}
	return out
}

// rotate re-encrypts one ciphertext from its first reference's settings to
// their destination, into it.out.
func (it *item) rotate(ctx context.Context, kms KMS) error {
	src, dst := it.refs[0].gen.src, it.refs[0].gen.dst
	if it.ct.Form != ciphertext.Envelope {
		blob, err := kms.ReEncrypt(ctx, src, dst, it.ct.Blob)
		if err != nil {
			return err
		}
		it.out = ciphertext.Ciphertext{Blob: blob, Form: it.ct.Form}
		return it.check()
	}
	env := it.ct.Envelope
	next := &envelope.Envelope{Nonce: env.Nonce, Tag: env.Tag, Body: env.Body}
	if !sameContext(src.Context, dst.Context) {
		// The context is in the body's additional data: open the body
		// under the old context and seal it again under the new one,
		// with the same data key (which ReEncrypt moves below).
		dataKey, err := kms.Decrypt(ctx, src, env.DataKey)
		if err != nil {
			return fmt.Errorf("decrypting the envelope's data key to seal its body again for the new context: %w", err)
		}
		defer clear(dataKey)
		payload, err := env.Open(dataKey, src.Context)
		if err != nil {
			return err
		}
		defer clear(payload)
		if next, err = envelope.Seal(nil, dataKey, dst.Context, payload); err != nil {
			return err
		}
		it.resealed = true
	}
	wrapped, err := kms.ReEncrypt(ctx, src, dst, env.DataKey)
	if err != nil {
		return err
	}
	next.DataKey = wrapped
	it.out = ciphertext.Ciphertext{Blob: wrapped, Envelope: next, Form: ciphertext.Envelope}
	return it.check()
}

// check makes sure the new ciphertext reads back as it will be written.
func (it *item) check() error {
	back, err := ciphertext.Parse(it.out.Bytes(), it.path != "")
	if err != nil || back.Form != it.out.Form {
		return fmt.Errorf("KMS returned a ciphertext that would not read back as %s (%v); nothing was written", it.out.Form, err)
	}
	return nil
}

// apply writes every ciphertext file and every generator file at once.
func (p *plan) apply() (*Result, error) {
	res := &Result{}
	var changes []genfile.Change
	for _, it := range p.items {
		first := it.refs[0]
		if first.gen.unchanged {
			continue
		}
		r := Rotated{File: it.path, Form: it.out.Form, Resealed: it.resealed}
		if it.path == "" {
			r.File, r.Field = first.gen.g.File.Path, first.source.Field
			if err := genfile.SetInline(first.gen.g.Node, first.source, string(it.out.Bytes())); err != nil {
				return nil, fmt.Errorf("%s: %w", first.gen.name, err)
			}
		} else {
			changes = append(changes, genfile.Change{Path: it.path, Content: it.out.Bytes(), Mode: it.mode})
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
		content, err := f.Bytes()
		if err != nil {
			return nil, err
		}
		path, err := filepath.EvalSymlinks(f.Path) // a symlink stays one: its target is rewritten
		if err != nil {
			return nil, err
		}
		changes = append(changes, genfile.Change{Path: path, Content: content, Mode: f.Mode})
	}
	if err := genfile.Apply(changes); err != nil {
		return nil, err
	}
	return res, nil
}

// Display shows a path relative to the working directory when it is under

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
