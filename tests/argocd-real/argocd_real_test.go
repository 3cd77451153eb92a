// Package argocdreal runs examples/argocd/plugin.yaml in the real Argo CD:
// its argocd-cmp-server binary (the one Argo CD's image runs in a plugin
// sidecar), called the way the repo server calls it, through Argo CD's own
// code (reposerver/repository.GenerateManifests, util/app/discovery,
// cmpserver/apiclient, util/cmp), with kmsgen decrypting through local-kms.
//
// `make test-argocd` builds the cmp-server once per go.mod and go.sum (it
// takes minutes) and passes it in ARGOCD_CMP_SERVER; without it the test
// builds it.
package argocdreal

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
	log "github.com/sirupsen/logrus"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"

	"github.com/argoproj/argo-cd/v3/common"
	"github.com/argoproj/argo-cd/v3/pkg/apis/application/v1alpha1"
	"github.com/argoproj/argo-cd/v3/reposerver/apiclient"
	"github.com/argoproj/argo-cd/v3/reposerver/repository"
	"github.com/argoproj/argo-cd/v3/util/app/discovery"
)

// Found by TestMain.
var (
	root      string // kmsgen's repository
	binDir    string // kmsgen, built from root
	cmpServer string // Argo CD's argocd-cmp-server
	localKMS  string
	kustomize string
)

func TestMain(m *testing.M) {
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "argocd-real:", err)
		code = 1
	}
	os.Exit(code)
}

func setup(m *testing.M) (int, error) {
	// Argo CD's repo-server code logs to this process's stderr: only its
	// warnings and errors. (The sidecar's log is the cmp-server's own.)
	log.SetLevel(log.WarnLevel)
	var err error
	if root, err = filepath.Abs("../.."); err != nil {
		return 0, err
	}
	if localKMS, err = exec.LookPath("local-kms"); err != nil {
		return 0, fmt.Errorf("make tools installs local-kms into .tools/bin: %w", err)
	}
	if kustomize, err = exec.LookPath("kustomize"); err != nil {
		return 0, fmt.Errorf("make tools installs kustomize into .tools/bin: %w", err)
	}
	tmp, err := os.MkdirTemp("", "argocd-real-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	binDir = filepath.Join(tmp, "bin")
	if err := goBuild(root, filepath.Join(binDir, "kmsgen"), ".", "CGO_ENABLED=0"); err != nil {
		return 0, err
	}
	if cmpServer = os.Getenv("ARGOCD_CMP_SERVER"); cmpServer == "" {
		// Argo CD's single binary, named so that it runs as the cmp-server
		// (cmd/main.go dispatches on the base name of argv[0]).
		cmpServer = filepath.Join(tmp, "argocd-cmp-server")
		fmt.Fprintln(os.Stderr, "argocd-real: building Argo CD (ARGOCD_CMP_SERVER is not set; make test-argocd caches it)")
		if err := goBuild(".", cmpServer, "github.com/argoproj/argo-cd/v3/cmd"); err != nil {
			return 0, err
		}
	}
	if filepath.Base(cmpServer) != common.CommandCMPServer {
		return 0, fmt.Errorf("ARGOCD_CMP_SERVER=%s: Argo CD's binary runs as the cmp-server only when named %s", cmpServer, common.CommandCMPServer)
	}
	return m.Run(), nil
}

// goBuild builds pkg in dir into out. Argo CD is built with go test's own
// settings (no -trimpath, the default CGO_ENABLED), so that the build cache
// serves both it and this test's binary.
func goBuild(dir, out, pkg string, env ...string) error {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return nil
}

// logBuffer collects a process's stdout and stderr, and closes ready when
// they first contain marker.
type logBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	marker []byte
	ready  chan struct{}
	seen   bool
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	if !l.seen && bytes.Contains(l.buf.Bytes(), l.marker) {
		l.seen = true
		close(l.ready)
	}
	return len(p), nil
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// process is a started server: its logs, and exited closed once Wait returns.
type process struct {
	cmd     *exec.Cmd
	logs    *logBuffer
	exited  chan struct{}
	waitErr error
}

// start starts argv with env and waits until its output contains marker,
// failing if it exits first. The process is SIGKILLed (by PID) at cleanup.
func start(t *testing.T, env []string, marker string, argv ...string) *process {
	t.Helper()
	p := &process{
		cmd:    exec.Command(argv[0], argv[1:]...),
		logs:   &logBuffer{marker: []byte(marker), ready: make(chan struct{})},
		exited: make(chan struct{}),
	}
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.waitErr = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.exited
	})
	select {
	case <-p.logs.ready:
	case <-p.exited:
		t.Fatalf("%s exited (%v) before printing %q:\n%s", argv[0], p.waitErr, marker, p.logs)
	case <-time.After(time.Minute):
		t.Fatalf("%s did not print %q within a minute:\n%s", argv[0], marker, p.logs)
	}
	return p
}

