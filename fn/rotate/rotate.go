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
// Everything is planned before any KMS call (plan.go): every generator is
// decoded and validated as the function does it (fn.NewInput), every
// ciphertext read (files through an os.Root at the generator's root, as the
// function reads them) and parsed. Then every ciphertext is re-encrypted
// (kms.go), and only when all of them were are the ciphertext files and the
// generator files rewritten, all together (apply.go, atomicfile.Apply):
// each ciphertext keeps its form (text, raw, envelope), each generator its
// formatting and comments, with kms.keyId (and, when a new context is
// given, kms.encryptionContext) set to the destination. Any failure leaves
// every file as it was, and the error lists every failing ciphertext; no
// error holds a plaintext.
package rotate

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"kmsgen.dev/kmsgen/fn"
	"kmsgen.dev/kmsgen/fn/api"
	"kmsgen.dev/kmsgen/fn/awskms"
	"kmsgen.dev/kmsgen/fn/envelope"
	"kmsgen.dev/kmsgen/fn/repo"
	"kmsgen.dev/kmsgen/internal/atomicfile"
)

// Options say where the ciphertexts go: to another key (KeyID, and
// Context), or, for envelopes, to more or fewer keys (AddKeyIDs,
// RemoveKeyIDs), not both.
type Options struct {
	// KeyID is the destination key: key ID, key ARN, alias or alias ARN.
	KeyID string
	// AddKeyIDs are keys (key ID, key ARN, alias or alias ARN; each in
	// the region its ARN names) to wrap each envelope's data key under too,
	// keeping its body; an envelope that has a key already keeps it.
	AddKeyIDs []string
	// RemoveKeyIDs are key ARNs whose copy of the data key is removed from
	// each envelope that has one; the last key is never removed.
	RemoveKeyIDs []string
	// Context, when not nil, replaces every generator's encryption
	// context; when nil, each generator keeps its own.
	Context map[string]string
	// LoadRestrictor confines the ciphertext files read, as for the
	// function (fn.Generator.Restrictor).
	LoadRestrictor fn.LoadRestrictor
}

// ErrNoGenerators means there was no generator to rotate.
var ErrNoGenerators = errors.New("no " + api.Kind + " found")

// KMS is what Rotate needs of KMS; *awskms.Client has it.
type KMS interface {
	ReEncrypt(ctx context.Context, src, dst awskms.Target, blob []byte) ([]byte, error)
	Decrypt(ctx context.Context, t awskms.Target, blob []byte) ([]byte, error)
	KeysKMS
}

// Validate checks that opts say one thing to do, with valid key IDs.
func (o Options) Validate() error {
	switch {
	case o.KeyID != "" && o.keysMode():
		return errors.New("a new key for all ciphertexts, or keys added to and removed from envelopes: not both")
	case o.KeyID == "" && !o.keysMode():
		return errors.New("no destination key")
	case o.KeyID != "":
		if err := api.ValidateKeyID(o.KeyID); err != nil {
			return fmt.Errorf("the new key: %w", err)
		}
	case o.Context != nil:
		return errors.New("adding or removing keys keeps each envelope's encryption context")
	}
	for _, id := range o.AddKeyIDs {
		if err := api.ValidateKeyID(id); err != nil {
			return fmt.Errorf("the key to add %s: %w", id, err)
		}
	}
	for _, id := range o.RemoveKeyIDs {
		if !envelope.IsKeyARN(id) {
			return fmt.Errorf("the key to remove %q is not a key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID): an envelope records its keys by ARN, in its Data-Key lines (kmsgen textconv lists them)", id)
		}
		if slices.Contains(o.AddKeyIDs, id) {
			return fmt.Errorf("%s is both added and removed", id)
		}
	}
	return nil
}

// Paths rotates the generators found in paths as repo.Scan finds them:
// generator files, or directories with every kustomization in them and
// what those reach (bases, components, inline generators).
//
// First it completes (or undoes) a reencrypt a crash interrupted: the
// journal it left is in a directory holding every file it changed, found
// at or above each path, or below a directory given.
func Paths(ctx context.Context, kms KMS, paths []string, opts Options) (*Result, error) {
	recovered, err := recoverJournals(paths)
	if err != nil {
		return nil, err
	}
	r, err := repo.Scan(paths)
	if err != nil {
		return nil, err
	}
	if len(r.Generators) == 0 {
		return nil, fmt.Errorf("%w in %s", ErrNoGenerators, strings.Join(paths, ", "))
	}
	res, err := Rotate(ctx, kms, r.Generators, opts)
	if res != nil {
		res.Recovered = recovered
	}
	return res, err
}

// recoverJournals recovers the journals of interrupted runs found at or
// above each path, and below each directory, and returns their
// directories.
func recoverJournals(paths []string) ([]string, error) {
	var dirs []string
	seen := map[string]bool{}
	check := func(dir string) error {
		if seen[dir] {
			return nil
		}
		seen[dir] = true
		found, err := atomicfile.Recover(dir)
		if found {
			dirs = append(dirs, dir)
		}
		return err
	}
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, err
		}
		info, err := os.Stat(abs)
		if err != nil {
			return nil, err
		}
		start := abs
		if !info.IsDir() {
			start = filepath.Dir(abs)
		}
		for dir := start; ; dir = filepath.Dir(dir) {
			if err := check(dir); err != nil {
				return dirs, err
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
		if info.IsDir() {
			err := filepath.WalkDir(abs, func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() && d.Name() == atomicfile.JournalName {
					err = check(filepath.Dir(p))
				}
				return err
			})
			if err != nil {
				return dirs, err
			}
		}
	}
	return dirs, nil
}

// Rotate re-encrypts every ciphertext of gens under opts and rewrites the
// files, or changes nothing and returns an *Error.
func Rotate(ctx context.Context, kms KMS, gens []*repo.Generator, opts Options) (*Result, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
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
		do := it.rotate
		if opts.keysMode() {
			do = func(ctx context.Context, kms KMS) error { return it.rekey(ctx, kms, opts) }
		}
		if err := do(ctx, kms); err != nil {
			p.fail(it.refs[0].gen, it.refs[0].source.String(), it.also(), err)
		}
	}
	if len(p.fails) > 0 {
		return nil, &Error{Failures: p.fails, Called: true, Total: total}
	}
	return p.apply()
}
