//go:build !unix

package fn

import (
	"context"
	"io"
)

// whileReadBy watches nothing where poll is not available.
func whileReadBy(ctx context.Context, _ io.Writer) (context.Context, func()) {
	return ctx, func() {}
}
