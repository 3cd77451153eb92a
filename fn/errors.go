package fn

import (
	"errors"
	"fmt"
	"strings"
)

// Error is the failure of one generator, at one of its sources when Field is
// set. Its message names both and never holds plaintext.
type Error struct {
	// Generator is the generator's namespace/name.
	Generator string
	// Field is the failing source ("files[0]"), empty for the generator.
	Field string
	// Source describes the failing source for the message.
	Source string
	Err    error
}

func (e *Error) Error() string {
	if e.Generator == "" && e.Source == "" {
		return e.Err.Error() // nothing to name yet: no generator was read
	}
	if e.Source == "" {
		return fmt.Sprintf("KMSSecretGenerator %q: %v", e.Generator, e.Err)
	}
	return fmt.Sprintf("KMSSecretGenerator %q: %s: %v", e.Generator, e.Source, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Errors are all the failures of one run, in generator and source order.
type Errors []*Error

// Error reports the first failure in full and counts the others; each one is
// in the function's results.
func (es Errors) Error() string {
	switch len(es) {
	case 0:
		return "no errors"
	case 1:
		return es[0].Error()
	}
	return fmt.Sprintf("%s (and %d more errors)", es[0].Error(), len(es)-1)
}

// Unwrap gives errors.Is and errors.As every failure.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// OneLine flattens an error message to one line for stderr.
func OneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
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
	return Errors{{Generator: generator, Err: err}}
}
