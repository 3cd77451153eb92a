package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"kmsgen.dev/kmsgen/fn"
	"kmsgen.dev/kmsgen/fn/api"
	"kmsgen.dev/kmsgen/fn/awskms"
	"kmsgen.dev/kmsgen/fn/ciphertext"
	"kmsgen.dev/kmsgen/fn/encrypt"
	"kmsgen.dev/kmsgen/fn/envfile"
	"kmsgen.dev/kmsgen/fn/limits"
	"kmsgen.dev/kmsgen/internal/atomicfile"
	"kmsgen.dev/kmsgen/internal/scratch"
)

type editCmd struct {
	kms        kmsFlags
	literal    string
	noTerminal bool
}

func newEdit(ctx context.Context) *cobra.Command {
	var e editCmd
	cmd := &cobra.Command{
		Use:   "edit PATH | edit GENERATOR-FILE --literal KEY",
		Short: "Decrypt into your editor and encrypt again on save",
		Long: `edit decrypts an encrypted file that a generator names (found in the repository, whose
generator gives the key and the encryption context), or with --literal one literal of a
generator file, opens it in $VISUAL, else $EDITOR, else vi, and when the editor exits having
changed it, encrypts it again with the same key and context (an envelope over 4 KiB; a
multi-key envelope again under all its keys) and writes it atomically. Unchanged content, a failed editor or a signal write nothing.

This is the one command that puts plaintext in a file, because an editor needs one: a 0600
file in a 0700 directory of its own, on a memory-backed filesystem where there is one
($XDG_RUNTIME_DIR, /dev/shm), overwritten and removed when kmsgen exits, with whatever the
editor left beside it (swap and backup files), on every way out: saving, an unchanged file,
a failed editor, SIGTERM, SIGHUP. Only SIGKILL can leave it behind. An editor may keep
copies elsewhere by its own settings (vim's undofile and viminfo, for instance): mind them.

It needs a terminal; --no-terminal runs the editor anyway (a script as $EDITOR).`,
		Example: `  # change a value of an encrypted env file
  kmsgen edit overlays/prod/app.env.encrypted

  # change one literal of a generator
  kmsgen edit secrets.yaml --literal API_TOKEN`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{cobra.ExactArgs(1)(cmd, args)}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.run(ctx, cmd, args[0])
		},
	}
	cmd.Flags().StringVar(&e.literal, "literal", "", "edit this literal of GENERATOR-FILE")
	cmd.Flags().BoolVar(&e.noTerminal, "no-terminal", false, "run the editor without a terminal (a script as $EDITOR)")
	e.kms.add(cmd)
	return cmd
}

// editTarget is what is edited: its ciphertext and how to save a new
// plaintext.
type editTarget struct {
	name     string // for the scratch file, so the editor can tell its type
	settings api.KMS
	ct       ciphertext.Ciphertext
	env      bool // an env file: the edited text must parse as one
	literal  bool
	save     func(ctx context.Context, kms *awskms.Client, plaintext []byte) error
}

