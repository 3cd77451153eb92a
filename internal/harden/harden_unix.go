//go:build unix

package harden

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// noCore sets the core file size limit, soft and hard, to zero.
func noCore() error {
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{Cur: 0, Max: 0}); err != nil {
		return fmt.Errorf("setting the core file size limit to 0: %w", err)
	}
	return nil
}
