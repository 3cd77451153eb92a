package kustomization

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/kustomize/api/types"
)

func TestGeneratorOptions(t *testing.T) {
	tests := []struct {
		name     string
		files    map[string]string
		want     *types.GeneratorOptions
		wantFile string
		wantErr  error
	}{
		{name: "kustomization.yaml", files: map[string]string{"kustomization.yaml": "generatorOptions:\n  labels: {a: b}\n  immutable: true\n"},
			want: &types.GeneratorOptions{Labels: map[string]string{"a": "b"}, Immutable: true}, wantFile: "kustomization.yaml"},
		{name: "kustomization.yml", files: map[string]string{"kustomization.yml": "generatorOptions: {disableNameSuffixHash: true}\n"},
			want: &types.GeneratorOptions{DisableNameSuffixHash: true}, wantFile: "kustomization.yml"},
		{name: "Kustomization", files: map[string]string{"Kustomization": "generatorOptions: {annotations: {x: y}}\n"},
			want: &types.GeneratorOptions{Annotations: map[string]string{"x": "y"}}, wantFile: "Kustomization"},
		{name: "kustomization.yaml first", files: map[string]string{"kustomization.yaml": "resources: []\n", "Kustomization": "generatorOptions: {immutable: true}\n"},
			want: nil, wantFile: "kustomization.yaml"},
		{name: "no generatorOptions", files: map[string]string{"kustomization.yaml": "resources: [a.yaml]\n"}, wantFile: "kustomization.yaml"},
		{name: "empty generatorOptions", files: map[string]string{"kustomization.yaml": "generatorOptions: {}\n"}, wantFile: "kustomization.yaml"},
		{name: "no kustomization", files: map[string]string{"other.yaml": "a: b\n"}, wantErr: ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, file, err := GeneratorOptions(dir)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error = %v, want %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
			if tc.wantFile != "" && file != filepath.Join(dir, tc.wantFile) {
				t.Errorf("file = %q, want %q", file, tc.wantFile)
			}
		})
	}
}

func TestMerge(t *testing.T) {
	local := &types.GeneratorOptions{Labels: map[string]string{"team": "local"}, DisableNameSuffixHash: false}
	global := &types.GeneratorOptions{Labels: map[string]string{"team": "global", "shared": "g"},
		Annotations: map[string]string{"from": "global"}, DisableNameSuffixHash: true, Immutable: true}
	localBefore, globalBefore := *local, *global
	got := Merge(local, global)
	want := &types.GeneratorOptions{Labels: map[string]string{"team": "local", "shared": "g"},
		Annotations: map[string]string{"from": "global"}, DisableNameSuffixHash: true, Immutable: true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Merge (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(&localBefore, local); diff != "" {
		t.Errorf("Merge modified local (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(&globalBefore, global); diff != "" {
		t.Errorf("Merge modified global (-before +after):\n%s", diff)
	}
	if got := Merge(nil, nil); got != nil {
		t.Errorf("Merge(nil, nil) = %v, want nil", got)
	}
	if got := Merge(local, nil); cmp.Diff(local, got) != "" {
		t.Errorf("Merge(local, nil) = %v, want local", got)
	}
}
