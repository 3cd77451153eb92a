package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"kmsgen.dev/kmsgen/internal/awstest"
	"kmsgen.dev/kmsgen/internal/emulator"
)

// prebuilt is the kmsgen binary to measure instead of building one (-kmsgen).
var prebuilt string

// benchEnv is what every target runs against.
type benchEnv struct {
	dir       string // scratch directory, removed at the end
	kmsgen    string // the kmsgen binary, built stripped as a release is
	kustomize string
	sops      string // "" when not installed
	kms       *emulator.KMS
	keyARN    string
	http      *proxy // plain http in front of local-kms
	https     *proxy // https with the test CA
	certDir   string // the system certificate directory plus the test CA
	certFile  string // the system bundle file plus the test CA
}

func setup(ctx context.Context) (*benchEnv, error) {
	dir, err := os.MkdirTemp("", "kmsgen-bench-")
	if err != nil {
		return nil, err
	}
	e := &benchEnv{dir: dir}
	fail := func(err error) (*benchEnv, error) {
		e.close()
		return nil, err
	}
	e.kmsgen = filepath.Join(dir, "bin", "kmsgen")
	if prebuilt != "" {
		if err := os.MkdirAll(filepath.Dir(e.kmsgen), 0o755); err != nil {
			return fail(err)
		}
		abs, err := filepath.Abs(prebuilt)
		if err != nil {
			return fail(err)
		}
		if err := os.Symlink(abs, e.kmsgen); err != nil {
			return fail(err)
		}
	} else {
		build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", e.kmsgen, "kmsgen.dev/kmsgen")
		build.Env = append(os.Environ(), "CGO_ENABLED=0") // static, as make build, the image and releases build it
		if out, err := build.CombinedOutput(); err != nil {
			return fail(fmt.Errorf("building kmsgen: %v\n%s", err, out))
		}
	}
	trivial := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", filepath.Join(dir, "bin", "trivialfn"), "kmsgen.dev/kmsgen/bench/trivialfn")
	trivial.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := trivial.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("building bench/trivialfn: %v\n%s", err, out))
	}
	if e.kustomize, err = exec.LookPath("kustomize"); err != nil {
		return fail(fmt.Errorf("kustomize is not on PATH: run make bench, which installs it: %w", err))
	}
	if path, err := exec.LookPath("sops"); err == nil {
		e.sops = path
	}
	if e.kms, err = emulator.Start(emulator.LocalKMS, emulator.Options{}); err != nil {
		return fail(err)
	}
	if e.keyARN, err = e.kms.CreateKey(ctx, "alias/bench"); err != nil {
		return fail(err)
	}
	ca, err := newTestCA()
	if err != nil {
		return fail(err)
	}
	if e.certDir, err = systemCertDirWith(filepath.Join(dir, "certs"), ca.certPEM); err != nil {
		return fail(err)
	}
	if e.certFile, err = systemBundleWith(filepath.Join(dir, "ca-certificates.crt"), ca.certPEM); err != nil {
		return fail(err)
	}
	if e.http, err = startProxy(e.kms.URL, nil); err != nil {
		return fail(err)
	}
	if e.https, err = startProxy(e.kms.URL, ca); err != nil {
		return fail(err)
	}
	return e, nil
}

func (e *benchEnv) close() {
	for _, p := range []*proxy{e.http, e.https} {
		if p != nil {
			p.close()
		}
	}
	if e.kms != nil {
		e.kms.Stop()
	}
	os.RemoveAll(e.dir)
}

// env is the environment of a kustomize or kmsgen run through p: test
// credentials, the endpoint, kmsgen on PATH, and for https the certificate
// directory; nothing else of the caller's AWS settings.
func (e *benchEnv) env(p *proxy, extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "KMSGEN_") && !strings.HasPrefix(kv, "SSL_CERT_") && !strings.HasPrefix(kv, "PATH=") {
			env = append(env, kv)
		}
	}
	env = append(env, "PATH="+filepath.Dir(e.kmsgen)+string(os.PathListSeparator)+os.Getenv("PATH"))
	env = append(env, awstest.Env(p.URL)...)
	if p.tls {
		env = append(env, "SSL_CERT_FILE="+e.certFile, "SSL_CERT_DIR="+e.certDir)
	}
	return append(env, extra...)
}

func machine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if name, ok := strings.CutPrefix(line, "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), ":"))
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d CPUs, %s/%s, %s", cpu, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
