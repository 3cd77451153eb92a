package fn

import (
	"context"
	"errors"
	"fmt"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kmsgen.dev/kmsgen/fn/api"
	"kmsgen.dev/kmsgen/fn/awskms"
	"kmsgen.dev/kmsgen/fn/ciphertext"
	"kmsgen.dev/kmsgen/fn/envfile"
	"kmsgen.dev/kmsgen/fn/kustomization"
	"kmsgen.dev/kmsgen/fn/secret"
	"kmsgen.dev/kmsgen/internal/plural"
)

// Generator turns generators into Secrets.
type Generator struct {
	KMS *awskms.Client
	// Restrictor confines file sources; the zero value is
	// LoadRestrictionsRootOnly.
	Restrictor LoadRestrictor
}

// NewGenerator returns the Generator kmsgen's commands use, with the KMS
// client made from the environment by awskms.FromEnv. On a bad KMSGEN_*
// setting it returns the error together with a Generator using the
// defaults, for callers that report errors later (the KRM function reports
// them as results).
func NewGenerator(getenv func(string) string) (*Generator, error) {
	kms, kmsErr := awskms.FromEnv(getenv)
	restrictor, restrictorErr := LoadRestrictorFromEnv(getenv)
	return &Generator{KMS: kms, Restrictor: restrictor}, errors.Join(kmsErr, restrictorErr)
}

// NoteSDKWarnings adds to a failure how many messages the AWS SDK logged
// (awskms.Client.SDKWarnings), which stay off stderr: the count folds into
// the failure's one line. It returns err as it is when nil or nothing was
// logged.
func (g *Generator) NoteSDKWarnings(err error) error {
	if n := g.KMS.SDKWarnings(); err != nil && n > 0 {
		return fmt.Errorf("%w (the AWS SDK also logged %s, not shown)", err, plural.Count(n, "warning", "warnings"))
	}
	return err
}

// job follows one Input through the phases of Generate.
type job struct {
	in      Input
	sources []api.Source
	cts     []ciphertext.Ciphertext // one per source
	first   int                     // index of its first source in the batch of requests
}

// Generate returns one Secret per input, in order, built as kustomize's
// secretGenerator builds them and not yet named with a hash. Every
// ciphertext is read and checked before any KMS call, and all inputs share
// one batch of calls. On failure it returns Errors and no Secret.
func (g *Generator) Generate(ctx context.Context, inputs []Input) ([]*yaml.RNode, error) {
	jobs, reqs, errs := g.load(inputs)
	if len(errs) > 0 {
		return nil, errs
	}
	results := g.KMS.DecryptAll(ctx, reqs)
	defer func() {
		for _, r := range results {
			clear(r.Plaintext)
		}
	}()
	for _, j := range jobs {
		errs = append(errs, j.kmsErrors(func(i int) error { return results[i].Err })...)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	secrets := make([]*yaml.RNode, 0, len(jobs))
	for _, j := range jobs {
		rn, err := build(j, results[j.first:j.first+len(j.sources)])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		secrets = append(secrets, rn)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return secrets, nil
}

// kmsErrors returns an Error for each source of j whose KMS call failed;
// errOf gives the error of the request at an index of the batch.
func (j job) kmsErrors(errOf func(int) error) Errors {
	var errs Errors
	for i, s := range j.sources {
		if err := errOf(j.first + i); err != nil {
			errs = append(errs, sourceError(j.in, s, err))
		}
	}
	return errs
}

// load reads every ciphertext of every input and turns it into a request.
func (g *Generator) load(inputs []Input) ([]job, []awskms.Request, Errors) {
	var (
		jobs []job
		reqs []awskms.Request
		errs Errors
	)
	for _, in := range inputs {
		j := job{in: in, sources: in.Sources, first: len(reqs)}
		target := Target(in.Generator.KMS)
		files, filesErr := OpenFiles(in, g.Restrictor)
		for _, s := range in.Sources {
			ct, err := readCiphertext(files, filesErr, s)
			if err != nil {
				if in.RootHint != "" && s.Path != "" {
					err = fmt.Errorf("%w; %s", err, in.RootHint)
				}
				errs = append(errs, sourceError(in, s, err))
				continue
			}
			j.cts = append(j.cts, ct)
			reqs = append(reqs, Request(target, ct))
		}
		if files != nil {
			files.Close()
		}
		jobs = append(jobs, j)
	}
	return jobs, reqs, errs
}

// readCiphertext returns the ciphertext of a source: inline text, or a
// file holding text, the raw blob or an envelope.
func readCiphertext(files *Files, filesErr error, s api.Source) (ciphertext.Ciphertext, error) {
	if s.Path == "" {
		return ciphertext.Parse([]byte(s.Ciphertext), false)
	}
	if filesErr != nil {
		return ciphertext.Ciphertext{}, filesErr
	}
	data, err := files.Read(s.Path)
	if err != nil {
		return ciphertext.Ciphertext{}, err
	}
	return ciphertext.Parse(data, true)
}

// build makes the Secret of one job from its sources' plaintexts, with
// kustomize's source order (envs, literals, files) and key rules.
func build(j job, results []awskms.Result) (*yaml.RNode, *Error) {
	gen := j.in.Generator
	var pairs []secret.Pair
	for i, s := range j.sources {
		plaintext := results[i].Plaintext
		if env := j.cts[i].Envelope; env != nil {
			opened, err := env.Open(plaintext, gen.KMS.EncryptionContext)
			if err != nil {
				return nil, sourceError(j.in, s, err)
			}
			defer clear(opened)
			plaintext = opened
		}
		if s.Kind != api.Env {
			pairs = append(pairs, secret.Pair{Key: s.Key, Value: string(plaintext), Origin: s.String(), Field: s.Field})
			continue
		}
		entries, err := envfile.Parse(plaintext)
		if err != nil {
			return nil, sourceError(j.in, s, fmt.Errorf("decrypted env file: %w", err))
		}
		for _, e := range entries {
			pairs = append(pairs, secret.Pair{Key: e.Key, Value: e.Value, Origin: fmt.Sprintf("%s line %d", s, e.Line),
				Field: s.Field, KeyIsPlaintext: true})
		}
	}
	data, err := secret.DataMap(pairs)
	if err != nil {
		e := &Error{File: j.in.File, Generator: gen.ID(), Err: err}
		var perr *secret.PairError
		if errors.As(err, &perr) {
			e.Field = perr.Pair.Field
		}
		return nil, e
	}
	rn, err := secret.Build(secret.Spec{
		Name:      gen.Metadata.Name,
		Namespace: gen.Metadata.Namespace,
		Type:      gen.Type,
		Options:   kustomization.Merge(gen.Options, j.in.GlobalOptions),
		Data:      data,
	})
	if err != nil {
		return nil, &Error{File: j.in.File, Generator: gen.ID(), Err: err}
	}
	return rn, nil
}

func sourceError(in Input, s api.Source, err error) *Error {
	return &Error{File: in.File, Generator: in.Generator.ID(), Field: s.Field, Source: s.String(), Err: err}
}