// startLocalKMS starts local-kms with the public demo key (alias/kmsgen-demo)
// on a free loopback port, and returns the AWS environment pointing at it.
func startLocalKMS(t *testing.T) []string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir := t.TempDir()
	start(t, []string{
		"PORT=" + strconv.Itoa(port), "KMS_REGION=eu-west-1", "KMS_ACCOUNT_ID=111122223333",
		"KMS_DATA_PATH=" + dir, "KMS_SEED_PATH=" + filepath.Join(root, "examples/demo-key/local-kms-seed.yaml"),
	}, "Local KMS started on", localKMS)
	// It prints that just before it listens: the AWS SDK's retries of a
	// refused connection cover the gap.
	// Nothing of the machine's AWS configuration (AWS_CA_BUNDLE, profiles).
	return []string{
		"AWS_ACCESS_KEY_ID=demo", "AWS_SECRET_ACCESS_KEY=demo", "AWS_REGION=eu-west-1",
		"AWS_ENDPOINT_URL=http://127.0.0.1:" + strconv.Itoa(port),
		"AWS_CONFIG_FILE=/nonexistent/config", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent/credentials",
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// sidecar is a running argocd-cmp-server: a plugin sidecar.
type sidecar struct {
	*process
	sock string // its socket
	tmp  string // its TMPDIR
}

// startSidecar runs argocd-cmp-server with pluginYAML as its
// /home/argocd/cmp-server/config/plugin.yaml, its socket in sockDir (the
// repo server's /home/argocd/cmp-server/plugins), kmsgen and kustomize on
// its PATH, and env (ARGOCD_CMP_SERVER_LOGLEVEL unset: the default level).
func startSidecar(t *testing.T, pluginYAML []byte, sockDir string, env ...string) *sidecar {
	t.Helper()
	config, tmp := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(config, "plugin.yaml"), pluginYAML, 0o644); err != nil {
		t.Fatal(err)
	}
	env = append([]string{
		"PATH=" + binDir + ":" + filepath.Dir(kustomize) + ":/usr/bin:/bin",
		"HOME=" + tmp, "TMPDIR=" + tmp,
		"ARGOCD_PLUGINSOCKFILEPATH=" + sockDir,
	}, env...)
	p := start(t, env, "serving on", cmpServer, "--config-dir-path", config)
	var name struct {
		Metadata struct{ Name string }
	}
	if err := yaml.Unmarshal(pluginYAML, &name); err != nil || name.Metadata.Name == "" {
		t.Fatalf("plugin.yaml: no metadata.name (%v)", err)
	}
	s := &sidecar{process: p, sock: filepath.Join(sockDir, name.Metadata.Name+".sock"), tmp: tmp}
	if fi, err := os.Stat(s.sock); err != nil || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("no socket %s after %q: %v", s.sock, "serving on", err)
	}
	return s
}

// shortDir is a temporary directory with a short path: a unix socket's path
// must fit in 108 bytes, which t.TempDir's may not.
func shortDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "cmp")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// writeFiles writes files (path: content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// kmsgenEncrypt encrypts plaintext under the demo key with context app=demo.
func kmsgenEncrypt(t *testing.T, awsEnv []string, plaintext string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "kmsgen"), "encrypt", "--key-id", "alias/kmsgen-demo", "--context", "app=demo")
	cmd.Env = append([]string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir()}, awsEnv...)
	cmd.Stdin = strings.NewReader(plaintext)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kmsgen encrypt: %v: %s", err, stderr.String())
	}
	return string(out)
}

