package cli

import (
	"strings"

	"github.com/spf13/cobra"
)

// keyIDList makes --key-id repeatable (encrypt): every value is kept in
// all, and the first also set in first, where the single-key code reads it.
type keyIDList struct {
	first *string
	all   *[]string
}

func (l keyIDList) Set(v string) error {
	*l.all = append(*l.all, v)
	if len(*l.all) == 1 {
		*l.first = v
	}
	return nil
}

func (l keyIDList) String() string { return strings.Join(*l.all, ",") }

func (l keyIDList) Type() string { return "stringArray" }

// repeatableKeyID turns the --key-id flag that kmsFlags.add made into a
// repeatable one whose values go to all.
func (k *kmsFlags) repeatableKeyID(cmd *cobra.Command, all *[]string) {
	f := cmd.Flags().Lookup("key-id")
	f.Value = keyIDList{first: &k.keyID, all: all}
	f.Usage += "; repeat it to wrap the data key of a multi-key envelope under each key (keys in other regions or accounts, for disaster recovery)"
}
