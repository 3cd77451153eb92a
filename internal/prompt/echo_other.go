//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package prompt

import (
	"errors"
	"os"
)

// echoOff is not implemented here: --prompt is refused rather than echo
// what is typed.
func echoOff(*os.File) (func(), error) {
	return nil, errors.New("not supported on this system; pipe the value in instead")
}
