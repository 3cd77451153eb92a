package api

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
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
