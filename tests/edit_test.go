package tests

// kmsgen edit against each emulator, on a pseudo-terminal, with a script
// as $EDITOR that records where the plaintext is and how it is kept, then
// edits it: an env file, a literal, an envelope; unchanged; a failing
// editor; SIGTERM while the editor runs; no terminal. The plaintext file
// must be gone afterwards every time, and the repository must change only
// on a save.

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/creack/pty"

	"kmsgen.dev/kmsgen/internal/testfiles"
)

// editorScript is $EDITOR for these tests: it writes the file's path, the
// modes of the file and its directory and the directory's filesystem type
// to $INFO, then does what $EDIT says.
const editorScript = `#!/bin/sh
{ printf '%s\n' "$1"; stat -c '%a' "$1" "$(dirname "$1")"; stat -f -c '%T' "$(dirname "$1")"; } > "$INFO"
case "$EDIT" in
env)     sed -i "s/^DB_PASSWORD=.*/DB_PASSWORD=$CANARY-edited/" "$1"; echo "NEW_KEY=added" >> "$1" ;;
literal) printf '%s\n' "$CANARY-token-2" > "$1" ;;
append)  echo "MORE=$CANARY-more" >> "$1" ;;
none)    ;;
fail)    exit 3 ;;
block)   echo ready > "$READY"; exec sleep 600 ;;
esac
`