const generator = `apiVersion: kmsgen.dev/v1alpha1
kind: KMSSecretGenerator
metadata:
  name: app-secrets
  annotations:
    config.kubernetes.io/function: |
      exec:
        path: kmsgen
envs:
- %s
kms:
  keyId: alias/kmsgen-demo
  encryptionContext:
    app: demo
`

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  selector:
    matchLabels: {app: app}
  template:
    metadata:
      labels: {app: app}
    spec:
      containers:
      - name: app
        image: registry.example/app:1
        envFrom:
        - secretRef:
            name: app-secrets
`

// testRepo writes the application repository the sidecar gets: an overlay
// (overlays/prod) whose generator is in its base (base/), the case of the
// issue; a plain kustomization (plain/); and an application whose
// ciphertext is broken (broken/). canary is the plaintext of base's env.
func testRepo(t *testing.T, awsEnv []string, canary string) string {
	t.Helper()
	repo := t.TempDir()
	good := kmsgenEncrypt(t, awsEnv, "CANARY="+canary+"\n")
	// The same ciphertext with a byte of its authentication tag (at the end)
	// changed: still base64 of the right form, and KMS refuses it.
	blob, err := base64.StdEncoding.DecodeString(strings.TrimSpace(good))
	if err != nil {
		t.Fatalf("kmsgen encrypt printed %q: %v", good, err)
	}
	blob[len(blob)-5] ^= 0xff
	broken := base64.StdEncoding.EncodeToString(blob) + "\n"
	writeFiles(t, repo, map[string]string{
		"base/kustomization.yaml":          "resources: [deployment.yaml]\ngenerators: [secrets.yaml]\n",
		"base/deployment.yaml":             deployment,
		"base/secrets.yaml":                fmt.Sprintf(generator, "app.env.encrypted"),
		"base/app.env.encrypted":           good,
		"overlays/prod/kustomization.yaml": "namespace: prod\nresources: [../../base]\n",
		"plain/kustomization.yaml":         "resources: [deployment.yaml]\n",
		"plain/deployment.yaml":            deployment,
		"broken/kustomization.yaml":        "resources: [deployment.yaml]\ngenerators: [secrets.yaml]\n",
		"broken/deployment.yaml":           deployment,
		"broken/secrets.yaml":              fmt.Sprintf(generator, "app.env.encrypted"),
		"broken/app.env.encrypted":         broken,
		"README.md":                        "an application repository\n",
		"relexec/kustomization.yaml":       "resources: [deployment.yaml]\ngenerators: [secrets.yaml]\n",
		"relexec/deployment.yaml":          deployment,
		"relexec/secrets.yaml":             strings.Replace(fmt.Sprintf(generator, "app.env.encrypted"), "path: kmsgen", "path: ./kmsgen-fn", 1),
		"relexec/app.env.encrypted":        good,
	})
	// An exec path inside the repository: a script with its exec bit.
	if err := os.WriteFile(filepath.Join(repo, "relexec/kmsgen-fn"), []byte("#!/bin/sh\nexec kmsgen \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return repo
}

// manifestRequest is what the application controller sends the repo server
// for an Application whose source is path in the repository.
func manifestRequest(path string, plugin *v1alpha1.ApplicationSourcePlugin) *apiclient.ManifestRequest {
	return &apiclient.ManifestRequest{
		Repo:        &v1alpha1.Repository{Repo: "https://git.example.com/team/apps.git"},
		AppName:     "kmsgen-demo",
		Namespace:   "prod",
		ProjectName: "default",
		KubeVersion: "1.34.0",
		ApiVersions: []string{"v1", "apps/v1"},
		ApplicationSource: &v1alpha1.ApplicationSource{
			RepoURL: "https://git.example.com/team/apps.git", Path: path, TargetRevision: "HEAD", Plugin: plugin,
		},
		AppLabelKey: "app.kubernetes.io/instance", TrackingMethod: string(v1alpha1.TrackingMethodAnnotation),
	}
}

const revision = "4f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c"

// generate is the repo server's GenerateManifests for path in repo (the
// repository as the repo server checked it out), with the request's
// deadline; it sends the repository to the sidecar (discovery, then
// generate) through the socket in ARGOCD_PLUGINSOCKFILEPATH.
func generate(t *testing.T, repo, path string, plugin *v1alpha1.ApplicationSourcePlugin, timeout time.Duration) (*apiclient.ManifestResponse, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return repository.GenerateManifests(ctx, filepath.Join(repo, path), repo, revision, manifestRequest(path, plugin),
		false, nil, resource.MustParse("10Mi"), nil)
}

// objects decodes the manifests of a response, by kind.
func objects(t *testing.T, res *apiclient.ManifestResponse) map[string]map[string]any {
	t.Helper()
	objs := map[string]map[string]any{}
	for _, m := range res.Manifests {
		var obj map[string]any
		if err := json.Unmarshal([]byte(m), &obj); err != nil {
			t.Fatalf("manifest %q: %v", m, err)
		}
		objs[obj["kind"].(string)] = obj
	}
	return objs
}

func field(obj map[string]any, path ...any) any {
	var v any = obj
	for _, p := range path {
		switch p := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[p]
		case int:
			s, _ := v.([]any)
			if p >= len(s) {
				return nil
			}
			v = s[p]
		}
	}
	return v
}

func examplePlugin(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "examples/argocd/plugin.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRealArgoCD runs examples/argocd/plugin.yaml in argocd-cmp-server.
func TestRealArgoCD(t *testing.T) {
	awsEnv := startLocalKMS(t)
	canary := fmt.Sprintf("canary-%d-%d", time.Now().UnixNano(), os.Getpid())
	canaryB64 := base64.StdEncoding.EncodeToString([]byte(canary))
	repo := testRepo(t, awsEnv, canary)
	sockDir := shortDir(t)
	t.Setenv(common.EnvPluginSockFilePath, sockDir) // where the repo server looks for sidecars
	side := startSidecar(t, examplePlugin(t), sockDir, awsEnv...)

	t.Run("discovery", func(t *testing.T) {
		// As the repo server decides an Application's type when the
		// Application names none: the plugins first, with ARGOCD_APP_*
		// variables only (fewer than generate gets).
		env := []string{"ARGOCD_APP_NAME=kmsgen-demo", "ARGOCD_APP_REVISION=" + revision,
			"ARGOCD_APP_SOURCE_REPO_URL=https://git.example.com/team/apps.git", "ARGOCD_APP_SOURCE_TARGET_REVISION=HEAD"}
		for path, want := range map[string]string{
			"overlays/prod": "Plugin",    // its generator is in ../../base
			"base":          "Plugin",    // the generator itself
			"plain":         "Kustomize", // no generator: Argo CD's built-in kustomize
		} {
			got, err := discovery.AppType(context.Background(), filepath.Join(repo, path), repo, nil, nil,
				append(env, "ARGOCD_APP_SOURCE_PATH="+path))
			if err != nil || got != want {
				t.Errorf("%s: discovered as %q (%v), want %q", path, got, err, want)
			}
		}
	})

	var secretName string
	for _, tc := range []struct {
		name   string
		plugin *v1alpha1.ApplicationSourcePlugin
	}{
		{"generate, discovered", nil},
		{"generate, named", &v1alpha1.ApplicationSourcePlugin{Name: "kmsgen", Env: v1alpha1.Env{{Name: "ENVIRONMENT", Value: "prod"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := generate(t, repo, "overlays/prod", tc.plugin, time.Minute)
			if err != nil {
				t.Fatalf("GenerateManifests: %v\nsidecar log:\n%s", err, side.logs)
			}
			if res.SourceType != "Plugin" {
				t.Errorf("source type %q, want Plugin", res.SourceType)
			}
			objs := objects(t, res)
			secret, dep := objs["Secret"], objs["Deployment"]
			if secret == nil || dep == nil || len(objs) != 2 {
				t.Fatalf("want a Secret and a Deployment, got %q", res.Manifests)
			}
			name, _ := field(secret, "metadata", "name").(string)
			if !regexp.MustCompile(`^app-secrets-[a-z0-9]{10}$`).MatchString(name) {
				t.Errorf("Secret name %q is not app-secrets-<hash>", name)
			}
			if got := field(secret, "data", "CANARY"); got != canaryB64 {
				t.Errorf("Secret data.CANARY = %v, want base64 of the canary", got)
			}
			if ns := field(secret, "metadata", "namespace"); ns != "prod" {
				t.Errorf("Secret namespace %v: the overlay's namespace did not apply", ns)
			}
			if ref := field(dep, "spec", "template", "spec", "containers", 0, "envFrom", 0, "secretRef", "name"); ref != name {
				t.Errorf("Deployment refers to %v, want the hashed %s", ref, name)
			}
			if secretName != "" && name != secretName {
				t.Errorf("Secret %s here, %s in the other run: the same input must give the same hash", name, secretName)
			}
			secretName = name
		})
	}

	t.Run("broken ciphertext: an error and no manifests", func(t *testing.T) {
		res, err := generate(t, repo, "broken", nil, time.Minute)
		if err == nil {
			t.Fatalf("GenerateManifests succeeded: %q", res.GetManifests())
		}
		if res != nil && len(res.Manifests) > 0 {
			t.Errorf("manifests with the error: %q", res.Manifests)
		}
		// What the UI shows: the command, kustomize's and kmsgen's stderr.
		if !strings.Contains(err.Error(), "kmsgen") || !strings.Contains(err.Error(), "app.env.encrypted") {
			t.Errorf("error does not say what failed: %v", err)
		}
		t.Logf("the error Argo CD shows (%d bytes): %v", len(err.Error()), err)
	})

	t.Run("no plaintext in the sidecar's log at the default level", func(t *testing.T) {
		logs := side.logs.String()
		if !strings.Contains(logs, "Plugin command successful") {
			t.Fatalf("the sidecar logged no generate run: the check would be empty:\n%s", logs)
		}
		for what, s := range map[string]string{"canary": canary, "base64 of the canary": canaryB64} {
			if strings.Contains(logs, s) {
				t.Errorf("the %s is in the sidecar's log", what)
			}
		}
	})

	t.Run("an exec path inside the repository needs preserveFileMode", func(t *testing.T) {
		_, err := generate(t, repo, "relexec", nil, time.Minute)
		if err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Fatalf("generate with ./kmsgen-fn (0755 in the repository): %v, want permission denied", err)
		}
		// The same plugin.yaml with preserveFileMode: true, in a sidecar of its own.
		preserving := strings.Replace(string(examplePlugin(t)), "\nspec:\n", "\nspec:\n  preserveFileMode: true\n", 1)
		dir := shortDir(t)
		t.Setenv(common.EnvPluginSockFilePath, dir)
		startSidecar(t, []byte(preserving), dir, awsEnv...)
		res, err := generate(t, repo, "relexec", nil, time.Minute)
		if err != nil {
			t.Fatalf("with preserveFileMode: %v", err)
		}
		if got := field(objects(t, res)["Secret"], "data", "CANARY"); got != canaryB64 {
			t.Errorf("with preserveFileMode: Secret data.CANARY = %v", got)
		}
	})

	t.Run("on SIGTERM the socket goes, the process stays", func(t *testing.T) {
		w, err := fsnotify.NewWatcher()
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		if err := w.Add(sockDir); err != nil {
			t.Fatal(err)
		}
		if err := side.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		for removed := false; !removed; {
			select {
			case ev := <-w.Events:
				removed = ev.Name == side.sock && ev.Has(fsnotify.Remove)
			case err := <-w.Errors:
				t.Fatal(err)
			case <-side.exited:
				t.Fatalf("the cmp-server exited on SIGTERM (%v)", side.waitErr)
			case <-time.After(30 * time.Second):
				t.Fatal("the socket was not removed within 30s of SIGTERM")
			}
		}
		select {
		case <-side.exited:
			t.Fatalf("the cmp-server exited after SIGTERM (%v)", side.waitErr)
		case <-time.After(time.Second):
		}
		if err := side.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-side.exited
		var exit *exec.ExitError
		if !errors.As(side.waitErr, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Errorf("the cmp-server ended with %v, want killed by SIGKILL", side.waitErr)
		}
	})
}

// probePlugin is a plugin that records what its commands get: environment,
// working directory, file modes, into $PROBE_OUT.
const probePlugin = `apiVersion: argoproj.io/v1alpha1
kind: ConfigManagementPlugin
metadata:
  name: probe
