// Package limits holds the sizes kmsgen refuses to go past, checked before
// work is amplified (a file read into memory, base64 decoded, YAML aliases
// expanded): far above what a real repository holds, since a Kubernetes
// Secret carries at most 1 MiB, and far below what would exhaust a build
// host. Each refusal names the limit.
package limits

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// The limits, in bytes.
const (
	// Ciphertext bounds one ciphertext as kmsgen reads it, a file or an
	// inline string: an envelope of a Payload, base64 and armor included.
	Ciphertext = 8 << 20
	// Payload bounds a plaintext to encrypt, and an envelope's payload.
	Payload = 4 << 20
	// YAML bounds a YAML input: a ResourceList on stdin, a generator or
	// kustomization file.
	YAML = 64 << 20
	// Generator bounds a generator document with its YAML aliases
	// expanded (see api.Decode), against an alias bomb.
	Generator = 16 << 20
)

// ErrTooLarge is the error of every refusal.
var ErrTooLarge = errors.New("too large")

// Error says what was too large and the limit: "stdin: larger than 64 MiB".
func Error(what string, limit int64) error {
	return fmt.Errorf("%s: %w: larger than %s, the most kmsgen reads", what, ErrTooLarge, MiB(limit))
}

// MiB shows a limit in MiB.
func MiB(n int64) string { return fmt.Sprintf("%d MiB", n>>20) }

// ReadAll reads r to its end, or fails with Error(what, limit) as soon as
// it has read more than limit bytes.
func ReadAll(r io.Reader, limit int64, what string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		clear(data)
		return nil, Error(what, limit)
	}
	return data, nil
}

// ReadFile reads the file at path, which must be a regular file of at most
// limit bytes: both are checked before it is opened (a FIFO would block the
// read, a device never end it) and again on the open file, which is opened
// without blocking in case it was swapped meanwhile.
func ReadFile(path string, limit int64) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := Check(info, path, limit); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadOpen(f, path, limit)
}

// Check refuses a file that is not regular or is larger than limit.
func Check(info fs.FileInfo, what string, limit int64) error {
	if !info.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file (%s): kmsgen reads only regular files", what, describe(info.Mode()))
	}
	if info.Size() > limit {
		return Error(what, limit)
	}
	return nil
}

// ReadOpen checks the open file f again (Check) and reads it.
func ReadOpen(f *os.File, what string, limit int64) ([]byte, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if err := Check(info, what, limit); err != nil {
		return nil, err
	}
	return ReadAll(f, limit, what)
}

func describe(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeDevice != 0, m&fs.ModeCharDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return m.Type().String()
}

// Reader fails a read that goes past limit bytes, for input read by
// another package (kyaml reading a ResourceList).
type Reader struct {
	R     io.Reader
	Limit int64
	What  string
	n     int64
}

func (r *Reader) Read(p []byte) (int, error) {
	if r.n > r.Limit {
		return 0, Error(r.What, r.Limit)
	}
	if int64(len(p)) > r.Limit+1-r.n {
		p = p[:r.Limit+1-r.n]
	}
	n, err := r.R.Read(p)
	r.n += int64(n)
	if r.n > r.Limit {
		return n, Error(r.What, r.Limit)
	}
	return n, err
}
