// Package gittree reads a git repository for kmsgen diff: its top
// directory, whether a word names a revision, and a revision's files
// extracted into a directory (what is committed: manifests and
// ciphertexts, never plaintext).
package gittree

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Toplevel is the top directory of the git work tree holding dir.
func Toplevel(ctx context.Context, dir string) (string, error) {
	out, err := git(ctx, dir, nil, "rev-parse", "--show-toplevel")
	if err != nil {
		return "", fmt.Errorf("%s is not in a git work tree: %w", dir, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// IsIgnored reports whether git ignores path (absolute, or relative to
// dir) in the work tree holding dir: false outside a work tree, when git
// cannot be run, and for a path git tracks.
func IsIgnored(ctx context.Context, dir, path string) bool {
	_, err := git(ctx, dir, nil, "check-ignore", "--quiet", "--", path)
	return err == nil
}

// IsRevision reports whether rev names a commit in the repository of dir.
func IsRevision(ctx context.Context, dir, rev string) bool {
	if strings.HasPrefix(rev, "-") {
		return false
	}
	_, err := git(ctx, dir, nil, "rev-parse", "--verify", "--quiet", rev+"^{commit}")
	return err == nil
}

// Extract writes the files of revision rev of the repository of dir into
// dest (an existing, empty directory): regular files with their mode,
// symbolic links as links. Entries that would land outside dest are
// refused.
func Extract(ctx context.Context, dir, rev, dest string) error {
	var archive bytes.Buffer
	if _, err := git(ctx, dir, &archive, "archive", "--format=tar", rev); err != nil {
		return fmt.Errorf("reading revision %s: %w", rev, err)
	}
	tr := tar.NewReader(&archive)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading revision %s: %w", rev, err)
		}
		if !filepath.IsLocal(h.Name) {
			return fmt.Errorf("revision %s holds a path outside the repository: %q", rev, h.Name)
		}
		path := filepath.Join(dest, h.Name)
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(path, 0o755)
		case tar.TypeSymlink:
			err = os.Symlink(h.Linkname, path)
		case tar.TypeReg:
			err = writeFile(path, tr, os.FileMode(h.Mode).Perm())
		}
		if err != nil {
			return err
		}
	}
}

func writeFile(path string, r io.Reader, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r)
	return errors.Join(err, f.Close())
}

// git runs git in dir; its stdout goes to out when given, and is returned
// otherwise. A failure's error holds git's stderr.
func git(ctx context.Context, dir string, out io.Writer, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if out != nil {
		cmd.Stdout = out
	}
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("git %s: %w: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}
