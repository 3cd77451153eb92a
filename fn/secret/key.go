package secret

import (
	"errors"
	"regexp"
	"strings"
)

// maxKeyLength is Kubernetes' limit for ConfigMap and Secret keys.
const maxKeyLength = 253

var keyPattern = regexp.MustCompile(`^[-._a-zA-Z0-9]+$`)

// ValidateKey reports whether key is a valid Kubernetes Secret data key, as
// the API server checks it (IsConfigMapKey). The error does not repeat the
// key, because a key read from decrypted content may be a value typed on the
// wrong line: callers add the key only when it is safe to show.
func ValidateKey(key string) error {
	switch {
	case key == "":
		return errors.New("empty key")
	case len(key) > maxKeyLength:
		return errors.New("key longer than 253 characters")
	case !keyPattern.MatchString(key):
		return errors.New("key may contain only letters, digits, '-', '_' and '.'")
	case key == "." || key == "..":
		return errors.New(`key may not be "." or ".."`)
	case strings.HasPrefix(key, ".."):
		return errors.New(`key may not start with ".."`)
	}
	return nil
}
