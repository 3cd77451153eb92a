package envfile

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    []Entry
	}{
		{"empty", "", nil},
		{"simple", "A=1\nB=2\n", []Entry{{"A", "1", 1}, {"B", "2", 2}}},
		{"no final newline", "A=1", []Entry{{"A", "1", 1}}},
		{"first = splits", "URL=postgres://u:p@h/db?x=y", []Entry{{"URL", "postgres://u:p@h/db?x=y", 1}}},
		{"value verbatim", "Q=\"quoted\"  \nS='single'\nT=  spaced  ", []Entry{
			{"Q", "\"quoted\"  ", 1}, {"S", "'single'", 2}, {"T", "  spaced  ", 3}}},
		{"key kept as written", "KEY WITH SPACE =v\n", []Entry{{"KEY WITH SPACE ", "v", 1}}},
		{"leading whitespace trimmed", "  \tA=1\n", []Entry{{"A", "1", 1}}},
		{"comments and blank lines skipped", "# c\n\n   \n  # indented\nA=1 # not a comment\n", []Entry{{"A", "1 # not a comment", 5}}},
		{"bare key is empty", "BARE\nEMPTY=\n", []Entry{{"BARE", "", 1}, {"EMPTY", "", 2}}},
		{"CRLF", "A=1\r\nB=2\r\n", []Entry{{"A", "1", 1}, {"B", "2", 2}}},
		{"BOM on first line dropped", "\ufeffA=1\n", []Entry{{"A", "1", 1}}},
		{"BOM on a later line kept", "A=1\n\ufeffB=2\n", []Entry{{"A", "1", 1}, {"\ufeffB", "2", 2}}},
		{"BOM then comment counts as first line", "\ufeff# c\n\ufeffB=2\n", []Entry{{"\ufeffB", "2", 2}}},
		{"empty key skipped, as kustomize skips it", "=v\n=====\n  =x\nA=1\n", []Entry{{"A", "1", 4}}},
		{"unicode values", "GREETING=héllo wörld ✓\n", []Entry{{"GREETING", "héllo wörld ✓", 1}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse([]byte(tc.content))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	const canary = "CANARY-s3cr3t"
	tests := []struct {
		name    string
		content string
		want    string
	}{
		{"invalid UTF-8", "A=1\nB=" + canary + "\xff\n", "line 2: not valid UTF-8"},
		{"line too long", "A=1\nB=" + canary + strings.Repeat("x", 70000) + "\nC=3\n", "line 2: longer than 65536 bytes (kustomize would silently drop the rest of the file)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.content))
			var lerr *LineError
			if !errors.As(err, &lerr) || err.Error() != tc.want {
				t.Fatalf("Parse error = %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), canary) {
				t.Errorf("error quotes the line: %v", err)
			}
		})
	}
}
