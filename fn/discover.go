package fn

import (
	"errors"

	"kmsgen.dev/kmsgen/fn/kustomization"
	"kmsgen.dev/kmsgen/fn/repo"
)

// Discover reports whether the kustomization in dir reaches a
// KMSSecretGenerator, following it as kustomize build would (repo.Follow):
// run as a generator or listed as a resource. A directory without a
// kustomization reaches none. Entries that cannot be followed (a missing
// file, a remote base) are passed over; an error means the kustomization
// in dir itself cannot be read. Nothing is decoded or decrypted.
func Discover(dir string) (bool, error) {
	r, err := repo.Follow(dir)
	switch {
	case errors.Is(err, kustomization.ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	}
	return len(r.Generators) > 0, nil
}
