package atomicfile

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// crashSteps are the steps of Journal for three changes, in order.
var crashSteps = []string{"prepared", "temp 0", "temp 1", "temp 2", "committed", "renamed 0", "renamed 1", "renamed 2", "done"}

// TestJournalCrashAtEveryStep kills a process (kill -9, by the CrashAt
// fault point) at every step of a Journal of three files, then recovers:
// every file is whole (old or new) at every point, and after Recover all
// are old (killed before the commit) or all new (after it), with no
// temporary file and no journal left.
func TestJournalCrashAtEveryStep(t *testing.T) {
	if dir := os.Getenv("JOURNAL_CHILD_DIR"); dir != "" {
		CrashFromEnv(os.Getenv("JOURNAL_CHILD_CRASH"))
		if err := Journal(dir, changes(dir, "new")); err != nil {
			t.Fatal(err)
		}
		return
	}
	for i, step := range crashSteps {
		t.Run(step, func(t *testing.T) {
			dir := t.TempDir()
			for _, c := range changes(dir, "old") {
				if err := os.WriteFile(c.Path, c.Content, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			cmd := exec.Command(os.Args[0], "-test.run=^TestJournalCrashAtEveryStep$")
			cmd.Env = append(os.Environ(), "JOURNAL_CHILD_DIR="+dir, "JOURNAL_CHILD_CRASH="+step)
			out, err := cmd.CombinedOutput()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ProcessState.String() != "signal: killed" {
				t.Fatalf("the child was not killed at %s: %v\n%s", step, err, out)
			}
			for _, name := range []string{"a", "b", "c"} {
				if got := read(t, dir, name); got != "old "+name && got != "new "+name {
					t.Errorf("after the crash %s holds %q", name, got)
				}
			}
			found, err := Recover(dir)
			if err != nil || (step != "done") != found {
				t.Fatalf("Recover: %v, %v", found, err)
			}
			want := "old"
			if i >= slices.Index(crashSteps, "committed") {
				want = "new"
			}
			for _, name := range []string{"a", "b", "c"} {
				if got := read(t, dir, name); got != want+" "+name {
					t.Errorf("after Recover %s holds %q, want %q", name, got, want+" "+name)
				}
			}
			var names []string
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				names = append(names, e.Name())
			}
			if diff := cmp.Diff([]string{"a", "b", "c"}, names); diff != "" {
				t.Errorf("files left (-want +got):\n%s", diff)
			}
		})
	}
}

func changes(dir, version string) []Change {
	var out []Change
	for _, name := range []string{"a", "b", "c"} {
		out = append(out, Change{Path: filepath.Join(dir, name), Content: []byte(version + " " + name), Mode: 0o644})
	}
	return out
}

// TestJournalRecoversFirst: a Journal after a crash finishes the earlier one
// before its own changes.
func TestJournalRecoversFirst(t *testing.T) {
	dir := t.TempDir()
	for _, c := range changes(dir, "old") {
		os.WriteFile(c.Path, c.Content, 0o644)
	}
	j := journal{Version: 1, Committed: true, Renames: []rename{{Temp: filepath.Join(dir, ".a.kmsgen-x"), Target: filepath.Join(dir, "a")}}}
	os.WriteFile(j.Renames[0].Temp, []byte("recovered a"), 0o644)
	if err := writeJournal(dir, j); err != nil {
		t.Fatal(err)
	}
	if err := Journal(dir, []Change{{Path: filepath.Join(dir, "b"), Content: []byte("new b"), Mode: 0o644}}); err != nil {
		t.Fatal(err)
	}
	if a, b := read(t, dir, "a"), read(t, dir, "b"); a != "recovered a" || b != "new b" {
		t.Errorf("a, b = %q, %q", a, b)
	}
	if _, err := os.Stat(filepath.Join(dir, JournalName)); !os.IsNotExist(err) {
		t.Errorf("the journal is left: %v", err)
	}
	os.WriteFile(filepath.Join(dir, JournalName), []byte("garbage"), 0o644)
	if _, err := Recover(dir); err == nil || !strings.Contains(err.Error(), "not a journal this kmsgen reads") {
		t.Errorf("a broken journal: %v", err)
	}
}
