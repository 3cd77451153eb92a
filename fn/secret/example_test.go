package secret_test

import (
	"fmt"

	"sigs.k8s.io/kustomize/api/types"

	"kmsgen.dev/kmsgen/fn/secret"
)

// Build writes the Secret exactly as kustomize's secretGenerator would from
// the same plaintext: base64 data with sorted keys, then the options. Label
// values are quoted because kyaml's SetLabel, which kustomize also uses, tags
// them as strings.
func ExampleBuild() {
	rn, err := secret.Build(secret.Spec{
		Name:      "app-secrets",
		Namespace: "prod",
		Data:      map[string]string{"DB_USER": "app", "DB_PASSWORD": "hunter2"},
		Options:   &types.GeneratorOptions{Labels: map[string]string{"team": "payments"}},
	})
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Print(rn.MustString())
	// Output:
	// apiVersion: v1
	// kind: Secret
	// metadata:
	//   name: app-secrets
	//   namespace: prod
	//   labels:
	//     team: 'payments'
	// type: Opaque
	// data:
	//   DB_PASSWORD: aHVudGVyMg==
	//   DB_USER: YXBw
}

// HashedName appends kustomize's content hash, so the name changes whenever
// the data does and workloads roll to the new Secret.
func ExampleHashedName() {
	rn, err := secret.Build(secret.Spec{
		Name: "app-secrets",
		Data: map[string]string{"DB_PASSWORD": "hunter2"},
	})
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	name, err := secret.HashedName(rn)
	fmt.Println(name, err)
	// Output:
	// app-secrets-b6mkfm84t6 <nil>
}
