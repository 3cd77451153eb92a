package api

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"kmsgen.dev/kmsgen/fn/awskms"
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

// ID names the generator in messages: namespace/name, or name.
func (g *KMSSecretGenerator) ID() string {
	if g.Metadata.Namespace != "" {
		return g.Metadata.Namespace + "/" + g.Metadata.Name
	}
	return g.Metadata.Name
}

// Validate checks everything that needs no file and no KMS call, and
// returns every problem at once.
func (g *KMSSecretGenerator) Validate() error {
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
	if _, err := g.Sources(); err != nil {
		var verr *ValidationError
		if !errors.As(err, &verr) {
			return err
		}
		problems = append(problems, verr.Problems...)
	}
	problems = append(problems, g.KMS.validate()...)
	if len(problems) > 0 {
		return &ValidationError{Problems: problems}
	}
	return nil
}

func (k KMS) validate() []Problem {
	var problems []Problem
	if k.KeyID != "" {
		if err := awskms.ValidateKeyID(k.KeyID); err != nil {
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
		if err := awskms.ValidateRoleARN(k.RoleARN); err != nil {
			problems = append(problems, Problem{Field: "kms.roleArn", Message: err.Error()})
		}
	}
	return problems
}

// Target is where and how this generator's ciphertexts are decrypted.
func (k KMS) Target() awskms.Target {
	return awskms.Target{KeyID: k.KeyID, Context: k.EncryptionContext, Region: k.Region, Endpoint: k.Endpoint, RoleARN: k.RoleARN}
}
