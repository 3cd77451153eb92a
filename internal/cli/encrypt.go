package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"kmsgen.dev/kmsgen/fn/api"
	"kmsgen.dev/kmsgen/fn/encrypt"
	"kmsgen.dev/kmsgen/internal/prompt"
)

// kmsFlags are the KMS settings shared by encrypt and reencrypt.
type kmsFlags struct {
	keyID, region, endpoint, roleARN string
	context                          []string
}

func (k *kmsFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&k.keyID, "key-id", "", "key ID, key ARN, alias (alias/NAME) or alias ARN")
	addContextFlag(cmd, &k.context, contextFlagUsage)
	cmd.Flags().StringVar(&k.region, "region", "", "AWS region (else the key ARN's, else the AWS configuration's)")
	cmd.Flags().StringVar(&k.endpoint, "endpoint", "", "KMS endpoint URL (else AWS_ENDPOINT_URL_KMS / AWS_ENDPOINT_URL)")
	cmd.Flags().StringVar(&k.roleARN, "role-arn", "", "IAM role to assume before calling KMS")
}

// settings are the flags as kms settings; a key ID that is not one is a
// usage error.
func (k *kmsFlags) settings() (api.KMS, error) {
	ctx, err := parseContext(k.context)
	if err != nil {
		return api.KMS{}, err
	}
	settings := api.KMS{KeyID: k.keyID, EncryptionContext: ctx, Region: k.region, Endpoint: k.endpoint, RoleARN: k.roleARN}
	if settings.KeyID != "" {
		if err := api.ValidateKeyID(settings.KeyID); err != nil {
			return settings, usageError{fmt.Errorf("--key-id: %w", err)}
		}
	}
	return settings, nil
}

type encryptCmd struct {
	kms          kmsFlags
	keyIDs       []string // every --key-id: more than one makes a multi-key envelope
	prompt       bool
	generator    string
	literal      string
	newGenerator string
}

