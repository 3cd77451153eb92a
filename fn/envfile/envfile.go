// Package envfile parses env files with the rules of kustomize's
// secretGenerator (api/kv), which kustomize does not export: lines are split
// at the first "=", the key is kept as written and the value verbatim;
// leading whitespace is trimmed, blank lines, lines starting with "#" and
// lines whose key is empty ("=value", a banner "=====") are skipped, a UTF-8
// byte order mark is dropped from the first line, a line
// without "=" is a key with an empty value, and invalid UTF-8 is an error.
//
// Unlike kustomize, errors never quote the line (it may hold a secret) and a
// line too long to scan is an error rather than the silent end of the file.
package envfile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Entry is one key and its value, with the 1-based line it was on.
type Entry struct {
	Key   string
	Value string
	Line  int
}

// LineError says which line of an env file could not be parsed, and why,
// without quoting it.
type LineError struct {
	Line   int
	Reason string
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Reason) }

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// Parse returns the entries of an env file in order.
func Parse(content []byte) ([]Entry, error) {
	var entries []Entry
	scanner := bufio.NewScanner(bytes.NewReader(content))
	line := 0
	for scanner.Scan() {
		line++
		text := scanner.Bytes()
		if !utf8.Valid(text) {
			return nil, &LineError{Line: line, Reason: "not valid UTF-8"}
		}
		if line == 1 {
			text = bytes.TrimPrefix(text, utf8BOM)
		}
		text = bytes.TrimLeftFunc(text, unicode.IsSpace)
		if len(text) == 0 || text[0] == '#' {
			continue
		}
		key, value, _ := strings.Cut(string(text), "=")
		if key == "" {
			continue // kustomize skips it as it skips a comment
		}
		entries = append(entries, Entry{Key: key, Value: value, Line: line})
	}
	if err := scanner.Err(); err != nil {
		reason := err.Error()
		if errors.Is(err, bufio.ErrTooLong) {
			reason = fmt.Sprintf("longer than %d bytes (kustomize would silently drop the rest of the file)", bufio.MaxScanTokenSize)
		}
		return nil, &LineError{Line: line + 1, Reason: reason}
	}
	return entries, nil
}
