package tests

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kmsgen.dev/kmsgen/internal/testfiles"
)

// diffCase is a kustomization tree that uses kustomize's builtin
// secretGenerator. The test builds it with kustomize, migrates it to kmsgen
// (convert), builds that, and requires byte-identical output, or that both
// fail.
type diffCase struct {
	name  string
	files map[string]string
	// build is the kustomization directory to build, "." by default.
	build string
	// wantErr: kustomize's builtin fails and kmsgen must fail too, with
	// this in its message.
	wantErr string
	// context is bound into every ciphertext (kms.encryptionContext).
	context map[string]string
	// raw stores ciphertext files as raw blobs instead of base64 text.
	raw bool
}

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
      imagePullSecrets:
      - name: registry
      containers:
      - name: app
        image: app:1
        envFrom:
        - secretRef: {name: app-secrets}
        env:
        - name: TOKEN
          valueFrom:
            secretKeyRef: {name: app-secrets, key: API_TOKEN}
        volumeMounts:
        - {name: certs, mountPath: /certs}
      volumes:
      - name: certs
        secret: {secretName: tls}
      - name: projected
        projected:
          sources:
          - secret: {name: app-secrets}
`

const cronJob = `apiVersion: batch/v1
kind: CronJob
metadata:
  name: backup
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - name: backup
            image: backup:1
            envFrom:
            - secretRef: {name: app-secrets}
`

const statefulSet = `apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  serviceName: db
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      imagePullSecrets:
      - name: registry
      containers:
      - name: db
        image: db:1
        env:
        - name: PASSWORD
          valueFrom:
            secretKeyRef: {name: app-secrets, key: DB_PASSWORD}
`

const ingress = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
spec:
  tls:
  - hosts: [example.test]
    secretName: tls
  rules:
  - host: example.test
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service: {name: web, port: {number: 80}}
`

const serviceAccount = `apiVersion: v1
kind: ServiceAccount
metadata:
  name: deployer
imagePullSecrets:
- name: registry
`

// pem is a certificate-shaped value: long lines, so base64 over 70 chars.
var pem = "-----BEGIN CERTIFICATE-----\n" + strings.Repeat("MIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBaMQswCQYDVQQGEwJJ\n", 12) + "-----END CERTIFICATE-----\n"

// binaryFile holds every byte value, invalid UTF-8 included.
var binaryFile = func() string {
	b := make([]byte, 512)
	for i := range b {
		b[i] = byte(i)
	}
	return string(b)
}()

