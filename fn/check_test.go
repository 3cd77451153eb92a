package fn_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kmsgen.dev/kmsgen/fn"
	"kmsgen.dev/kmsgen/fn/awskms"
	"kmsgen.dev/kmsgen/fn/envelope"
	"kmsgen.dev/kmsgen/internal/fakekms"
)

// kmsLog records the Decrypt calls the fake receives, real and dry run,
// and passes each to an optional fault.
type kmsLog struct {
	mu        sync.Mutex
	real, dry int
	dryBlobs  [][]byte
}

func (l *kmsLog) install(fake *fakekms.Server, fault fakekms.FaultFunc) {
	fake.SetFault(func(call fakekms.Call) *fakekms.Fault {
		if call.Operation == "Decrypt" {
			l.mu.Lock()
			if call.DryRun {
				l.dry++
				l.dryBlobs = append(l.dryBlobs, call.Ciphertext)
			} else {
				l.real++
			}
			l.mu.Unlock()
		}
		if fault != nil {
			return fault(call)
		}
		return nil
	})
}

func (l *kmsLog) counts() (real, dry int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.real, l.dry
}

// seal returns the text of an envelope of plaintext whose data key is
// wrapped by the fake under alias/app with context ctx ("k=v" or ""), and
// the wrapped data key.
func seal(c *failureCase, ctx, plaintext string) (string, []byte) {
	c.t.Helper()
	c.plaintexts = append(c.plaintexts, plaintext)
	var context map[string]string
	if k, v, ok := strings.Cut(ctx, "="); ok {
		context = map[string]string{k: v}
	}
	dataKey := make([]byte, 32)
	if _, err := rand.Read(dataKey); err != nil {
		c.t.Fatal(err)
	}
	wrapped := c.fake.Encrypt(keyApp, context, dataKey)
	env, err := envelope.Seal(wrapped, dataKey, context, []byte(plaintext))
	if err != nil {
		c.t.Fatal(err)
	}
	return string(env.Marshal()), wrapped
}

// fourSources is a body with an env file, a literal, a file and an
// envelope (a payload over KMS's 4096 bytes), all encrypted with context
// ctx and holding the canary, and then kms.
func fourSources(c *failureCase, ctx, kms string) string {
	big, _ := seal(c, ctx, strings.Repeat("x", 5000)+canary)
	c.write("big.pem.encrypted", big)
	return threeSources(c, ctx, "") + "- big.pem.encrypted\n" + kms
}

// input decodes a generator named app-secrets with body, from
// generator.yaml in the case's root, as kmsgen check does.
func input(c *failureCase, body string) (fn.Input, error) {
	rn, err := yaml.Parse("apiVersion: kmsgen.dev/v1alpha1\nkind: KMSSecretGenerator\nmetadata:\n  name: app-secrets\n" + body)
	if err != nil {
		c.t.Fatal(err)
	}
	return fn.NewInput(rn, c.root, "generator.yaml")
}