func newEncrypt(ctx context.Context) *cobra.Command {
	e := &encryptCmd{}
	cmd := &cobra.Command{
		Use:   "encrypt --key-id KEY [--context k=v]... [FILE]",
		Short: "Encrypt a plaintext for a KMSSecretGenerator",
		Long: `encrypt reads the plaintext from FILE or, without it, from stdin (or, with --prompt, from the
terminal without echo; never from the command line) and prints its ciphertext as text.
Up to 4096 bytes, that is exactly what ` + "`aws kms encrypt --query CiphertextBlob --output text`" + `
prints, so ` + "`aws kms decrypt`" + ` still works; above, it is kmsgen's envelope (a KMS data key,
AES-256-GCM, the encryption context bound into both), which kmsgen reads wherever it reads
a ciphertext.

With --generator FILE --literal KEY, the ciphertext goes into the literals of the generator
in FILE (replacing KEY's entry, or adding one), encrypted with the generator's kms settings.
With --new-generator NAME, the input is a plaintext env file and a new generator named NAME
is printed, with one literal per key, so that a review shows which keys changed.

With --key-id given more than once, the output is a multi-key envelope whatever the size:
the data key is wrapped under each key (keys in other regions or accounts, for disaster
recovery), each recorded by its ARN, and any one of them decrypts it. Each key is called in
its own region (a key ARN's, else --region or the AWS configuration's).

Exit codes: 0 success, 1 failure (KMS, files), 2 wrong command line.`,
		Example: `  # an env file, without a plaintext file on disk
  your-password-manager show app.env | kmsgen encrypt --key-id alias/myproject --context app=myproject > app.env.encrypted

  # one value, typed at the terminal, into a generator
  kmsgen encrypt --prompt --generator secrets.yaml --literal API_TOKEN

  # an env file that a key in another region can also decrypt
  kmsgen encrypt --key-id arn:aws:kms:eu-west-1:111122223333:key/1234abcd-... \
      --key-id arn:aws:kms:us-east-1:111122223333:key/5678efgh-... --context app=myproject < app.env > app.env.encrypted

  # a generator with one ciphertext per key of an env file
  kmsgen encrypt --key-id alias/myproject --context app=myproject --new-generator app-secrets < app.env > secrets.yaml`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usageError{fmt.Errorf("encrypt takes at most one FILE, got %d arguments", len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.run(ctx, cmd, args)
		},
	}
	e.kms.add(cmd)
	e.kms.repeatableKeyID(cmd, &e.keyIDs)
	cmd.Flags().BoolVar(&e.prompt, "prompt", false, "read one value from the terminal, without echo")
	cmd.Flags().StringVar(&e.generator, "generator", "", "generator file to write the ciphertext into (with --literal)")
	cmd.Flags().StringVar(&e.literal, "literal", "", "the literals key to set in --generator")
	cmd.Flags().StringVar(&e.newGenerator, "new-generator", "", "print a new generator NAME from a plaintext env file")
	return cmd
}

func (e *encryptCmd) run(ctx context.Context, cmd *cobra.Command, args []string) error {
	if err := e.checkFlags(args); err != nil {
		return err
	}
	settings, err := e.kms.settings()
	if err != nil {
		return err
	}
	multi, err := e.multiKeys()
	if err != nil {
		return err
	}
	var literal *encrypt.Literal
	if e.generator != "" {
		literal, err = encrypt.ForLiteral(e.generator, e.literal, settings)
		var conflict *encrypt.ConflictError
		var keyErr *encrypt.KeyError
		switch {
		case errors.As(err, &conflict):
			return usageError{fmt.Errorf("%s %w", flagOf[conflict.Field], err)}
		case errors.As(err, &keyErr):
			return usageError{fmt.Errorf("--literal %w", err)}
		}
		if err != nil {
			return err
		}
		settings = literal.KMS
		literal.Keys = multi
	}
	if settings.KeyID == "" {
		return usageError{errors.New("no key: give --key-id (or a generator whose kms.keyId is set)")}
	}
	plaintext, err := e.readPlaintext(ctx, cmd, args)
	if err != nil {
		return err
	}
	defer clear(plaintext)
	gen, err := newGenerator(cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	switch {
	case e.newGenerator != "":
		out, err := encrypt.NewGenerator(ctx, gen.KMS, settings, e.newGenerator, plaintext, multi...)
		if err != nil {
			return err
		}
		_, err = cmd.OutOrStdout().Write(out)
		return err
	case literal != nil:
		if bytes.HasSuffix(plaintext, []byte("\n")) && !e.prompt {
			fmt.Fprintf(cmd.ErrOrStderr(), "kmsgen: warning: the value of %s ends with a newline, which becomes part of it (printf and --prompt add none)\n", e.literal)
		}
		if err := literal.Set(ctx, gen.KMS, plaintext); err != nil {
			return err
		}
		_, err = fmt.Fprintf(cmd.OutOrStdout(), "set literal %s in %s\n", e.literal, literal.Path())
		return err
	}
	text, err := encrypt.TextKeys(ctx, gen.KMS, settings, multi, plaintext)
	if err != nil {
		return err
	}
	_, err = cmd.OutOrStdout().Write(text)
	return err
}

// multiKeys returns the --key-id values when there are several (a
// multi-key envelope), each checked; nil for one or none.
func (e *encryptCmd) multiKeys() ([]string, error) {
	if len(e.keyIDs) < 2 {
		return nil, nil
	}
	for i, id := range e.keyIDs {
		if err := api.ValidateKeyID(id); err != nil {
			return nil, usageError{fmt.Errorf("--key-id %d: %w", i+1, err)}
		}
	}
	return e.keyIDs, nil
}

// flagOf is the flag that sets each kms field.
var flagOf = map[string]string{
	"keyId": "--key-id", "region": "--region", "endpoint": "--endpoint", "roleArn": "--role-arn", "encryptionContext": "--context",
}

func (e *encryptCmd) checkFlags(args []string) error {
	switch {
	case (e.generator == "") != (e.literal == ""):
		return usageError{errors.New("--generator and --literal go together")}
	case e.newGenerator != "" && e.generator != "":
		return usageError{errors.New("--new-generator prints a new generator; it does not go with --generator")}
	case e.prompt && len(args) > 0:
		return usageError{errors.New("--prompt reads the terminal; it does not go with FILE")}
	case e.prompt && e.newGenerator != "":
		return usageError{errors.New("--new-generator reads an env file; it does not go with --prompt")}
	}
	return nil
}

// readPlaintext reads the terminal (--prompt), FILE or stdin; never argv.
func (e *encryptCmd) readPlaintext(ctx context.Context, cmd *cobra.Command, args []string) ([]byte, error) {
	switch {
	case e.prompt:
		return promptValue(ctx, e.literal)
	case len(args) == 1 && args[0] != "-":
		return encrypt.ReadFile(args[0])
	}
	if f, ok := cmd.InOrStdin().(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return nil, usageError{errors.New("no plaintext: pipe it in, give FILE, or use --prompt")}
	}
	return encrypt.Read(cmd.InOrStdin(), "stdin")
}

// promptValue reads one value from the terminal, echo off before the
// prompt shows.
func promptValue(ctx context.Context, key string) ([]byte, error) {
	label := "Value"
	if key != "" {
		label = "Value of " + key
	}
	value, err := prompt.Secret(ctx, label)
	if err != nil {
		return nil, fmt.Errorf("--prompt: %w", err)
	}
	return value, nil
}
