package tests

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kmsgen.dev/kmsgen/internal/testfiles"
)

// The Argo CD example, examples/argocd: its ConfigManagementPlugin run the
// way argocd-cmp-server runs it (argv = command + args, working directory =
// the application's source directory, environment = the sidecar's plus
// Argo CD's variables; see cmpserver/plugin/plugin.go in argoproj/argo-cd),
// its repo-server patches applied by kustomize to a trimmed copy of Argo
// CD's argocd-repo-server Deployment, and its README's sh blocks.

// argocdDir is examples/argocd.
func argocdDir(t *testing.T) string {
	t.Helper()
	return filepath.Join(repoRoot(t), "examples/argocd")
}

// argocdCommand is a command of a ConfigManagementPlugin.
type argocdCommand struct {
	Command []string `yaml:"command"`
	Args    []string `yaml:"args"`
}

// argv is what argocd-cmp-server executes: command, then args.
func (c argocdCommand) argv() []string {
	return append(slices.Clone(c.Command), c.Args...)
}

// argocdPlugin is Argo CD's PluginConfig (cmpserver/plugin/config.go),
// decoded strictly so that a misspelt field, which Argo CD would ignore,
// fails the test.
type argocdPlugin struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		Version  string        `yaml:"version"`
		Init     argocdCommand `yaml:"init"`
		Generate argocdCommand `yaml:"generate"`
		Discover struct {
			FileName string `yaml:"fileName"`
			Find     struct {
				argocdCommand `yaml:",inline"`
				Glob          string `yaml:"glob"`
			} `yaml:"find"`
		} `yaml:"discover"`
		Parameters       map[string]any `yaml:"parameters"`
		PreserveFileMode bool           `yaml:"preserveFileMode"`
		ProvideGitCreds  bool           `yaml:"provideGitCreds"`
	} `yaml:"spec"`
}

