package atomicfile

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// JournalName is the journal's file name, in the directory Journal is
// given.
const JournalName = ".kmsgen-journal"

// journal records a set of renames: prepared (the temporary files may be
// partly written: undo by removing them) or committed (every temporary
// file is written and synced: finish by renaming those left).
type journal struct {
	Version   int      `json:"version"`
	Committed bool     `json:"committed"`
	Renames   []rename `json:"renames"`
}

type rename struct {
	Temp   string `json:"temp"`
	Target string `json:"target"`
}

// CrashAt, when set, is called at each step of Journal with the step's
// name ("prepared", "temp 0", "committed", "renamed 1", "done"), so that
// tests can kill the process there (kmsgen sets it from
// KMSGEN_TEST_CRASH_AT).
var CrashAt func(step string)

func crashAt(step string) {
	if CrashAt != nil {
		CrashAt(step)
	}
}

// Journal writes every change or none, surviving crashes: a journal in dir
// (writable, on the same machine as the files) first lists the temporary
// files it will write; once they are all written and synced, the journal
// is marked committed and they are renamed into place; then it is removed.
// A crash before the commit leaves the files as they were and temporary
// files that Recover removes; a crash after it leaves a journal that Recover
// finishes. Every step is synced to disk. Journal first recovers an
// earlier journal in dir.
func Journal(dir string, changes []Change) error {
	if _, err := Recover(dir); err != nil {
		return err
	}
	id, err := newID()
	if err != nil {
		return err
	}
	j := journal{Version: 1}
	for _, c := range changes {
		j.Renames = append(j.Renames, rename{Temp: tempPath(c.Path, id), Target: c.Path})
	}
	if err := writeJournal(dir, j); err != nil {
		return err
	}
	crashAt("prepared")
	for i, c := range changes {
		if err := writeTemp(j.Renames[i].Temp, c); err != nil {
			undo(dir, j)
			return fmt.Errorf("writing %s: %w (no file was changed)", c.Path, err)
		}
		crashAt(fmt.Sprintf("temp %d", i))
	}
	if err := syncDirs(changes); err != nil {
		undo(dir, j)
		return err
	}
	j.Committed = true
	if err := writeJournal(dir, j); err != nil {
		undo(dir, j)
		return err
	}
	crashAt("committed")
	return finish(dir, j, func(i int) { crashAt(fmt.Sprintf("renamed %d", i)) })
}

// Recover completes or undoes the Journal interrupted in dir, if any, and
// reports whether there was one: committed, the renames left are done;
// prepared, the temporary files are removed and no file changes.
func Recover(dir string) (bool, error) {
	data, err := os.ReadFile(filepath.Join(dir, JournalName))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var j journal
	if err := json.Unmarshal(data, &j); err != nil || j.Version != 1 {
		return false, fmt.Errorf("%s: not a journal this kmsgen reads (%v): remove it once you have checked the files it names", filepath.Join(dir, JournalName), err)
	}
	if !j.Committed {
		return true, undo(dir, j)
	}
	return true, finish(dir, j, func(int) {})
}

// finish renames the temporary files that are left, syncs, and removes the
// journal.
func finish(dir string, j journal, renamed func(int)) error {
	var changes []Change
	for i, r := range j.Renames {
		if err := os.Rename(r.Temp, r.Target); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("replacing %s: %w (run again to finish: the journal %s says what is left)", r.Target, err, filepath.Join(dir, JournalName))
		}
		renamed(i)
		changes = append(changes, Change{Path: r.Target})
	}
	if err := syncDirs(changes); err != nil {
		return err
	}
	return removeJournal(dir)
}

// undo removes the temporary files of an uncommitted journal, and it.
func undo(dir string, j journal) error {
	for _, r := range j.Renames {
		if err := os.Remove(r.Temp); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return removeJournal(dir)
}

// writeJournal replaces the journal atomically and durably.
func writeJournal(dir string, j journal) error {
	data, err := json.Marshal(j)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, JournalName)
	tmp := path + ".tmp"
	os.Remove(tmp) // a leftover of a crash while writing it
	if err := writeTemp(tmp, Change{Content: data, Mode: 0o644}); err != nil {
		return fmt.Errorf("writing the journal %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing the journal %s: %w", path, err)
	}
	return syncDir(dir)
}

func removeJournal(dir string) error {
	path := filepath.Join(dir, JournalName)
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	os.Remove(path + ".tmp")
	crashAt("done")
	return syncDir(dir)
}

// CrashFromEnv sets CrashAt to kill the process (SIGKILL, as kill -9 does)
// at the step named by the variable's value, for tests of crash safety.
func CrashFromEnv(value string) {
	if value == "" {
		return
	}
	CrashAt = func(step string) {
		if step == value {
			if self, err := os.FindProcess(os.Getpid()); err == nil {
				self.Kill() // SIGKILL on Unix
			}
			select {} // until the signal is delivered
		}
	}
}
