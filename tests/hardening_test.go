package tests

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"kmsgen.dev/kmsgen/internal/fakekms"
	"kmsgen.dev/kmsgen/internal/testfiles"
)

// kustomizeInput is the ResourceList kustomize sends the exec generator gen.
func kustomizeInput(gen string) []byte {
	indented := strings.ReplaceAll(strings.TrimSpace(gen), "\n", "\n  ")
	return []byte("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- " + indented + "\nfunctionConfig:\n  " + indented + "\n")
}

// waitFor polls cond until it holds, failing the test after 20 s: tests
// wait on a state, never on a fixed sleep.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestSignalsDuringDecryption: kmsgen gets a signal while one Decrypt has
// answered (a plaintext is in memory) and another is in flight. With core
// dumps allowed (ulimit -c unlimited, GOTRACEBACK=crash, SIGQUIT), no core
// file is written and no stack is dumped; every signal cancels the run
// promptly, with one line on stderr and no Secret.
func TestSignalsDuringDecryption(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGQUIT, syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			fake, env := repoFake(t)
			var mu sync.Mutex
			calls := 0
			fake.SetFault(func(fakekms.Call) *fakekms.Fault {
				mu.Lock()
				defer mu.Unlock()
				if calls++; calls == 1 {
					return nil // answered: its plaintext is in kmsgen's memory
				}
				return &fakekms.Fault{Delay: time.Hour} // in flight until kmsgen goes away
			})
			dir := t.TempDir()
			gen := execGenerator("app-secrets") + "literals:\n- A=" + sealed(fake, canary+"-a") + "\n- B=" + sealed(fake, canary+"-b") + "\n" +
				"kms: {keyId: alias/old}\n"
			testfiles.Write(t, dir, map[string]string{"kustomization.yaml": "generators: [gen.yaml]\n", "gen.yaml": gen})
			cmd := exec.Command("bash", "-c", "ulimit -c unlimited && exec kmsgen")
			cmd.Dir = dir
			cmd.Env = append(env, "GOTRACEBACK=crash", "KMSGEN_CONCURRENCY=1")
			cmd.Stdin = bytes.NewReader(kustomizeInput(gen))
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "a Decrypt answered and another in flight", func() bool { return fake.Calls("Decrypt") == 2 && fake.InFlight() == 1 })
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err == nil {
					t.Errorf("kmsgen exited 0 after %v", sig)
				}
			case <-time.After(20 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("kmsgen did not exit after %v", sig)
			}
			cores, _ := filepath.Glob(filepath.Join(dir, "core*"))
			if len(cores) > 0 {
				t.Errorf("core files written: %v", cores)
			}
			if strings.Contains(stderr.String(), "goroutine ") || strings.Count(strings.TrimSpace(stderr.String()), "\n") > 0 {
				t.Errorf("stderr is not one line:\n%s", stderr.String())
			}
			if !strings.Contains(stderr.String(), "cancelled before KMS answered") || strings.Contains(stdout.String(), "kind: Secret") {
				t.Errorf("stdout %q, stderr %q; want the cancellation and no Secret", stdout.String(), stderr.String())
			}
			assertNoCanary(t, stdout.String(), stderr.String())
			if entries, _ := os.ReadDir(dir); len(entries) != 2 {
				t.Errorf("kmsgen left files in its working directory: %v", entries)
			}
		})
	}
}

// TestOrphanedKmsgenStops: when kustomize dies while kmsgen waits for KMS,
// kmsgen notices that nobody reads its stdout any more and stops at once,
// rather than when its call times out.
func TestOrphanedKmsgenStops(t *testing.T) {
	fake, env := repoFake(t)
	fake.SetFault(func(fakekms.Call) *fakekms.Fault { return &fakekms.Fault{Delay: time.Hour} })
	dir := t.TempDir()
	testfiles.Write(t, dir, map[string]string{
		"kustomization.yaml": "generators: [gen.yaml]\n",
		"gen.yaml":           execGenerator("app-secrets") + "literals: [A=" + sealed(fake, canary) + "]\n",
	})
	cmd := exec.Command("kustomize", "build", "--enable-alpha-plugins", "--enable-exec", ".")
	cmd.Dir, cmd.Env = dir, env
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "kmsgen's Decrypt in flight", func() bool { return fake.InFlight() == 1 })
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	// The call ends when kmsgen does: its connection closes.
	waitFor(t, "the orphaned kmsgen to give up its call", func() bool { return fake.InFlight() == 0 })
}
