package tests

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// kmsgenImage is the image `make image` builds and the container examples
// use: a registry-less name that kpt does not prefix with its own registry.
const kmsgenImage = "localhost/kmsgen:dev"

var (
	imageMu sync.Mutex
	// imageState is "" until the first container test asks, then "built",
	// "no docker" or "failed"; imageMsg says why.
	imageState, imageMsg string
)

// containerImage builds kmsgen's image once per run (`make -s image`) and
// returns its name. Without an answering Docker engine it skips the test,
// saying so: the container tests run wherever a Docker engine answers, and
// this is the one skip of the suite.
func containerImage(t *testing.T) string {
	t.Helper()
	imageMu.Lock()
	defer imageMu.Unlock()
	switch imageState {
	case "built":
		return kmsgenImage
	case "no docker":
		t.Skip(imageMsg)
	case "failed":
		t.Fatal(imageMsg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		imageState = "no docker"
		imageMsg = "CONTAINER TESTS SKIPPED: no Docker engine answers (`docker info`: " + err.Error() + ": " +
			strings.TrimSpace(string(out)) + "); the image contract, kustomize container mode and kpt fn eval --image were NOT tested"
		t.Skip(imageMsg)
	}
	res := run(t, repoRoot(t), baseEnv(), nil, "make", "-s", "image")
	if res.code != 0 {
		imageState, imageMsg = "failed", "make image: exit "+strconv.Itoa(res.code)+"\n"+res.stdout+res.stderr
		t.Fatal(imageMsg)
	}
	imageState = "built"
	return kmsgenImage
}

// dockerfileImage is the part of an image's config the Dockerfile's final
// stage sets.
type dockerfileImage struct {
	User       string
	Entrypoint []string
	WorkingDir string
	Labels     map[string]string
}

// dockerfileConfig reads USER, ENTRYPOINT (exec form), WORKDIR and LABEL
// from the Dockerfile's last stage, so make image's image (built without
// docker build) is held to it. Label values keep their ${ARG} references.
func dockerfileConfig(t *testing.T) dockerfileImage {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(data), "\\\n", " ")
	var img dockerfileImage
	labelRE := regexp.MustCompile(`([\w.-]+)="([^"]*)"`)
	for _, line := range strings.Split(text, "\n") {
		instr, args, _ := strings.Cut(strings.TrimSpace(line), " ")
		args = strings.TrimSpace(args)
		switch instr {
		case "FROM":
			img = dockerfileImage{Labels: map[string]string{}}
		case "USER":
			img.User = args
		case "WORKDIR":
			img.WorkingDir = args
		case "ENTRYPOINT":
			if err := json.Unmarshal([]byte(args), &img.Entrypoint); err != nil {
				t.Fatalf("Dockerfile: ENTRYPOINT %s: want the exec form: %v", args, err)
			}
		case "LABEL":
			for _, m := range labelRE.FindAllStringSubmatch(args, -1) {
				img.Labels[m[1]] = m[2]
			}
		}
	}
	if img.User == "" || len(img.Labels) == 0 {
		t.Fatalf("Dockerfile: no USER or LABEL in its last stage: %+v", img)
	}
	return img
}