var diffCases = []diffCase{
	{name: "env file", files: map[string]string{
		"kustomization.yaml": "secretGenerator:\n- name: app-secrets\n  envs: [app.env]\n",
		"app.env":            "DB_PASSWORD=s3cr3t\nAPI_TOKEN=tok-123\n",
	}},
	{name: "env file edge cases", files: map[string]string{
		"kustomization.yaml": "secretGenerator:\n- name: app-secrets\n  envs: [app.env]\n",
		"app.env": "\ufeffFIRST=bom stripped\n# comment\n\n   \n  INDENTED=leading space trimmed\n" +
			"URL=postgres://u:p@h:5432/db?sslmode=require&x=y\nQUOTED=\"kept\"\nSINGLE='kept too'\n" +
			"TRAILING=space   \nBARE\nEMPTY=\nHASH=value # not a comment\nUNICODE=héllo wörld ✓\n" +
			"LAST=no newline",
	}},
	{name: "CRLF env file", files: map[string]string{
		"kustomization.yaml": "secretGenerator:\n- name: app-secrets\n  envs: [app.env]\n",
		"app.env":            "A=1\r\nB=2\r\n\r\nC=3",
	}},
	{name: "env file with only comments", files: map[string]string{
		"kustomization.yaml": "secretGenerator:\n- name: app-secrets\n  envs: [app.env]\n",
		"app.env":            "# nothing here yet\n",
	}},
	{name: "several env files in order", files: map[string]string{
		"kustomization.yaml": "secretGenerator:\n- name: app-secrets\n  envs: [b.env, a.env]\n",
		"a.env":              "A=from a\n", "b.env": "B=from b\nZ=last\n",
	}},
	{name: "literals", files: map[string]string{
		"kustomization.yaml": "secretGenerator:\n- name: app-secrets\n  literals:\n  - API_TOKEN=tok-123\n  - DQ=\"double quoted\"\n  - SQ='single quoted'\n  - EQ=a=b=c\n  - SPACES=  both ends  \n",
	}},
	{name: "files with default and explicit keys", files: map[string]string{
		"kustomization.yaml": "secretGenerator:\n- name: app-secrets\n  files:\n  - config.json\n  - renamed.txt=sub/dir/original.txt\n",
		"config.json":        `{"user":"app","password":"p@ss"}`, "sub/dir/original.txt": "text\n",
	}},
	{name: "binary file", files: map[string]string{
		"kustomization.yaml": "secretGenerator:\n- name: app-secrets\n  files: [blob.bin]\n",
		"blob.bin":           binaryFile,
	}},
	{name: "long file wraps base64 at 70 chars", files: map[string]string{
		"kustomization.yaml": "secretGenerator:\n- name: app-secrets\n  files: [ca.crt]\n",
		"ca.crt":             pem,
	}},
	{name: "raw ciphertext files", raw: true, files: map[string]string{
		"kustomization.yaml": "secretGenerator:\n- name: app-secrets\n  envs: [app.env]\n  files: [blob.bin]\n",
		"app.env":            "A=1\n", "blob.bin": binaryFile[:200],
	}},
	{name: "envs literals and files together", files: map[string]string{
		"kustomization.yaml": "secretGenerator:\n- name: app-secrets\n  envs: [app.env]\n  literals: [API_TOKEN=tok, a.literal=x]\n  files: [z.key, .hidden]\n",
		"app.env":            "DB_PASSWORD=pw\nM=middle\n", "z.key": "zk", ".hidden": "h",
	}},
	{name: "encryption context", context: map[string]string{"app": "myproject", "env": "prod"}, files: map[string]string{
		"kustomization.yaml": "secretGenerator:\n- name: app-secrets\n  envs: [app.env]\n  literals: [API_TOKEN=tok]\n",
		"app.env":            "DB_PASSWORD=pw\n",
	}},
	{name: "tls type", files: map[string]string{
		"kustomization.yaml": "secretGenerator:\n- name: tls\n  type: kubernetes.io/tls\n  files: [tls.crt, tls.key]\n",
		"tls.crt":            pem, "tls.key": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n",
	}},
	{name: "dockerconfigjson type", files: map[string]string{
		"kustomization.yaml": "secretGenerator:\n- name: registry\n  type: kubernetes.io/dockerconfigjson\n  files: [.dockerconfigjson=docker.json]\n",
		"docker.json":        `{"auths":{"registry.example.test":{"auth":"dXNlcjpwYXNz"}}}`,
	}},
	{name: "generator namespace", files: map[string]string{
		"kustomization.yaml": "secretGenerator:\n- name: app-secrets\n  namespace: prod\n  literals: [A=1]\n",
	}},
	{name: "options labels annotations immutable", files: map[string]string{
		"kustomization.yaml": "secretGenerator:\n- name: app-secrets\n  literals: [A=1]\n  options:\n    labels: {team: payments, tier: backend}\n    annotations: {owner: alice, note: 'two words'}\n    immutable: true\n",
	}},
	{name: "options disableNameSuffixHash", files: map[string]string{
		"kustomization.yaml": "secretGenerator:\n- name: app-secrets\n  literals: [A=1]\n  options: {disableNameSuffixHash: true}\n",
	}},
	{name: "kustomization generatorOptions merged under local ones", files: map[string]string{
		"kustomization.yaml": "generatorOptions:\n  labels: {team: global, shared: g}\n  annotations: {from: global}\n  immutable: true\n" +
			"secretGenerator:\n- name: app-secrets\n  literals: [A=1]\n  options:\n    labels: {team: local}\n",
	}},
	{name: "kustomization generatorOptions disable the hash", files: map[string]string{
		"kustomization.yaml": "generatorOptions: {disableNameSuffixHash: true}\nsecretGenerator:\n- name: app-secrets\n  literals: [A=1]\n  options: {disableNameSuffixHash: false}\n",
	}},
	{name: "prefix suffix namespace and references", files: map[string]string{
		"kustomization.yaml": "namePrefix: pre-\nnameSuffix: -suf\nnamespace: shop\nresources: [deployment.yaml, cronjob.yaml, statefulset.yaml, ingress.yaml, sa.yaml]\n" +
			"secretGenerator:\n- name: app-secrets\n  envs: [app.env]\n- name: tls\n  type: kubernetes.io/tls\n  files: [tls.crt, tls.key]\n" +
			"- name: registry\n  type: kubernetes.io/dockerconfigjson\n  files: [.dockerconfigjson=docker.json]\n",
		"deployment.yaml": deployment, "cronjob.yaml": cronJob, "statefulset.yaml": statefulSet,
		"ingress.yaml": ingress, "sa.yaml": serviceAccount,
		"app.env": "DB_PASSWORD=pw\nAPI_TOKEN=tok\n", "tls.crt": pem, "tls.key": "key\n",
		"docker.json": `{"auths":{}}`,
	}},
	{name: "labels and annotations transformers", files: map[string]string{
		"kustomization.yaml": "labels:\n- pairs: {app.kubernetes.io/part-of: shop}\n  includeSelectors: false\ncommonAnnotations: {team: payments}\n" +
			"resources: [deployment.yaml]\nsecretGenerator:\n- name: app-secrets\n  envs: [app.env]\n- name: tls\n  files: [tls.crt]\n- name: registry\n  literals: [x=y]\n",
		"deployment.yaml": deployment, "app.env": "API_TOKEN=tok\n", "tls.crt": "c",
	}},
	{name: "base and overlay merge", build: "overlays/prod", files: map[string]string{
		"base/kustomization.yaml": "resources: [deployment.yaml]\nsecretGenerator:\n- name: app-secrets\n  envs: [app.env]\n- name: tls\n  files: [tls.crt]\n- name: registry\n  literals: [x=y]\n",
		"base/deployment.yaml":    deployment, "base/app.env": "DB_PASSWORD=base\nAPI_TOKEN=base-token\n", "base/tls.crt": "base cert",
		"overlays/prod/kustomization.yaml": "resources: [../../base]\nnamePrefix: prod-\nsecretGenerator:\n- name: app-secrets\n  behavior: merge\n  envs: [prod.env]\n  literals: [EXTRA=prod-only]\n",
		"overlays/prod/prod.env":           "DB_PASSWORD=prod\n",
	}},
	{name: "base and overlay replace", build: "overlays/prod", files: map[string]string{
		"base/kustomization.yaml": "resources: [deployment.yaml]\nsecretGenerator:\n- name: app-secrets\n  envs: [app.env]\n  options: {labels: {from: base}}\n- name: tls\n  files: [tls.crt]\n- name: registry\n  literals: [x=y]\n",
		"base/deployment.yaml":    deployment, "base/app.env": "DB_PASSWORD=base\nAPI_TOKEN=base\n", "base/tls.crt": "c",
		"overlays/prod/kustomization.yaml": "resources: [../../base]\nsecretGenerator:\n- name: app-secrets\n  behavior: replace\n  literals: [API_TOKEN=prod-only]\n",
	}},
	{name: "overlay merges into a base without hash", build: "overlay", files: map[string]string{
		"base/kustomization.yaml":    "secretGenerator:\n- name: app-secrets\n  literals: [A=1]\n  options: {disableNameSuffixHash: true, labels: {a: b}}\n",
		"overlay/kustomization.yaml": "resources: [../base]\nsecretGenerator:\n- name: app-secrets\n  behavior: merge\n  literals: [B=2]\n",
	}},
	{name: "two generators and a configMapGenerator", files: map[string]string{
		"kustomization.yaml": "configMapGenerator:\n- name: settings\n  literals: [MODE=fast]\nsecretGenerator:\n- name: one\n  literals: [A=1]\n- name: two\n  literals: [B=2]\n",
	}},
	{name: "fifo order with resources and a configMapGenerator", files: map[string]string{
		"kustomization.yaml": "sortOptions: {order: fifo}\nresources: [deployment.yaml]\nconfigMapGenerator:\n- name: settings\n  literals: [MODE=fast]\n" +
			"secretGenerator:\n- name: registry\n  literals: [x=y]\n- name: app-secrets\n  literals: [API_TOKEN=t]\n- name: tls\n  literals: [c=d]\n",
		"deployment.yaml": deployment,
	}},
	{name: "explicit create behavior and kustomization namespace", files: map[string]string{
		"kustomization.yaml": "namespace: shop\nsecretGenerator:\n- name: app-secrets\n  behavior: create\n  namespace: ignored-by-transformer\n  literals: [A=1]\n",
	}},
	{name: "keys with dots dashes and underscores", files: map[string]string{
		"kustomization.yaml": "secretGenerator:\n- name: app-secrets\n  envs: [app.env]\n  files: [my-file.name_1.txt]\n",
		"app.env":            "a.b-c_D=1\n_under=2\n-dash=3\n", "my-file.name_1.txt": "f",
	}},
	{name: "env lines with an empty key are skipped", files: map[string]string{
		"kustomization.yaml": "secretGenerator:\n- name: app-secrets\n  envs: [app.env]\n",
		"app.env":            "=====\n# settings\n=====\nA=1\n=value without a key\n  =indented\nB=2\n",
	}},
	{name: "error: key repeated across env and literal", wantErr: `repeats the key`, files: map[string]string{
		"kustomization.yaml": "secretGenerator:\n- name: app-secrets\n  envs: [app.env]\n  literals: [A=2]\n",
		"app.env":            "A=1\n",
	}},
	{name: "error: key repeated within an env file", wantErr: `repeats the key`, files: map[string]string{
		"kustomization.yaml": "secretGenerator:\n- name: app-secrets\n  envs: [app.env]\n",
		"app.env":            "A=1\nB=2\nA=3\n",
	}},
	{name: "error: invalid UTF-8 in an env file", wantErr: "line 2: not valid UTF-8", files: map[string]string{
		"kustomization.yaml": "secretGenerator:\n- name: app-secrets\n  envs: [app.env]\n",
		"app.env":            "A=1\nB=\xff\xfe\n",
	}},
	{name: "error: merge without a base", wantErr: "cannot merge or replace", files: map[string]string{
		"kustomization.yaml": "secretGenerator:\n- name: app-secrets\n  behavior: merge\n  literals: [A=1]\n",
	}},
	{name: "error: same Secret generated twice", wantErr: "already registered id", files: map[string]string{
		"kustomization.yaml": "secretGenerator:\n- name: app-secrets\n  literals: [A=1]\n- name: app-secrets\n  literals: [B=2]\n",
	}},
	{name: "error: missing file", wantErr: "no such file", files: map[string]string{
		"kustomization.yaml": "secretGenerator:\n- name: app-secrets\n  files: [missing.txt]\n",
	}},
}

