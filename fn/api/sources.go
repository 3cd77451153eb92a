package api

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"kmsgen.dev/kmsgen/fn/secret"
)

// SourceKind tells envs, literals and files apart.
type SourceKind int

// Source kinds, in kustomize's order of loading.
const (
	Env SourceKind = iota
	Literal
	File
)

// EncryptedSuffix is dropped from a file's name to make its default key.
const EncryptedSuffix = ".encrypted"

// Source is one envs, literals or files entry, parsed.
type Source struct {
	Kind SourceKind
	// Field is where it is written: "envs[0]", "literals[2]", "files[1]".
	Field string
	// Key is the Secret key of a file or literal; envs bring their own.
	Key string
	// Path is the file holding the ciphertext, relative to the root.
	Path string
	// Ciphertext is an inline ciphertext (text form).
	Ciphertext string
}

// String names the source for messages, e.g.
// `files[0] "certs/tls.crt.encrypted" (key "tls.crt")`.
func (s Source) String() string {
	var b strings.Builder
	b.WriteString(s.Field)
	if s.Path != "" {
		fmt.Fprintf(&b, " %q", s.Path)
	} else {
		b.WriteString(" (inline)")
	}
	if s.Key != "" {
		fmt.Fprintf(&b, " (key %q)", s.Key)
	}
	return b.String()
}

// sources returns the generator's sources in kustomize's order (envs,
// literals, files), or every problem found parsing them; Validate gives
// them out.
func (g *KMSSecretGenerator) sources() ([]Source, error) {
	var out []Source
	var problems []Problem
	add := func(s Source, err error) {
		if err != nil {
			problems = append(problems, Problem{Field: s.Field, Message: err.Error()})
			return
		}
		out = append(out, s)
	}
	for i, e := range g.Envs {
		add(envSource(i, e))
	}
	for i, l := range g.Literals {
		add(literalSource(i, l))
	}
	for i, f := range g.Files {
		add(fileSource(i, f))
	}
	if len(problems) > 0 {
		return nil, &ValidationError{Problems: problems}
	}
	return out, nil
}

func envSource(i int, e EnvSource) (Source, error) {
	s := Source{Kind: Env, Field: fmt.Sprintf("envs[%d]", i), Path: e.Path, Ciphertext: e.Ciphertext}
	switch {
	case e.Path == "" && e.Ciphertext == "":
		return s, fmt.Errorf("give a path or {ciphertext: ...}")
	case e.Path != "":
		return s, checkPath(e.Path)
	}
	return s, nil
}

// literalSource parses KEY=<ciphertext>; surrounding quotes around the
// ciphertext are dropped as kustomize drops them around literal values.
func literalSource(i int, l string) (Source, error) {
	s := Source{Kind: Literal, Field: fmt.Sprintf("literals[%d]", i)}
	key, text, ok := strings.Cut(l, "=")
	switch {
	case !ok:
		return s, fmt.Errorf("want KEY=<ciphertext of the value>, found no '='")
	case key == "":
		return s, fmt.Errorf("want KEY=<ciphertext of the value>, the key is empty")
	}
	s.Key, s.Ciphertext = key, Unquote(text)
	if s.Ciphertext == "" {
		return s, fmt.Errorf("key %q has no ciphertext", key)
	}
	return s, checkKey(key)
}

// fileSource parses "[key=]path" with kustomize's rules, or {key, ciphertext}.
func fileSource(i int, f FileSource) (Source, error) {
	s := Source{Kind: File, Field: fmt.Sprintf("files[%d]", i)}
	if f.Spec == "" {
		s.Key, s.Ciphertext = f.Key, f.Ciphertext
		switch {
		case f.Key == "" && f.Ciphertext == "":
			return s, fmt.Errorf(`give "[key=]path" or {key: ..., ciphertext: ...}`)
		case f.Key == "":
			return s, fmt.Errorf("an inline ciphertext needs a key")
		case f.Ciphertext == "":
			return s, fmt.Errorf("key %q has no ciphertext", f.Key)
		}
		return s, checkKey(f.Key)
	}
	switch n := strings.Count(f.Spec, "="); {
	case n == 0:
		s.Path = f.Spec
		s.Key = strings.TrimSuffix(path.Base(f.Spec), EncryptedSuffix)
	case n > 1:
		return s, fmt.Errorf("%q: the key or the path contains '='", f.Spec)
	default:
		s.Key, s.Path, _ = strings.Cut(f.Spec, "=")
		if s.Key == "" {
			return s, fmt.Errorf("%q: missing key before '='", f.Spec)
		}
		if s.Path == "" {
			return s, fmt.Errorf("%q: missing path after '='", f.Spec)
		}
	}
	if err := checkPath(s.Path); err != nil {
		return s, err
	}
	return s, checkKey(s.Key)
}

func checkKey(key string) error {
	if err := secret.ValidateKey(key); err != nil {
		return fmt.Errorf("key %q: %w", key, err)
	}
	return nil
}

// checkPath refuses absolute paths. Where a relative one may lead (the
// kustomization root, or the git repository under kustomize's
// LoadRestrictionsNone) is the file loader's rule: package fn's Files,
// which reads through an os.Root that also refuses symlinks leading out.
func checkPath(p string) error {
	if filepath.IsAbs(p) || strings.HasPrefix(p, "/") || strings.HasPrefix(p, `\`) {
		return fmt.Errorf("path %q must be relative to the kustomization root and stay inside it", p)
	}
	return nil
}

// Unquote drops one pair of matching surrounding quotes (" or '), as
// kustomize drops them around a literal's value; Quote gives the quote it
// dropped.
func Unquote(s string) string {
	if q := Quote(s); q != "" {
		return s[1 : len(s)-1]
	}
	return s
}

// Quote returns the quote character (" or ') that surrounds s, or "".
func Quote(s string) string {
	if len(s) >= 2 && s[0] == s[len(s)-1] && (s[0] == '"' || s[0] == '\'') {
		return s[:1]
	}
	return ""
}