// TestImageContract checks what the hosts rely on: a non-root user, the
// function as the entrypoint, /work as the working directory, the OCI
// labels, a writable /tmp, CA certificates for HTTPS to KMS, and no shell.
func TestImageContract(t *testing.T) {
	image := containerImage(t)
	env := baseEnv()
	dir := t.TempDir()

	inspect := run(t, dir, env, nil, "docker", "image", "inspect", "--format", "{{json .Config}}", image)
	if inspect.code != 0 {
		t.Fatalf("docker image inspect: exit %d\n%s", inspect.code, inspect.stderr)
	}
	var config struct {
		User       string
		Entrypoint []string
		Cmd        []string
		WorkingDir string
		Labels     map[string]string
	}
	if err := json.Unmarshal([]byte(inspect.stdout), &config); err != nil {
		t.Fatalf("docker image inspect: %v\n%s", err, inspect.stdout)
	}
	type shape struct {
		User       string
		Entrypoint []string
		Cmd        []string
		WorkingDir string
	}
	if diff := cmp.Diff(shape{User: "65532:65532", Entrypoint: []string{"/kmsgen"}, WorkingDir: "/work"},
		shape{config.User, config.Entrypoint, config.Cmd, config.WorkingDir}); diff != "" {
		t.Errorf("image config (-want +got):\n%s", diff)
	}
	t.Run("same config as the Dockerfile", func(t *testing.T) {
		want := dockerfileConfig(t)
		got := dockerfileImage{User: config.User, Entrypoint: config.Entrypoint, WorkingDir: config.WorkingDir, Labels: map[string]string{}}
		for k, v := range config.Labels {
			if strings.Contains(want.Labels[k], "${") {
				v = want.Labels[k] // a build argument: its value is the build's
			}
			got.Labels[k] = v
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("make image's config differs from the Dockerfile's final stage (-Dockerfile +make image):\n%s", diff)
		}
	})
	if src := config.Labels["org.opencontainers.image.source"]; !strings.HasPrefix(src, "https://") {
		t.Errorf("label org.opencontainers.image.source = %q, want an https URL", src)
	}
	version := config.Labels["org.opencontainers.image.version"]
	if version == "" || version == "(devel)" {
		t.Errorf("label org.opencontainers.image.version = %q, want the version make image stamps", version)
	}

	tests := []struct {
		name string
		args []string
		// wantStdout is the exact output of a command that must succeed;
		// wantStderr, what a command that must fail says.
		wantStdout, wantStderr string
	}{
		{name: "version", args: []string{"run", "--rm", image, "version"}, wantStdout: version + "\n"},
		{name: "version as nobody (as kustomize and kpt run it)",
			args: []string{"run", "--rm", "--user", "nobody", "--security-opt=no-new-privileges", image, "version"}, wantStdout: version + "\n"},
		{name: "install into /tmp (writable)", args: []string{"run", "--rm", image, "install", "/tmp"}, wantStdout: "installed /tmp/kmsgen\n"},
		{name: "no shell", args: []string{"run", "--rm", "--entrypoint", "/bin/sh", image, "-c", "true"}, wantStderr: "no such file or directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, dir, env, nil, "docker", tc.args...)
			if tc.wantStderr != "" {
				if res.code == 0 || !strings.Contains(res.stderr, tc.wantStderr) {
					t.Errorf("docker %s: exit %d, stderr %q; want a failure saying %q", strings.Join(tc.args, " "), res.code, res.stderr, tc.wantStderr)
				}
				return
			}
			if res.code != 0 {
				t.Fatalf("docker %s: exit %d\n%s", strings.Join(tc.args, " "), res.code, res.stderr)
			}
			if diff := cmp.Diff(tc.wantStdout, res.stdout); diff != "" {
				t.Errorf("docker %s (-want +got):\n%s", strings.Join(tc.args, " "), diff)
			}
		})
	}

	t.Run("CA certificates", func(t *testing.T) {
		created := run(t, dir, env, nil, "docker", "create", image)
		if created.code != 0 {
			t.Fatalf("docker create: exit %d\n%s", created.code, created.stderr)
		}
		id := strings.TrimSpace(created.stdout)
		t.Cleanup(func() { run(t, dir, env, nil, "docker", "rm", id) })
		cp := run(t, dir, env, nil, "docker", "cp", id+":/etc/ssl/certs/ca-certificates.crt", "-")
		if cp.code != 0 {
			t.Fatalf("docker cp of /etc/ssl/certs/ca-certificates.crt: exit %d\n%s", cp.code, cp.stderr)
		}
		tr := tar.NewReader(strings.NewReader(cp.stdout))
		hdr, err := tr.Next()
		if err != nil {
			t.Fatalf("reading docker cp's archive: %v", err)
		}
		bundle, err := io.ReadAll(tr)
		check(t, err)
		if n := bytes.Count(bundle, []byte("-----BEGIN CERTIFICATE-----")); hdr.Name != "ca-certificates.crt" || n < 10 {
			t.Errorf("%s holds %d certificates; want the system CA bundle", hdr.Name, n)
		}
	})
}

