package awskms

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// MaxPlaintext is the most KMS Encrypt takes; larger payloads need a data
// key (envelope encryption).
const MaxPlaintext = 4096

// ErrNoKeyID means an operation that names its key was called without one.
var ErrNoKeyID = errors.New("no KeyId")

// noKeyID is the error of operation op called with an empty Target.KeyID.
func noKeyID(op string) *Error {
	return &Error{Code: CodeOther, Err: ErrNoKeyID,
		What: fmt.Sprintf("KMS %s needs the key to encrypt under (a key ID, key ARN, alias name or alias ARN), and none was given", op)}
}

// Decrypt decrypts one ciphertext.
func (d *Client) Decrypt(ctx context.Context, t Target, blob []byte) ([]byte, error) {
	defer d.single()()
	return d.decryptOne(ctx, Request{Blob: blob, Target: t})
}

// Encrypt encrypts at most MaxPlaintext bytes under t.KeyID, bound to
// t.Context, and returns the CiphertextBlob.
func (d *Client) Encrypt(ctx context.Context, t Target, plaintext []byte) ([]byte, error) {
	defer d.single()()
	out, _, err := d.encrypt(ctx, t, plaintext)
	if err != nil {
		return nil, err
	}
	return out.CiphertextBlob, nil
}

func (d *Client) encrypt(ctx context.Context, t Target, plaintext []byte) (*kms.EncryptOutput, where, error) {
	if t.KeyID == "" {
		return nil, where{}, noKeyID("Encrypt")
	}
	client, w, err := d.prepare(ctx, t, "Encrypt")
	if err != nil {
		return nil, w, err
	}
	callCtx, cancel := context.WithTimeout(ctx, d.opts.CallTimeout)
	defer cancel()
	out, err := client.Encrypt(callCtx, &kms.EncryptInput{KeyId: aws.String(t.KeyID), Plaintext: plaintext, EncryptionContext: nonEmpty(t.Context)})
	if err != nil {
		return nil, w, classify(err, w, d.opts.CallTimeout)
	}
	if len(out.CiphertextBlob) == 0 {
		return nil, w, malformed(w, "no CiphertextBlob")
	}
	return out, w, nil
}

// GenerateDataKey returns a new AES-256 data key in plaintext and wrapped
// under t.KeyID with t.Context. The caller erases the plaintext after use.
func (d *Client) GenerateDataKey(ctx context.Context, t Target) (plaintext, wrapped []byte, err error) {
	defer d.single()()
	out, _, err := d.generateDataKey(ctx, t)
	if err != nil {
		return nil, nil, err
	}
	return out.Plaintext, out.CiphertextBlob, nil
}

func (d *Client) generateDataKey(ctx context.Context, t Target) (*kms.GenerateDataKeyOutput, where, error) {
	if t.KeyID == "" {
		return nil, where{}, noKeyID("GenerateDataKey")
	}
	client, w, err := d.prepare(ctx, t, "GenerateDataKey")
	if err != nil {
		return nil, w, err
	}
	callCtx, cancel := context.WithTimeout(ctx, d.opts.CallTimeout)
	defer cancel()
	out, err := client.GenerateDataKey(callCtx, &kms.GenerateDataKeyInput{KeyId: aws.String(t.KeyID), KeySpec: types.DataKeySpecAes256, EncryptionContext: nonEmpty(t.Context)})
	if err != nil {
		return nil, w, classify(err, w, d.opts.CallTimeout)
	}
	if len(out.Plaintext) != 32 || len(out.CiphertextBlob) == 0 {
		clear(out.Plaintext)
		return nil, w, malformed(w, "no 32-byte Plaintext or no CiphertextBlob")
	}
	return out, w, nil
}

// ReEncrypt moves a ciphertext from src (its key pin and context) to dst
// (key and context) inside KMS: the plaintext never leaves KMS. Both must be
// in one region, endpoint and role, since ReEncrypt is one regional call.
func (d *Client) ReEncrypt(ctx context.Context, src, dst Target, blob []byte) ([]byte, error) {
	defer d.single()()
	if dst.KeyID == "" {
		return nil, noKeyID("ReEncrypt")
	}
	client, w, err := d.prepare(ctx, dst, "ReEncrypt")
	if err != nil {
		return nil, err
	}
	if srcRegion := firstNonEmpty(src.Region, src.KeyRegion(), w.Region); srcRegion != w.Region || src.Endpoint != dst.Endpoint || src.RoleARN != dst.RoleARN {
		return nil, &Error{Code: CodeOther,
			What: fmt.Sprintf("the ciphertext is in region %s and the new key in %s (or behind another endpoint or role)", srcRegion, w.Region),
			Hint: "KMS re-encrypts within one region: create the new key in the same region"}
	}
	w.Target = src // errors about the ciphertext concern its current key and context
	callCtx, cancel := context.WithTimeout(ctx, d.opts.CallTimeout)
	defer cancel()
	out, err := client.ReEncrypt(callCtx, &kms.ReEncryptInput{
		CiphertextBlob:               blob,
		SourceKeyId:                  optional(src.KeyID),
		SourceEncryptionContext:      nonEmpty(src.Context),
		DestinationKeyId:             aws.String(dst.KeyID),
		DestinationEncryptionContext: nonEmpty(dst.Context),
	})
	if err != nil {
		return nil, classify(err, w, d.opts.CallTimeout)
	}
	if len(out.CiphertextBlob) == 0 {
		return nil, malformed(w, "no CiphertextBlob")
	}
	return out.CiphertextBlob, nil
}

// CanDecrypt asks KMS whether Decrypt of blob would be allowed, without
// decrypting it (DryRun): nil means allowed. An endpoint that ignores DryRun
// (some emulators) decrypts instead, which proves as much; the plaintext is
// discarded at once.
func (d *Client) CanDecrypt(ctx context.Context, t Target, blob []byte) error {
	defer d.single()()
	client, w, err := d.prepare(ctx, t, "Decrypt")
	if err != nil {
		return err
	}
	callCtx, cancel := context.WithTimeout(ctx, d.opts.CallTimeout)
	defer cancel()
	out, err := client.Decrypt(callCtx, &kms.DecryptInput{CiphertextBlob: blob, KeyId: optional(t.KeyID),
		EncryptionContext: nonEmpty(t.Context), DryRun: aws.Bool(true)})
	var dryRun *types.DryRunOperationException
	switch {
	case errors.As(err, &dryRun):
		return nil
	case err != nil:
		return classify(err, w, d.opts.CallTimeout)
	}
	clear(out.Plaintext)
	return nil
}

// CanDecryptAll asks, for every request, whether Decrypt would be allowed
// (CanDecrypt), with DecryptAll's de-duplication and concurrency bound, and
// returns the answers in request order: nil means allowed.
func (d *Client) CanDecryptAll(ctx context.Context, reqs []Request) []error {
	results := d.forEachDistinct(ctx, reqs, func(ctx context.Context, r Request) Result {
		if r.Keys != nil {
			_, _, err := d.decryptAny(ctx, r.Target, r.Keys, d.canDecryptKey)
			return Result{Err: err}
		}
		return Result{Err: d.CanDecrypt(ctx, r.Target, r.Blob)}
	})
	errs := make([]error, len(results))
	for i, r := range results {
		errs[i] = r.Err
	}
	return errs
}
