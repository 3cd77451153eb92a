package fn_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/kustomize/kyaml/kio"

	"kmsgen.dev/kmsgen/fn/krm"

	"kmsgen.dev/kmsgen/fn"
	"kmsgen.dev/kmsgen/fn/awskms"
	"kmsgen.dev/kmsgen/internal/awstest"
	"kmsgen.dev/kmsgen/internal/fakekms"
	"kmsgen.dev/kmsgen/internal/kmstest"
	"kmsgen.dev/kmsgen/internal/testfiles"
)

// TestProcessorLoadsConfigOnlyForSources: a generator with nothing to
// decrypt never loads the AWS configuration (which may be absent, or slow
// to resolve), and one with a source loads it once.
func TestProcessorLoadsConfigOnlyForSources(t *testing.T) {
	tests := []struct {
		name      string
		body      func(encrypt func(string) string) string
		wantLoads int
		wantData  map[string]string
	}{
		{name: "options only", body: func(func(string) string) string {
			return "options:\n  labels: {team: a}\n"
		}, wantLoads: 0, wantData: map[string]string{}},
		{name: "empty source lists", body: func(func(string) string) string {
			return "envs: []\nliterals: []\nfiles: []\n"
		}, wantLoads: 0, wantData: map[string]string{}},
		{name: "one literal", body: func(encrypt func(string) string) string {
			return "literals:\n- TOKEN=" + encrypt("t0k3n") + "\n"
		}, wantLoads: 1, wantData: map[string]string{"TOKEN": base64.StdEncoding.EncodeToString([]byte("t0k3n"))}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := kmstest.Start(t, kmstest.NewKey(keyApp, "alias/app"))
			awstest.Clear(t) // the default chain would find nothing
			loads := 0
			gen := newGenerator(awskms.Options{LoadConfig: func(context.Context) (aws.Config, error) {
				loads++
				return aws.Config{Region: fakekms.Region, BaseEndpoint: aws.String(fake.URL),
					Credentials: credentials.NewStaticCredentialsProvider(awstest.AccessKeyID, awstest.SecretAccessKey, "")}, nil
			}})
			root := t.TempDir()
			testfiles.Write(t, root, map[string]string{"kustomization.yaml": "kind: Kustomization\n"})
			encrypt := func(p string) string {
				return base64.StdEncoding.EncodeToString(fake.Encrypt(keyApp, nil, []byte(p)))
			}
			out, err := execute(t, &fn.Processor{Context: t.Context(), Generator: gen, WorkDir: root},
				"apiVersion: kmsgen.dev/v1alpha1\nkind: KMSSecretGenerator\nmetadata: {name: s}\n"+tc.body(encrypt))
			if err != nil {
				t.Fatalf("Execute: %v\n%s", err, out)
			}
			if loads != tc.wantLoads {
				t.Errorf("AWS configuration loads = %d, want %d", loads, tc.wantLoads)
			}
			_, items := parseOutput(t, out)
			if len(items) != 1 || items[0].GetKind() != "Secret" {
				t.Fatalf("output items are not one Secret:\n%s", out)
			}
			if diff := cmp.Diff(tc.wantData, items[0].GetDataMap()); diff != "" {
				t.Errorf("Secret data (-want +got):\n%s", diff)
			}
			if n := fake.Calls("Decrypt"); n != tc.wantLoads {
				t.Errorf("Decrypt calls = %d, want %d", n, tc.wantLoads)
			}
		})
	}
}

// TestProcessorFailsBeforeReading: a configuration error found before the
// run, or a missing functionConfig, is an error result; nothing is loaded,
// decrypted or emitted.
func TestProcessorFailsBeforeReading(t *testing.T) {
	const gen = "apiVersion: kmsgen.dev/v1alpha1\nkind: KMSSecretGenerator\nmetadata: {name: s}\nliterals: [TOKEN=%s]\n"
	tests := []struct {
		name     string
		setupErr error
		input    func(ct string) string
		want     string
	}{
		{name: "setup error", setupErr: errors.New(`KMSGEN_TIMEOUT="x": want a positive duration such as 30s or 2m`),
			input: func(ct string) string { return resourceList(strings.ReplaceAll(gen, "%s", ct)) },
			want:  `KMSSecretGenerator "s": KMSGEN_TIMEOUT="x": want a positive duration such as 30s or 2m`},
		{name: "no functionConfig",
			input: func(ct string) string {
				return "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n"
			},
			want: "no ResourceList with a KMSSecretGenerator on stdin: without arguments kmsgen is a KRM function, which kustomize build --enable-alpha-plugins --enable-exec and kpt run (see kmsgen --help)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFake(t)
			loads := 0
			p := &fn.Processor{Context: t.Context(), WorkDir: t.TempDir(), SetupErr: tc.setupErr,
				Generator: newGenerator(awskms.Options{LoadConfig: func(context.Context) (aws.Config, error) {
					loads++
					return aws.Config{}, errors.New("not expected")
				}})}
			ct := base64.StdEncoding.EncodeToString(fake.Encrypt(keyApp, nil, []byte("t0k3n")))
			var out bytes.Buffer
			err := krm.Execute(p, &kio.ByteReadWriter{Reader: strings.NewReader(tc.input(ct)), Writer: &out})
			if err == nil || err.Error() != tc.want {
				t.Errorf("error = %v, want %q", err, tc.want)
			}
			results, items := parseOutput(t, out.String())
			var messages []string
			for _, r := range results {
				messages = append(messages, string(r.Severity)+": "+r.Message)
			}
			if diff := cmp.Diff([]string{"error: " + tc.want}, messages); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
			if len(items) != 0 {
				t.Errorf("output has %d items, want none:\n%s", len(items), out.String())
			}
			if loads != 0 || fake.Calls("Decrypt") != 0 {
				t.Errorf("config loads = %d, Decrypt calls = %d; want none", loads, fake.Calls("Decrypt"))
			}
		})
	}
}

func TestPrintable(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain path/é.yaml", "plain path/é.yaml"},
		{"nul\x00here", `nul\x00here`},
		{"esc\x1b[31mred", `esc\x1b[31mred`},
		{"bell\a del\x7f", `bell\a del\x7f`},
		{"c1\u0085", `c1\u0085`},
		{"bad\xffutf8", `bad\xffutf8`},
		{"real \uFFFD stays", "real \uFFFD stays"},
	}
	for _, tc := range tests {
		if got := fn.Printable(tc.in); got != tc.want {
			t.Errorf("Printable(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestKustomizeGetsOnlyTheSecret: under kustomize the output holds the
// Secret and nothing else. An echoed generator would be a resource
// kustomize does not know, for which it parses its OpenAPI schema, once
// per build (about 100 ms).
func TestKustomizeGetsOnlyTheSecret(t *testing.T) {
	fake := newFake(t)
	ct := base64.StdEncoding.EncodeToString(fake.Encrypt(keyApp, nil, []byte("v")))
	out, err := execute(t, &fn.Processor{Context: t.Context(), Generator: newGenerator(awskms.Options{}), WorkDir: t.TempDir()},
		"apiVersion: kmsgen.dev/v1alpha1\nkind: KMSSecretGenerator\nmetadata: {name: s}\nliterals: [A="+ct+"]\n")
	if err != nil {
		t.Fatal(err)
	}
	_, items := parseOutput(t, out)
	var kinds []string
	for _, it := range items {
		kinds = append(kinds, it.GetKind())
	}
	if diff := cmp.Diff([]string{"Secret"}, kinds); diff != "" {
		t.Errorf("output items (-want +got):\n%s", diff)
	}
}