// containerExample copies examples/kustomize-container into a new
// directory that the container's user (nobody) can read.
func containerExample(t *testing.T) string {
	t.Helper()
	dir := copyDir(t, filepath.Join(repoRoot(t), "examples/kustomize-container"))
	check(t, os.Chmod(dir, 0o755))
	return dir
}

// inlineEnvs turns the generator's env file source into an inline one.
func inlineEnvs(t *testing.T, dir string) func(string) string {
	ct, err := os.ReadFile(filepath.Join(dir, "app.env.encrypted"))
	check(t, err)
	return func(s string) string {
		re := regexp.MustCompile(`(?m)^- app\.env\.encrypted.*$`)
		if !re.MatchString(s) {
			t.Fatalf("no app.env.encrypted source in:\n%s", s)
		}
		return re.ReplaceAllLiteralString(s, "- ciphertext: "+strings.TrimSpace(string(ct)))
	}
}

// TestKustomizeContainer runs examples/kustomize-container under the real
// kustomize and Docker: the same bytes as exec mode with the mount, and
// the failures without --network, without network access and without the
// mount.
func TestKustomizeContainer(t *testing.T) {
	containerImage(t)
	env := append(baseEnv(), demoKMS(t).Env()...)
	execMode := kustomizeBuild(t, filepath.Join(repoRoot(t), "examples/kustomize"), env)
	if execMode.code != 0 || !strings.Contains(execMode.stdout, "kind: Secret") {
		t.Fatalf("exec mode: exit %d\n%s\n%s", execMode.code, execMode.stdout, execMode.stderr)
	}
	const mount = "type=bind,src=.,dst=/work"
	tests := []struct {
		name string
		// edit changes secrets.yaml (nil: as in the example).
		edit func(t *testing.T, dir string) func(string) string
		args []string
		// fromParent runs kustomize from the parent of the kustomization.
		fromParent bool
		// wantErr: what stderr says when the build must fail; nil: it must
		// print what exec mode prints.
		wantErr []string
	}{
		{name: "mounted", args: []string{"--network", "--mount", mount}},
		{name: "mounted: src=. is the kustomization root", args: []string{"--network", "--mount", mount}, fromParent: true},
		{name: "inline sources need no mount", edit: inlineEnvs, args: []string{"--network"}},
		{name: "without --network kustomize refuses", args: []string{"--mount", mount},
			wantErr: []string{"network required but not enabled with --network"}},
		{name: "without network access kmsgen cannot reach KMS", args: []string{"--mount", mount},
			edit: func(*testing.T, string) func(string) string {
				return func(s string) string { return strings.Replace(s, "network: true", "network: false", 1) }
			},
			wantErr: []string{"kmsgen: ", "could not reach", "a container function needs network access"}},
		{name: "without the mount the file is missing", args: []string{"--network"},
			wantErr: []string{`kmsgen: KMSSecretGenerator "app-secrets": envs[0] "app.env.encrypted"`, "no such file or directory",
				"/work holds no kustomization, so the kustomization root is not mounted there: for a container function, add --mount type=bind,src=.,dst=/work to kustomize build"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := containerExample(t)
			if tc.edit != nil {
				rewrite(t, filepath.Join(dir, "secrets.yaml"), tc.edit(t, dir))
			}
			args := append([]string{"build", "--enable-alpha-plugins"}, tc.args...)
			from, target := dir, "."
			if tc.fromParent {
				from, target = filepath.Dir(dir), filepath.Base(dir)
			}
			res := run(t, from, env, nil, "kustomize", append(args, target)...)
			if tc.wantErr == nil {
				if res.code != 0 {
					t.Fatalf("kustomize %s: exit %d\n%s", strings.Join(args, " "), res.code, res.stderr)
				}
				if diff := cmp.Diff(execMode.stdout, res.stdout); diff != "" {
					t.Errorf("container mode differs from exec mode (-exec +container):\n%s", diff)
				}
				return
			}
			if res.code == 0 {
				t.Fatalf("kustomize %s: exit 0, want a failure\n%s", strings.Join(args, " "), res.stdout)
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(res.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, res.stderr)
				}
			}
			if strings.Contains(res.stdout, "kind: Secret") {
				t.Errorf("a Secret was printed:\n%s", res.stdout)
			}
		})
	}
}

