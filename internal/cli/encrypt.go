package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kmsgen.dev/kmsgen/fn"
	"kmsgen.dev/kmsgen/fn/api"
	"kmsgen.dev/kmsgen/fn/awskms"
	"kmsgen.dev/kmsgen/fn/encrypt"
	"kmsgen.dev/kmsgen/fn/envfile"
	"kmsgen.dev/kmsgen/fn/genfile"
	"kmsgen.dev/kmsgen/fn/secret"
)

// kmsFlags are the KMS settings shared by encrypt and reencrypt.
type kmsFlags struct {
	keyID, region, endpoint, roleARN string
	context                          []string
}

func (k *kmsFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&k.keyID, "key-id", "", "key ID, key ARN, alias (alias/NAME) or alias ARN")
	cmd.Flags().StringArrayVar(&k.context, "context", nil, "encryption context entry k=v (repeatable)")
	cmd.Flags().StringVar(&k.region, "region", "", "AWS region (else the key ARN's, else the AWS configuration's)")
	cmd.Flags().StringVar(&k.endpoint, "endpoint", "", "KMS endpoint URL (else AWS_ENDPOINT_URL_KMS / AWS_ENDPOINT_URL)")
	cmd.Flags().StringVar(&k.roleARN, "role-arn", "", "IAM role to assume before calling KMS")
}

// contextMap parses the --context flags; nil when none was given.
func (k *kmsFlags) contextMap() (map[string]string, error) {
	if len(k.context) == 0 {
		return nil, nil
	}
	m := map[string]string{}
	for _, kv := range k.context {
		key, value, ok := strings.Cut(kv, "=")
		if !ok || key == "" {
			return nil, usageError{fmt.Errorf("--context %q: want key=value", kv)}
		}
		if _, dup := m[key]; dup {
			return nil, usageError{fmt.Errorf("--context %s given twice", key)}
		}
		m[key] = value
	}
	return m, nil
}

func (k *kmsFlags) target() (awskms.Target, error) {
	ctx, err := k.contextMap()
	if err != nil {
		return awskms.Target{}, err
	}
	t := awskms.Target{KeyID: k.keyID, Context: ctx, Region: k.region, Endpoint: k.endpoint, RoleARN: k.roleARN}
	if t.KeyID != "" {
		if err := awskms.ValidateKeyID(t.KeyID); err != nil {
			return t, usageError{fmt.Errorf("--key-id: %w", err)}
		}
	}
	return t, nil
}

type encryptCmd struct {
	kms          kmsFlags
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

Exit codes: 0 success, 1 failure (KMS, files), 2 wrong command line.`,
		Example: `  # an env file, without a plaintext file on disk
  your-password-manager show app.env | kmsgen encrypt --key-id alias/myproject --context app=myproject > app.env.encrypted

  # one value, typed at the terminal, into a generator
  kmsgen encrypt --prompt --generator secrets.yaml --literal API_TOKEN

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
	target, err := e.kms.target()
	if err != nil {
		return err
	}
	var gen *genfile.File
	if e.generator != "" {
		if gen, target, err = generatorTarget(e.generator, target); err != nil {
			return err
		}
	}
	if target.KeyID == "" {
		return usageError{errors.New("no key: give --key-id (or a generator whose kms.keyId is set)")}
	}
	plaintext, err := e.readPlaintext(cmd, args)
	if err != nil {
		return err
	}
	defer clear(plaintext)
	opts, err := fn.OptionsFromEnv(os.Getenv)
	if err != nil {
		return err
	}
	kms := awskms.New(opts)
	switch {
	case e.newGenerator != "":
		return printNewGenerator(ctx, kms, target, e.newGenerator, plaintext, cmd.OutOrStdout())
	case gen != nil:
		if bytes.HasSuffix(plaintext, []byte("\n")) && !e.prompt {
			fmt.Fprintf(cmd.ErrOrStderr(), "kmsgen: warning: the value of %s ends with a newline, which becomes part of it (printf and --prompt add none)\n", e.literal)
		}
		text, err := encrypt.Text(ctx, kms, target, plaintext)
		if err != nil {
			return err
		}
		if err := genfile.SetLiteral(gen.Generators()[0], e.literal, string(text)); err != nil {
			return err
		}
		content, err := gen.Bytes()
		if err != nil {
			return err
		}
		if err := genfile.Apply([]genfile.Change{{Path: gen.Path, Content: content, Mode: gen.Mode}}); err != nil {
			return err
		}
		_, err = fmt.Fprintf(cmd.OutOrStdout(), "set literal %s in %s\n", e.literal, gen.Path)
		return err
	}
	text, err := encrypt.Text(ctx, kms, target, plaintext)
	if err != nil {
		return err
	}
	_, err = cmd.OutOrStdout().Write(text)
	return err
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
	case e.literal != "":
		if err := secret.ValidateKey(e.literal); err != nil {
			return usageError{fmt.Errorf("--literal %q: %w", e.literal, err)}
		}
	}
	return nil
}

