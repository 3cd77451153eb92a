package fn_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"kmsgen.dev/kmsgen/fn"
)

func TestDiff(t *testing.T) {
	c := func(where, secret string, data map[string]string) fn.Contents {
		d := map[string][]byte{}
		for k, v := range data {
			d[k] = []byte(v)
		}
		return fn.Contents{Where: where, ID: "app", Secret: secret, Data: d}
	}
	cases := []struct {
		name          string
		before, after []fn.Contents
		want          []fn.SecretDiff
	}{
		{name: "unchanged",
			before: []fn.Contents{c("a.yaml", "app-1", map[string]string{"A": "x"})},
			after:  []fn.Contents{c("a.yaml", "app-1", map[string]string{"A": "x"})}},
		{name: "a key added, one removed, one changed",
			before: []fn.Contents{c("a.yaml", "app-1", map[string]string{"A": "x", "B": "y", "C": "z"})},
			after:  []fn.Contents{c("a.yaml", "app-2", map[string]string{"A": "x", "B": "Y", "D": "w"})},
			want: []fn.SecretDiff{{Where: "a.yaml", ID: "app", Before: "app-1", After: "app-2", Change: fn.Changed,
				Keys: []fn.KeyChange{{"B", fn.Changed}, {"C", fn.Removed}, {"D", fn.Added}}}}},
		{name: "an empty value is a value",
			before: []fn.Contents{c("a.yaml", "app-1", map[string]string{"A": ""})},
			after:  []fn.Contents{c("a.yaml", "app-2", map[string]string{"A": "x"})},
			want: []fn.SecretDiff{{Where: "a.yaml", ID: "app", Before: "app-1", After: "app-2", Change: fn.Changed,
				Keys: []fn.KeyChange{{"A", fn.Changed}}}}},
		{name: "a generator added and one removed",
			before: []fn.Contents{c("old.yaml", "app-1", map[string]string{"A": "x"})},
			after:  []fn.Contents{c("new.yaml", "app-1", map[string]string{"A": "x"})},
			want: []fn.SecretDiff{
				{Where: "new.yaml", ID: "app", After: "app-1", Change: fn.Added, Keys: []fn.KeyChange{{"A", fn.Added}}},
				{Where: "old.yaml", ID: "app", Before: "app-1", Change: fn.Removed, Keys: []fn.KeyChange{{"A", fn.Removed}}},
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, fn.Diff(tc.before, tc.after)); diff != "" {
				t.Errorf("Diff (-want +got):\n%s", diff)
			}
		})
	}
}
