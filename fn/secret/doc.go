// Package secret builds the Secret a generator emits, the way kustomize's
// builtin secretGenerator builds it: the same key rules and source order,
// the same data encoding (kyaml's Secret data writer), labels, annotations,
// type and immutability. It also computes kustomize's name hash for hosts
// that do not hash names themselves.
package secret
