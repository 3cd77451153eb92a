//go:build !linux

package harden

func process() error { return noCore() }
