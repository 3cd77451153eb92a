//go:build linux

package harden

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestProcess hardens a child process (this test binary run again) and
// checks from inside it that it is not dumpable and may write no core.
func TestProcess(t *testing.T) {
	if os.Getenv("HARDEN_CHILD") == "1" {
		if err := Process(); err != nil {
			t.Fatal(err)
		}
		dumpable, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
		var lim unix.Rlimit
		if lerr := unix.Getrlimit(unix.RLIMIT_CORE, &lim); lerr != nil {
			t.Fatal(lerr)
		}
		if err != nil || dumpable != 0 || lim.Cur != 0 || lim.Max != 0 {
			t.Fatalf("dumpable %d (%v), core limit %d/%d; want 0 and 0/0", dumpable, err, lim.Cur, lim.Max)
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestProcess$", "-test.v")
	cmd.Env = append(os.Environ(), "HARDEN_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestProcess") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}
