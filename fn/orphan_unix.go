//go:build unix

package fn

import (
	"context"
	"errors"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// errOrphaned cancels a run whose host went away.
var errOrphaned = errors.New("the host closed kmsgen's stdout: nobody will read the result")

// whileReadBy returns a context that is cancelled when nobody can read
// stdout any more: when kustomize or kpt dies, the read end of the pipe
// closes and poll reports an error on the write end. That stops an
// orphaned kmsgen at once rather than when its KMS calls end. Only a pipe
// is watched; stop ends the watch.
func whileReadBy(ctx context.Context, stdout io.Writer) (context.Context, func()) {
	f, ok := stdout.(*os.File)
	if !ok {
		return ctx, func() {}
	}
	if info, err := f.Stat(); err != nil || info.Mode()&os.ModeNamedPipe == 0 {
		return ctx, func() {}
	}
	wakeR, wakeW, err := os.Pipe()
	if err != nil {
		return ctx, func() {}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		fds := []unix.PollFd{{Fd: int32(f.Fd())}, {Fd: int32(wakeR.Fd()), Events: unix.POLLIN}}
		for {
			_, err := unix.Poll(fds, -1)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if err == nil && fds[0].Revents&(unix.POLLERR|unix.POLLHUP) != 0 {
				cancel(errOrphaned)
			}
			return
		}
	}()
	return ctx, func() {
		wakeW.Close()
		<-done
		wakeR.Close()
		cancel(nil)
	}
}