// kptGeneratorBody is the generator of the kpt package and of its
// exec-mode reference: the example's env file, under the demo key.
const kptGeneratorBody = "envs:\n- app.env.encrypted\nkms:\n  keyId: alias/kmsgen-demo\n  encryptionContext:\n    app: demo\n"

// TestKptEvalContainer runs kmsgen's image under `kpt fn eval --image`
// from the package root, with the package mounted at /work: the Secret is
// named as kustomize names it, the Deployment's reference is rewritten,
// and the plaintext guard, the network and the mount are each required.
func TestKptEvalContainer(t *testing.T) {
	image := containerImage(t)
	example := filepath.Join(repoRoot(t), "examples/kustomize-container")
	copyFiles := func(dir string) {
		for _, f := range []string{"deployment.yaml", "app.env.encrypted"} {
			b, err := os.ReadFile(filepath.Join(example, f))
			check(t, err)
			check(t, os.WriteFile(filepath.Join(dir, f), b, 0o644))
		}
	}
	env := append(baseEnv(), demoKMS(t).Env()...)

	// The reference: the same generator as an exec function under kustomize.
	ref := t.TempDir()
	copyFiles(ref)
	check(t, os.WriteFile(filepath.Join(ref, "secrets.yaml"), []byte(execGenerator("app-secrets")+kptGeneratorBody), 0o644))
	check(t, os.WriteFile(filepath.Join(ref, "kustomization.yaml"), []byte("resources: [deployment.yaml]\ngenerators: [secrets.yaml]\n"), 0o644))
	built := kustomizeBuild(t, ref, env)
	if built.code != 0 {
		t.Fatalf("exec mode: exit %d\n%s", built.code, built.stderr)
	}
	want := secretData(t, built.stdout)
	if len(want) != 1 {
		t.Fatalf("exec mode made %d Secrets:\n%s", len(want), built.stdout)
	}
	var wantName string
	for name := range want {
		wantName = name
	}

	pkg := t.TempDir()
	check(t, os.Chmod(pkg, 0o755))
	copyFiles(pkg)
	check(t, os.WriteFile(filepath.Join(pkg, "secrets.yaml"), []byte("apiVersion: kmsgen.dev/v1alpha1\nkind: KMSSecretGenerator\n"+
		"metadata:\n  name: app-secrets\n  annotations:\n    config.kubernetes.io/local-config: \"true\"\n"+kptGeneratorBody), 0o644))
	check(t, os.WriteFile(filepath.Join(pkg, "Kptfile"), []byte("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: app\n"+
		"  annotations:\n    config.kubernetes.io/local-config: \"true\"\n"), 0o644))

	mount := []string{"--mount", "type=bind,src=" + pkg + ",dst=/work"}
	network := []string{"--network"}
	guard := []string{"-e", "KMSGEN_OUTPUT=stdout"}
	creds := []string{"-e", "AWS_ACCESS_KEY_ID", "-e", "AWS_SECRET_ACCESS_KEY", "-e", "AWS_REGION", "-e", "AWS_ENDPOINT_URL"}
	flags := func(groups ...[]string) []string {
		var out []string
		for _, g := range groups {
			out = append(out, g...)
		}
		return out
	}
	tests := []struct {
		name  string
		flags []string
		// kptEnv is added to kpt's own environment.
		kptEnv  []string
		wantErr []string
	}{
		{name: "mounted", flags: flags(network, mount, guard, creds)},
		{name: "KMSGEN_OUTPUT in kpt's environment only", flags: flags(network, mount, creds), kptEnv: []string{"KMSGEN_OUTPUT=stdout"},
			wantErr: []string{"refusing to emit the Secret"}},
		{name: "without --network", flags: flags(mount, guard, creds), wantErr: []string{"could not reach"}},
		{name: "without the mount", flags: flags(network, guard, creds),
			wantErr: []string{`envs[0] "app.env.encrypted"`, "no such file or directory", `--mount type=bind,src=\"$PWD\",dst=/work`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append([]string{"fn", "eval", "--image", image}, tc.flags...), "-o", "unwrap", ".")
			res := run(t, pkg, append(append([]string(nil), env...), tc.kptEnv...), nil, "kpt", args...)
			if tc.wantErr != nil {
				if res.code == 0 {
					t.Fatalf("kpt %s: exit 0, want a failure\n%s", strings.Join(args, " "), res.stdout)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(res.stderr, w) {
						t.Errorf("stderr lacks %q:\n%s", w, res.stderr)
					}
				}
				if strings.Contains(res.stdout, "kind: Secret") {
					t.Errorf("a Secret was printed:\n%s", res.stdout)
				}
				return
			}
			if res.code != 0 {
				t.Fatalf("kpt %s: exit %d\n%s", strings.Join(args, " "), res.code, res.stderr)
			}
			if diff := cmp.Diff(want, secretData(t, res.stdout)); diff != "" {
				t.Errorf("Secrets under kpt differ from kustomize's (-kustomize +kpt):\n%s", diff)
			}
			if diff := cmp.Diff([]string{wantName}, secretRefs(t, res.stdout)); diff != "" {
				t.Errorf("the Deployment's secretRefs (-want +got):\n%s", diff)
			}
		})
	}
}

