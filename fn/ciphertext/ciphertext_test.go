package ciphertext

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"kmsgen.dev/kmsgen/fn/envelope"
)

// blob stands for a KMS CiphertextBlob: binary, random-looking, 72 bytes.
var blob = func() []byte {
	b := make([]byte, 72)
	for i := range b {
		b[i] = byte(i*151 + 7)
	}
	return b
}()

func TestParseAccepts(t *testing.T) {
	std := base64.StdEncoding.EncodeToString(blob)
	wrapped := ""
	for i := 0; i < len(std); i += 20 {
		wrapped += std[i:min(i+20, len(std))] + "\n"
	}
	emulatorBlob := append([]byte("Karn:aws:kms:eu-west-1:111122223333:key/x\x00\x00"), blob...)
	tests := []struct {
		name     string
		input    []byte
		allowRaw bool
		want     []byte
	}{
		{"aws CLI text output", []byte(std + "\n"), false, blob},
		{"wrapped and indented text", []byte("  " + strings.ReplaceAll(wrapped, "\n", "\r\n\t ")), false, blob},
		{"unpadded", []byte(strings.TrimRight(base64.StdEncoding.EncodeToString(blob[:71]), "=")), false, blob[:71]},
		{"URL-safe", []byte(base64.URLEncoding.EncodeToString(blob)), false, blob},
		{"URL-safe unpadded", []byte(base64.RawURLEncoding.EncodeToString(blob[:70])), false, blob[:70]},
		{"raw blob from a file", blob, true, blob},
		{"emulator blob with a readable header", emulatorBlob, true, emulatorBlob},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ct, err := Parse(tc.input, tc.allowRaw)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := ct.Blob; !bytes.Equal(got, tc.want) || ct.Envelope != nil {
				t.Errorf("Parse returned %x, want %x", got, tc.want)
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	const canary = "CANARY_PASSWORD=hunter2-is-my-password-do-not-leak"
	esdk1 := append([]byte{0x01, 0x80, 0x00, 0x78}, blob...)
	esdk2 := append([]byte{0x02, 0x05, 0x78}, blob...)
	tests := []struct {
		name     string
		input    []byte
		allowRaw bool
		want     error
	}{
		{"empty", nil, true, ErrEmpty},
		{"only whitespace", []byte(" \n\t"), true, ErrEmpty},
		{"short plaintext", []byte("hunter2"), true, ErrTooShort},
		{"short base64", []byte(base64.StdEncoding.EncodeToString([]byte("hunter2"))), false, ErrTooShort},
		{"plaintext env file", []byte(canary + "\nOTHER=value with spaces\n"), true, ErrPlainText},
		{"plaintext env file inline", []byte(canary), false, ErrNotBase64},
		{"binary inline", blob, false, ErrNotBase64},
		{"too long", []byte(base64.StdEncoding.EncodeToString(bytes.Repeat(blob, 90))), false, ErrTooLong},
		{"Encryption SDK v1 message", []byte(base64.StdEncoding.EncodeToString(esdk1)), false, ErrEncryption},
		{"Encryption SDK v2 message raw", esdk2, true, ErrEncryption},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.input, tc.allowRaw)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Parse error = %v, want %v", err, tc.want)
			}
			for _, secret := range []string{"hunter2", canary} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error quotes the input: %v", err)
				}
			}
		})
	}
}

// TestForms: Parse records the form it read, and Bytes writes the
// ciphertext back in that form (text normalised to the aws CLI's output).
func TestForms(t *testing.T) {
	std := base64.StdEncoding.EncodeToString(blob)
	env, err := envelope.Seal(blob, bytes.Repeat([]byte{7}, 32), nil, []byte("payload"))
	if err != nil {
		t.Fatal(err)
	}
	armored := env.Marshal()
	tests := []struct {
		name      string
		input     []byte
		allowRaw  bool
		form      Form
		wantBytes string
	}{
		{"aws CLI text", []byte(std + "\n"), false, Text, std + "\n"},
		{"text without newline", []byte(std), true, Text, std + "\n"},
		{"wrapped URL-safe text is written as the aws CLI does", []byte(base64.URLEncoding.EncodeToString(blob)[:40] + "\n" + base64.URLEncoding.EncodeToString(blob)[40:]), true, Text, std + "\n"},
		{"raw blob", blob, true, Raw, string(blob)},
		{"envelope", armored, true, Envelope, string(armored)},
		{"envelope indented in YAML", []byte("  " + strings.ReplaceAll(strings.TrimSpace(string(armored)), "\n", "\n  ")), false, Envelope, string(armored)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ct, err := Parse(tc.input, tc.allowRaw)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if ct.Form != tc.form {
				t.Errorf("Form = %v, want %v", ct.Form, tc.form)
			}
			if diff := cmp.Diff(tc.wantBytes, string(ct.Bytes())); diff != "" {
				t.Errorf("Bytes (-want +got):\n%s", diff)
			}
		})
	}
	if got := fmt.Sprint(Text, Raw, Envelope, Form(7)); got != "text raw envelope Form(7)" {
		t.Errorf("Form strings = %q", got)
	}
}
