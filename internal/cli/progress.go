package cli

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"kmsgen.dev/kmsgen/fn"
	"kmsgen.dev/kmsgen/fn/awskms"
)

// waitingAfter is how long KMS calls run before the waiting line shows; a
// variable for the tests.
var waitingAfter = 2 * time.Second

// waitingLine is the awskms.Progress of a person at a terminal: once a
// batch of KMS calls has run for waitingAfter, the line
// "kmsgen: waiting for KMS (n of m done)" shows on stderr, redrawn in place
// (carriage return) as calls end, and erased when the batch is over, so that
// a KMS endpoint that does not answer is not 30 s of silence. It is nil,
// showing nothing, when stderr is not a terminal (a log, kustomize's pipe,
// a test); it never writes to stdout.
func waitingLine(stderr io.Writer) awskms.Progress {
	f, ok := stderr.(*os.File)
	if !ok || !isTerminal(f) {
		return nil
	}
	return func(total int) (func(int), func()) {
		var mu sync.Mutex
		done, shown, over := 0, false, false
		draw := func() {
			fmt.Fprintf(f, "\rkmsgen: waiting for KMS (%d of %d done)\x1b[K", done, total)
		}
		timer := time.AfterFunc(waitingAfter, func() {
			mu.Lock()
			defer mu.Unlock()
			if !over {
				shown = true
				draw()
			}
		})
		step := func(n int) {
			mu.Lock()
			defer mu.Unlock()
			done = n
			if shown && !over {
				draw()
			}
		}
		end := func() {
			timer.Stop()
			mu.Lock()
			defer mu.Unlock()
			over = true
			if shown {
				fmt.Fprint(f, "\r\x1b[K") // the line erased: the cursor back at its start
			}
		}
		return step, end
	}
}

// newGenerator is fn.NewGenerator for a command: its KMS calls show the
// waiting line on stderr when that is a terminal.
func newGenerator(stderr io.Writer) (*fn.Generator, error) {
	gen, err := fn.NewGenerator(os.Getenv)
	gen.KMS.SetProgress(waitingLine(stderr))
	return gen, err
}

// newKMS is awskms.FromEnv for a command, with the waiting line.
func newKMS(stderr io.Writer) (*awskms.Client, error) {
	kms, err := awskms.FromEnv(os.Getenv)
	kms.SetProgress(waitingLine(stderr))
	return kms, err
}