// generatorTarget loads the generator file and fills target from its kms
// settings; flags may fill what it lacks but not contradict it.
func generatorTarget(path string, flags awskms.Target) (*genfile.File, awskms.Target, error) {
	f, err := genfile.Load(path)
	if err != nil {
		return nil, flags, err
	}
	if n := len(f.Generators()); n != 1 {
		return nil, flags, fmt.Errorf("%s holds %d %ss; --generator needs a file with exactly one", path, n, api.Kind)
	}
	gen, err := api.Decode(f.Generators()[0])
	if err != nil {
		return nil, flags, fmt.Errorf("%s: %w", path, err)
	}
	t := gen.KMS.Target()
	conflict := func(name, flag, inFile string) error {
		return usageError{fmt.Errorf("--%s %q contradicts kms.%s %q in %s (to move a generator to another key, use kmsgen reencrypt)", name, flag, name, inFile, path)}
	}
	for _, f := range []struct {
		name      string
		flag, gen *string
	}{{"keyId", &flags.KeyID, &t.KeyID}, {"region", &flags.Region, &t.Region}, {"endpoint", &flags.Endpoint, &t.Endpoint}, {"roleArn", &flags.RoleARN, &t.RoleARN}} {
		switch {
		case *f.flag == "":
		case *f.gen == "":
			*f.gen = *f.flag
		case *f.flag != *f.gen:
			return nil, t, conflict(f.name, *f.flag, *f.gen)
		}
	}
	if flags.Context != nil {
		if t.Context != nil && fmt.Sprint(flags.Context) != fmt.Sprint(t.Context) {
			return nil, t, usageError{fmt.Errorf("--context contradicts kms.encryptionContext in %s (to change it, use kmsgen reencrypt --context)", path)}
		}
		t.Context = flags.Context
	}
	return f, t, nil
}

// readPlaintext reads the terminal (--prompt), FILE or stdin; never argv.
func (e *encryptCmd) readPlaintext(cmd *cobra.Command, args []string) ([]byte, error) {
	switch {
	case e.prompt:
		return promptValue(cmd.ErrOrStderr(), e.literal)
	case len(args) == 1 && args[0] != "-":
		return os.ReadFile(args[0])
	}
	if f, ok := cmd.InOrStdin().(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return nil, usageError{errors.New("no plaintext: pipe it in, give FILE, or use --prompt")}
	}
	return io.ReadAll(cmd.InOrStdin())
}

// promptValue reads one value from the terminal without echo.
func promptValue(w io.Writer, key string) ([]byte, error) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("--prompt needs a terminal: %w", err)
	}
	defer tty.Close()
	label := "Value"
	if key != "" {
		label = "Value of " + key
	}
	fmt.Fprintf(tty, "%s (not echoed): ", label)
	value, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(tty)
	if err != nil {
		return nil, fmt.Errorf("reading the terminal: %w", err)
	}
	return value, nil
}

// printNewGenerator encrypts each value of a plaintext env file and prints
// a generator with one literal per key, in the file's order.
func printNewGenerator(ctx context.Context, kms *awskms.Client, t awskms.Target, name string, env []byte, w io.Writer) error {
	entries, err := envfile.Parse(env)
	if err != nil {
		return fmt.Errorf("the env file: %w", err)
	}
	gen, err := newGeneratorNode(name)
	if err != nil {
		return err
	}
	seen := map[string]int{}
	for _, entry := range entries {
		if err := secret.ValidateKey(entry.Key); err != nil {
			return fmt.Errorf("the env file: line %d: invalid Secret key: %w", entry.Line, err)
		}
		if first, dup := seen[entry.Key]; dup {
			return fmt.Errorf("the env file: line %d repeats the key of line %d", entry.Line, first)
		}
		seen[entry.Key] = entry.Line
		if entry.Value == "" {
			return fmt.Errorf("the env file: line %d (%s) has an empty value, which KMS cannot encrypt: give it a value, or leave the key out", entry.Line, entry.Key)
		}
		text, err := encrypt.Text(ctx, kms, t, []byte(entry.Value))
		if err != nil {
			return fmt.Errorf("line %d (%s): %w", entry.Line, entry.Key, err)
		}
		if err := genfile.SetLiteral(gen, entry.Key, string(text)); err != nil {
			return err
		}
	}
	if err := setKMSFields(gen, t); err != nil {
		return err
	}
	_, err = io.WriteString(w, gen.MustString())
	return err
}

// newGeneratorNode is a generator named name that kustomize runs as an exec
// function, with no sources yet.
func newGeneratorNode(name string) (*yaml.RNode, error) {
	gen, err := yaml.Parse("apiVersion: " + api.APIVersion + "\nkind: " + api.Kind +
		"\nmetadata:\n  name: _\n  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: kmsgen\n")
	if err != nil {
		return nil, err
	}
	return gen, gen.PipeE(yaml.SetK8sName(name))
}

// setKMSFields writes t into the generator's kms block.
func setKMSFields(gen *yaml.RNode, t awskms.Target) error {
	var context map[string]string
	if len(t.Context) > 0 {
		context = t.Context
	}
	if err := genfile.SetKMS(gen, t.KeyID, context); err != nil {
		return err
	}
	for _, f := range [][2]string{{"region", t.Region}, {"endpoint", t.Endpoint}, {"roleArn", t.RoleARN}} {
		if f[1] == "" {
			continue
		}
		if err := gen.PipeE(yaml.Lookup("kms"), yaml.SetField(f[0], yaml.NewStringRNode(f[1]))); err != nil {
			return err
		}
	}
	return nil
}
