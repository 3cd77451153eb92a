package api

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"kmsgen.dev/kmsgen/fn/secret"
)

// Problem is one thing wrong with a generator: the field it is in ("envs[1]",
// "kms.keyId"; empty for the resource as a whole) and what is wrong.
type Problem struct {
	Field   string
	Message string
}

func (p Problem) String() string {
	if p.Field == "" {
		return p.Message
	}
	return p.Field + ": " + p.Message
}

// ValidationError lists everything wrong with a generator.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return strings.Join(parts, "; ")
}

// Validate checks everything that needs no file and no KMS call. It
// returns the generator's sources, parsed, in kustomize's order (envs,
// literals, files), or a *ValidationError listing every problem at once.
func (g *KMSSecretGenerator) Validate() ([]Source, error) {
	var problems []Problem
	add := func(field, format string, args ...any) {
		problems = append(problems, Problem{Field: field, Message: fmt.Sprintf(format, args...)})
	}

	if g.APIVersion != APIVersion || g.Kind != Kind {
		add("", "apiVersion/kind is %s/%s; want %s/%s", g.APIVersion, g.Kind, APIVersion, Kind)
	}
	if g.Metadata.Name == "" {
		add("metadata.name", "required: it is the name of the generated Secret")
	}
	problems = append(problems, g.Metadata.hostAnnotations()...)
	switch g.Behavior {
	case "", BehaviorCreate, BehaviorMerge, BehaviorReplace:
	default:
		add("behavior", "%q: want create, merge or replace", g.Behavior)
	}
	sources, err := g.sources()
	if err != nil {
		var verr *ValidationError
		if !errors.As(err, &verr) {
			return nil, err
		}
		problems = append(problems, verr.Problems...)
	}
	problems = append(problems, g.KMS.validate()...)
	if len(problems) > 0 {
		return nil, &ValidationError{Problems: problems}
	}
	return sources, nil
}

// hostAnnotations refuses kustomize's own annotations for generated
// resources on the generator: KSOPS users put them there, but kustomize reads
// them only on a generator's output, so on a KMSSecretGenerator they would
// silently do nothing. Each problem names the field that does the job here.
func (m Metadata) hostAnnotations() []Problem {
	var problems []Problem
	for _, a := range []struct{ key, instead string }{
		{secret.NeedsHashAnnotation, "to name the Secret without the hash suffix, set options.disableNameSuffixHash: true"},
		{secret.BehaviorAnnotation, "to merge into or replace a Secret of a base, set behavior: merge or behavior: replace"},
	} {
		if _, ok := m.Annotations[a.key]; ok {
			problems = append(problems, Problem{Field: fmt.Sprintf("metadata.annotations[%s]", a.key),
				Message: fmt.Sprintf("kustomize reads this annotation only on a generator's output, so on a %s it would do nothing: %s, and remove the annotation", Kind, a.instead)})
		}
	}
	return problems
}

func (k KMS) validate() []Problem {
	var problems []Problem
	if k.KeyID != "" {
		if err := ValidateKeyID(k.KeyID); err != nil {
			problems = append(problems, Problem{Field: "kms.keyId", Message: err.Error()})
		}
	}
	if k.Endpoint != "" {
		u, err := url.Parse(k.Endpoint)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			problems = append(problems, Problem{Field: "kms.endpoint",
				Message: fmt.Sprintf("%q: want an http(s) URL such as https://kms.eu-west-1.amazonaws.com", k.Endpoint)})
		}
	}
	if k.RoleARN != "" {
		if err := ValidateRoleARN(k.RoleARN); err != nil {
			problems = append(problems, Problem{Field: "kms.roleArn", Message: err.Error()})
		}
	}
	return problems
}
