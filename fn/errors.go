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

// Error reports the first failure in full, once for every source that met
// the same one (ErrorGroup.String), and says where the others are; each
// one is in full in the function's results.
func (es Errors) Error() string {
	switch len(es) {
	case 0:
		return "no errors"
	case 1:
		return es[0].Error()
	}
	groups := es.Grouped()
	first := groups[0].String()
	var where []string
	for _, g := range groups[1:] {
		for _, e := range g.Errors {
			where = append(where, e.where())
		}
	}
	if len(where) == 0 {
		return first
	}
	return fmt.Sprintf("%s (and %d more errors: %s)", first, len(where), List(where, MaxListed))
}

// MaxListed is how many places a message lists before "and N more".
const MaxListed = 3

// ErrorGroup is failures whose messages are identical once their file,
// generator and source are left out: one cause met by many sources (a KMS
// endpoint that does not answer, a key that is denied), to be said once.
type ErrorGroup struct {
	// Message is what they share: the message without file, generator and
	// source.
	Message string
	Errors  Errors
}

// Grouped groups es by message without file, generator and source, in
// order of first appearance. It is the one place kmsgen folds identical
// failures.
func (es Errors) Grouped() []ErrorGroup {
	index := map[string]int{}
	var groups []ErrorGroup
	for _, e := range es {
		m := e.Err.Error()
		if i, ok := index[m]; ok {
			groups[i].Errors = append(groups[i].Errors, e)
			continue
		}
		index[m] = len(groups)
		groups = append(groups, ErrorGroup{Message: m, Errors: Errors{e}})
	}
	return groups
}

// String is the group as one message: the error itself when alone, else
// the shared message once, after the file and generator when all share
// them, with a bounded list of where it happened:
// `KMSSecretGenerator "app": access denied: … (40 sources: files[0] "a", files[1] "b", files[2] "c" and 37 more)`.
func (g ErrorGroup) String() string {
	if len(g.Errors) == 1 {
		return g.Errors[0].Error()
	}
	first := g.Errors[0]
	sameFile, sameGen := true, true
	for _, e := range g.Errors[1:] {
		sameFile = sameFile && e.File == first.File
		sameGen = sameGen && sameFile && e.Generator == first.Generator
	}
	var b strings.Builder
	if sameFile && first.File != "" {
		b.WriteString(first.File + ": ")
	}
	if sameGen && first.Generator != "" {
		fmt.Fprintf(&b, "KMSSecretGenerator %q: ", first.Generator)
	}
	fmt.Fprintf(&b, "%s (%s)", g.Message, g.Where(!sameFile, !sameGen))
	return b.String()
}

// Where is where the group's failures are, counted and listed up to
// MaxListed: "40 sources: files[0] "a", files[1] "b", files[2] "c" and 37
// more". withFile and withGenerator name each one's file and generator.
func (g ErrorGroup) Where(withFile, withGenerator bool) string {
	places := make([]string, len(g.Errors))
	sources, generators := 0, 0
	for i, e := range g.Errors {
		var parts []string
		if withFile && e.File != "" {
			parts = append(parts, e.File+":")
		}
		if (withGenerator || e.Source == "" && e.Field == "") && e.Generator != "" {
			parts = append(parts, fmt.Sprintf("KMSSecretGenerator %q", e.Generator))
		}
		switch {
		case e.Source != "":
			parts = append(parts, e.Source)
			sources++
		case e.Field != "":
			parts = append(parts, e.Field)
			sources++
		default:
			generators++
		}
		places[i] = strings.Join(parts, " ")
	}
	noun := "places"
	switch len(g.Errors) {
	case sources:
		noun = "sources"
	case generators:
		noun = "generators"
	}
	return fmt.Sprintf("%d %s: %s", len(g.Errors), noun, List(places, MaxListed))
}

// List joins items as prose, "a, b and c", naming at most max of them:
// "a, b, c and 37 more" (all of them when only one more would be left).
func List(items []string, max int) string {
	switch {
	case len(items) == 0:
		return ""
	case len(items) > max+1:
		return fmt.Sprintf("%s and %d more", strings.Join(items[:max], ", "), len(items)-max)
	case len(items) == 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
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
