package tests

import (
	"context"
	"encoding/base64"
	"path"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kmsgen.dev/kmsgen/internal/emulator"
)

// migration is how a tree is moved from kustomize's secretGenerator to
// kmsgen: what the README tells users to do.
type migration struct {
	kms     *emulator.KMS
	keyID   string
	context map[string]string
	// raw writes ciphertext files as the raw blob instead of base64 text.
	raw bool
}

// convert returns files with every secretGenerator entry of every
// kustomization replaced by a KMSSecretGenerator listed under generators:
// the files it read are encrypted next to where they were (name +
// ".encrypted") and left out, literal values become ciphertexts, and
// everything else (generatorOptions included) stays as it was.
func (m migration) convert(t *testing.T, files map[string]string) map[string]string {
	t.Helper()
	out := map[string]string{}
	consumed := map[string]bool{}
	for name, content := range files {
		if path.Base(name) != "kustomization.yaml" {
			continue
		}
		dir := path.Dir(name)
		kust, generators := m.convertKustomization(t, dir, content, files, consumed, out)
		out[name] = kust
		for file, gen := range generators {
			out[path.Join(dir, file)] = gen
		}
	}
	for name, content := range files {
		if _, done := out[name]; !done && !consumed[name] {
			out[name] = content
		}
	}
	return out
}

func (m migration) convertKustomization(t *testing.T, dir, content string, files map[string]string, consumed map[string]bool, out map[string]string) (string, map[string]string) {
	t.Helper()
	rn := yaml.MustParse(content)
	field := rn.Field("secretGenerator")
	if field == nil {
		return content, nil
	}
	var args []types.SecretArgs
	if err := field.Value.YNode().Decode(&args); err != nil {
		t.Fatalf("%s/kustomization.yaml: %v", dir, err)
	}
	generators := map[string]string{}
	var names []string
	for i, a := range args {
		file := "kmsgen-" + a.Name + "-" + string(rune('a'+i)) + ".yaml"
		generators[file] = m.generator(t, dir, a, files, consumed, out)
		names = append(names, file)
	}
	if _, err := rn.Pipe(yaml.Clear("secretGenerator")); err != nil {
		t.Fatal(err)
	}
	list, err := rn.Pipe(yaml.LookupCreate(yaml.SequenceNode, "generators"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if err := list.PipeE(yaml.Append(yaml.NewStringRNode(n).YNode())); err != nil {
			t.Fatal(err)
		}
	}
	return rn.MustString(), generators
}

// generator writes the KMSSecretGenerator for one secretGenerator entry.
func (m migration) generator(t *testing.T, dir string, a types.SecretArgs, files map[string]string, consumed map[string]bool, out map[string]string) string {
	t.Helper()
	encryptFile := func(rel string) string {
		p := path.Join(dir, rel)
		plaintext, ok := files[p]
		if !ok {
			return rel + ".encrypted" // a missing file stays missing
		}
		consumed[p] = true
		blob := m.encrypt(t, []byte(plaintext))
		if m.raw {
			out[p+".encrypted"] = string(blob)
		} else {
			out[p+".encrypted"] = base64.StdEncoding.EncodeToString(blob) + "\n"
		}
		return rel + ".encrypted"
	}
	gen := map[string]any{
		"apiVersion": "kmsgen.dev/v1alpha1",
		"kind":       "KMSSecretGenerator",
		"metadata": map[string]any{
			"name":        a.Name,
			"annotations": map[string]string{"config.kubernetes.io/function": "exec:\n  path: kmsgen\n"},
		},
	}
	if a.Namespace != "" {
		gen["metadata"].(map[string]any)["namespace"] = a.Namespace
	}
	if a.Behavior != "" {
		gen["behavior"] = a.Behavior
	}
	if a.Type != "" {
		gen["type"] = a.Type
	}
	if a.Options != nil {
		gen["options"] = a.Options
	}
	var envs, literals, fileSources []string
	for _, e := range a.EnvSources {
		envs = append(envs, encryptFile(e))
	}
	for _, l := range a.LiteralSources {
		key, value, _ := strings.Cut(l, "=")
		blob := m.encrypt(t, []byte(unquote(value)))
		literals = append(literals, key+"="+base64.StdEncoding.EncodeToString(blob))
	}
	for _, f := range a.FileSources {
		if key, p, ok := strings.Cut(f, "="); ok {
			fileSources = append(fileSources, key+"="+encryptFile(p))
		} else {
			fileSources = append(fileSources, encryptFile(f))
		}
	}
	for field, list := range map[string][]string{"envs": envs, "literals": literals, "files": fileSources} {
		if len(list) > 0 {
			gen[field] = list
		}
	}
	kms := map[string]any{"keyId": m.keyID}
	if len(m.context) > 0 {
		kms["encryptionContext"] = m.context
	}
	gen["kms"] = kms
	text, err := yaml.Marshal(gen)
	if err != nil {
		t.Fatal(err)
	}
	return string(text)
}

func (m migration) encrypt(t *testing.T, plaintext []byte) []byte {
	t.Helper()
	blob, err := m.kms.Encrypt(context.Background(), m.keyID, m.context, plaintext)
	if err != nil {
		t.Fatal(err)
	}
	return blob
}

// unquote drops the quotes kustomize drops around a literal value.
func unquote(s string) string {
	if len(s) >= 2 && s[0] == s[len(s)-1] && (s[0] == '"' || s[0] == '\'') {
		return s[1 : len(s)-1]
	}
	return s
}
