package fn_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"sigs.k8s.io/kustomize/kyaml/kio"

	"kmsgen.dev/kmsgen/fn/krm"

	"kmsgen.dev/kmsgen/fn"
	"kmsgen.dev/kmsgen/fn/awskms"
)

// FuzzProcessor runs the whole function on arbitrary ResourceLists, as
// kustomize and kpt would send them, with a KMS that cannot be reached
// (its configuration fails to load: no network). It must never panic, and
// a run of a ResourceList that fails must say so in an error result.
func FuzzProcessor(f *testing.F) {
	gen := "apiVersion: kmsgen.dev/v1alpha1\nkind: KMSSecretGenerator\nmetadata: {name: s}\nliterals: [A=QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB]\n"
	f.Add(resourceList(gen), "")
	f.Add(resourceList("apiVersion: kmsgen.dev/v1alpha1\nkind: KMSSecretGenerator\nmetadata: {name: s}\n"), "")
	f.Add("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- "+strings.ReplaceAll(gen, "\n", "\n  ")+
		"metadata: {annotations: {config.kubernetes.io/path: gen.yaml, internal.config.kubernetes.io/package-path: /nonexistent}}\n", "stdout")
	f.Add("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n", "stdout")
	f.Add("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: kpt.dev/v1\n  kind: Kptfile\n  metadata: {name: p, annotations: {config.kubernetes.io/path: Kptfile}}\n", "")
	f.Fuzz(func(t *testing.T, input, output string) {
		p := &fn.Processor{Context: context.Background(), WorkDir: t.TempDir(), Output: output,
			Generator: &fn.Generator{KMS: awskms.New(awskms.Options{LoadConfig: func(context.Context) (aws.Config, error) {
				return aws.Config{}, errors.New("no KMS in this test")
			}})}}
		var out bytes.Buffer
		err := krm.Execute(p, &kio.ByteReadWriter{Reader: strings.NewReader(input), Writer: &out})
		// kyaml writes results only for input that was a ResourceList
		if err != nil && strings.Contains(out.String(), "kind: ResourceList") && !strings.Contains(out.String(), "severity: error") {
			t.Fatalf("failed (%v) without an error result:\n%s", err, out.String())
		}
	})
}
