//go:build !unix

package harden

// noCore does nothing where there are no core files to limit.
func noCore() error { return nil }
