package envelope

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
)

var (
	dataKey = bytes.Repeat([]byte{7}, 32)
	wrapped = bytes.Repeat([]byte{9}, 184) // stands for the KMS ciphertext of dataKey
	ctx     = map[string]string{"app": "myproject", "env": "prod"}
)

func seal(t *testing.T, plaintext []byte) *Envelope {
	t.Helper()
	e, err := Seal(wrapped, dataKey, ctx, plaintext)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestRoundTrip(t *testing.T) {
	for _, size := range []int{1, 63, 64, 65, 4097, 1 << 20} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			plaintext := make([]byte, size)
			if _, err := rand.Read(plaintext); err != nil {
				t.Fatal(err)
			}
			text := seal(t, plaintext).Marshal()
			if !IsEnvelope(text) {
				t.Fatal("IsEnvelope is false for an envelope")
			}
			e, err := Parse(text)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(e.Keys) != 1 || e.Keys[0].KeyARN != "" || !bytes.Equal(e.Keys[0].Blob, wrapped) {
				t.Error("the wrapped data key did not survive")
			}
			got, err := e.Open(dataKey, map[string]string{"env": "prod", "app": "myproject"})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if !bytes.Equal(got, plaintext) {
				t.Error("the plaintext did not survive")
			}
		})
	}
}

func TestFormat(t *testing.T) {
	text := string(seal(t, []byte(strings.Repeat("x", 100))).Marshal())
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	wantPrefixes := []string{Begin, "Version: 1", "Data-Key: ", "Nonce: ", "Tag: ", "Check: ", ""}
	for i, p := range wantPrefixes {
		if !strings.HasPrefix(lines[i], p) || (p == "" && lines[i] != "") {
			t.Errorf("line %d = %q, want it to start with %q", i+1, lines[i], p)
		}
	}
	if lines[len(lines)-1] != End {
		t.Errorf("last line = %q", lines[len(lines)-1])
	}
	for _, l := range lines[len(wantPrefixes) : len(lines)-1] {
		if len(l) > lineWidth {
			t.Errorf("body line of %d characters, want at most %d", len(l), lineWidth)
		}
	}
	// Indented, as in a YAML block scalar, with CRLF line ends.
	indented := "  " + strings.ReplaceAll(text, "\n", "\r\n  ")
	if _, err := Parse([]byte(indented)); err != nil {
		t.Errorf("an indented envelope: %v", err)
	}
}

// tamper returns the envelope text with one line changed by edit.
func tamper(text, prefix string, edit func(string) string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, prefix) {
			lines[i] = edit(l)
			break
		}
	}
	return strings.Join(lines, "\n")
}

// flip changes the first byte of the base64 value after the prefix.
func flip(prefix string) func(string) string {
	return func(line string) string {
		b, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(line, prefix))
		b[0] ^= 0x80
		return prefix + base64.StdEncoding.EncodeToString(b)
	}
}

// otherBase64Char is a base64 character other than c: replacing a body's
// first character with it always changes the body (a case change alone may
// not, when the characters have no case).
func otherBase64Char(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

func TestTampering(t *testing.T) {
	e := seal(t, []byte("CANARY-envelope-plaintext "+strings.Repeat("y", 200)))
	text := string(e.Marshal())
	bodyLine := strings.Split(text, "\n")[7]

	// consistent rewrites the body and fixes its checksum: only GCM notices.
	consistent := func() string {
		altered := *e
		altered.Body = append([]byte(nil), e.Body...)
		altered.Body[0] ^= 1
		return string(altered.Marshal())
	}
	tests := []struct {
		name string
		text string
		want error
	}{
		{"armor removed", strings.Replace(text, Begin+"\n", "", 1), ErrHeader},
		{"unknown field", tamper(text, "Tag: ", func(l string) string { return l + "\nColor: blue" }), ErrHeader},
		{"field missing", tamper(text, "Check: ", func(string) string { return "" }), ErrHeader},
		{"newer version", tamper(text, "Version: ", func(string) string { return "Version: 3" }), ErrVersion},
		{"version 2 without a key ARN", tamper(text, "Version: ", func(string) string { return "Version: 2" }), ErrDataKey},
		{"a plaintext as the version", tamper(text, "Version: ", func(string) string { return "Version: CANARY-hunter2" }), ErrVersion},
		{"a plaintext as a header line", tamper(text, "Tag: ", func(l string) string { return l + "\nCANARY-hunter2: x" }), ErrHeader},
		{"a plaintext line without a colon", tamper(text, "Tag: ", func(l string) string { return l + "\nCANARY-hunter2" }), ErrHeader},
		{"a field twice", tamper(text, "Tag: ", func(l string) string { return l + "\nTag: CANARY-hunter2" }), ErrHeader},
		{"data key not base64", tamper(text, "Data-Key: ", func(l string) string { return l + "!!" }), ErrDataKey},
		{"nonce altered", tamper(text, "Nonce: ", flip("Nonce: ")), ErrNonce},
		{"nonce truncated", tamper(text, "Nonce: ", func(l string) string { return l[:len(l)-4] }), ErrNonce},
		{"tag altered", tamper(text, "Tag: ", flip("Tag: ")), ErrTag},
		{"body altered", strings.Replace(text, bodyLine, otherBase64Char(bodyLine[0])+bodyLine[1:], 1), ErrBody},
		{"body line lost", strings.Replace(text, bodyLine+"\n", "", 1), ErrBody},
		{"altered with checksums fixed", consistent(), ErrAuth},
	}
	seen := map[string]string{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Parse([]byte(tc.text))
			if err == nil {
				_, err = e.Open(dataKey, ctx)
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("error = %v, want %v", err, tc.want)
			}
			if strings.Contains(err.Error(), "CANARY") {
				t.Errorf("the error quotes the plaintext: %v", err)
			}
			seen[tc.want.Error()] = tc.name
		})
	}
	if len(seen) != 7 {
		t.Errorf("%d distinct errors, want one per part (7): %v", len(seen), seen)
	}
}

func TestOpenWithAnotherContextOrKey(t *testing.T) {
	e := seal(t, []byte("secret"))
	if _, err := e.Open(dataKey, map[string]string{"app": "other"}); !errors.Is(err, ErrAuth) {
		t.Errorf("another context: %v, want ErrAuth", err)
	}
	if _, err := e.Open(dataKey, nil); !errors.Is(err, ErrAuth) {
		t.Errorf("no context: %v, want ErrAuth", err)
	}
	other := bytes.Repeat([]byte{8}, 32)
	if _, err := e.Open(other, ctx); !errors.Is(err, ErrAuth) {
		t.Errorf("another data key: %v, want ErrAuth", err)
	}
	if _, err := Seal(wrapped, dataKey[:16], ctx, []byte("x")); err == nil {
		t.Error("Seal accepted a 16-byte key")
	}
}

func TestNilAndEmptyContextAreTheSame(t *testing.T) {
	e, err := Seal(wrapped, dataKey, nil, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Open(dataKey, map[string]string{}); err != nil {
		t.Errorf("sealed with nil, opened with {}: %v", err)
	}
}
