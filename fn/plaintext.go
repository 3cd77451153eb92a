package fn

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"kmsgen.dev/kmsgen/fn/ciphertext"
	"kmsgen.dev/kmsgen/fn/genfile"
	"kmsgen.dev/kmsgen/internal/gittree"
)

// ciphertextSuffixes are the endings of a ciphertext file's name that, by
// the habit of the workflow kmsgen replaces (aws kms encrypt of
// myproject_secrets into myproject_secrets.encrypted), leave the name of
// the plaintext it was made from when taken off.
var ciphertextSuffixes = []string{".encrypted", ".enc"}

// plaintextBeside finds, for each file source of in whose name ends with
// one of ciphertextSuffixes, the file without that ending beside it, when
// that file is not itself a ciphertext: the plaintext the ciphertext was
// most likely made from, on disk and perhaps committed. Such a file is an
// error, or a warning when git ignores it (it is on disk but will not be
// committed). Files are read as the generator reads its sources (confined
// to in.Root); their content is never in a message.
func plaintextBeside(ctx context.Context, in Input, r LoadRestrictor) (Errors, []string) {
	files, err := OpenFiles(in, r)
	if err != nil {
		return nil, nil // the check reports it for the sources themselves
	}
	defer files.Close()
	var (
		errs     Errors
		warnings []string
	)
	for _, s := range in.Sources {
		for _, suffix := range ciphertextSuffixes {
			if s.Path == "" || !strings.HasSuffix(s.Path, suffix) || len(s.Path) == len(suffix) {
				continue
			}
			beside := strings.TrimSuffix(s.Path, suffix)
			data, err := files.Read(beside)
			if err != nil {
				continue // absent (or unreadable, so no plaintext to find)
			}
			_, parseErr := ciphertext.Parse(data, true)
			clear(data)
			if parseErr == nil {
				continue
			}
			where := genfile.Display(filepath.Join(in.Root, beside))
			if gittree.IsIgnored(ctx, in.Root, beside) {
				warnings = append(warnings, fmt.Sprintf("%s: beside %s and not a ciphertext, so most likely its plaintext; git ignores it, but it is on disk: delete it (kmsgen edit changes a ciphertext without one)", where, s.Path))
				continue
			}
			errs = append(errs, sourceError(in, s, fmt.Errorf(
				"%s beside it is not a ciphertext, so most likely the plaintext it was made from: delete it (kmsgen edit changes a ciphertext without one); if it was ever committed or shared, rotate every value in it", beside)))
		}
	}
	return errs, warnings
}
