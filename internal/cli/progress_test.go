package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"kmsgen.dev/kmsgen/internal/kmstest"
	"kmsgen.dev/kmsgen/internal/testfiles"
)

// TestWaitingLine: with stderr a terminal, KMS calls that have waited
// waitingAfter show "kmsgen: waiting for KMS (n of m done)" there, redrawn
// in place and erased at the end; stdout never has it. The test waits for
// the line on the terminal, then lets KMS answer.
func TestWaitingLine(t *testing.T) {
	fake := kmstest.Start(t, kmstest.NewKey(checkKey, "alias/check"))
	t.Setenv("KMSGEN_CONCURRENCY", "")
	t.Setenv("KMSGEN_TIMEOUT", "")
	defer func(d time.Duration) { waitingAfter = d }(waitingAfter)
	waitingAfter = 50 * time.Millisecond
	dir := t.TempDir()
	t.Chdir(dir)
	var literals []string
	for _, k := range []string{"A", "B", "C"} {
		literals = append(literals, k+"="+base64.StdEncoding.EncodeToString(fake.Encrypt(checkKey, nil, []byte("v-"+k))))
	}
	testfiles.Write(t, dir, map[string]string{"gen.yaml": "apiVersion: kmsgen.dev/v1alpha1\nkind: KMSSecretGenerator\nmetadata: {name: s}\n" +
		"literals: [" + strings.Join(literals, ", ") + "]\n"})

	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	defer tty.Close()
	fake.Hold()
	defer fake.Release()
	var stdout bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- Main(context.Background(), []string{"build", "gen.yaml"}, strings.NewReader(""), &stdout, tty)
	}()

	var screen bytes.Buffer
	buf := make([]byte, 256)
	readUntil := func(text string) {
		t.Helper()
		ptmx.SetReadDeadline(time.Now().Add(60 * time.Second))
		for !strings.Contains(screen.String(), text) {
			n, err := ptmx.Read(buf)
			screen.Write(buf[:n])
			if err != nil {
				t.Fatalf("waiting for %q: %v; the terminal showed %q", text, err, screen.String())
			}
		}
	}
	readUntil("\rkmsgen: waiting for KMS (0 of 3 done)\x1b[K")
	fake.Release()
	readUntil("\rkmsgen: waiting for KMS (3 of 3 done)\x1b[K") // redrawn as calls end
	readUntil("(3 of 3 done)\x1b[K\r\x1b[K")                   // then erased
	if code := <-done; code != ExitOK {
		t.Fatalf("exit %d; the terminal showed %q", code, screen.String())
	}
	if !strings.Contains(stdout.String(), "kind: Secret") || strings.Contains(stdout.String(), "waiting") {
		t.Errorf("stdout = %q", stdout.String())
	}
}

// TestNoWaitingLineOffTerminal: stderr that is not a terminal (a file, a
// pipe, a buffer) gets no waiting line: no Progress at all.
func TestNoWaitingLineOffTerminal(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if waitingLine(w) != nil || waitingLine(&bytes.Buffer{}) != nil {
		t.Error("a waiting line for a stderr that is not a terminal")
	}
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	defer tty.Close()
	if waitingLine(tty) == nil {
		t.Error("no waiting line on a terminal")
	}
}