func TestCheck(t *testing.T) {
	deny := func(dryRun bool) fakekms.FaultFunc {
		return func(call fakekms.Call) *fakekms.Fault {
			if call.DryRun != dryRun {
				return nil
			}
			return &fakekms.Fault{Code: "AccessDeniedException", Message: "not allowed"}
		}
	}
	// failReal fails any real Decrypt, so that a dry run that decrypts fails.
	failReal := deny(false)
	// failAll fails every Decrypt, dry or not, so that an offline check that calls fails.
	failAll := func(call fakekms.Call) *fakekms.Fault {
		if call.Operation != "Decrypt" {
			return nil
		}
		return &fakekms.Fault{Code: "AccessDeniedException", Message: "offline"}
	}
	tests := []struct {
		name  string
		mode  fn.CheckMode
		fault fakekms.FaultFunc
		body  func(c *failureCase) string
		// fields are the field paths of the failures, in order; nil means Check passes.
		fields  []string
		mention []string
		// real and dry are the Decrypt calls the fake must get.
		real, dry int
	}{
		{name: "env file, literal, file and envelope",
			body: func(c *failureCase) string { return fourSources(c, "app=a", "kms:\n  encryptionContext: {app: a}\n") },
			real: 4},
		{name: "dry run: env file, literal, file and envelope", mode: fn.CheckDryRun, fault: failReal,
			body: func(c *failureCase) string { return fourSources(c, "app=a", "kms:\n  encryptionContext: {app: a}\n") },
			dry:  4},
		{name: "same ciphertext twice is asked once", mode: fn.CheckDryRun, fault: failReal,
			body: func(c *failureCase) string {
				ct := c.encrypt("", canary)
				return "literals:\n- A=" + ct + "\n- B=" + ct + "\n"
			},
			dry: 1},
		{name: "wrong encryption context",
			body: func(c *failureCase) string {
				return fourSources(c, "app=a", "kms:\n  encryptionContext: {app: other}\n")
			},
			fields: []string{"envs[0]", "literals[0]", "files[0]", "files[1]"},
			mention: []string{`KMSSecretGenerator "app-secrets": KMS could not decrypt it (InvalidCiphertextException)`,
				`kms.encryptionContext: {"app":"other"}`,
				`(4 sources: envs[0] "app.env.encrypted", literals[0] (inline) (key "TOKEN"), files[0] "tls.key.encrypted" (key "tls.key") and files[1] "big.pem.encrypted" (key "big.pem"))`},
			real: 4},
		{name: "dry run: wrong encryption context", mode: fn.CheckDryRun, fault: failReal,
			body: func(c *failureCase) string {
				return threeSources(c, "app=a", "kms:\n  encryptionContext: {app: other}\n")
			},
			fields:  allThree,
			mention: []string{"InvalidCiphertextException", `kms.encryptionContext: {"app":"other"}`},
			dry:     3},
		{name: "missing file, valid literal not sent",
			body: func(c *failureCase) string {
				return "envs:\n- missing.env.encrypted\nliterals:\n- TOKEN=" + c.encrypt("", canary) + "\n"
			},
			fields: []string{"envs[0]"}, mention: []string{`envs[0] "missing.env.encrypted": reading the ciphertext`, "no such file"}},
		{name: "plaintext committed",
			body: func(c *failureCase) string {
				c.plaintexts = append(c.plaintexts, "DB_PASSWORD="+canary+"\n")
				c.write("app.env.encrypted", "DB_PASSWORD="+canary+"\n")
				return "envs:\n- app.env.encrypted\n"
			},
			fields: []string{"envs[0]"}, mention: []string{"was the plaintext committed", "It was not sent to KMS"}},
		{name: "dry run: plaintext committed", mode: fn.CheckDryRun, fault: failReal,
			body: func(c *failureCase) string {
				c.plaintexts = append(c.plaintexts, "DB_PASSWORD="+canary+"\n")
				c.write("app.env.encrypted", "DB_PASSWORD="+canary+"\n")
				return "envs:\n- app.env.encrypted\n"
			},
			fields: []string{"envs[0]"}, mention: []string{"was the plaintext committed"}},
		{name: "offline: plaintext committed", mode: fn.CheckOffline, fault: failAll,
			body: func(c *failureCase) string {
				c.plaintexts = append(c.plaintexts, "DB_PASSWORD="+canary+"\n")
				c.write("app.env.encrypted", "DB_PASSWORD="+canary+"\n")
				return "envs:\n- app.env.encrypted\n"
			},
			fields: []string{"envs[0]"}, mention: []string{"was the plaintext committed"}},
		{name: "offline: a literal that is not a ciphertext", mode: fn.CheckOffline, fault: failAll,
			body: func(c *failureCase) string {
				c.plaintexts = append(c.plaintexts, canary+"-not-base64!")
				return "literals:\n- PASSWORD=" + canary + "-not-base64!\n"
			},
			fields: []string{"literals[0]"}, mention: []string{`literals[0] (inline) (key "PASSWORD"): not base64 text`}},
		{name: "offline decrypts nothing: env file, literal, file and envelope under a wrong context pass", mode: fn.CheckOffline, fault: failAll,
			body: func(c *failureCase) string { return fourSources(c, "app=a", "kms:\n  encryptionContext: {app: b}\n") }},
		{name: "invalid key in a decrypted env file",
			body: func(c *failureCase) string {
				c.write("app.env.encrypted", c.encrypt("", "A=1\n"+canary+" has spaces=1\n"))
				return "envs:\n- app.env.encrypted\n"
			},
			fields: []string{"envs[0]"}, mention: []string{`envs[0] "app.env.encrypted" line 2: invalid Secret key`}, real: 1},
		{name: "dry run does not look inside: invalid key in a decrypted env file passes", mode: fn.CheckDryRun, fault: failReal,
			body: func(c *failureCase) string {
				c.write("app.env.encrypted", c.encrypt("", "A=1\n"+canary+" has spaces=1\n"))
				return "envs:\n- app.env.encrypted\n"
			},
			dry: 1},
		{name: "key repeated across env file and literal",
			body: func(c *failureCase) string {
				c.write("app.env.encrypted", c.encrypt("", "TOKEN="+canary+"\n"))
				return "envs:\n- app.env.encrypted\nliterals:\n- TOKEN=" + c.encrypt("", "other-"+canary) + "\n"
			},
			fields: []string{"literals[0]"}, mention: []string{`key "TOKEN" repeats the key from envs[0] "app.env.encrypted" line 1`}, real: 2},
		{name: "invalid literal key",
			body:   func(c *failureCase) string { return "literals:\n- bad key=" + c.encrypt("", canary) + "\n" },
			fields: []string{"literals[0]"}, mention: []string{`literals[0]: key "bad key": key may contain only letters`}},
		{name: "path escaping the root",
			body: func(c *failureCase) string {
				c.write("../outside.encrypted", c.encrypt("", canary))
				return "files:\n- ../outside.encrypted\n"
			},
			fields: []string{"files[0]"}, mention: []string{`files[0] "../outside.encrypted" (key "outside"): the path leaves the kustomization root`}},
		{name: "symlink leading outside the root",
			body: func(c *failureCase) string {
				c.write("../outside.encrypted", c.encrypt("", canary))
				if err := os.Symlink(filepath.Join(c.dir, "outside.encrypted"), filepath.Join(c.root, "link.encrypted")); err != nil {
					c.t.Fatal(err)
				}
				return "files:\n- link.encrypted\n"
			},
			fields: []string{"files[0]"}, mention: []string{"may not lead outside it, symlinks included"}},
		{name: "damaged envelope",
			body: func(c *failureCase) string {
				big, _ := seal(c, "", strings.Repeat("y", 5000)+canary)
				lines := strings.Split(big, "\n")
				lines[7] = strings.Repeat("A", len(lines[7])) // a body line
				c.write("big.pem.encrypted", strings.Join(lines, "\n"))
				return "files:\n- big.pem.encrypted\n"
			},
			fields: []string{"files[0]"}, mention: []string{"envelope body was altered"}},
		{name: "unknown field",
			body:   func(c *failureCase) string { return "envz:\n- app.env.encrypted\n" },
			fields: []string{"envz"}, mention: []string{`unknown field "envz"`}},
		{name: "access denied",
			fault:  deny(false),
			body:   func(c *failureCase) string { return threeSources(c, "", "kms:\n  keyId: alias/app\n") },
			fields: allThree, mention: []string{"access denied: kms:Decrypt on key alias/app in region eu-west-1", "AccessDeniedException: not allowed"},
			real: 3},
		{name: "dry run: access denied", mode: fn.CheckDryRun,
			fault:  deny(true),
			body:   func(c *failureCase) string { return threeSources(c, "", "kms:\n  keyId: alias/app\n") },
			fields: allThree, mention: []string{"access denied: kms:Decrypt on key alias/app in region eu-west-1", "AccessDeniedException: not allowed"},
			dry: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			c := &failureCase{t: t, fake: newFake(t), dir: dir, root: filepath.Join(dir, "root")}
			c.write("kustomization.yaml", "generators: [generator.yaml]\n")
			var log kmsLog
			log.install(c.fake, tc.fault)
			in, err := input(c, tc.body(c))
			invalid := err != nil
			if !invalid {
				errs := newGenerator(awskms.Options{}).Check(t.Context(), []fn.Input{in}, tc.mode)
				if len(errs) != 1 {
					t.Fatalf("Check returned %d errors for 1 input", len(errs))
				}
				err = errs[0]
			}
			var fields []string
			if err != nil {
				var es fn.Errors
				if !errors.As(err, &es) {
					t.Fatalf("error %v is a %T, not fn.Errors", err, err)
				}
				for _, e := range es {
					fields = append(fields, e.Field)
					if !strings.HasPrefix(e.Error(), `generator.yaml: KMSSecretGenerator "app-secrets": `) {
						t.Errorf("%q does not start by naming the file and the generator", e.Error())
					}
				}
				for _, m := range tc.mention {
					if !strings.Contains(err.Error(), m) {
						t.Errorf("error does not mention %q:\n%v", m, err)
					}
				}
				if leak := findLeak(err.Error(), c.plaintexts); leak != "" {
					t.Errorf("the error holds %s:\n%v", leak, err)
				}
			}
			if diff := cmp.Diff(tc.fields, fields); diff != "" {
				t.Errorf("failing fields (-want +got):\n%s\nerror: %v", diff, err)
			}
			if real, dry := log.counts(); real != tc.real || dry != tc.dry {
				t.Errorf("Decrypt calls: %d real, %d dry run; want %d and %d", real, dry, tc.real, tc.dry)
			}
			if tc.mode != fn.CheckDecrypt || invalid {
				return
			}
			// Without dry run, Check says exactly what Generate says.
			_, genErr := newGenerator(awskms.Options{}).Generate(t.Context(), []fn.Input{in})
			if fmt.Sprint(genErr) != fmt.Sprint(err) {
				t.Errorf("Check and Generate disagree:\nCheck:    %v\nGenerate: %v", err, genErr)
			}
		})
	}
}

