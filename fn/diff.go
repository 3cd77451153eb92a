package fn

import (
	"bytes"
	"slices"
	"strings"
)

// Change is how a key or a generator differs between two trees: Added,
// Removed or Changed.
type Change string

// The changes Diff reports.
const (
	Added   Change = "+"
	Removed Change = "-"
	Changed Change = "~"
)

// KeyChange is a key of a Secret that differs.
type KeyChange struct {
	Key    string
	Change Change
}

// SecretDiff is how one generator's Secret differs between two trees:
// Before or After is nil for a generator only in one of them. It holds no
// value, nor anything computed from one.
type SecretDiff struct {
	Where, ID string
	// Before and After are the Secret's names (with their hash suffix) in
	// each tree, "" where the generator is absent.
	Before, After string
	// Change is Added or Removed for a generator only in one tree, else
	// Changed.
	Change Change
	// Keys are the keys added, removed or with another value, sorted.
	Keys []KeyChange
}

// Diff compares the generators of two trees, matched by file and ID, key by
// key: it reports the generators whose Secret gains or loses a key or has a
// key whose value differs, and the generators only in one tree, in the
// order of after then before. Values are compared and never copied.
func Diff(before, after []Contents) []SecretDiff {
	index := func(cs []Contents) map[[2]string]Contents {
		m := map[[2]string]Contents{}
		for _, c := range cs {
			m[[2]string{c.Where, c.ID}] = c
		}
		return m
	}
	old := index(before)
	var out []SecretDiff
	seen := map[[2]string]bool{}
	for _, a := range after {
		id := [2]string{a.Where, a.ID}
		seen[id] = true
		b, ok := old[id]
		if !ok {
			out = append(out, SecretDiff{Where: a.Where, ID: a.ID, After: a.Secret, Change: Added, Keys: allKeys(a, Added)})
			continue
		}
		if keys := keyChanges(b, a); len(keys) > 0 || b.Secret != a.Secret {
			out = append(out, SecretDiff{Where: a.Where, ID: a.ID, Before: b.Secret, After: a.Secret, Change: Changed, Keys: keys})
		}
	}
	for _, b := range before {
		if !seen[[2]string{b.Where, b.ID}] {
			out = append(out, SecretDiff{Where: b.Where, ID: b.ID, Before: b.Secret, Change: Removed, Keys: allKeys(b, Removed)})
		}
	}
	return out
}

func allKeys(c Contents, change Change) []KeyChange {
	var out []KeyChange
	for _, k := range c.Keys() {
		out = append(out, KeyChange{k, change})
	}
	return out
}

// keyChanges are the keys of b and a that differ, sorted.
func keyChanges(b, a Contents) []KeyChange {
	var out []KeyChange
	for k, av := range a.Data {
		bv, ok := b.Data[k]
		switch {
		case !ok:
			out = append(out, KeyChange{k, Added})
		case !bytes.Equal(av, bv):
			out = append(out, KeyChange{k, Changed})
		}
	}
	for k := range b.Data {
		if _, ok := a.Data[k]; !ok {
			out = append(out, KeyChange{k, Removed})
		}
	}
	slices.SortFunc(out, func(x, y KeyChange) int { return strings.Compare(x.Key, y.Key) })
	return out
}
