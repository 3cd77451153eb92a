package envfile_test

import (
	"fmt"

	"kmsgen.dev/kmsgen/fn/envfile"
)

// Env files follow kustomize's secretGenerator: comments and blank lines are
// skipped, leading whitespace is trimmed, the line is split at the first "=",
// and the value is kept verbatim, quotes included.
func ExampleParse() {
	content := []byte(`# database settings

   DB_USER=app
DB_PASSWORD=
DB_URL=postgres://db/app?sslmode=require
GREETING="hello world"
`)
	entries, err := envfile.Parse(content)
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	for _, e := range entries {
		fmt.Printf("line %d: %s = %q\n", e.Line, e.Key, e.Value)
	}
	// Output:
	// line 3: DB_USER = "app"
	// line 4: DB_PASSWORD = ""
	// line 5: DB_URL = "postgres://db/app?sslmode=require"
	// line 6: GREETING = "\"hello world\""
}