func TestEdit(t *testing.T) {
	for _, name := range emulators {
		t.Run(name, func(t *testing.T) {
			k := kmsEmulator(t, name)
			alias := "alias/" + uniqueName("edit")
			if _, err := k.CreateKey(t.Context(), alias); err != nil {
				t.Fatal(err)
			}
			seal := func(plaintext string) string {
				t.Helper()
				blob, err := k.Encrypt(t.Context(), alias, map[string]string{"app": "edit"}, []byte(plaintext))
				check(t, err)
				return base64.StdEncoding.EncodeToString(blob)
			}
			env := append(baseEnv(), k.Env()...)
			dir := t.TempDir()
			var big strings.Builder // over 4 KiB: an envelope
			for i := range 200 {
				fmt.Fprintf(&big, "LINE_%03d=%s\n", i, canary)
			}
			envelope := run(t, dir, env, []byte(big.String()), "kmsgen", "encrypt", "--key-id", alias, "--context", "app=edit")
			if envelope.code != 0 {
				t.Fatal(envelope.stderr)
			}
			testfiles.Write(t, dir, map[string]string{
				"kustomization.yaml":  "generators: [secrets.yaml]\n",
				"app.env.encrypted":   seal("DB_USER=app\nDB_PASSWORD=" + canary + "-1\n"),
				"big.env.encrypted":   envelope.stdout,
				"secrets.yaml":        execGenerator("app-secrets") + "envs: [app.env.encrypted, big.env.encrypted]\nliterals: [API_TOKEN=" + seal(canary+"-token") + "]\nkms: {keyId: " + alias + ", encryptionContext: {app: edit}}\n",
				"bin/editor":          editorScript,
				"unrelated.encrypted": seal("X=1\n"),
				"scratch/.keep":       "",
			})
			check(t, os.Chmod(filepath.Join(dir, "bin/editor"), 0o755))
			info := filepath.Join(dir, "scratch/info")
			editEnv := func(mode string, extra ...string) []string {
				return append(append(env, "EDITOR="+filepath.Join(dir, "bin/editor"), "VISUAL=", "INFO="+info, "EDIT="+mode, "CANARY="+canary), extra...)
			}
			secretOf := func(t *testing.T) map[string]string {
				t.Helper()
				built := kustomizeBuild(t, dir, env)
				if built.code != 0 {
					t.Fatal(built.stderr)
				}
				for _, data := range secretData(t, built.stdout) {
					return data
				}
				t.Fatal("no Secret built")
				return nil
			}
			// plaintextGone checks the plaintext file the editor was given,
			// and its directory, no longer exist, and that it was a 0600
			// file in a 0700 directory on tmpfs.
			plaintextGone := func(t *testing.T) {
				t.Helper()
				b, err := os.ReadFile(info)
				check(t, err)
				lines := strings.Split(strings.TrimSpace(string(b)), "\n")
				if len(lines) != 4 || lines[1] != "600" || lines[2] != "700" || lines[3] != "tmpfs" {
					t.Errorf("the editor's file: %q, want a 0600 file in a 0700 directory on tmpfs", lines)
				}
				for _, p := range []string{lines[0], filepath.Dir(lines[0])} {
					if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
						t.Errorf("%s still exists after kmsgen edit: %v", p, err)
					}
				}
				check(t, os.Remove(info))
			}
			unchanged := func(t *testing.T, path string, before []byte) {
				t.Helper()
				after, err := os.ReadFile(filepath.Join(dir, path))
				check(t, err)
				if !bytes.Equal(before, after) {
					t.Errorf("%s was written", path)
				}
			}
			read := func(t *testing.T, path string) []byte {
				b, err := os.ReadFile(filepath.Join(dir, path))
				check(t, err)
				return b
			}

			t.Run("env file", func(t *testing.T) {
				r := editOnTerminal(t, dir, editEnv("env"), nil, "edit", "app.env.encrypted")
				if r.code != 0 {
					t.Fatalf("exit %d: %s", r.code, r.screen)
				}
				plaintextGone(t)
				data := secretOf(t)
				if data["DB_PASSWORD"] != canary+"-edited" || data["NEW_KEY"] != "added" || data["DB_USER"] != "app" {
					t.Errorf("after the edit: %v", data)
				}
			})
			t.Run("literal", func(t *testing.T) {
				r := editOnTerminal(t, dir, editEnv("literal"), nil, "edit", "secrets.yaml", "--literal", "API_TOKEN")
				if r.code != 0 {
					t.Fatalf("exit %d: %s", r.code, r.screen)
				}
				plaintextGone(t)
				if got := secretOf(t)["API_TOKEN"]; got != canary+"-token-2" {
					t.Errorf("API_TOKEN = %q, want the edited value without the newline the editor added", got)
				}
			})
			t.Run("envelope", func(t *testing.T) {
				r := editOnTerminal(t, dir, editEnv("append"), nil, "edit", "big.env.encrypted")
				if r.code != 0 {
					t.Fatalf("exit %d: %s", r.code, r.screen)
				}
				plaintextGone(t)
				if !strings.HasPrefix(string(read(t, "big.env.encrypted")), "-----BEGIN KMSGEN ENVELOPE-----") {
					t.Error("an edited file over 4 KiB is not an envelope any more")
				}
				if got := secretOf(t)["MORE"]; got != canary+"-more" {
					t.Errorf("MORE = %q", got)
				}
			})
			t.Run("unchanged", func(t *testing.T) {
				before := read(t, "app.env.encrypted")
				r := editOnTerminal(t, dir, editEnv("none"), nil, "edit", "app.env.encrypted")
				if r.code != 0 || !strings.Contains(r.screen, "unchanged; nothing written") {
					t.Fatalf("exit %d: %s", r.code, r.screen)
				}
				plaintextGone(t)
				unchanged(t, "app.env.encrypted", before)
			})
			t.Run("failing editor", func(t *testing.T) {
				before := read(t, "app.env.encrypted")
				r := editOnTerminal(t, dir, editEnv("fail"), nil, "edit", "app.env.encrypted")
				if r.code != 1 || !strings.Contains(r.screen, "failed") {
					t.Fatalf("exit %d: %s", r.code, r.screen)
				}
				plaintextGone(t)
				unchanged(t, "app.env.encrypted", before)
			})
			t.Run("SIGTERM while the editor runs", func(t *testing.T) {
				before := read(t, "app.env.encrypted")
				ready := filepath.Join(dir, "scratch/ready")
				check(t, syscall.Mkfifo(ready, 0o600))
				defer os.Remove(ready)
				// the test reads the FIFO the editor writes once it runs,
				// then stops kmsgen
				r := editOnTerminal(t, dir, editEnv("block", "READY="+ready), func(p *os.Process) {
					if _, err := os.ReadFile(ready); err != nil {
						t.Error(err)
					}
					check(t, p.Signal(syscall.SIGTERM))
				}, "edit", "app.env.encrypted")
				if r.code != 1 || !strings.Contains(r.screen, "stopped by terminated") {
					t.Fatalf("exit %d: %s", r.code, r.screen)
				}
				plaintextGone(t)
				unchanged(t, "app.env.encrypted", before)
			})
			t.Run("no terminal", func(t *testing.T) {
				r := run(t, dir, editEnv("env"), nil, "kmsgen", "edit", "app.env.encrypted")
				if r.code != 2 || !strings.Contains(r.stderr, "needs a terminal") {
					t.Fatalf("exit %d: %s", r.code, r.stderr)
				}
				if _, err := os.Stat(info); !errors.Is(err, os.ErrNotExist) {
					t.Error("the editor ran without a terminal")
				}
			})
			t.Run("a file no generator names", func(t *testing.T) {
				r := editOnTerminal(t, dir, editEnv("env"), nil, "edit", "unrelated.encrypted")
				if r.code == 0 || !strings.Contains(r.screen, "no KMSSecretGenerator under") {
					t.Fatalf("exit %d: %s", r.code, r.screen)
				}
			})
		})
	}
}

// terminalResult is what a command run on a pseudo-terminal did.
type terminalResult struct {
	screen string // everything it wrote to the terminal
	code   int
}

// editOnTerminal runs kmsgen with args on a new pseudo-terminal (its
// stdin, stdout, stderr and controlling terminal), calls during (when
// given) with its process while it runs, and returns what the terminal
// showed. The screen must hold no canary.
func editOnTerminal(t *testing.T, dir string, env []string, during func(*os.Process), args ...string) terminalResult {
	t.Helper()
	ptmx, tty, err := pty.Open()
	check(t, err)
	defer ptmx.Close()
	cmd := exec.Command("kmsgen", args...)
	cmd.Dir, cmd.Env = dir, env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	check(t, cmd.Start())
	tty.Close() // the child holds it; the master reads EOF (EIO) once it exits
	var screen bytes.Buffer
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		buf := make([]byte, 4096)
		for {
			n, err := ptmx.Read(buf)
			screen.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	if during != nil {
		during(cmd.Process)
	}
	err = cmd.Wait()
	<-copied
	code := 0
	if exitErr, ok := err.(*exec.ExitError); ok {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	assertNoCanary(t, screen.String())
	return terminalResult{screen: screen.String(), code: code}
}
