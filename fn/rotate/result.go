package rotate

import (
	"fmt"
	"io"
	"strings"

	"kmsgen.dev/kmsgen/fn"
	"kmsgen.dev/kmsgen/fn/api"
	"kmsgen.dev/kmsgen/fn/awskms"
	"kmsgen.dev/kmsgen/fn/ciphertext"
	"kmsgen.dev/kmsgen/fn/genfile"
	"kmsgen.dev/kmsgen/internal/plural"
)

// Result says what Rotate did.
type Result struct {
	// To is where the ciphertexts went.
	To Options
	// Recovered are the directories of the journals of interrupted runs
	// that were completed or undone first.
	Recovered []string
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
	// Where is its file, and for an inline generator its entry in the
	// kustomization's generators (repo.Generator.Where).
	Where string
	// ID is its namespace/name.
	ID string
}

func (g Generator) String() string {
	return fmt.Sprintf("%s: %s %q", g.Where, api.Kind, g.ID)
}

// Rotated is one ciphertext re-encrypted.
type Rotated struct {
	// File is the ciphertext file, or for an inline ciphertext where its
	// generator is (repo.Generator.Where).
	File string
	// Field is the source of an inline ciphertext ("literals[0]"), empty
	// for a ciphertext file.
	Field string
	// Form is the form it was found and written in.
	Form ciphertext.Form
	// Resealed is set for an envelope whose body was sealed again for the
	// new encryption context.
	Resealed bool
	// Keys are the keys of a version 2 envelope after the change.
	Keys []string
}

// WriteText writes one line per ciphertext moved and per generator, and a
// summary. Nothing in it is secret: paths, fields, key IDs, contexts.
func (res *Result) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, dir := range res.Recovered {
		fmt.Fprintf(&b, "recovered an interrupted reencrypt from its journal in %s\n", genfile.Display(dir))
	}
	if res.To.keysMode() {
		res.writeKeys(&b)
		_, err := io.WriteString(w, fn.PrintableLines(b.String()))
		return err
	}
	files, inline := 0, 0
	for _, r := range res.Rotated {
		what := r.Form.String()
		if r.Field != "" {
			inline++
			fmt.Fprintf(&b, "reencrypted %s %s (inline %s)\n", genfile.Display(r.File), r.Field, what)
			continue
		}
		files++
		if r.Form == ciphertext.Envelope && r.Resealed {
			what += ", body sealed again for the new context"
		}
		fmt.Fprintf(&b, "reencrypted %s (%s)\n", genfile.Display(r.File), what)
	}
	settings := "kms.keyId " + res.To.KeyID
	if res.To.Context != nil {
		settings += ", kms.encryptionContext " + awskms.ContextString(res.To.Context)
	}
	for _, g := range res.Updated {
		fmt.Fprintf(&b, "updated %s: %s\n", g, settings)
	}
	for _, g := range res.Unchanged {
		fmt.Fprintf(&b, "unchanged %s: already on %s\n", g, settings)
	}
	switch {
	case len(res.Updated) == 0:
		b.WriteString("nothing to do: every generator already uses " + settings + "\n")
	default:
		ctxNote := "each generator keeps its encryption context"
		if res.To.Context != nil {
			ctxNote = "encryption context " + awskms.ContextString(res.To.Context)
		}
		fmt.Fprintf(&b, "done: %s (%d in files, %d inline) of %s now under %s, %s\n",
			plural.Count(files+inline, "ciphertext", "ciphertexts"), files, inline,
			plural.Count(len(res.Updated), "generator", "generators"), res.To.KeyID, ctxNote)
	}
	_, err := io.WriteString(w, fn.PrintableLines(b.String()))
	return err
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

// Errors returns the failures as fn.Errors, so that failures alike (one
// denied key, a KMS endpoint that does not answer) are said once with the
// list of their ciphertexts (fn.Errors.Grouped).
func (e *Error) Errors() fn.Errors {
	out := make(fn.Errors, len(e.Failures))
	for i, f := range e.Failures {
		source := f.Source
		if len(f.Also) > 0 {
			source += fmt.Sprintf(" (the file is also used by %s)", strings.Join(f.Also, ", "))
		}
		out[i] = &fn.Error{File: f.Generator.Where, Generator: f.Generator.ID, Field: source, Source: source, Err: f.Err}
	}
	return out
}

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
		return fmt.Sprintf("%s found before any KMS call; no file was changed", plural.Count(len(e.Failures), "problem", "problems"))
	}
	return fmt.Sprintf("%d of %s could not be re-encrypted; no file was changed", len(e.Failures), plural.Count(e.Total, "ciphertext", "ciphertexts"))
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

// writeKeys is WriteText for keys added and removed.
func (res *Result) writeKeys(b *strings.Builder) {
	for _, r := range res.Rotated {
		keys := "keys " + strings.Join(r.Keys, ", ")
		if r.Field != "" {
			fmt.Fprintf(b, "rekeyed %s %s (inline envelope, %s)\n", genfile.Display(r.File), r.Field, keys)
			continue
		}
		fmt.Fprintf(b, "rekeyed %s (envelope, %s)\n", genfile.Display(r.File), keys)
	}
	var change []string
	if len(res.To.AddKeyIDs) > 0 {
		change = append(change, "added "+strings.Join(res.To.AddKeyIDs, ", "))
	}
	if len(res.To.RemoveKeyIDs) > 0 {
		change = append(change, "removed "+strings.Join(res.To.RemoveKeyIDs, ", "))
	}
	if len(res.Rotated) == 0 {
		fmt.Fprintf(b, "nothing to do: no envelope needed a change (%s)\n", strings.Join(change, "; "))
		return
	}
	fmt.Fprintf(b, "done: %s of %s %s; bodies unchanged\n", plural.Count(len(res.Rotated), "envelope", "envelopes"),
		plural.Count(len(res.Updated), "generator", "generators"), strings.Join(change, "; "))
}
