package encrypt

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"

	"kmsgen.dev/kmsgen/fn"
	"kmsgen.dev/kmsgen/fn/api"
	"kmsgen.dev/kmsgen/fn/repo"
	"kmsgen.dev/kmsgen/internal/gittree"
)

// SourceFile is an encrypted file that generators name, with the settings
// to decrypt and encrypt it.
type SourceFile struct {
	// Path is the file, as given.
	Path string
	// KMS are the settings of the generators that name it, completed from
	// the given ones.
	KMS api.KMS
	// Env is set when a generator names it under envs: its plaintext must
	// be an env file.
	Env bool
	// NamedBy are the generators that name it, for messages.
	NamedBy []string
}

// ForFile finds the generators in the repository that holds path (its git
// work tree, else the working directory) whose envs or files name path,
// as their hosts resolve paths, and returns their settings. Generators
// that name it must agree on them. given settings fill those the
// generators lack and may not contradict them (a *ConflictError); when no
// generator names path, given must have a key ID.
func ForFile(ctx context.Context, path string, given api.KMS) (*SourceFile, error) {
	target, err := canonical(path)
	if err != nil {
		return nil, err
	}
	top, err := gittree.Toplevel(ctx, filepath.Dir(target))
	if err != nil {
		if top, err = os.Getwd(); err != nil {
			return nil, err
		}
	}
	r, err := repo.Scan([]string{top})
	if err != nil {
		return nil, err
	}
	sf := &SourceFile{Path: path}
	var found *api.KMS
	for _, g := range r.Generators {
		in, err := fn.NewInput(g.Node, g.Root, g.Where())
		if err != nil {
			continue // kmsgen check reports it
		}
		for _, s := range in.Sources {
			if s.Path == "" {
				continue
			}
			if p, err := canonical(filepath.Join(in.Root, s.Path)); err != nil || p != target {
				continue
			}
			k := in.Generator.KMS
			if found != nil && !sameSettings(*found, k) {
				return nil, fmt.Errorf("%s is named by generators with different kms settings (%s and %s): edit it through one of them, or make them agree",
					path, strings.Join(sf.NamedBy, ", "), g.Name())
			}
			found = &k
			sf.Env = sf.Env || s.Kind == api.Env
			sf.NamedBy = append(sf.NamedBy, g.Name())
		}
	}
	if found == nil {
		if given.KeyID == "" {
			return nil, fmt.Errorf("no KMSSecretGenerator under %s names %s (in envs: or files:): give --key-id (and --context) to edit it anyway", top, path)
		}
		sf.KMS = given
		return sf, nil
	}
	k, conflict := complete(*found, given)
	if conflict != nil {
		conflict.Path = sf.NamedBy[0]
		return nil, conflict
	}
	sf.KMS = k
	return sf, nil
}

// canonical is path absolute, with symbolic links resolved.
func canonical(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(abs)
}

func sameSettings(a, b api.KMS) bool {
	return a.KeyID == b.KeyID && a.Region == b.Region && a.Endpoint == b.Endpoint && a.RoleARN == b.RoleARN &&
		maps.Equal(a.EncryptionContext, b.EncryptionContext)
}