func (e *editCmd) run(ctx context.Context, cmd *cobra.Command, path string) error {
	given, err := e.kms.settings()
	if err != nil {
		return err
	}
	if !e.noTerminal && !(isTerminal(os.Stdin) && isTerminal(os.Stdout)) {
		return usageError{errors.New("edit opens an editor and needs a terminal (stdin and stdout); --no-terminal runs the editor anyway")}
	}
	t, err := e.target(ctx, path, given)
	if err != nil {
		return err
	}
	keys := t.ct.KeyARNs() // a multi-key envelope is encrypted again under all its keys
	if t.settings.KeyID == "" && keys == nil {
		return usageError{fmt.Errorf("%s: the generator names no kms.keyId, so kmsgen cannot tell which key to encrypt the edit under: give --key-id", path)}
	}
	kms, err := newKMS(cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	plaintext, err := fn.Open(ctx, kms, t.settings, t.ct)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer clear(plaintext)
	f, err := scratch.New(t.name, plaintext)
	if err != nil {
		return err
	}
	defer f.Remove()
	stderr := cmd.ErrOrStderr()
	if !f.Memory {
		fmt.Fprintf(stderr, "kmsgen: warning: no memory-backed directory ($XDG_RUNTIME_DIR, /dev/shm): the plaintext is in %s, on disk, until the editor exits\n", f.Dir)
	}
	edited, err := runEditor(f.Path)
	if err != nil {
		return fmt.Errorf("%w; %s was not changed", err, path)
	}
	defer clear(edited)
	if t.literal && !bytes.HasSuffix(plaintext, []byte("\n")) {
		edited = bytes.TrimSuffix(edited, []byte("\n")) // the one an editor adds at the end
	}
	if bytes.Equal(edited, plaintext) {
		fmt.Fprintf(stderr, "kmsgen: %s unchanged; nothing written\n", path)
		return nil
	}
	if err := t.check(edited); err != nil {
		return fmt.Errorf("%s: %w; nothing was written", path, err)
	}
	// The editor phase may have seen a SIGINT meant for the editor (and
	// cancelling ctx): the save has its own.
	saveCtx, stop := signal.NotifyContext(context.WithoutCancel(ctx), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	if err := t.save(saveCtx, kms, edited); err != nil {
		return fmt.Errorf("%s: %w; nothing was written", path, err)
	}
	under := t.settings.KeyID
	if keys != nil {
		under = strings.Join(keys, ", ")
	}
	fmt.Fprintf(stderr, "kmsgen: encrypted %s again under %s\n", path, under)
	return nil
}

// target finds what path (and e.literal) name, and its settings.
func (e *editCmd) target(ctx context.Context, path string, given api.KMS) (*editTarget, error) {
	if e.literal != "" {
		l, err := encrypt.ForLiteral(path, e.literal, given)
		if err != nil {
			return nil, err
		}
		text, ok := l.Current()
		if !ok {
			return nil, fmt.Errorf("%s has no literal %s: kmsgen encrypt --generator %s --literal %s sets a new one", path, e.literal, path, e.literal)
		}
		ct, err := ciphertext.Parse([]byte(text), false)
		if err != nil {
			return nil, fmt.Errorf("%s: literal %s: %w", path, e.literal, err)
		}
		l.Keys = ct.KeyARNs()
		return &editTarget{name: e.literal, settings: l.KMS, ct: ct, literal: true,
			save: func(ctx context.Context, kms *awskms.Client, p []byte) error { return l.Set(ctx, kms, p) }}, nil
	}
	sf, err := encrypt.ForFile(ctx, path, given)
	if err != nil {
		return nil, err
	}
	data, err := limits.ReadFile(path, limits.Ciphertext)
	if err != nil {
		return nil, err
	}
	ct, err := ciphertext.Parse(data, true)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	return &editTarget{name: strings.TrimSuffix(filepath.Base(path), ".encrypted"), settings: sf.KMS, ct: ct, env: sf.Env,
		save: func(ctx context.Context, kms *awskms.Client, p []byte) error {
			text, err := encrypt.TextKeys(ctx, kms, sf.KMS, ct.KeyARNs(), p)
			if err != nil {
				return err
			}
			return atomicfile.Write(path, text, info.Mode().Perm())
		}}, nil
}

// check refuses an edit the generator could not use.
func (t *editTarget) check(plaintext []byte) error {
	if len(plaintext) == 0 {
		return errors.New("the edited content is empty")
	}
	if t.env {
		if _, err := envfile.Parse(plaintext); err != nil {
			return fmt.Errorf("the edited env file does not parse: %w", err)
		}
	}
	return nil
}

// runEditor runs $VISUAL, else $EDITOR, else vi, on path, as git runs an
// editor (through sh, so that the variable may hold arguments), and
// returns what it saved. SIGTERM and SIGHUP stop the editor and fail;
// SIGINT and SIGQUIT belong to the editor while it runs.
func runEditor(path string) ([]byte, error) {
	editor := os.Getenv("VISUAL")
	if editor == "" {
		editor = os.Getenv("EDITOR")
	}
	if editor == "" {
		editor = "vi"
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(stop)
	cmd := exec.Command("sh", "-c", editor+` "$1"`, "kmsgen-editor", path)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the editor %q: %w", editor, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return nil, fmt.Errorf("the editor %q failed: %w", editor, err)
		}
	case sig := <-stop:
		cmd.Process.Signal(syscall.SIGTERM)
		<-done
		return nil, fmt.Errorf("stopped by %v while the editor ran", sig)
	}
	return os.ReadFile(path)
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }
