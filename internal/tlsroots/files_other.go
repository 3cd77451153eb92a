//go:build !linux

package tlsroots

// bundleFiles is nil where Go does not build its system pool from a
// bundle file this way (macOS and Windows ask the platform verifier; other
// systems keep their own lists): Install leaves transports as they are.
var bundleFiles []string
