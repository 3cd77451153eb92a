package api

import (
	"sigs.k8s.io/kustomize/api/types"
)

const (
	// Group is the API group of kmsgen resources.
	Group = "kmsgen.dev"
	// Version is the only API version kmsgen serves.
	Version = "v1alpha1"
	// APIVersion is Group/Version.
	APIVersion = Group + "/" + Version
	// Kind is the kind of the generator resource.
	Kind = "KMSSecretGenerator"
)

// Behavior values, with kustomize's secretGenerator semantics.
const (
	BehaviorCreate  = "create"
	BehaviorMerge   = "merge"
	BehaviorReplace = "replace"
)

// KMSSecretGenerator describes one Secret whose data comes from ciphertexts
// that AWS KMS decrypts at build time.
type KMSSecretGenerator struct {
	APIVersion string   `yaml:"apiVersion"`
	Kind       string   `yaml:"kind"`
	Metadata   Metadata `yaml:"metadata"`

	// Behavior is create (default), merge or replace, as in kustomize.
	Behavior string `yaml:"behavior,omitempty"`
	// Type is the Secret's type; Opaque when empty.
	Type string `yaml:"type,omitempty"`

	// Envs are encrypted env files.
	Envs []EnvSource `yaml:"envs,omitempty"`
	// Files are encrypted files, one key each.
	Files []FileSource `yaml:"files,omitempty"`
	// Literals are KEY=<ciphertext of the value> entries.
	Literals []string `yaml:"literals,omitempty"`

	// Options are kustomize's generator options, with its field names.
	Options *types.GeneratorOptions `yaml:"options,omitempty"`

	// KMS says how to reach KMS and what to bind the decryption to.
	KMS KMS `yaml:"kms,omitempty"`

	// Kpt holds what only matters when kpt runs kmsgen.
	Kpt Kpt `yaml:"kpt,omitempty"`
}

// Kpt holds kpt-only settings.
type Kpt struct {
	// AllowPlaintextInPackage lets kmsgen emit the Secret when kpt may
	// write it into the package on disk (an in-place `kpt fn render`): the
	// user's promise that the Secret's file is kept out of git.
	AllowPlaintextInPackage bool `yaml:"allowPlaintextInPackage,omitempty"`
}

// Metadata is the part of ObjectMeta a generator uses.
type Metadata struct {
	Name        string            `yaml:"name,omitempty"`
	Namespace   string            `yaml:"namespace,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

// KMS configures decryption. Every field is optional.
type KMS struct {
	// KeyID is sent as KeyId on every Decrypt: a key ID, key ARN, alias name
	// or alias ARN. When it is a key ARN, Decrypt's response must name it.
	KeyID string `yaml:"keyId,omitempty"`
	// Region overrides the region; else the region of an ARN KeyID, else
	// the AWS configuration chain.
	Region string `yaml:"region,omitempty"`
	// EncryptionContext must equal the context the ciphertexts were made with.
	EncryptionContext map[string]string `yaml:"encryptionContext,omitempty"`
	// Endpoint overrides the KMS endpoint URL.
	Endpoint string `yaml:"endpoint,omitempty"`
	// RoleARN is assumed through STS before decrypting.
	RoleARN string `yaml:"roleArn,omitempty"`
}

// EnvSource is an encrypted env file: a path (relative to the kustomization
// root) or an inline ciphertext.
type EnvSource struct {
	Path       string `yaml:"-"`
	Ciphertext string `yaml:"ciphertext,omitempty"`
}

// FileSource is one encrypted file that becomes one key: written either as
// "[key=]path" or as {key, ciphertext}.
type FileSource struct {
	// Spec is the "[key=]path" form, exactly as written.
	Spec       string `yaml:"-"`
	Key        string `yaml:"key,omitempty"`
	Ciphertext string `yaml:"ciphertext,omitempty"`
}
