package envelope

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	arnA = "arn:aws:kms:eu-west-1:111122223333:key/11111111-1111-1111-1111-111111111111"
	arnB = "arn:aws:kms:us-east-1:444455556666:key/22222222-2222-2222-2222-222222222222"
)

var wrappedB = bytes.Repeat([]byte{10}, 180)

// multi is an envelope with the data key wrapped under arnA and arnB.
func multi(t *testing.T, plaintext []byte) *Envelope {
	t.Helper()
	e := seal(t, plaintext)
	return e.WithKeys([]WrappedKey{{KeyARN: arnA, Blob: wrapped}, {KeyARN: arnB, Blob: wrappedB}})
}

// TestVersions: one unrecorded key is written as version 1, anything else
// as version 2, with one Data-Key line per key in order; both read back.
func TestVersions(t *testing.T) {
	body := []byte("CANARY-multikey " + strings.Repeat("z", 300))
	one := seal(t, body)
	cases := []struct {
		name        string
		keys        []WrappedKey
		wantVersion int
		wantLines   []string
	}{
		{"one key, not recorded", []WrappedKey{{Blob: wrapped}}, Version1,
			[]string{"Version: 1", "Data-Key: CQkJ"}},
		{"one key, recorded", []WrappedKey{{KeyARN: arnA, Blob: wrapped}}, Version2,
			[]string{"Version: 2", "Data-Key: " + arnA + " CQkJ"}},
		{"two keys", []WrappedKey{{KeyARN: arnA, Blob: wrapped}, {KeyARN: arnB, Blob: wrappedB}}, Version2,
			[]string{"Version: 2", "Data-Key: " + arnA + " CQkJ", "Data-Key: " + arnB + " CgoK"}},
		{"two keys, the other order", []WrappedKey{{KeyARN: arnB, Blob: wrappedB}, {KeyARN: arnA, Blob: wrapped}}, Version2,
			[]string{"Version: 2", "Data-Key: " + arnB + " CgoK", "Data-Key: " + arnA + " CQkJ"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := one.WithKeys(tc.keys)
			if got := e.Version(); got != tc.wantVersion {
				t.Errorf("Version() = %d, want %d", got, tc.wantVersion)
			}
			text := string(e.Marshal())
			lines := strings.Split(text, "\n")[1:]
			for i, want := range tc.wantLines {
				if !strings.HasPrefix(lines[i], want) {
					t.Errorf("line %d = %.60q…, want it to start with %q", i+2, lines[i], want)
				}
			}
			back, err := Parse([]byte(text))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.keys, back.Keys); diff != "" {
				t.Errorf("keys (-want +got):\n%s", diff)
			}
			if !bytes.Equal(back.Body, one.Body) || !bytes.Equal(back.Nonce, one.Nonce) || !bytes.Equal(back.Tag, one.Tag) {
				t.Error("the nonce, tag or body changed with the keys")
			}
			got, err := back.Open(dataKey, ctx)
			if err != nil || !bytes.Equal(got, body) {
				t.Errorf("Open: %v", err)
			}
		})
	}
}

// TestBodyUnchangedByKeys: adding or removing keys changes the key lines
// only; every other line of the text is the same bytes.
func TestBodyUnchangedByKeys(t *testing.T) {
	e := seal(t, bytes.Repeat([]byte("p"), 5000))
	v1 := string(e.Marshal())
	two := string(e.WithKeys([]WrappedKey{{KeyARN: arnA, Blob: wrapped}, {KeyARN: arnB, Blob: wrappedB}}).Marshal())
	after := func(text string) string { return text[strings.Index(text, "\nNonce: "):] }
	if after(v1) != after(two) {
		t.Error("the nonce, tag, check or body lines differ between one and two keys")
	}
}

func TestMultiKeyMalformed(t *testing.T) {
	text := string(multi(t, []byte("CANARY-hunter2 payload")).Marshal())
	cases := []struct {
		name string
		text string
		want error
	}{
		{"no ARN", tamper(text, "Data-Key: "+arnB, func(l string) string { return "Data-Key: " + l[len("Data-Key: "+arnB+" "):] }), ErrDataKey},
		{"an alias ARN", strings.Replace(text, arnB, "arn:aws:kms:us-east-1:444455556666:alias/dr", 1), ErrDataKey},
		{"an ARN without region", strings.Replace(text, arnB, "arn:aws:kms::444455556666:key/x", 1), ErrDataKey},
		{"another service", strings.Replace(text, arnB, "arn:aws:s3:us-east-1:444455556666:key/x", 1), ErrDataKey},
		{"a plaintext as the ARN", strings.Replace(text, arnB, "CANARY-hunter2", 1), ErrDataKey},
		{"a key twice", strings.Replace(text, arnB, arnA, 1), ErrDataKey},
		{"blob not base64", tamper(text, "Data-Key: "+arnB, func(l string) string { return l + "!!" }), ErrDataKey},
		{"no key", tamper(tamper(text, "Data-Key: "+arnB, func(string) string { return "" }), "Data-Key: "+arnA, func(string) string { return "" }), ErrHeader},
		{"version 1 with two keys", strings.Replace(text, "Version: 2", "Version: 1", 1), ErrHeader},
		{"too many keys", tamper(text, "Data-Key: "+arnB, func(l string) string {
			var b strings.Builder
			for i := range MaxKeys {
				b.WriteString(strings.Replace(l, "2222-222222222222", "2222-22222222222"+string(rune('a'+i)), 1) + "\n")
			}
			return strings.TrimSuffix(b.String(), "\n")
		}), ErrHeader},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.text))
			if !errors.Is(err, tc.want) {
				t.Fatalf("error = %v, want %v", err, tc.want)
			}
			if strings.Contains(err.Error(), "CANARY") || strings.Contains(err.Error(), "444455556666") {
				t.Errorf("the error quotes the input: %v", err)
			}
		})
	}
}

func TestIsKeyARN(t *testing.T) {
	for s, want := range map[string]bool{
		arnA: true, arnB: true,
		"arn:aws-cn:kms:cn-north-1:111122223333:key/mrk-1234": true,
		"arn:aws:kms:eu-west-1:111122223333:alias/x":          false,
		"alias/x":                                 false,
		"11111111-1111-1111-1111-111111111111":    false,
		"arn:aws:kms:eu-west-1:111122223333:key/": false,
	} {
		if got := IsKeyARN(s); got != want {
			t.Errorf("IsKeyARN(%q) = %v, want %v", s, got, want)
		}
	}
	if got := KeyRegion(arnB); got != "us-east-1" {
		t.Errorf("KeyRegion = %q", got)
	}
}