// TestCheckInputsAreIndependent: a failing input neither hides nor stops
// the others, which share one batch of KMS calls.
func TestCheckInputsAreIndependent(t *testing.T) {
	dir := t.TempDir()
	c := &failureCase{t: t, fake: newFake(t), dir: dir, root: filepath.Join(dir, "root")}
	var log kmsLog
	log.install(c.fake, nil)
	shared := c.encrypt("", "shared-"+canary)
	bodies := []string{
		"literals:\n- A=" + shared + "\n",
		"envs:\n- missing.env.encrypted\nliterals:\n- B=" + c.encrypt("", canary) + "\n",
		"literals:\n- C=" + c.encrypt("app=a", canary) + "\n",
		"literals:\n- D=" + shared + "\n- E=" + c.encrypt("", "e-"+canary) + "\n",
	}
	var inputs []fn.Input
	for _, b := range bodies {
		in, err := input(c, b)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, in)
	}
	var got []string
	for _, err := range newGenerator(awskms.Options{}).Check(t.Context(), inputs, fn.CheckDecrypt) {
		if err == nil {
			got = append(got, "ok")
			continue
		}
		if leak := findLeak(err.Error(), c.plaintexts); leak != "" {
			t.Errorf("the error holds %s:\n%v", leak, err)
		}
		got = append(got, strings.SplitN(err.Error(), ": ", 4)[2])
	}
	want := []string{"ok", `envs[0] "missing.env.encrypted"`, "literals[0] (inline) (key \"C\")", "ok"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("per input (-want +got):\n%s", diff)
	}
	// The missing file keeps its own input from KMS; the shared ciphertext
	// is decrypted once.
	if real, dry := log.counts(); real != 3 || dry != 0 {
		t.Errorf("Decrypt calls: %d real, %d dry run; want 3 and 0", real, dry)
	}
}

