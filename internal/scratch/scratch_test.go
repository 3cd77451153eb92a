package scratch

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestNewAndRemove(t *testing.T) {
	base := t.TempDir()
	t.Setenv("XDG_RUNTIME_DIR", base) // a disk directory: passed over for /dev/shm where that is tmpfs
	f, err := New("app.env", []byte("A=1\n"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove()
	if f.Memory != memoryBacked("/dev/shm") {
		t.Errorf("Memory = %v, but /dev/shm memory-backed = %v", f.Memory, memoryBacked("/dev/shm"))
	}
	if f.Memory && filepath.Dir(f.Dir) == base {
		t.Errorf("%s is on a disk directory although /dev/shm is memory-backed", f.Dir)
	}
	for path, want := range map[string]os.FileMode{f.Dir: 0o700 | os.ModeDir, f.Path: 0o600} {
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode() != want {
			t.Errorf("%s: mode %v, want %v", path, info.Mode(), want)
		}
	}
	if got, _ := f.Read(); string(got) != "A=1\n" {
		t.Errorf("Read = %q", got)
	}
	// an editor's swap file, left behind
	swap := filepath.Join(f.Dir, ".app.env.swp")
	if err := os.WriteFile(swap, []byte("A=1"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := f.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(f.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s still there: %v", f.Dir, err)
	}
	if err := f.Remove(); err != nil {
		t.Errorf("a second Remove: %v", err)
	}
}

// TestPickBase: a memory-backed candidate wins; with none, the temporary
// directory, said to be on disk.
func TestPickBase(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", "/dev/shm")
	base, memory := pickBase()
	if memoryBacked("/dev/shm") && (base != "/dev/shm" || !memory) {
		t.Errorf("pickBase = %s, %v; /dev/shm is memory-backed", base, memory)
	}
	if !memory && base != os.TempDir() {
		t.Errorf("pickBase = %s, on disk, not the temporary directory", base)
	}
}
