// Package prompt reads a secret value from the terminal without echo.
//
// Echo is off before the prompt appears, so nothing typed, pasted or
// auto-typed by a password manager the moment the prompt shows is echoed to
// the screen (reading with golang.org/x/term's ReadPassword after printing
// the prompt leaves a window in which it is). The terminal's mode is put
// back on every way out: a value, an error, or the context's end (kmsgen
// cancels it on SIGINT, SIGTERM and SIGQUIT).
package prompt

import (
	"bytes"
	"context"
	"fmt"
	"os"
)

// Secret prints label followed by " (not echoed): " on the controlling
// terminal (/dev/tty) with echo off, reads one line, and returns it without
// its line ending. It fails when there is no terminal, or when ctx ends
// first.
func Secret(ctx context.Context, label string) ([]byte, error) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("no terminal to prompt on: %w", err)
	}
	defer tty.Close()
	restore, err := echoOff(tty)
	if err != nil {
		return nil, fmt.Errorf("turning the terminal's echo off: %w", err)
	}
	defer restore()
	if _, err := fmt.Fprintf(tty, "%s (not echoed): ", label); err != nil {
		return nil, err
	}
	type result struct {
		line []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		line, err := readLine(tty)
		done <- result{line, err}
	}()
	select {
	case r := <-done:
		fmt.Fprintln(tty)
		if r.err != nil {
			return nil, fmt.Errorf("reading the terminal: %w", r.err)
		}
		return r.line, nil
	case <-ctx.Done():
		fmt.Fprintln(tty)
		return nil, context.Cause(ctx)
	}
}

// readLine reads up to a line feed, a byte at a time so that nothing after
// the line is consumed, and drops the line ending.
func readLine(f *os.File) ([]byte, error) {
	var line []byte
	b := make([]byte, 1)
	for {
		n, err := f.Read(b)
		if n == 1 {
			if b[0] == '\n' {
				return bytes.TrimSuffix(line, []byte("\r")), nil
			}
			line = append(line, b[0])
		}
		if err != nil {
			return nil, err
		}
	}
}
