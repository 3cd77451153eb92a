// Command trivialfn is the least a Go exec function can do: read the
// ResourceList and emit one Secret named after its input. The bench times
// it under kustomize as the floor any Go exec function pays per generator
// (process start, kustomize's exec and YAML round trip), against which
// kmsgen's marginal cost reads.
package main

import (
	"crypto/sha256"
	"fmt"
	"io"
	"os"
)

func main() {
	in, err := io.ReadAll(os.Stdin)
	if err != nil {
		os.Exit(1)
	}
	fmt.Printf("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"+
		"- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: trivial-%x\n  data:\n    A: YQ==\n", sha256.Sum256(in))
}
