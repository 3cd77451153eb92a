package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// contextFlagUsage is the help of --context, on every command that takes an
// encryption context.
const contextFlagUsage = "encryption context (alias --encryption-context): k=v, k1=v1,k2=v2 or JSON {\"k\":\"v\"} (repeatable; a value holding a comma goes on its own --context, or in JSON)"

// addContextFlag adds --context (and its alias --encryption-context, the
// AWS CLI's name) to cmd, collecting every value into to, unparsed:
// parseContext reads them.
func addContextFlag(cmd *cobra.Command, to *[]string, usage string) {
	cmd.Flags().StringArrayVar(to, "context", nil, usage)
	cmd.Flags().SetNormalizeFunc(contextAlias(cmd.Flags().GetNormalizeFunc()))
}

// contextAlias makes --encryption-context another name of --context, on top
// of the flag set's normalisation (which cobra shares with subcommands).
func contextAlias(next func(*pflag.FlagSet, string) pflag.NormalizedName) func(*pflag.FlagSet, string) pflag.NormalizedName {
	return func(f *pflag.FlagSet, name string) pflag.NormalizedName {
		if name == "encryption-context" {
			name = "context"
		}
		return next(f, name)
	}
}

// parseContext is the one reading of --context values, for every command
// that takes one. Each value is one of:
//
//   - JSON, as the AWS CLI takes it: {"k1":"v1","k2":"v2"} (string values);
//   - the AWS CLI's shorthand k1=v1,k2=v2, split at the commas only when
//     every comma-separated part is k=v;
//   - one pair k=v whose value may hold '=' but no comma.
//
// A value with a comma and a part without '=' (a=x,y) is ambiguous: the
// pairs a=x and y, or the one value "x,y"? It is refused, never read as one
// pair: a value holding a comma goes on its own --context in JSON, e.g.
// --context '{"a":"x,y"}'. A key given twice, in one value or across
// several, is an error. It returns nil when values is empty.
func parseContext(values []string) (map[string]string, error) {
	if len(values) == 0 {
		return nil, nil
	}
	m := map[string]string{}
	for _, v := range values {
		pairs, err := contextPairs(v)
		if err != nil {
			return nil, usageError{fmt.Errorf("--context %q: %w", v, err)}
		}
		for _, p := range pairs {
			if _, dup := m[p[0]]; dup {
				return nil, usageError{fmt.Errorf("--context: key %q given twice", p[0])}
			}
			m[p[0]] = p[1]
		}
	}
	return m, nil
}

// contextPairs reads one --context value into its pairs, in order.
func contextPairs(v string) ([][2]string, error) {
	if strings.HasPrefix(strings.TrimSpace(v), "{") {
		return jsonPairs(v)
	}
	parts := strings.Split(v, ",")
	pairs := make([][2]string, 0, len(parts))
	for _, part := range parts {
		key, value, ok := strings.Cut(part, "=")
		switch {
		case part == "" && len(parts) > 1:
			return nil, errors.New("an empty pair: a stray comma?")
		case !ok && len(parts) > 1:
			return nil, fmt.Errorf("%q has no '=': is it part of the previous value, or a key without one? "+
				"Give a value holding a comma as JSON on its own --context, e.g. --context '{\"k\":\"x,y\"}'", part)
		case !ok:
			return nil, errors.New(`want k=v, k1=v1,k2=v2 or JSON {"k":"v"}`)
		case key == "":
			return nil, fmt.Errorf("%q has an empty key: want k=v", part)
		}
		pairs = append(pairs, [2]string{key, value})
	}
	return pairs, nil
}

// jsonPairs reads a JSON object of strings, refusing a repeated key (which
// encoding/json would silently resolve to the last).
func jsonPairs(v string) ([][2]string, error) {
	dec := json.NewDecoder(strings.NewReader(v))
	dec.UseNumber()
	bad := errors.New(`want a JSON object of strings, e.g. {"app":"myproject","env":"prod"}`)
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, bad
	}
	var pairs [][2]string
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, bad
		}
		key := tok.(string) // inside an object, the decoder gives keys as strings
		var value string
		if err := dec.Decode(&value); err != nil {
			return nil, fmt.Errorf("key %q: %w", key, bad)
		}
		switch {
		case key == "":
			return nil, errors.New("an empty key")
		case seen[key]:
			return nil, fmt.Errorf("key %q given twice", key)
		}
		seen[key] = true
		pairs = append(pairs, [2]string{key, value})
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, bad
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("text after the JSON object")
	}
	return pairs, nil
}
