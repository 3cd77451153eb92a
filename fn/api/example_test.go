package api_test

import (
	"fmt"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kmsgen.dev/kmsgen/fn/api"
)

// Decode reads a KMSSecretGenerator. Envs are paths to encrypted env files;
// literals are KEY=<base64 ciphertext of the value>.
func ExampleDecode() {
	g, err := api.Decode(yaml.MustParse(`
apiVersion: kmsgen.dev/v1alpha1
kind: KMSSecretGenerator
metadata:
  name: app-secrets
envs:
- app.env.encrypted
literals:
- API_TOKEN=AQICAHh...
kms:
  keyId: alias/myproject
  encryptionContext: {app: myproject}
`))
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println(g.Metadata.Name, g.Envs[0].Path, g.Literals, g.KMS.KeyID)
	// Output:
	// app-secrets app.env.encrypted [API_TOKEN=AQICAHh...] alias/myproject
}

// Decoding is strict: a misspelled field is an error, never silently
// ignored, and a field that differs only in case gets a suggestion.
func ExampleDecode_strict() {
	_, err := api.Decode(yaml.MustParse(`
apiVersion: kmsgen.dev/v1alpha1
kind: KMSSecretGenerator
metadata: {name: app-secrets}
kms: {keyID: alias/myproject}
`))
	fmt.Println(err)
	// Output:
	// unknown field "kms.keyID" in KMSSecretGenerator: did you mean "keyId"?
}
