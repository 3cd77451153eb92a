package api

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"kmsgen.dev/kmsgen/fn/decrypt"
)

// ValidationError lists everything wrong with a generator.
type ValidationError struct {
	Problems []string
}

func (e *ValidationError) Error() string { return strings.Join(e.Problems, "; ") }

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
	var problems []string
	addf := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	if g.APIVersion != APIVersion || g.Kind != Kind {
		addf("apiVersion/kind is %s/%s; want %s/%s", g.APIVersion, g.Kind, APIVersion, Kind)
	}
	if g.Metadata.Name == "" {
		addf("metadata.name is required: it is the name of the generated Secret")
	}
	switch g.Behavior {
	case "", BehaviorCreate, BehaviorMerge, BehaviorReplace:
	default:
		addf("behavior %q: want create, merge or replace", g.Behavior)
	}
	if _, err := g.Sources(); err != nil {
		var verr *ValidationError
		if errors.As(err, &verr) {
			problems = append(problems, verr.Problems...)
		} else {
			addf("%v", err)
		}
	}
	if err := g.KMS.validate(); err != nil {
		addf("%v", err)
	}
	if len(problems) > 0 {
		return &ValidationError{Problems: problems}
	}
	return nil
}

func (k KMS) validate() error {
	if k.KeyID != "" {
		if err := decrypt.ValidateKeyID(k.KeyID); err != nil {
			return fmt.Errorf("kms.keyId: %w", err)
		}
	}
	if k.Endpoint != "" {
		u, err := url.Parse(k.Endpoint)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("kms.endpoint %q: want an http(s) URL such as https://kms.eu-west-1.amazonaws.com", k.Endpoint)
		}
	}
	if k.RoleARN != "" {
		if err := decrypt.ValidateRoleARN(k.RoleARN); err != nil {
			return fmt.Errorf("kms.roleArn: %w", err)
		}
	}
	return nil
}

// Target is where and how this generator's ciphertexts are decrypted.
func (k KMS) Target() decrypt.Target {
	return decrypt.Target{KeyID: k.KeyID, Context: k.EncryptionContext, Region: k.Region, Endpoint: k.Endpoint, RoleARN: k.RoleARN}
}