spec:
  discover:
    find:
      command: [sh, -c, 'env > "$(mktemp "$PROBE_OUT/discover.XXXXXX")"; echo probe']
  generate:
    command: [sh, -c]
    args:
    - |
      env > "$PROBE_OUT/generate.env"
      pwd > "$PROBE_OUT/generate.pwd"
      ls .. > "$PROBE_OUT/generate.repo"
      stat -c %a tool.sh > "$PROBE_OUT/generate.mode"
      if [ -e slow ]; then exec sleep 60; fi
      sleep 1.5
      printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: probe\ndata:\n  secret: %s\n' "$(cat value)"
`

// TestRealArgoCDFacts checks what examples/argocd/README.md says of the
// cmp-server, with a probe plugin: the variables discover and generate get,
// the working directory, file modes, ARGOCD_EXEC_TIMEOUT, the request
// deadline, and what the debug log level logs.
func TestRealArgoCDFacts(t *testing.T) {
	out := t.TempDir()
	repo := t.TempDir()
	value := fmt.Sprintf("rendered-%d", time.Now().UnixNano())
	writeFiles(t, repo, map[string]string{"app/value": value, "slowapp/slow": "", "slowapp/tool.sh": "", "slowapp/value": "x", "other/file": "x"})
	if err := os.WriteFile(filepath.Join(repo, "app/tool.sh"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	sockDir := shortDir(t)
	t.Setenv(common.EnvPluginSockFilePath, sockDir)
	side := startSidecar(t, []byte(probePlugin), sockDir,
		"PROBE_OUT="+out, "ARGOCD_EXEC_TIMEOUT=1s", "ARGOCD_CMP_SERVER_LOGLEVEL=debug")

	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	// names lists the ARGOCD_* and KUBE_* variables of an env dump.
	names := func(env string) []string {
		var n []string
		for _, line := range strings.Split(env, "\n") {
			if k, _, ok := strings.Cut(line, "="); ok && (strings.HasPrefix(k, "ARGOCD_") || strings.HasPrefix(k, "KUBE_")) {
				n = append(n, k)
			}
		}
		slices.Sort(n)
		return n
	}

	// An Application that names no plugin: the repo server detects the
	// type (discovery with ARGOCD_APP_* only), then finds the plugin again
	// (discovery with generate's variables) and generates.
	t0 := time.Now()
	if _, err := generate(t, repo, "app", nil, time.Minute); err != nil {
		t.Fatalf("GenerateManifests: %v\n%s", err, side.logs)
	}
	t.Logf("generate (discovered) took %s", time.Since(t0).Round(time.Millisecond))
	t.Run("discovery may get fewer variables", func(t *testing.T) {
		files, _ := filepath.Glob(filepath.Join(out, "discover.*"))
		if len(files) != 2 {
			t.Fatalf("%d discover runs, want 2 (type detection, then the plugin's own)", len(files))
		}
		var fewest []string
		for i, f := range files {
			got := names(read(filepath.Base(f)))
			t.Logf("discover: %s", strings.Join(got, " "))
			if i == 0 || len(got) < len(fewest) {
				fewest = got
			}
			os.Remove(f)
		}
		for _, missing := range []string{"KUBE_VERSION", "KUBE_API_VERSIONS"} {
			if slices.Contains(fewest, missing) {
				t.Errorf("type detection's discovery had %s", missing)
			}
		}
	})

	// An Application with a plugin section (env): generate's variables.
	plugin := &v1alpha1.ApplicationSourcePlugin{Env: v1alpha1.Env{{Name: "ENVIRONMENT", Value: "prod"}}}
	t0 = time.Now()
	res, err := generate(t, repo, "app", plugin, time.Minute)
	if err != nil {
		t.Fatalf("GenerateManifests: %v\n%s", err, side.logs)
	}
	t.Logf("generate (plugin section) took %s", time.Since(t0).Round(time.Millisecond))
	if len(res.Manifests) != 1 {
		t.Fatalf("manifests: %q", res.Manifests)
	}

	t.Run("ARGOCD_EXEC_TIMEOUT does not apply to plugin commands", func(t *testing.T) {
		// generate ran 1.5s under ARGOCD_EXEC_TIMEOUT=1s and succeeded.
		if !strings.Contains(read("generate.env"), "ARGOCD_EXEC_TIMEOUT=1s") {
			t.Error("the sidecar's ARGOCD_EXEC_TIMEOUT did not reach the command")
		}
	})

	t.Run("generate's variables", func(t *testing.T) {
		got := names(read("generate.env"))
		t.Logf("generate: %s", strings.Join(got, " "))
		for _, want := range []string{"ARGOCD_APP_NAME", "ARGOCD_APP_NAMESPACE", "ARGOCD_APP_PROJECT_NAME",
			"ARGOCD_APP_REVISION", "ARGOCD_APP_REVISION_SHORT", "ARGOCD_APP_REVISION_SHORT_8",
			"ARGOCD_APP_SOURCE_PATH", "ARGOCD_APP_SOURCE_REPO_URL", "ARGOCD_APP_SOURCE_TARGET_REVISION",
			"KUBE_VERSION", "KUBE_API_VERSIONS", "ARGOCD_ENV_ENVIRONMENT",
			"ARGOCD_APP_PARAMETERS", "ARGOCD_LOG_FORMAT", "ARGOCD_LOG_LEVEL"} {
			if !slices.Contains(got, want) {
				t.Errorf("generate lacks %s", want)
			}
		}
		// The Application's plugin section has no parameters.
		if env := "\n" + read("generate.env") + "\n"; !strings.Contains(env, "\nARGOCD_APP_PARAMETERS=null\n") {
			t.Errorf("ARGOCD_APP_PARAMETERS is not null without parameters")
		}
	})

	t.Run("working directory: the whole repository, files 0644", func(t *testing.T) {
		pwd := read("generate.pwd")
		want := regexp.MustCompile(`^` + regexp.QuoteMeta(side.tmp) + `/_cmp_server/[0-9a-f-]{36}/app$`)
		if !want.MatchString(pwd) {
			t.Errorf("generate ran in %s, want $TMPDIR/_cmp_server/<uuid>/app", pwd)
		}
		if repoDirs := strings.Fields(read("generate.repo")); !slices.Equal(repoDirs, []string{"app", "other", "slowapp"}) {
			t.Errorf("the application's parent holds %q, want the whole repository", repoDirs)
		}
		if mode := read("generate.mode"); mode != "644" {
			t.Errorf("tool.sh, 0755 in the repository, arrived as %s", mode)
		}
	})

	t.Run("debug level logs generate's stdout", func(t *testing.T) {
		if !strings.Contains(side.logs.String(), value) {
			t.Errorf("the rendered value is not in the debug log")
		}
	})

	t.Run("the request deadline kills the command", func(t *testing.T) {
		t0 := time.Now()
		_, err := generate(t, repo, "slowapp", plugin, 3*time.Second)
		took := time.Since(t0)
		if err == nil {
			t.Fatal("generate of a command sleeping 60s succeeded")
		}
		if took > 20*time.Second {
			t.Errorf("took %s: the deadline did not end the command", took)
		}
		t.Logf("after %s: %.200s", took.Round(time.Millisecond), err)
	})
}