// secretRefs returns the envFrom secretRef names of the Deployments in a
// multi-document output.
func secretRefs(t *testing.T, out string) []string {
	t.Helper()
	nodes, err := (&kioReader{text: out}).read()
	if err != nil {
		t.Fatalf("parsing output: %v\n%s", err, out)
	}
	var names []string
	for _, rn := range nodes {
		if rn.GetKind() != "Deployment" {
			continue
		}
		var d struct {
			Spec struct {
				Template struct {
					Spec struct {
						Containers []struct {
							EnvFrom []struct {
								SecretRef struct {
									Name string `yaml:"name"`
								} `yaml:"secretRef"`
							} `yaml:"envFrom"`
						} `yaml:"containers"`
					} `yaml:"spec"`
				} `yaml:"template"`
			} `yaml:"spec"`
		}
		check(t, yaml.Unmarshal([]byte(rn.MustString()), &d))
		for _, c := range d.Spec.Template.Spec.Containers {
			for _, e := range c.EnvFrom {
				names = append(names, e.SecretRef.Name)
			}
		}
	}
	return names
}

// TestKustomizeContainerExample runs every sh block of
// examples/kustomize-container/README.md.
func TestKustomizeContainerExample(t *testing.T) {
	containerImage(t)
	out := runExample(t, "kustomize-container")
	want, err := os.ReadFile(filepath.Join(repoRoot(t), "examples/kustomize/expected-output.yaml"))
	check(t, err)
	if !strings.HasPrefix(out, string(want)) {
		t.Errorf("the mounted build does not print examples/kustomize/expected-output.yaml (-want +got):\n%s",
			cmp.Diff(string(want), out[:min(len(out), len(want))]))
	}
	if n := strings.Count(out, string(want)); n != 2 {
		t.Errorf("expected-output.yaml appears %d times, want 2 (mounted build, inline build):\n%s", n, out)
	}
	for _, s := range []string{
		`envs[0] "app.env.encrypted": reading the ciphertext`, "no such file or directory", "exit status 1",
		"generatorOptions were not applied", "severity: warning",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
}