func TestKustomizeDifferential(t *testing.T) {
	for _, name := range emulators {
		t.Run(name, func(t *testing.T) {
			k := kmsEmulator(t, name)
			alias := "alias/" + uniqueName("differential")
			if _, err := k.CreateKey(context.Background(), alias); err != nil {
				t.Fatal(err)
			}
			env := append(baseEnv(), k.Env()...)
			for _, tc := range diffCases {
				t.Run(tc.name, func(t *testing.T) {
					m := migration{kms: k, keyID: alias, context: tc.context, raw: tc.raw}
					builtinDir, kmsgenDir := t.TempDir(), t.TempDir()
					testfiles.Write(t, builtinDir, tc.files)
					testfiles.Write(t, kmsgenDir, m.convert(t, tc.files))
					buildDir := tc.build
					if buildDir == "" {
						buildDir = "."
					}
					want := kustomizeBuild(t, filepath.Join(builtinDir, buildDir), baseEnv())
					got := kustomizeBuild(t, filepath.Join(kmsgenDir, buildDir), env)
					if tc.wantErr != "" {
						if want.code == 0 {
							t.Fatalf("the builtin secretGenerator succeeded; the case expects an error:\n%s", want.stdout)
						}
						if got.code == 0 || !strings.Contains(got.stderr, tc.wantErr) {
							t.Fatalf("kmsgen: exit %d, stderr %q; want a failure mentioning %q\nbuiltin failed with: %s", got.code, got.stderr, tc.wantErr, want.stderr)
						}
						return
					}
					if want.code != 0 {
						t.Fatalf("the builtin secretGenerator failed: %s", want.stderr)
					}
					if got.code != 0 {
						t.Fatalf("kmsgen failed: %s\ngenerators:\n%s", got.stderr, dumpGenerators(kmsgenDir))
					}
					if got.stdout != want.stdout {
						t.Errorf("output differs from the builtin secretGenerator's\n--- builtin\n%s\n--- kmsgen\n%s", want.stdout, got.stdout)
					}
				})
			}
		})
	}
}

// dumpGenerators returns the generator files of a tree, for failure output.
func dumpGenerators(dir string) string {
	var b strings.Builder
	_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.HasPrefix(info.Name(), "kmsgen-") {
			content, _ := os.ReadFile(p)
			b.WriteString("# " + p + "\n" + string(content))
		}
		return nil
	})
	return b.String()
}
