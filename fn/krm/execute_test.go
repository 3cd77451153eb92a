package krm_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kmsgen.dev/kmsgen/fn/krm"
)

const input = `apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: first # a comment kept
    annotations:
      config.kubernetes.io/path: 'app/first.yaml'
      config.kubernetes.io/index: '0'
      internal.config.kubernetes.io/path: 'app/first.yaml'
      internal.config.kubernetes.io/index: '0'
  data: {a: "1"}
- apiVersion: kmsgen.dev/v1alpha1
  kind: KMSSecretGenerator
  metadata:
    name: gen
  literals: [A=x]
functionConfig:
  apiVersion: kmsgen.dev/v1alpha1
  kind: KMSSecretGenerator
  metadata:
    name: gen
`

// result is what a case reports, to be made a krm.Result or a
// framework.Result.
type result struct {
	severity, message, field, file string
	index                          int
	ref                            *yaml.ResourceIdentifier
	tags                           map[string]string
}

// process is a function under test, written once for both frameworks.
type process func(items []*yaml.RNode, fc *yaml.RNode) ([]*yaml.RNode, []result, error)

var secret = yaml.MustParse("apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  A: eA==\n")

var cases = map[string]process{
	"unchanged": func(items []*yaml.RNode, _ *yaml.RNode) ([]*yaml.RNode, []result, error) {
		return items, nil, nil
	},
	"an item added, one dropped": func(items []*yaml.RNode, _ *yaml.RNode) ([]*yaml.RNode, []result, error) {
		return []*yaml.RNode{items[0], secret.Copy()}, nil, nil
	},
	"path changed in the new annotation": func(items []*yaml.RNode, _ *yaml.RNode) ([]*yaml.RNode, []result, error) {
		items[0].PipeE(yaml.SetAnnotation("internal.config.kubernetes.io/path", "moved.yaml"))
		return items, nil, nil
	},
	"path changed in the legacy annotation": func(items []*yaml.RNode, _ *yaml.RNode) ([]*yaml.RNode, []result, error) {
		items[0].PipeE(yaml.SetAnnotation("config.kubernetes.io/path", "moved.yaml"))
		return items, nil, nil
	},
	"results of every kind, then a failure": func(items []*yaml.RNode, _ *yaml.RNode) ([]*yaml.RNode, []result, error) {
		ref := &yaml.ResourceIdentifier{TypeMeta: yaml.TypeMeta{APIVersion: "kmsgen.dev/v1alpha1", Kind: "KMSSecretGenerator"}, NameMeta: yaml.NameMeta{Name: "gen", Namespace: "prod"}}
		return items[:1], []result{
			{severity: "error", message: "it failed: a: b", ref: ref, field: "envs[0]", file: "app/gen.yaml", index: 2},
			{severity: "warning", message: "multi\nline", tags: map[string]string{"k": "v"}},
			{message: "no severity"},
		}, errors.New("failed")
	},
}

func TestExecuteAsFramework(t *testing.T) {
	for name, p := range cases {
		t.Run(name, func(t *testing.T) {
			var ours, theirs bytes.Buffer
			oursErr := krm.Execute(krmProcessor(p), &kio.ByteReadWriter{Reader: strings.NewReader(input), Writer: &ours, KeepReaderAnnotations: true})
			theirsErr := framework.Execute(frameworkProcessor(p), &kio.ByteReadWriter{Reader: strings.NewReader(input), Writer: &theirs, KeepReaderAnnotations: true})
			if (oursErr == nil) != (theirsErr == nil) {
				t.Errorf("krm: %v; framework: %v", oursErr, theirsErr)
			}
			if diff := cmp.Diff(theirs.String(), ours.String()); diff != "" {
				t.Errorf("output (-framework +krm):\n%s", diff)
			}
		})
	}
}

// TestResultString: one line per result, as framework prints it.
func TestResultString(t *testing.T) {
	_, results, _ := cases["results of every kind, then a failure"]([]*yaml.RNode{secret.Copy()}, nil)
	for _, r := range results {
		if got, want := toKRM(r).String(), toFramework(r).String(); got != want {
			t.Errorf("String() = %q, framework says %q", got, want)
		}
	}
}

func TestExecuteReadError(t *testing.T) {
	err := krm.Execute(krmProcessor(cases["unchanged"]), &kio.ByteReadWriter{Reader: strings.NewReader("items: [")})
	if err == nil || !strings.HasPrefix(err.Error(), "failed to read ResourceList input: ") {
		t.Errorf("error = %v", err)
	}
}

type krmProcessor process

func (p krmProcessor) Process(rl *krm.ResourceList) error {
	items, results, err := p(rl.Items, rl.FunctionConfig)
	rl.Items = items
	for _, r := range results {
		rl.Results = append(rl.Results, toKRM(r))
	}
	return err
}

func frameworkProcessor(p process) framework.ResourceListProcessorFunc {
	return func(rl *framework.ResourceList) error {
		items, results, err := p(rl.Items, rl.FunctionConfig)
		rl.Items = items
		for _, r := range results {
			rl.Results = append(rl.Results, toFramework(r))
		}
		return err
	}
}

func toKRM(r result) *krm.Result {
	out := &krm.Result{Severity: krm.Severity(r.severity), Message: r.message, ResourceRef: r.ref, Tags: r.tags}
	if r.field != "" {
		out.Field = &krm.Field{Path: r.field}
	}
	if r.file != "" {
		out.File = &krm.File{Path: r.file, Index: r.index}
	}
	return out
}

func toFramework(r result) *framework.Result {
	out := &framework.Result{Severity: framework.Severity(r.severity), Message: r.message, ResourceRef: r.ref, Tags: r.tags}
	if r.field != "" {
		out.Field = &framework.Field{Path: r.field}
	}
	if r.file != "" {
		out.File = &framework.File{Path: r.file, Index: r.index}
	}
	return out
}
