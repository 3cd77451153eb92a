package cli

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"kmsgen.dev/kmsgen/fn/awskms"
)

func TestParseContext(t *testing.T) {
	tests := []struct {
		name    string
		values  []string
		want    map[string]string
		wantErr string
	}{
		{name: "none", values: nil, want: nil},
		{name: "one pair", values: []string{"app=demo"}, want: map[string]string{"app": "demo"}},
		{name: "repeated flags", values: []string{"app=demo", "env=prod"}, want: map[string]string{"app": "demo", "env": "prod"}},
		{name: "shorthand", values: []string{"app=demo,env=prod"}, want: map[string]string{"app": "demo", "env": "prod"}},
		{name: "shorthand and a flag", values: []string{"app=demo,env=prod", "team=x"}, want: map[string]string{"app": "demo", "env": "prod", "team": "x"}},
		{name: "a value holding '='", values: []string{"q=a=b"}, want: map[string]string{"q": "a=b"}},
		{name: "shorthand values holding '='", values: []string{"q=a=b,r==c"}, want: map[string]string{"q": "a=b", "r": "=c"}},
		{name: "an empty value", values: []string{"app="}, want: map[string]string{"app": ""}},
		{name: "JSON", values: []string{`{"app":"demo","env":"prod"}`}, want: map[string]string{"app": "demo", "env": "prod"}},
		{name: "JSON value holding a comma", values: []string{`{"list":"a,b", "eq":"x=y"}`}, want: map[string]string{"list": "a,b", "eq": "x=y"}},
		{name: "JSON with spaces and a flag", values: []string{` { "app" : "demo" } `, "env=prod"}, want: map[string]string{"app": "demo", "env": "prod"}},
		{name: "empty JSON", values: []string{`{}`}, want: map[string]string{}},

		{name: "ambiguous: a part without '='", values: []string{"app=x,y"}, wantErr: `--context "app=x,y": "y" has no '='`},
		{name: "ambiguous: the message says what to do", values: []string{"app=x,y"}, wantErr: `Give a value holding a comma as JSON on its own --context, e.g. --context '{"k":"x,y"}'`},
		{name: "a stray comma", values: []string{"app=x,"}, wantErr: "an empty pair"},
		{name: "no '='", values: []string{"app"}, wantErr: `--context "app": want k=v, k1=v1,k2=v2 or JSON`},
		{name: "empty key", values: []string{"=x"}, wantErr: `"=x" has an empty key`},
		{name: "empty key in shorthand", values: []string{"a=1,=x"}, wantErr: `"=x" has an empty key`},
		{name: "duplicate across flags", values: []string{"app=a", "app=b"}, wantErr: `key "app" given twice`},
		{name: "duplicate in shorthand", values: []string{"app=a,app=b"}, wantErr: `key "app" given twice`},
		{name: "duplicate across JSON and a flag", values: []string{`{"app":"a"}`, "app=b"}, wantErr: `key "app" given twice`},
		{name: "duplicate inside JSON", values: []string{`{"app":"a","app":"b"}`}, wantErr: `key "app" given twice`},
		{name: "JSON number", values: []string{`{"n":1}`}, wantErr: "want a JSON object of strings"},
		{name: "JSON array", values: []string{`["a"]`}, wantErr: "want k=v"},
		{name: "broken JSON", values: []string{`{"a":"b"`}, wantErr: "want a JSON object of strings"},
		{name: "JSON then text", values: []string{`{"a":"b"} x`}, wantErr: "text after the JSON object"},
		{name: "JSON empty key", values: []string{`{"":"b"}`}, wantErr: "an empty key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseContext(tc.values)
			if tc.wantErr != "" {
				var uerr usageError
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.As(err, &uerr) {
					t.Fatalf("parseContext(%q) = %v, %v; want the usage error %q", tc.values, got, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("parseContext(%q) (-want +got):\n%s", tc.values, diff)
			}
		})
	}
}

// TestContextFlagEverywhere: every command that takes an encryption
// context reads it the same way, --encryption-context included.
func TestContextFlagEverywhere(t *testing.T) {
	root := newRoot(t.Context())
	var with []string
	for _, c := range root.Commands() {
		if c.Flags().Lookup("context") == nil {
			continue
		}
		with = append(with, c.Name())
		for _, args := range [][]string{{"--context", "a=x,y"}, {"--encryption-context", "a=x,y"}} {
			var stdout, stderr strings.Builder
			code := Main(t.Context(), append([]string{c.Name(), "--key-id", "alias/k"}, append(args, "x")...), strings.NewReader(""), &stdout, &stderr)
			if code != ExitUsage || !strings.Contains(stderr.String(), `"y" has no '='`) {
				t.Errorf("kmsgen %s %s: exit %d, stderr %q; want the ambiguity refused", c.Name(), strings.Join(args, " "), code, stderr.String())
			}
		}
	}
	if diff := cmp.Diff([]string{"edit", "encrypt", "reencrypt", "textconv"}, with); diff != "" {
		t.Errorf("commands with --context (-want +got):\n%s", diff)
	}
}

func TestContextString(t *testing.T) {
	tests := []struct {
		ctx  map[string]string
		want string
	}{
		{nil, "none"},
		{map[string]string{"env": "prod", "app": "demo"}, `{"app":"demo","env":"prod"}`},
		{map[string]string{"app": "demo,env=prod"}, `{"app":"demo,env=prod"}`},
		{map[string]string{"a\"b": "<x>&\n"}, `{"a\"b":"<x>&\n"}`},
	}
	for _, tc := range tests {
		if got := awskms.ContextString(tc.ctx); got != tc.want {
			t.Errorf("ContextString(%q) = %s, want %s", tc.ctx, got, tc.want)
		}
	}
}
