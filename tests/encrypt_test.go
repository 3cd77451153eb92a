package tests

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"kmsgen.dev/kmsgen/internal/testfiles"
)

// TestEncryptRoundTrips encrypts payloads from 1 byte to 1 MiB of random
// binary with `kmsgen encrypt` (a direct KMS ciphertext up to 4096 bytes, an
// envelope above) and decrypts them through a generator with `kmsgen build`,
// on both emulators.
func TestEncryptRoundTrips(t *testing.T) {
	sizes := []int{1, 100, 4096, 4097, 70000, 1 << 20}
	for _, name := range emulators {
		t.Run(name, func(t *testing.T) {
			k := kmsEmulator(t, name)
			alias := "alias/" + uniqueName("roundtrip")
			if _, err := k.CreateKey(t.Context(), alias); err != nil {
				t.Fatal(err)
			}
			env := append(baseEnv(), k.Env()...)
			dir := t.TempDir()
			var files []string
			payloads := map[string][]byte{}
			for _, size := range sizes {
				p := make([]byte, size)
				if _, err := rand.Read(p); err != nil {
					t.Fatal(err)
				}
				key := fmt.Sprintf("payload-%d", size)
				payloads[key] = p
				plain := filepath.Join(t.TempDir(), key) // outside the generator's tree
				check(t, os.WriteFile(plain, p, 0o600))
				res := run(t, dir, env, nil, "kmsgen", "encrypt", "--key-id", alias, "--context", "app=roundtrip", plain)
				if res.code != 0 {
					t.Fatalf("encrypt %d bytes: %s", size, res.stderr)
				}
				if isEnvelope := strings.HasPrefix(res.stdout, "-----BEGIN KMSGEN ENVELOPE-----"); isEnvelope != (size > 4096) {
					t.Errorf("%d bytes: envelope = %v", size, isEnvelope)
				}
				check(t, os.WriteFile(filepath.Join(dir, key+".encrypted"), []byte(res.stdout), 0o644))
				files = append(files, key+".encrypted")
			}
			testfiles.Write(t, dir, map[string]string{"gen.yaml": execGenerator("payloads") +
				"files: [" + strings.Join(files, ", ") + "]\nkms: {keyId: " + alias + ", encryptionContext: {app: roundtrip}}\n"})
			res := run(t, dir, env, nil, "kmsgen", "build", "gen.yaml")
			if res.code != 0 {
				t.Fatalf("build: %s", res.stderr)
			}
			got := secretData(t, res.stdout)
			if len(got) != 1 {
				t.Fatalf("want one Secret, got %d", len(got))
			}
			for _, data := range got {
				for key, want := range payloads {
					if !bytes.Equal([]byte(data[key]), want) {
						t.Errorf("%s: %d bytes back, want the %d encrypted", key, len(data[key]), len(want))
					}
				}
			}
		})
	}
}

// TestEncryptAWSInterop: what kmsgen encrypt prints, aws kms decrypt reads,
// and what aws kms encrypt prints, kmsgen decrypts; the text is the same
// shape either way.
func TestEncryptAWSInterop(t *testing.T) {
	for _, name := range emulators {
		t.Run(name, func(t *testing.T) {
			k := kmsEmulator(t, name)
			alias := "alias/" + uniqueName("interop")
			if _, err := k.CreateKey(t.Context(), alias); err != nil {
				t.Fatal(err)
			}
			env := append(baseEnv(), k.Env()...)
			dir := t.TempDir()

			fromKmsgen := run(t, dir, env, []byte(canary+"-from-kmsgen"), "kmsgen", "encrypt", "--key-id", alias, "--context", "app=interop")
			if fromKmsgen.code != 0 {
				t.Fatal(fromKmsgen.stderr)
			}
			check(t, os.WriteFile(filepath.Join(dir, "k.encrypted"), []byte(fromKmsgen.stdout), 0o644))
			decrypted := sh(t, dir, env, `aws kms decrypt --ciphertext-blob fileb://<(base64 -d k.encrypted) --encryption-context app=interop --query Plaintext --output text | base64 -d`)
			if decrypted != canary+"-from-kmsgen" {
				t.Errorf("aws kms decrypt of kmsgen's ciphertext = %q", decrypted)
			}

			fromAWS := sh(t, dir, env, `printf '%s' "`+canary+`-from-aws" | aws kms encrypt --key-id `+alias+` --encryption-context app=interop --plaintext fileb:///dev/stdin --query CiphertextBlob --output text`)
			for _, text := range []string{fromKmsgen.stdout, fromAWS} {
				if !strings.HasSuffix(text, "\n") || strings.Count(text, "\n") != 1 {
					t.Errorf("%q is not one line of base64 and a newline", text)
				}
				if _, err := base64.StdEncoding.DecodeString(strings.TrimSpace(text)); err != nil {
					t.Errorf("%q is not base64: %v", text, err)
				}
			}
			testfiles.Write(t, dir, map[string]string{"a.encrypted": fromAWS, "gen.yaml": execGenerator("interop") +
				"files: [a.encrypted, k.encrypted]\nkms: {keyId: " + alias + ", encryptionContext: {app: interop}}\n"})
			res := run(t, dir, env, nil, "kmsgen", "build", "gen.yaml")
			if res.code != 0 {
				t.Fatal(res.stderr)
			}
			for _, data := range secretData(t, res.stdout) {
				if data["a"] != canary+"-from-aws" || data["k"] != canary+"-from-kmsgen" {
					t.Errorf("Secret data = %q", data)
				}
			}
		})
	}
}

// TestEnvelopeTampering: a damaged envelope fails the build with a message
// saying which part, and a wrong context is refused by KMS.
func TestEnvelopeTampering(t *testing.T) {
	k := kmsEmulator(t, "local-kms")
	alias := "alias/" + uniqueName("tamper")
	if _, err := k.CreateKey(t.Context(), alias); err != nil {
		t.Fatal(err)
	}
	env := append(baseEnv(), k.Env()...)
	plain := filepath.Join(t.TempDir(), "big")
	check(t, os.WriteFile(plain, bytes.Repeat([]byte(canary+"\n"), 400), 0o600))
	res := run(t, t.TempDir(), env, nil, "kmsgen", "encrypt", "--key-id", alias, "--context", "app=tamper", plain)
	if res.code != 0 {
		t.Fatal(res.stderr)
	}
	good := res.stdout
	lines := strings.Split(good, "\n")
	replaceLine := func(prefix, with string) string {
		out := append([]string(nil), lines...)
		for i, l := range out {
			if strings.HasPrefix(l, prefix) {
				out[i] = with
			}
		}
		return strings.Join(out, "\n")
	}
	flipLast := func(prefix string) string {
		for _, l := range lines {
			if strings.HasPrefix(l, prefix) {
				b := []byte(l)
				i := len(prefix) + 3 // a character that carries whole bits (the last ones before padding may not)
				if b[i] == 'A' {
					b[i] = 'B'
				} else {
					b[i] = 'A'
				}
				return replaceLine(prefix, string(b))
			}
		}
		t.Fatalf("no %s line", prefix)
		return ""
	}
	bodyStart := lines[7][:20]
	tests := []struct {
		name, text, context, want string
	}{
		{"intact", good, "app: tamper", ""},
		{"header", replaceLine("Version:", "Version: 9"), "app: tamper", "envelope version is not supported"},
		{"nonce", flipLast("Nonce:"), "app: tamper", "envelope nonce was altered"},
		{"tag", flipLast("Tag:"), "app: tamper", "envelope tag was altered"},
		{"body", replaceLine(bodyStart, strings.ToUpper(lines[7][:8])+lines[7][8:]), "app: tamper", "envelope body was altered"},
		{"wrong context", good, "app: other", "InvalidCiphertextException"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			testfiles.Write(t, dir, map[string]string{"big.encrypted": tc.text, "gen.yaml": execGenerator("tamper") +
				"files: [big.encrypted]\nkms: {keyId: " + alias + ", encryptionContext: {" + tc.context + "}}\n"})
			res := run(t, dir, env, nil, "kmsgen", "build", "gen.yaml")
			assertNoCanary(t, res.stderr)
			if tc.want == "" {
				if res.code != 0 || !strings.Contains(res.stdout, "big: ") {
					t.Errorf("the intact envelope: exit %d, %s", res.code, res.stderr)
				}
				return
			}
			if res.code != 1 || res.stdout != "" || !strings.Contains(res.stderr, tc.want) || !strings.Contains(res.stderr, `files[0] "big.encrypted"`) {
				t.Errorf("exit %d, stdout %d bytes, stderr %q; want a failure with %q", res.code, len(res.stdout), res.stderr, tc.want)
			}
		})
	}
}

// TestEncryptPrompt types a value at a real terminal (a pseudo-terminal,
// answered once the prompt is shown): it is read without echo and encrypted.
func TestEncryptPrompt(t *testing.T) {
	k := kmsEmulator(t, "local-kms")
	alias := "alias/" + uniqueName("prompt")
	if _, err := k.CreateKey(t.Context(), alias); err != nil {
		t.Fatal(err)
	}
	env := append(baseEnv(), k.Env()...)
	dir := t.TempDir()
	testfiles.Write(t, dir, map[string]string{"gen.yaml": execGenerator("prompted") + "kms: {keyId: " + alias + "}\n"})

	// kmsgen's controlling terminal is a pseudo-terminal; the test holds
	// both ends, so that it can read the terminal's mode as kmsgen left it.
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	defer tty.Close()
	cmd := exec.Command("kmsgen", "encrypt", "--prompt", "--generator", "gen.yaml", "--literal", "TOKEN")
	cmd.Dir, cmd.Env = dir, env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var screen bytes.Buffer
	waitFor := func(text string) {
		t.Helper()
		buf := make([]byte, 256)
		for !strings.Contains(screen.String(), text) {
			n, err := ptmx.Read(buf)
			screen.Write(buf[:n])
			if err != nil {
				t.Fatalf("waiting for %q: %v; the terminal showed %q", text, err, screen.String())
			}
		}
	}
	echo := func() bool {
		t.Helper()
		mode, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
		if err != nil {
			t.Fatal(err)
		}
		return mode.Lflag&unix.ECHO != 0
	}
	if !echo() {
		t.Fatal("the terminal's echo is off before kmsgen started")
	}
	waitFor("Value of TOKEN (not echoed): ")
	// Whatever arrives from the moment the prompt shows (a paste, a
	// password manager's auto-type) must not be echoed.
	if echo() {
		t.Fatal("the prompt showed while the terminal still echoed what is typed")
	}
	if _, err := ptmx.Write([]byte(canary + "-typed\n")); err != nil {
		t.Fatal(err)
	}
	waitFor("set literal TOKEN in gen.yaml")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("kmsgen: %v; the terminal showed %q", err, screen.String())
	}
	if !echo() {
		t.Error("kmsgen left the terminal's echo off")
	}
	assertNoCanary(t, screen.String())

	built := run(t, dir, env, nil, "kmsgen", "build", "gen.yaml")
	if built.code != 0 {
		t.Fatal(built.stderr)
	}
	for _, data := range secretData(t, built.stdout) {
		if data["TOKEN"] != canary+"-typed" {
			t.Errorf("TOKEN = %q, want the typed value without its newline", data["TOKEN"])
		}
	}
}