// argocdDecode decodes text into v, refusing unknown fields.
func argocdDecode(t *testing.T, what, text string, v any) {
	t.Helper()
	dec := yaml.NewDecoder(strings.NewReader(text))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// argocdReadPlugin reads and decodes examples/argocd/plugin.yaml.
func argocdReadPlugin(t *testing.T) argocdPlugin {
	t.Helper()
	text, err := os.ReadFile(filepath.Join(argocdDir(t), "plugin.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var p argocdPlugin
	argocdDecode(t, "plugin.yaml", string(text), &p)
	return p
}

// argocdParse parses one YAML document of examples/argocd.
func argocdParse(t *testing.T, name string) *yaml.RNode {
	t.Helper()
	rn, err := yaml.ReadFile(filepath.Join(argocdDir(t), name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return rn
}

// argocdString returns the string at path (dot-separated) in rn.
func argocdString(t *testing.T, rn *yaml.RNode, path string) string {
	t.Helper()
	s, err := rn.GetString(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return s
}

// TestArgoCDManifests checks the example's files the way Argo CD, the API
// server and kubectl read them.
func TestArgoCDManifests(t *testing.T) {
	for _, tc := range []struct {
		file, apiVersion, kind, name string
	}{
		{"plugin.yaml", "argoproj.io/v1alpha1", "ConfigManagementPlugin", "kmsgen"},
		{"cmp-plugin-configmap.yaml", "v1", "ConfigMap", "kmsgen-cmp-plugin"},
		{"repo-server-sidecar-patch.yaml", "apps/v1", "Deployment", "argocd-repo-server"},
		{"repo-server-tools-patch.yaml", "apps/v1", "Deployment", "argocd-repo-server"},
		{"repo-server-irsa-patch.yaml", "v1", "ServiceAccount", "argocd-repo-server"},
		{"argocd-cm-patch.yaml", "v1", "ConfigMap", "argocd-cm"},
		{"application.yaml", "argoproj.io/v1alpha1", "Application", "kmsgen-demo"},
		{"app/secrets.yaml", "kmsgen.dev/v1alpha1", "KMSSecretGenerator", "app-secrets"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			rn := argocdParse(t, tc.file)
			got := [3]string{rn.GetApiVersion(), rn.GetKind(), rn.GetName()}
			if diff := cmp.Diff([3]string{tc.apiVersion, tc.kind, tc.name}, got); diff != "" {
				t.Errorf("apiVersion, kind, metadata.name (-want +got):\n%s", diff)
			}
			// The patches and the ConfigMap go wherever Argo CD is
			// installed (kubectl -n): a namespace in them would pin it.
			if ns := rn.GetNamespace(); ns != "" && tc.kind != "Application" {
				t.Errorf("metadata.namespace is %q; leave it to kubectl -n", ns)
			}
		})
	}

	t.Run("plugin.yaml is a valid ConfigManagementPlugin", func(t *testing.T) {
		p := argocdReadPlugin(t)
		// What argocd-cmp-server's ValidatePluginConfig requires.
		if p.Metadata.Name == "" || p.Kind != "ConfigManagementPlugin" || len(p.Spec.Generate.Command) == 0 {
			t.Errorf("need metadata.name, kind ConfigManagementPlugin and spec.generate.command: %+v", p)
		}
		// Discovery: Argo CD evaluates only the first of fileName,
		// find.glob, find.command; exactly one must be set.
		d := p.Spec.Discover
		set := 0
		for _, ok := range []bool{d.FileName != "", d.Find.Glob != "", len(d.Find.Command) > 0} {
			if ok {
				set++
			}
		}
		if set != 1 {
			t.Errorf("spec.discover sets %d of fileName, find.glob, find.command; want exactly one", set)
		}
		for _, argv := range [][]string{p.Spec.Generate.argv(), p.Spec.Discover.Find.argv()} {
			if len(argv) > 0 && argv[0] != "bash" {
				t.Errorf("%q runs %s; the commands use bash, which the Argo CD image has", argv, argv[0])
			}
		}
	})

	t.Run("the ConfigMap holds plugin.yaml verbatim", func(t *testing.T) {
		want, err := os.ReadFile(filepath.Join(argocdDir(t), "plugin.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		got, ok := argocdParse(t, "cmp-plugin-configmap.yaml").GetDataMap()["plugin.yaml"]
		if !ok {
			t.Fatal("cmp-plugin-configmap.yaml has no data key plugin.yaml")
		}
		if diff := cmp.Diff(string(want), got); diff != "" {
			t.Errorf("cmp-plugin-configmap.yaml's plugin.yaml differs from plugin.yaml (-plugin.yaml +ConfigMap):\n%s", diff)
		}
	})

	t.Run("the Application names the plugin", func(t *testing.T) {
		p := argocdReadPlugin(t)
		// Argo CD's rule: <metadata.name>-<spec.version>, or the name alone.
		want := p.Metadata.Name
		if p.Spec.Version != "" {
			want += "-" + p.Spec.Version
		}
		app := argocdParse(t, "application.yaml")
		if got := argocdString(t, app, "spec.source.plugin.name"); got != want {
			t.Errorf("spec.source.plugin.name is %q, want %q (plugin.yaml's name and version)", got, want)
		}
		env, err := app.Pipe(yaml.Lookup("spec", "source", "plugin", "env"))
		if err != nil || env == nil {
			t.Fatalf("spec.source.plugin.env: %v", err)
		}
		if names, _ := env.ElementValues("name"); len(names) == 0 {
			t.Error("spec.source.plugin.env has no entry")
		}
		path := argocdString(t, app, "spec.source.path")
		if _, err := os.Stat(filepath.Join(repoRoot(t), path, "kustomization.yaml")); err != nil {
			t.Errorf("spec.source.path %q is not the example's kustomization: %v", path, err)
		}
	})

	t.Run("kustomize.buildOptions has both flags", func(t *testing.T) {
		opts := strings.Fields(argocdString(t, argocdParse(t, "argocd-cm-patch.yaml"), "data.kustomize\\.buildOptions"))
		for _, flag := range []string{"--enable-alpha-plugins", "--enable-exec"} {
			if !slices.Contains(opts, flag) {
				t.Errorf("kustomize.buildOptions %q lacks %s", opts, flag)
			}
		}
	})

	t.Run("images are placeholders", func(t *testing.T) {
		// No registry is named anywhere: every image is a <placeholder>.
		for _, file := range []string{"repo-server-sidecar-patch.yaml", "repo-server-tools-patch.yaml"} {
			text, err := os.ReadFile(filepath.Join(argocdDir(t), file))
			if err != nil {
				t.Fatal(err)
			}
			images := regexp.MustCompile(`(?m)^\s*image:\s*(.*)$`).FindAllStringSubmatch(string(text), -1)
			if len(images) == 0 {
				t.Errorf("%s names no image", file)
			}
			for _, m := range images {
				if !strings.HasPrefix(m[1], "<") {
					t.Errorf("%s: image %q is not a <placeholder>", file, m[1])
				}
			}
		}
	})
}

// argocdRepoServer is Argo CD's argocd-repo-server Deployment
// (manifests/base/repo-server/argocd-repo-server-deployment.yaml in
// argoproj/argo-cd), trimmed to what the patches meet: the container,
// copyutil, and the volumes var-files, plugins and tmp.
const argocdRepoServer = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: argocd-repo-server
spec:
  selector:
    matchLabels:
      app.kubernetes.io/name: argocd-repo-server
  template:
    metadata:
      labels:
        app.kubernetes.io/name: argocd-repo-server
    spec:
      serviceAccountName: argocd-repo-server
      automountServiceAccountToken: false
      containers:
      - name: argocd-repo-server
        image: argocd
        args: [/usr/local/bin/argocd-repo-server]
        env:
        - name: HELM_CACHE_HOME
          value: /helm-working-dir
        volumeMounts:
        - name: tmp
          mountPath: /tmp
        - name: plugins
          mountPath: /home/argocd/cmp-server/plugins
      initContainers:
      - name: copyutil
        image: argocd
        command: [sh, -c]
        args:
        - /bin/cp /usr/local/bin/argocd /var/run/argocd/argocd && /bin/ln -sf /var/run/argocd/argocd /var/run/argocd/argocd-cmp-server
        volumeMounts:
        - name: var-files
          mountPath: /var/run/argocd
      volumes:
      - name: tmp
        emptyDir: {}
      - name: var-files
        emptyDir: {}
      - name: plugins
        emptyDir: {}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: argocd-repo-server
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: argocd-cm
data:
  timeout.reconciliation: 180s
`

type argocdMount struct {
	Name      string `yaml:"name"`
	MountPath string `yaml:"mountPath"`
	SubPath   string `yaml:"subPath"`
}

type argocdContainer struct {
	Name    string   `yaml:"name"`
	Image   string   `yaml:"image"`
	Command []string `yaml:"command"`
	Env     []struct {
		Name  string `yaml:"name"`
		Value string `yaml:"value"`
	} `yaml:"env"`
	SecurityContext struct {
		RunAsNonRoot *bool  `yaml:"runAsNonRoot"`
		RunAsUser    *int64 `yaml:"runAsUser"`
	} `yaml:"securityContext"`
	VolumeMounts []argocdMount `yaml:"volumeMounts"`
}

// mounts maps each mount path to its volume and subPath.
func (c argocdContainer) mounts() map[string]argocdMount {
	m := map[string]argocdMount{}
	for _, vm := range c.VolumeMounts {
		m[vm.MountPath] = argocdMount{Name: vm.Name, SubPath: vm.SubPath}
	}
	return m
}

func (c argocdContainer) env(name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

type argocdPod struct {
	Annotations    map[string]string
	InitContainers []argocdContainer `yaml:"initContainers"`
	Containers     []argocdContainer `yaml:"containers"`
	Volumes        []struct {
		Name      string    `yaml:"name"`
		EmptyDir  *struct{} `yaml:"emptyDir"`
		ConfigMap *struct {
			Name string `yaml:"name"`
		} `yaml:"configMap"`
	} `yaml:"volumes"`
}

func (p argocdPod) container(t *testing.T, name string, init bool) argocdContainer {
	t.Helper()
	list := p.Containers
	if init {
		list = p.InitContainers
	}
	for _, c := range list {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no container %s (init: %v)", name, init)
	return argocdContainer{}
}

// volumeKinds maps each volume to "emptyDir" or "configMap <name>".
func (p argocdPod) volumeKinds() map[string]string {
	m := map[string]string{}
	for _, v := range p.Volumes {
		switch {
		case v.EmptyDir != nil:
			m[v.Name] = "emptyDir"
		case v.ConfigMap != nil:
			m[v.Name] = "configMap " + v.ConfigMap.Name
		default:
			m[v.Name] = "other"
		}
	}
	return m
}

// argocdPatched applies patches (files of examples/argocd) with kustomize
// to argocdRepoServer and returns the pod template and the other objects.
func argocdPatched(t *testing.T, patches ...string) (argocdPod, map[string]*yaml.RNode) {
	t.Helper()
	dir := t.TempDir()
	kustomization := "resources: [argocd.yaml]\npatches:\n"
	for _, p := range patches {
		text, err := os.ReadFile(filepath.Join(argocdDir(t), p))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), text, 0o644); err != nil {
			t.Fatal(err)
		}
		kustomization += "- path: " + p + "\n"
	}
	for name, text := range map[string]string{"argocd.yaml": argocdRepoServer, "kustomization.yaml": kustomization} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res := run(t, dir, baseEnv(), nil, "kustomize", "build", ".")
	if res.code != 0 {
		t.Fatalf("kustomize build with %v: exit %d\n%s", patches, res.code, res.stderr)
	}
	nodes, err := (&kioReader{text: res.stdout}).read()
	if err != nil {
		t.Fatal(err)
	}
	objects := map[string]*yaml.RNode{}
	var pod argocdPod
	for _, rn := range nodes {
		objects[rn.GetKind()+"/"+rn.GetName()] = rn
		if rn.GetKind() != "Deployment" {
			continue
		}
		tmpl, err := rn.Pipe(yaml.Lookup("spec", "template"))
		if err != nil || tmpl == nil {
			t.Fatalf("spec.template: %v", err)
		}
		spec, err := tmpl.Pipe(yaml.Lookup("spec"))
		if err != nil || spec == nil {
			t.Fatalf("spec.template.spec: %v", err)
		}
		if err := spec.YNode().Decode(&pod); err != nil {
			t.Fatal(err)
		}
		pod.Annotations = tmpl.GetAnnotations()
	}
	// Every mount of every container refers to a volume of the pod.
	volumes := pod.volumeKinds()
	for _, c := range append(slices.Clone(pod.InitContainers), pod.Containers...) {
		for _, vm := range c.VolumeMounts {
			if _, ok := volumes[vm.Name]; !ok {
				t.Errorf("container %s mounts %s from volume %q, which the pod does not have", c.Name, vm.MountPath, vm.Name)
			}
		}
	}
	return pod, objects
}

// TestArgoCDRepoServerPatches applies each route's patches to Argo CD's
// argocd-repo-server and checks the pod Argo CD documents for it.
func TestArgoCDRepoServerPatches(t *testing.T) {
	configMap := argocdParse(t, "cmp-plugin-configmap.yaml")
	for _, tc := range []struct {
		name    string
		patches []string
		check   func(t *testing.T, pod argocdPod, objects map[string]*yaml.RNode)
	}{
		{
			name:    "sidecar",
			patches: []string{"repo-server-sidecar-patch.yaml", "repo-server-irsa-patch.yaml"},
			check: func(t *testing.T, pod argocdPod, objects map[string]*yaml.RNode) {
				side := pod.container(t, "kmsgen-cmp", false)
				if diff := cmp.Diff([]string{"/var/run/argocd/argocd-cmp-server"}, side.Command); diff != "" {
					t.Errorf("sidecar command (-want +got):\n%s", diff)
				}
				sc := side.SecurityContext
				if sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser != 999 {
					t.Errorf("sidecar securityContext: want runAsNonRoot true and runAsUser 999 (Argo CD requires user 999), got runAsNonRoot %v, runAsUser %v",
						argocdDeref(sc.RunAsNonRoot), argocdDeref(sc.RunAsUser))
				}
				want := map[string]argocdMount{
					"/var/run/argocd":                            {Name: "var-files"},
					"/home/argocd/cmp-server/plugins":            {Name: "plugins"},
					"/home/argocd/cmp-server/config/plugin.yaml": {Name: "kmsgen-cmp-plugin", SubPath: "plugin.yaml"},
					"/tmp":                  {Name: "cmp-tmp"},
					"/usr/local/bin/kmsgen": {Name: "custom-tools", SubPath: "kmsgen"},
				}
				if diff := cmp.Diff(want, side.mounts()); diff != "" {
					t.Errorf("sidecar volume mounts (-want +got):\n%s", diff)
				}
				volumes := pod.volumeKinds()
				for name, kind := range map[string]string{
					"cmp-tmp":           "emptyDir",
					"custom-tools":      "emptyDir",
					"kmsgen-cmp-plugin": "configMap " + configMap.GetName(),
				} {
					if volumes[name] != kind {
						t.Errorf("volume %s is %q, want %q", name, volumes[name], kind)
					}
				}
				if _, ok := configMap.GetDataMap()[want["/home/argocd/cmp-server/config/plugin.yaml"].SubPath]; !ok {
					t.Error("the ConfigMap has no key for the plugin.yaml subPath")
				}
				// The sidecar's /tmp is its own, not the repo server's.
				repo := pod.container(t, "argocd-repo-server", false)
				for path, m := range repo.mounts() {
					if m.Name == "cmp-tmp" {
						t.Errorf("argocd-repo-server mounts the sidecar's cmp-tmp at %s", path)
					}
				}
				if _, ok := repo.mounts()["/tmp"]; !ok {
					t.Error("argocd-repo-server lost its own /tmp mount")
				}
				if side.env("AWS_REGION") == "" {
					t.Error("the sidecar sets no AWS_REGION; it inherits nothing from argocd-repo-server")
				}
				// The EKS webhook's credentials go to the sidecar only.
				skip := strings.Split(pod.Annotations["eks.amazonaws.com/skip-containers"], ",")
				if slices.Contains(skip, "kmsgen-cmp") || !slices.Contains(skip, "argocd-repo-server") {
					t.Errorf("eks.amazonaws.com/skip-containers %q: want argocd-repo-server skipped, kmsgen-cmp not", skip)
				}
				argocdCheckInstall(t, pod)
				argocdCheckIRSA(t, objects)
			},
		},
		{
			name:    "buildOptions",
			patches: []string{"repo-server-tools-patch.yaml", "argocd-cm-patch.yaml", "repo-server-irsa-patch.yaml"},
			check: func(t *testing.T, pod argocdPod, objects map[string]*yaml.RNode) {
				repo := pod.container(t, "argocd-repo-server", false)
				want := map[string]argocdMount{
					"/tmp":                            {Name: "tmp"},
					"/home/argocd/cmp-server/plugins": {Name: "plugins"},
					"/usr/local/bin/kmsgen":           {Name: "custom-tools", SubPath: "kmsgen"},
				}
				if diff := cmp.Diff(want, repo.mounts()); diff != "" {
					t.Errorf("argocd-repo-server volume mounts (-want +got):\n%s", diff)
				}
				if repo.env("AWS_REGION") == "" || repo.env("HELM_CACHE_HOME") == "" {
					t.Errorf("argocd-repo-server env: want AWS_REGION added to its own variables, got %+v", repo.Env)
				}
				if len(pod.Containers) != 1 {
					t.Errorf("%d containers, want argocd-repo-server alone", len(pod.Containers))
				}
				if pod.volumeKinds()["custom-tools"] != "emptyDir" {
					t.Error("custom-tools is not an emptyDir volume")
				}
				cm := objects["ConfigMap/argocd-cm"]
				if cm == nil {
					t.Fatal("no argocd-cm")
				}
				data := cm.GetDataMap()
				if data["kustomize.buildOptions"] != "--enable-alpha-plugins --enable-exec" || data["timeout.reconciliation"] == "" {
					t.Errorf("argocd-cm data: want kustomize.buildOptions added to its settings, got %v", data)
				}
				argocdCheckInstall(t, pod)
				argocdCheckIRSA(t, objects)
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pod, objects := argocdPatched(t, tc.patches...)
			tc.check(t, pod, objects)
		})
	}
}

// argocdDeref returns *p, or "unset".
func argocdDeref[T any](p *T) any {
	if p == nil {
		return "unset"
	}
	return *p
}

// argocdCheckInstall checks the init container that puts kmsgen in the
// custom-tools volume.
func argocdCheckInstall(t *testing.T, pod argocdPod) {
	t.Helper()
	init := pod.container(t, "kmsgen-install", true)
	if diff := cmp.Diff([]string{"/kmsgen", "install", "/custom-tools"}, init.Command); diff != "" {
		t.Errorf("init container command (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]argocdMount{"/custom-tools": {Name: "custom-tools"}}, init.mounts()); diff != "" {
		t.Errorf("init container mounts (-want +got):\n%s", diff)
	}
	if !slices.ContainsFunc(pod.InitContainers, func(c argocdContainer) bool { return c.Name == "copyutil" }) {
		t.Error("Argo CD's copyutil init container is gone")
	}
}

// argocdCheckIRSA checks the role annotation on the repo server's
// ServiceAccount.
func argocdCheckIRSA(t *testing.T, objects map[string]*yaml.RNode) {
	t.Helper()
	sa := objects["ServiceAccount/argocd-repo-server"]
	if sa == nil {
		t.Fatal("no ServiceAccount argocd-repo-server")
	}
	if arn := sa.GetAnnotations()["eks.amazonaws.com/role-arn"]; !strings.HasPrefix(arn, "arn:aws:iam::") {
		t.Errorf("eks.amazonaws.com/role-arn is %q, want a role ARN", arn)
	}
}

// argocdEnv is the environment argocd-cmp-server gives plugin commands:
// its own (here: the demo KMS, as the sidecar's AWS settings) plus Argo
// CD's build variables and the Application's env as ARGOCD_ENV_*.
func argocdEnv(t *testing.T) []string {
	t.Helper()
	return append(append(baseEnv(), demoKMS(t).Env()...),
		"ARGOCD_APP_NAME=kmsgen-demo",
		"ARGOCD_APP_NAMESPACE=kmsgen-demo",
		"ARGOCD_APP_PROJECT_NAME=default",
		"ARGOCD_APP_REVISION=4f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c",
		"ARGOCD_APP_SOURCE_PATH=examples/argocd/app",
		"ARGOCD_APP_SOURCE_REPO_URL=https://git.example.com/team/apps.git",
		"ARGOCD_APP_SOURCE_TARGET_REVISION=HEAD",
		"ARGOCD_ENV_SOMETHING=a value with spaces $HOME",
		"KUBE_VERSION=1.34.0",
		"KUBE_API_VERSIONS=v1,apps/v1",
	)
}

// argocdRun runs a plugin command as argocd-cmp-server does: argv exactly
// as plugin.yaml writes it, in dir.
func argocdRun(t *testing.T, c argocdCommand, dir string, env []string) result {
	t.Helper()
	argv := c.argv()
	if len(argv) == 0 {
		t.Fatal("empty command")
	}
	return run(t, dir, env, nil, argv[0], argv[1:]...)
}

// argocdTree writes files into a new temporary directory.
func argocdTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	testfiles.Write(t, dir, files)
	return dir
}

// TestArgoCDPluginDiscover runs the discover command as argocd-cmp-server
// does: the whole repository extracted (every file 0644, as Argo CD drops
// exec bits), the command run in the application's directory. A match is
// exit 0 with output, no match is exit 0 without; anything else is an error.
func TestArgoCDPluginDiscover(t *testing.T) {
	discover := argocdReadPlugin(t).Spec.Discover.Find.argocdCommand
	generator, err := os.ReadFile(filepath.Join(argocdDir(t), "app/secrets.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	deployment, err := os.ReadFile(filepath.Join(argocdDir(t), "app/deployment.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	inline := strings.ReplaceAll(strings.TrimSpace(string(generator)), "\n", "\n  ")
	for _, tc := range []struct {
		name  string
		files map[string]string // the repository; nil: a copy of app/ as app/
		app   string            // the application's directory in it
		match bool
	}{
		{name: "the example app", app: "app", match: true},
		{name: "plain kustomization", app: "app", files: map[string]string{
			"app/kustomization.yaml": "resources: [deployment.yaml]\n",
			"app/deployment.yaml":    string(deployment),
		}},
		{name: "an overlay whose base holds the generator", app: "overlays/prod", match: true, files: map[string]string{
			"base/kustomization.yaml":          "resources: [deployment.yaml]\ngenerators: [secrets.yaml]\n",
			"base/deployment.yaml":             string(deployment),
			"base/secrets.yaml":                string(generator),
			"overlays/prod/kustomization.yaml": "resources: [../../base]\nnamePrefix: prod-\n",
		}},
		{name: "an overlay of a plain base, beside one with a generator", app: "overlays/prod", files: map[string]string{
			"base/kustomization.yaml":          "resources: [deployment.yaml]\n",
			"base/deployment.yaml":             string(deployment),
			"overlays/prod/kustomization.yaml": "resources: [../../base]\n",
			"overlays/dev/kustomization.yaml":  "resources: [../../base]\ngenerators: [secrets.yaml]\n",
			"overlays/dev/secrets.yaml":        string(generator),
		}},
		{name: "an inline generator", app: "app", match: true, files: map[string]string{
			"app/kustomization.yaml": "resources: [deployment.yaml]\ngenerators:\n- |-\n  " + inline + "\n",
			"app/deployment.yaml":    string(deployment),
		}},
		{name: "generator in a component", app: "app", match: true, files: map[string]string{
			"app/kustomization.yaml":                "components: [../components/secrets]\n",
			"components/secrets/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\ngenerators: [gen.yml]\n",
			"components/secrets/gen.yml":            string(generator),
		}},
		{name: "quoted kind and a comment", app: "app", match: true, files: map[string]string{
			"app/Kustomization": "generators: [gen.yaml]\n",
			"app/gen.yaml":      strings.Replace(string(generator), "kind: KMSSecretGenerator", `kind: "KMSSecretGenerator"  # kmsgen`, 1),
		}},
		{name: "kind named in a comment or a value only", app: "app", files: map[string]string{
			"app/kustomization.yml": "resources: [cm.yaml]\n",
			"app/cm.yaml":           "# kind: KMSSecretGenerator\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  kind: KMSSecretGenerator\n",
		}},
		{name: "a generator file nothing lists", app: "app", files: map[string]string{
			"app/kustomization.yaml": "resources: [deployment.yaml]\n",
			"app/deployment.yaml":    string(deployment),
			"app/secrets.yaml":       string(generator),
		}},
		{name: "generator without a kustomization", app: "app", files: map[string]string{
			"app/secrets.yaml": string(generator),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var appDir string
			if tc.files == nil {
				appDir = copyDir(t, filepath.Join(argocdDir(t), "app"))
			} else {
				appDir = filepath.Join(argocdTree(t, tc.files), tc.app)
			}
			env := append(baseEnv(), "ARGOCD_APP_NAME=kmsgen-demo") // discover runs with fewer variables than generate
			res := argocdRun(t, discover, appDir, env)
			if res.code != 0 {
				t.Fatalf("discover: exit %d, stderr %q; Argo CD reports any failure as an error", res.code, res.stderr)
			}
			want := ""
			if tc.match {
				want = "kmsgen\n"
			}
			if diff := cmp.Diff(want, res.stdout); diff != "" {
				t.Errorf("discover stdout (-want +got):\n%s", diff)
			}
		})
	}
	// A kustomization that cannot be read is an error Argo CD shows, not a
	// silent non-match that would hand the app to the builtin kustomize.
	repo := argocdTree(t, map[string]string{"app/kustomization.yaml": "resources: [a\n"})
	if res := argocdRun(t, discover, filepath.Join(repo, "app"), baseEnv()); res.code == 0 || !strings.Contains(res.stderr, "kustomization.yaml") {
		t.Errorf("discover of a broken kustomization: exit %d, stderr %q; want a failure naming it", res.code, res.stderr)
	}
}

// argocdPlaintexts returns the plaintext values of the example's Secret
// (examples/kustomize/expected-output.yaml: the same app) that are long
// enough to search for.
func argocdPlaintexts(t *testing.T) []string {
	t.Helper()
	out, err := os.ReadFile(filepath.Join(repoRoot(t), "examples/kustomize/expected-output.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var values []string
	for _, data := range secretData(t, string(out)) {
		for _, v := range data {
			if len(v) >= 8 {
				values = append(values, v)
			}
		}
	}
	if len(values) == 0 {
		t.Fatal("no plaintext in examples/kustomize/expected-output.yaml")
	}
	return values
}

// TestArgoCDPluginGenerate runs the generate command in the example app,
// then in broken and empty ones: a failure must be a non-zero exit with
// nothing on stdout, or Argo CD would prune the application.
func TestArgoCDPluginGenerate(t *testing.T) {
	generate := argocdReadPlugin(t).Spec.Generate
	env := argocdEnv(t)
	plaintexts := argocdPlaintexts(t)

	t.Run("renders the app", func(t *testing.T) {
		dir := copyDir(t, filepath.Join(argocdDir(t), "app"))
		res := argocdRun(t, generate, dir, env)
		if res.code != 0 {
			t.Fatalf("generate: exit %d\n%s", res.code, res.stderr)
		}
		secrets := secretData(t, res.stdout)
		if len(secrets) != 1 {
			t.Fatalf("generate printed %d Secrets, want 1:\n%s", len(secrets), res.stdout)
		}
		var name string
		for n := range secrets {
			name = n
		}
		if !regexp.MustCompile(`^app-secrets-[a-z0-9]{10}$`).MatchString(name) {
			t.Errorf("Secret name %q is not app-secrets-<hash>", name)
		}
		want := secretData(t, string(argocdRead(t, filepath.Join(repoRoot(t), "examples/kustomize/expected-output.yaml"))))
		if diff := cmp.Diff(want, secrets); diff != "" {
			t.Errorf("Secrets differ from examples/kustomize's, the same app (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{name}, secretRefs(t, res.stdout)); diff != "" {
			t.Errorf("the Deployment's secretRef (-want +got):\n%s", diff)
		}
		// Exactly what kustomize itself prints for the directory.
		direct := kustomizeBuild(t, dir, env)
		if direct.code != 0 {
			t.Fatalf("kustomize build: exit %d\n%s", direct.code, direct.stderr)
		}
		if diff := cmp.Diff(direct.stdout, res.stdout); diff != "" {
			t.Errorf("generate differs from kustomize build (-kustomize +generate):\n%s", diff)
		}
	})

	for _, tc := range []struct {
		name   string
		edit   map[string]string // files to write; "" removes the file
		stderr []string          // what stderr must hold
	}{
		{
			name:   "encryption context differs",
			edit:   map[string]string{"secrets.yaml": "s/    app: demo$/    app: other/"},
			stderr: []string{`kmsgen: KMSSecretGenerator "app-secrets": `, "InvalidCiphertextException"},
		},
		{
			name:   "key alias does not exist",
			edit:   map[string]string{"secrets.yaml": "s#keyId: alias/kmsgen-demo#keyId: alias/does-not-exist#"},
			stderr: []string{`kmsgen: KMSSecretGenerator "app-secrets": `, "NotFoundException"},
		},
		{
			name:   "encrypted env file missing",
			edit:   map[string]string{"app.env.encrypted": ""},
			stderr: []string{`kmsgen: KMSSecretGenerator "app-secrets": envs[0] "app.env.encrypted": `},
		},
		{
			name:   "kustomization without resources",
			edit:   map[string]string{"kustomization.yaml": "=resources: []\n"},
			stderr: []string{"kmsgen-cmp: kustomize build printed no manifests"},
		},
		{
			name:   "resources without objects",
			edit:   map[string]string{"kustomization.yaml": "=resources: [deployment.yaml]\n", "deployment.yaml": "=# moved elsewhere\n"},
			stderr: []string{"kmsgen-cmp: kustomize build printed no manifests"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDir(t, filepath.Join(argocdDir(t), "app"))
			for file, edit := range tc.edit {
				argocdEdit(t, filepath.Join(dir, file), edit)
			}
			res := argocdRun(t, generate, dir, env)
			if res.code == 0 {
				t.Errorf("generate: exit 0; a failure must be a non-zero exit")
			}
			if diff := cmp.Diff("", res.stdout); diff != "" {
				t.Errorf("generate stdout must be empty on failure (-want +got):\n%s", diff)
			}
			for _, want := range tc.stderr {
				if !strings.Contains(res.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, res.stderr)
				}
			}
			if prefix := tc.stderr[0]; strings.HasPrefix(prefix, "kmsgen: ") {
				lines := 0
				for _, line := range strings.Split(res.stderr, "\n") {
					if strings.HasPrefix(line, prefix) {
						lines++
					}
				}
				if lines != 1 {
					t.Errorf("stderr holds %d lines starting %q, want kmsgen's one-line message:\n%s", lines, prefix, res.stderr)
				}
			}
			for _, p := range plaintexts {
				if strings.Contains(res.stderr, p) {
					t.Errorf("plaintext %q on stderr, which Argo CD shows in its UI", p)
				}
			}
		})
	}
}

// argocdEdit changes a file: "" removes it, "=TEXT" replaces its content,
// "s/OLD/NEW/" (any delimiter) replaces the regexp OLD, which must match.
func argocdEdit(t *testing.T, path, edit string) {
	t.Helper()
	switch {
	case edit == "":
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		return
	case strings.HasPrefix(edit, "="):
		if err := os.WriteFile(path, []byte(edit[1:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	parts := strings.Split(edit[2:len(edit)-1], edit[1:2])
	text := argocdRead(t, path)
	re := regexp.MustCompile("(?m)" + parts[0])
	if !re.Match(text) {
		t.Fatalf("%s: %q does not match", path, parts[0])
	}
	if err := os.WriteFile(path, re.ReplaceAll(text, []byte(parts[1])), 0o644); err != nil {
		t.Fatal(err)
	}
}

// argocdRead returns the content of a file.
func argocdRead(t *testing.T, path string) []byte {
	t.Helper()
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return text
}

// TestArgoCDBuildOptions runs the route without a sidecar as Argo CD's
// built-in kustomize does (util/kustomize/kustomize.go: `kustomize build
// <path>` followed by kustomize.buildOptions split at whitespace): the
// same manifests as the plugin's generate.
func TestArgoCDBuildOptions(t *testing.T) {
	options := strings.Fields(argocdString(t, argocdParse(t, "argocd-cm-patch.yaml"), "data.kustomize\\.buildOptions"))
	dir := copyDir(t, filepath.Join(argocdDir(t), "app"))
	env := argocdEnv(t)
	builtin := run(t, dir, env, nil, "kustomize", append([]string{"build", "."}, options...)...)
	if builtin.code != 0 {
		t.Fatalf("kustomize build . %s: exit %d\n%s", strings.Join(options, " "), builtin.code, builtin.stderr)
	}
	plugin := argocdRun(t, argocdReadPlugin(t).Spec.Generate, dir, env)
	if plugin.code != 0 {
		t.Fatalf("generate: exit %d\n%s", plugin.code, plugin.stderr)
	}
	if diff := cmp.Diff(plugin.stdout, builtin.stdout); diff != "" {
		t.Errorf("kustomize.buildOptions route differs from the plugin (-plugin +buildOptions):\n%s", diff)
	}
	if !strings.Contains(builtin.stdout, "kind: Secret") {
		t.Errorf("no Secret in the kustomize.buildOptions render:\n%s", builtin.stdout)
	}
}

// TestArgoCDExample runs the sh blocks of examples/argocd/README.md.
func TestArgoCDExample(t *testing.T) {
	out := runExample(t, "argocd")
	name := demoSecretName(t)
	for _, want := range []string{
		"discover app: kmsgen\n",
		"discover plain kustomization: no match\n",
		":  name: " + name + "\n", // the Secret, then the Deployment's reference
		":            name: " + name + "\n",
		"broken app: generate failed, stdout empty\n",
		`kmsgen: KMSSecretGenerator "app-secrets": `,
		"empty app: generate failed, stdout empty\n",
		"kmsgen-cmp: kustomize build printed no manifests",
		"kustomize.buildOptions (--enable-alpha-plugins --enable-exec): same manifests\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
