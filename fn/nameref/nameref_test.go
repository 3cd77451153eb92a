package nameref

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kmsgen.dev/kmsgen/internal/krustytest"
)

// podSpec refers to Secret s in every way a pod spec can, at indent.
func podSpec(s string, indent int) string {
	spec := fmt.Sprintf(`containers:
- name: app
  image: app
  env:
  - name: TOKEN
    valueFrom: {secretKeyRef: {name: %[1]s, key: token}}
  - name: OTHER
    valueFrom: {secretKeyRef: {name: unrelated, key: token}}
  envFrom:
  - secretRef: {name: %[1]s}
initContainers:
- name: init
  image: init
  env:
  - name: TOKEN
    valueFrom: {secretKeyRef: {name: %[1]s, key: token}}
  envFrom:
  - secretRef: {name: %[1]s}
volumes:
- name: plain
  secret: {secretName: %[1]s}
- name: projected
  projected:
    sources:
    - secret: {name: %[1]s}
imagePullSecrets:
- name: %[1]s
`, s)
	pad := strings.Repeat(" ", indent)
	return pad + strings.ReplaceAll(strings.TrimSuffix(spec, "\n"), "\n", "\n"+pad) + "\n"
}

// referrers holds one object of every kind that can refer to a Secret, each
// referring to s wherever it can; one sits in another namespace.
func referrers(s string) string {
	workload := func(apiVersion, kind, name, ns, prefix string, indent int) string {
		meta := "name: " + name
		if ns != "" {
			meta += ", namespace: " + ns
		}
		return fmt.Sprintf("apiVersion: %s\nkind: %s\nmetadata: {%s}\n%s\n%s", apiVersion, kind, meta, prefix, podSpec(s, indent))
	}
	docs := []string{
		workload("v1", "Pod", "pod", "default", "spec:", 2),
		workload("v1", "PodTemplate", "template", "", "template:\n  spec:", 4),
		workload("apps/v1", "Deployment", "deploy", "", "spec:\n  template:\n    spec:", 6),
		workload("apps/v1", "Deployment", "elsewhere", "other", "spec:\n  template:\n    spec:", 6),
		workload("apps/v1", "ReplicaSet", "rs", "", "spec:\n  template:\n    spec:", 6),
		workload("apps/v1", "DaemonSet", "ds", "", "spec:\n  template:\n    spec:", 6),
		workload("apps/v1", "StatefulSet", "sts", "", "spec:\n  template:\n    spec:", 6),
		workload("batch/v1", "Job", "job", "", "spec:\n  template:\n    spec:", 6),
		workload("batch/v1", "CronJob", "cron", "", "spec:\n  jobTemplate:\n    spec:\n      template:\n        spec:", 10),
		fmt.Sprintf(`apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  annotations:
    ingress.kubernetes.io/auth-secret: %[1]s
    nginx.ingress.kubernetes.io/auth-secret: %[1]s
    nginx.ingress.kubernetes.io/auth-tls-secret: %[1]s
spec:
  tls:
  - {hosts: [a.example.test], secretName: %[1]s}
  - {hosts: [b.example.test], secretName: unrelated}
`, s),
		fmt.Sprintf("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: sa}\nimagePullSecrets:\n- name: %s\n", s),
		fmt.Sprintf("apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: sc}\nprovisioner: x\nparameters: {secretName: %[1]s, adminSecretName: %[1]s, userSecretName: %[1]s, secretRef: %[1]s}\n", s),
		fmt.Sprintf("apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: role}\nrules:\n- {apiGroups: [''], resources: [secrets], verbs: [get], resourceNames: [%s, unrelated]}\n", s),
		fmt.Sprintf("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: clusterrole}\nrules:\n- {apiGroups: [''], resources: [secrets], verbs: [get], resourceNames: [%s]}\n", s),
		fmt.Sprintf("apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: {name: knative}\nspec:\n  template:\n    spec:\n      containers:\n      - env:\n        - name: T\n          valueFrom: {secretKeyRef: {name: %s, key: t}}\n", s),
		fmt.Sprintf("apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: pv}\nspec:\n  azureFile: {secretName: %s, shareName: s}\n", s),
	}
	return strings.Join(docs, "---\n")
}

// TestRenameSecretMatchesKustomize: kustomize's own secretGenerator renames
// app-secrets to app-secrets-<hash> in every referrer; RenameSecret must
// leave the referrers exactly as kustomize does.
func TestRenameSecretMatchesKustomize(t *testing.T) {
	want := krustytest.Build(t, types.Kustomization{
		Resources: []string{"referrers.yaml"},
		SecretGenerator: []types.SecretArgs{{GeneratorArgs: types.GeneratorArgs{Name: "app-secrets",
			KvPairSources: types.KvPairSources{LiteralSources: []string{"token=t"}}}}},
	}, map[string]string{"referrers.yaml": referrers("app-secrets")})
	hashed := hashedName(t, want, "app-secrets-")

	items, err := (&kio.ByteReader{Reader: strings.NewReader(referrers("app-secrets")), OmitReaderAnnotations: true}).Read()
	if err != nil {
		t.Fatal(err)
	}
	if err := RenameSecret(items, "", []string{"app-secrets"}, hashed); err != nil {
		t.Fatal(err)
	}
	var docs []string
	for _, it := range items {
		docs = append(docs, it.MustString())
	}
	secret := fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata: {name: %s}\ntype: Opaque\ndata: {token: dA==}\n", hashed)
	got := krustytest.Build(t, types.Kustomization{Resources: []string{"all.yaml"}},
		map[string]string{"all.yaml": strings.Join(append(docs, secret), "---\n")})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("referrers differ from kustomize's (-kustomize +kmsgen):\n%s", diff)
	}
	if !strings.Contains(got, "namespace: other") || !strings.Contains(got, "secretName: app-secrets\n") {
		t.Errorf("the Deployment in another namespace should keep the old name:\n%s", got)
	}
}

func hashedName(t *testing.T, out, prefix string) string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if name, ok := strings.CutPrefix(strings.TrimSpace(line), "name: "+prefix); ok && len(name) == 10 {
			return prefix + name
		}
	}
	t.Fatalf("no %s<hash> in:\n%s", prefix, out)
	return ""
}

func TestRenameSecretFromSeveralNames(t *testing.T) {
	items := []*yaml.RNode{yaml.MustParse("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: sa, namespace: prod}\nimagePullSecrets:\n- name: reg-old1\n- name: reg\n- name: other\n")}
	if err := RenameSecret(items, "prod", []string{"reg", "reg-old1"}, "reg-new"); err != nil {
		t.Fatal(err)
	}
	got, _ := items[0].Pipe(yaml.Lookup("imagePullSecrets"))
	var names []string
	for _, n := range got.Content() {
		names = append(names, yaml.GetValue(yaml.NewRNode(n).Field("name").Value))
	}
	if diff := cmp.Diff([]string{"reg-new", "reg-new", "other"}, names); diff != "" {
		t.Errorf("imagePullSecrets (-want +got):\n%s", diff)
	}
}

func TestSecretReferencesParsed(t *testing.T) {
	if len(secretReferences()) != 70 {
		t.Errorf("%d field specs, want the 70 of kustomize's list", len(secretReferences()))
	}
	for _, s := range secretReferences() {
		if s.Kind == "" || s.Path == "" {
			t.Errorf("incomplete field spec %+v", s)
		}
	}
}
