package awskms_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"kmsgen.dev/kmsgen/fn/awskms"
)

func TestOptionsFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    awskms.Options
		wantErr string // "" for success
	}{
		{name: "unset", want: awskms.Options{}},
		{name: "empty values", env: map[string]string{awskms.EnvConcurrency: "", awskms.EnvTimeout: ""}, want: awskms.Options{}},
		{name: "concurrency", env: map[string]string{awskms.EnvConcurrency: "4"}, want: awskms.Options{Concurrency: 4}},
		{name: "concurrency 1", env: map[string]string{awskms.EnvConcurrency: "1"}, want: awskms.Options{Concurrency: 1}},
		{name: "timeout", env: map[string]string{awskms.EnvTimeout: "2m"}, want: awskms.Options{CallTimeout: 2 * time.Minute}},
		{name: "both", env: map[string]string{awskms.EnvConcurrency: "16", awskms.EnvTimeout: "1m30s"},
			want: awskms.Options{Concurrency: 16, CallTimeout: 90 * time.Second}},
		{name: "concurrency zero", env: map[string]string{awskms.EnvConcurrency: "0"}, wantErr: `KMSGEN_CONCURRENCY="0": want a whole number of at least 1`},
		{name: "concurrency negative", env: map[string]string{awskms.EnvConcurrency: "-2"}, wantErr: `KMSGEN_CONCURRENCY="-2"`},
		{name: "concurrency not a number", env: map[string]string{awskms.EnvConcurrency: "many"}, wantErr: `KMSGEN_CONCURRENCY="many"`},
		{name: "concurrency fraction", env: map[string]string{awskms.EnvConcurrency: "1.5"}, wantErr: `KMSGEN_CONCURRENCY="1.5"`},
		{name: "timeout without unit", env: map[string]string{awskms.EnvTimeout: "30"}, wantErr: `KMSGEN_TIMEOUT="30": want a positive duration such as 30s or 2m`},
		{name: "timeout zero", env: map[string]string{awskms.EnvTimeout: "0s"}, wantErr: `KMSGEN_TIMEOUT="0s"`},
		{name: "timeout negative", env: map[string]string{awskms.EnvTimeout: "-1s"}, wantErr: `KMSGEN_TIMEOUT="-1s"`},
		{name: "timeout not a duration", env: map[string]string{awskms.EnvTimeout: "soon"}, wantErr: `KMSGEN_TIMEOUT="soon"`},
		{name: "deadline", env: map[string]string{awskms.EnvDeadline: "55s"}, want: awskms.Options{Deadline: 55 * time.Second}},
		{name: "deadline not a duration", env: map[string]string{awskms.EnvDeadline: "1"}, wantErr: `KMSGEN_DEADLINE="1": want a positive duration such as 30s or 2m`},
		{name: "valid concurrency, invalid timeout", env: map[string]string{awskms.EnvConcurrency: "2", awskms.EnvTimeout: "x"}, wantErr: `KMSGEN_TIMEOUT="x"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var asked []string
			got, err := awskms.OptionsFromEnv(func(name string) string {
				asked = append(asked, name)
				return tc.env[name]
			})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("OptionsFromEnv: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{awskms.EnvConcurrency, awskms.EnvTimeout, awskms.EnvDeadline}, asked); diff != "" {
				t.Errorf("variables read (-want +got):\n%s", diff)
			}
		})
	}
}
