package envelope_test

import (
	"bytes"
	"errors"
	"fmt"

	"kmsgen.dev/kmsgen/fn/envelope"
)

// An envelope seals a payload with a data key bound to an encryption
// context; only the same key and context open it. The keys here are fake:
// in kmsgen they come from KMS GenerateDataKey.
func ExampleSeal() {
	dataKey := bytes.Repeat([]byte{0x42}, 32) // the plaintext data key
	wrapped := bytes.Repeat([]byte{0x17}, 64) // the data key as KMS wrapped it
	ctx := map[string]string{"app": "demo"}

	env, err := envelope.Seal(wrapped, dataKey, ctx, []byte("a payload over 4 KiB, in practice"))
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	text := env.Marshal()
	fmt.Println(string(text[:bytes.IndexByte(text, '\n')]))

	parsed, err := envelope.Parse(text)
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	payload, err := parsed.Open(dataKey, ctx)
	fmt.Printf("%s %v\n", payload, err)

	_, err = parsed.Open(dataKey, map[string]string{"app": "other"})
	fmt.Println(errors.Is(err, envelope.ErrAuth))
	// Output:
	// -----BEGIN KMSGEN ENVELOPE-----
	// a payload over 4 KiB, in practice <nil>
	// true
}
