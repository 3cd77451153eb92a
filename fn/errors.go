package fn

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"kmsgen.dev/kmsgen/fn/api"
)

// Error is the failure of one generator, at one of its sources when Field is
// set. Its message names both and never holds plaintext.
type Error struct {
	// File is the generator's file, when it was read from one (kmsgen build).
	File string
	// Generator is the generator's namespace/name.
	Generator string
	// Field is the failing source ("files[0]"), empty for the generator.
	Field string
	// Source describes the failing source for the message.
	Source string
	Err    error
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File + ": ")
	}
	if e.Generator != "" || e.Source != "" { // else no generator was read yet
		fmt.Fprintf(&b, "KMSSecretGenerator %q: ", e.Generator)
	}
	if e.Source != "" {
		b.WriteString(e.Source + ": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// where is the shortest description of where the error is.
func (e *Error) where() string {
	if e.Field != "" {
		return e.Field
	}
	return fmt.Sprintf("KMSSecretGenerator %q", e.Generator)
}

func (e *Error) Unwrap() error { return e.Err }

// Errors are all the failures of one run, in generator and source order.
type Errors []*Error

// Error reports the first failure in full and says where the others are;
// each one is in full in the function's results.
func (es Errors) Error() string {
	switch len(es) {
	case 0:
		return "no errors"
	case 1:
		return es[0].Error()
	}
	where := make([]string, 0, len(es)-1)
	for _, e := range es[1:] {
		where = append(where, e.where())
	}
	return fmt.Sprintf("%s (and %d more errors: %s)", es[0].Error(), len(es)-1, strings.Join(where, ", "))
}

// Unwrap gives errors.Is and errors.As every failure.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// OneLine flattens an error message to one line for stderr, with its
// control characters escaped (Printable).
func OneLine(err error) string {
	return Printable(strings.Join(strings.Fields(err.Error()), " "))
}

// PrintableLines is text with each line made Printable.
func PrintableLines(text string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = Printable(l)
	}
	return strings.Join(lines, "\n")
}

// Printable escapes the control characters of s (C0, DEL and C1, and
// invalid UTF-8) as Go escapes them (\x00, \u0085), so that a path or name
// holding them cannot rewrite a terminal or a log line.
func Printable(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			fmt.Fprintf(&b, "\\x%02x", s[i])
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// validationErrors turns a generator's validation problems into one Error
// each, so that every problem gets a result with its field path.
func validationErrors(generator string, verr *api.ValidationError) Errors {
	es := make(Errors, len(verr.Problems))
	for i, p := range verr.Problems {
		es[i] = &Error{Generator: generator, Field: p.Field, Source: p.Field, Err: errors.New(p.Message)}
	}
	return es
}

// asErrors returns err as Errors, wrapping an error of another type.
func asErrors(err error, generator string) Errors {
	var es Errors
	if errors.As(err, &es) {
		return es
	}
	var e *Error
	if errors.As(err, &e) {
		return Errors{e}
	}
	var ferr *api.FieldError
	if errors.As(err, &ferr) {
		return Errors{{Generator: generator, Field: ferr.Field, Err: err}}
	}
	return Errors{{Generator: generator, Err: err}}
}