// TestCheckDryRunAsksForTheDataKey: for an envelope, the dry run asks KMS
// about the wrapped data key, the only part KMS can decrypt.
func TestCheckDryRunAsksForTheDataKey(t *testing.T) {
	dir := t.TempDir()
	c := &failureCase{t: t, fake: newFake(t), dir: dir, root: filepath.Join(dir, "root")}
	var log kmsLog
	log.install(c.fake, nil)
	big, wrapped := seal(c, "app=a", strings.Repeat("z", 5000)+canary)
	c.write("big.pem.encrypted", big)
	in, err := input(c, "files:\n- big.pem.encrypted\nkms:\n  encryptionContext: {app: a}\n")
	if err != nil {
		t.Fatal(err)
	}
	if errs := newGenerator(awskms.Options{}).Check(t.Context(), []fn.Input{in}, fn.CheckDryRun); errs[0] != nil {
		t.Fatalf("Check: %v", errs[0])
	}
	if real, dry := log.counts(); real != 0 || dry != 1 || !bytes.Equal(log.dryBlobs[0], wrapped) {
		t.Errorf("Decrypt calls: %d real, %d dry run (of the data key: %v); want 0 and 1 of the data key", real, dry,
			dry == 1 && bytes.Equal(log.dryBlobs[0], wrapped))
	}
}

// TestCheckNoInputs: nothing to check is no KMS call and no error.
func TestCheckNoInputs(t *testing.T) {
	fake := newFake(t)
	for _, mode := range []fn.CheckMode{fn.CheckDecrypt, fn.CheckDryRun, fn.CheckOffline} {
		if errs := newGenerator(awskms.Options{}).Check(t.Context(), nil, mode); len(errs) != 0 {
			t.Errorf("mode %v: %d errors for no input", mode, len(errs))
		}
	}
	if n := fake.Calls("Decrypt"); n != 0 {
		t.Errorf("%d Decrypt calls", n)
	}
}
