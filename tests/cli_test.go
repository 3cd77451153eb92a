package tests

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"kmsgen.dev/kmsgen/internal/awstest"
	"kmsgen.dev/kmsgen/internal/fakekms"
	"kmsgen.dev/kmsgen/internal/kmstest"
	"kmsgen.dev/kmsgen/internal/testfiles"
)

// manySources writes a kustomization whose generator has n literals, each
// its own ciphertext, and returns the generator's text (for a
// ResourceList).
func manySources(t *testing.T, fake *fakekms.Server, dir string, n int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("literals:\n")
	for i := range n {
		ct := base64.StdEncoding.EncodeToString(fake.Encrypt(fakeKey, nil, []byte(fmt.Sprintf("%s-%d", canary, i))))
		fmt.Fprintf(&b, "- K%02d=%s\n", i, ct)
	}
	gen := execGenerator("many") + b.String()
	testfiles.Write(t, dir, map[string]string{"kustomization.yaml": "generators: [generator.yaml]\n", "generator.yaml": gen})
	return gen
}

// terminal is a pseudo-terminal the test holds both ends of, and what it
// has shown so far.
type terminal struct {
	t         *testing.T
	ptmx, tty *os.File
	screen    bytes.Buffer
}

func newTerminal(t *testing.T) *terminal {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ptmx.Close(); tty.Close() })
	return &terminal{t: t, ptmx: ptmx, tty: tty}
}

// waitFor reads the terminal until it has shown text, for at most a
// minute (a generous bound, not a timing assumption).
func (term *terminal) waitFor(text string) {
	term.t.Helper()
	term.ptmx.SetReadDeadline(time.Now().Add(time.Minute))
	buf := make([]byte, 1024)
	for !strings.Contains(term.screen.String(), text) {
		n, err := term.ptmx.Read(buf)
		term.screen.Write(buf[:n])
		if err != nil {
			term.t.Fatalf("waiting for %q: %v; the terminal showed %q", text, err, term.screen.String())
		}
	}
}

// TestWaitingForKMS: a KMS that holds its answers shows, after 2 s, the
// waiting line on stderr when that is a terminal, counting up as answers
// come and erased at the end, for kmsgen build and for the KRM function;
// stdout never has it.
func TestWaitingForKMS(t *testing.T) {
	fake := kmstest.Start(t, kmstest.NewKey(fakeKey))
	env := append(baseEnv(), awstest.Env(fake.URL)...)
	dir := t.TempDir()
	gen := manySources(t, fake, dir, 40)
	indented := "  " + strings.ReplaceAll(strings.TrimSuffix(gen, "\n"), "\n", "\n  ")
	resourceList := "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n-" + indented[1:] + "\nfunctionConfig:\n" + indented + "\n"
	for _, tc := range []struct {
		name  string
		args  []string
		stdin string
	}{
		{name: "build", args: []string{"build", "generator.yaml"}},
		{name: "function", stdin: resourceList},
	} {
		t.Run(tc.name, func(t *testing.T) {
			term := newTerminal(t)
			fake.Hold()
			defer fake.Release()
			var stdout bytes.Buffer
			cmd := exec.Command(kmsgenBin, tc.args...)
			cmd.Dir, cmd.Env = dir, env
			cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(tc.stdin), &stdout, term.tty
			cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 2}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			term.waitFor("\rkmsgen: waiting for KMS (0 of 40 done)\x1b[K")
			fake.Release()
			term.waitFor("\rkmsgen: waiting for KMS (40 of 40 done)\x1b[K\r\x1b[K") // counted up, then erased
			if err := cmd.Wait(); err != nil {
				t.Fatalf("kmsgen: %v; the terminal showed %q", err, term.screen.String())
			}
			if !strings.Contains(stdout.String(), "kind: Secret") || strings.Contains(stdout.String(), "waiting") {
				t.Errorf("stdout:\n%s", stdout.String())
			}
			assertNoCanary(t, term.screen.String())
		})
	}
}

// TestNoWaitingLineOffTerminal: with stderr a pipe (kustomize, CI logs),
// KMS answering after more than 2 s shows nothing.
func TestNoWaitingLineOffTerminal(t *testing.T) {
	fake := kmstest.Start(t, kmstest.NewKey(fakeKey))
	env := append(baseEnv(), awstest.Env(fake.URL)...)
	dir := t.TempDir()
	manySources(t, fake, dir, 3)
	fake.SetFault(func(fakekms.Call) *fakekms.Fault { return &fakekms.Fault{Delay: 2500 * time.Millisecond} })
	res := run(t, dir, env, nil, "kmsgen", "build", "generator.yaml")
	if res.code != 0 || res.stderr != "" || !strings.Contains(res.stdout, "kind: Secret") {
		t.Errorf("exit %d, stderr %q, stdout %q", res.code, res.stderr, res.stdout)
	}
}

// TestSameErrorOnce: 40 sources that KMS refuses alike give the error once,
// with the count and a bounded list of the sources, from kmsgen build, the
// function under kustomize and kmsgen check.
func TestSameErrorOnce(t *testing.T) {
	fake := kmstest.Start(t, kmstest.NewKey(fakeKey))
	env := append(baseEnv(), awstest.Env(fake.URL)...)
	dir := t.TempDir()
	manySources(t, fake, dir, 40)
	fake.SetFault(func(fakekms.Call) *fakekms.Fault {
		return &fakekms.Fault{Code: "AccessDeniedException", Message: "User is not authorized to perform: kms:Decrypt"}
	})
	const list = `(40 sources: literals[0] (inline) (key "K00"), literals[1] (inline) (key "K01"), literals[2] (inline) (key "K02") and 37 more)`
	for _, tc := range []struct {
		name   string
		res    func() result
		output func(result) string
		want   []string
	}{
		{name: "build", res: func() result { return run(t, dir, env, nil, "kmsgen", "build", "generator.yaml") },
			output: func(r result) string { return r.stderr },
			want:   []string{`kmsgen: generator.yaml: KMSSecretGenerator "many": access denied: kms:Decrypt on key`, list}},
		{name: "kustomize", res: func() result { return kustomizeBuild(t, dir, env) },
			output: func(r result) string { return r.stderr },
			want:   []string{`kmsgen: KMSSecretGenerator "many": access denied: kms:Decrypt on key`, list}},
		{name: "check", res: func() result { return run(t, dir, env, nil, "kmsgen", "check", ".") },
			output: func(r result) string { return r.stdout },
			want:   []string{"FAIL generator.yaml: KMSSecretGenerator \"many\" (40 sources)\n     access denied: kms:Decrypt on key", list + "\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := tc.res()
			out := tc.output(res)
			if res.code != 1 {
				t.Errorf("exit %d, want 1", res.code)
			}
			for _, want := range tc.want {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			if n := strings.Count(out, "access denied"); n != 1 {
				t.Errorf("the error is said %d times, want once:\n%s", n, out)
			}
			assertNoCanary(t, res.stdout, res.stderr)
		})
	}
}

// TestBareKmsgen: kmsgen without arguments on a terminal prints its help
// and exits 2 at once; with stdin a pipe it is the KRM function.
func TestBareKmsgen(t *testing.T) {
	term := newTerminal(t)
	cmd := exec.Command(kmsgenBin)
	cmd.Env = baseEnv()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = term.tty, term.tty, term.tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	term.waitFor("kmsgen: stdin is a terminal")
	err := cmd.Wait()
	if exitErr, ok := err.(*exec.ExitError); !ok || exitErr.ExitCode() != 2 {
		t.Errorf("exit: %v, want exit status 2", err)
	}
	for _, want := range []string{"Usage:", "Available Commands:", "completion"} {
		if !strings.Contains(term.screen.String(), want) {
			t.Errorf("the terminal lacks %q: %q", want, term.screen.String())
		}
	}
	res := run(t, t.TempDir(), baseEnv(), []byte{}, "kmsgen")
	if res.code != 1 || !strings.HasPrefix(res.stderr, "kmsgen: no ResourceList with a KMSSecretGenerator on stdin") {
		t.Errorf("with stdin a pipe: exit %d, stderr %q", res.code, res.stderr)
	}
}

// TestCLIConventions: --version, suggestions, the completion script
// (valid bash, calling the binary's __complete, which completes a
// command), install DIR making DIR.
func TestCLIConventions(t *testing.T) {
	dir := t.TempDir()
	version := run(t, dir, baseEnv(), nil, "kmsgen", "version")
	if res := run(t, dir, baseEnv(), nil, "kmsgen", "--version"); res.code != 0 || res.stdout != version.stdout || res.stdout == "" {
		t.Errorf("--version: exit %d, %q; kmsgen version printed %q", res.code, res.stdout, version.stdout)
	}
	if res := run(t, dir, baseEnv(), nil, "kmsgen", "chek", "."); res.code != 2 || !strings.Contains(res.stderr, "did you mean check?") {
		t.Errorf("chek: exit %d, %q", res.code, res.stderr)
	}
	if res := run(t, dir, baseEnv(), nil, "kmsgen", "encrypt", "--kye-id", "x"); res.code != 2 || !strings.Contains(res.stderr, "did you mean --key-id?") {
		t.Errorf("--kye-id: exit %d, %q", res.code, res.stderr)
	}
	script := filepath.Join(dir, "kmsgen.bash")
	res := run(t, dir, baseEnv(), nil, "kmsgen", "completion", "bash")
	check(t, os.WriteFile(script, []byte(res.stdout), 0o644))
	sh(t, dir, baseEnv(), "bash -n "+script)
	// What the script asks the binary when completing "kmsgen reen".
	if !strings.Contains(res.stdout, "__complete") {
		t.Error("the bash script does not call kmsgen __complete")
	}
	if got := sh(t, dir, baseEnv(), "kmsgen __complete reen"); !strings.HasPrefix(got, "reencrypt\t") {
		t.Errorf("kmsgen __complete reen = %q, want reencrypt first", got)
	}
	target := filepath.Join(dir, "a", "b")
	if res := run(t, dir, baseEnv(), nil, "kmsgen", "install", target); res.code != 0 {
		t.Errorf("install into a new directory: exit %d, %s", res.code, res.stderr)
	}
	if res := run(t, dir, baseEnv(), nil, filepath.Join(target, "kmsgen"), "--version"); res.stdout != version.stdout {
		t.Errorf("the installed kmsgen --version: %q, %s", res.stdout, res.stderr)
	}
}
