package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// envFile is an env file of n keys whose values differ by salt.
func envFile(n int, salt string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "KEY_%s_%02d=value-%s-%02d\n", salt, i, salt, i)
	}
	return b.String()
}

// seal is the ciphertext text of plaintext under the bench key, made
// directly at local-kms.
func (e *benchEnv) seal(ctx context.Context, plaintext string) (string, error) {
	blob, err := e.kms.Encrypt(ctx, e.keyARN, nil, []byte(plaintext))
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(blob), nil
}

// sealEnvelope is kmsgen encrypt's output for plaintext (an envelope above
// 4 KiB), made at local-kms directly.
func (e *benchEnv) sealEnvelope(plaintext []byte) (string, error) {
	cmd := exec.Command(e.kmsgen, "encrypt", "--key-id", "alias/bench")
	cmd.Env = append(os.Environ(), e.kms.Env()...)
	cmd.Stdin = strings.NewReader(string(plaintext))
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("kmsgen encrypt: %w", err)
	}
	return string(out), nil
}

// generator is a KMSSecretGenerator that kustomize runs as an exec function.
func generator(name, body string) string {
	return "apiVersion: kmsgen.dev/v1alpha1\nkind: KMSSecretGenerator\nmetadata:\n  name: " + name +
		"\n  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: kmsgen\n" + body + "kms: {keyId: alias/bench}\n"
}

// resourceList is the ResourceList kustomize sends the function for gen:
// the generator as the only item and as the functionConfig.
func resourceList(gen string) string {
	indented := strings.ReplaceAll(strings.TrimSpace(gen), "\n", "\n  ")
	return "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- " + indented + "\nfunctionConfig:\n  " + indented + "\n"
}

// tree writes files (path → content) under a new directory of the bench's
// scratch space and returns it.
func (e *benchEnv) tree(name string, files map[string]string) (string, error) {
	dir := filepath.Join(e.dir, name)
	for p, content := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			return "", err
		}
	}
	return dir, nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
