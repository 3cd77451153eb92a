package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// timed runs a command in dir with env and returns its wall time; a
// failure is an error with its stderr.
func timed(dir string, env []string, stdin []byte, name string, args ...string) (time.Duration, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = dir, env
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	start := time.Now()
	err := cmd.Run()
	elapsed := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("%s %v: %v\n%s", name, args, err, stderr.String())
	}
	return elapsed, nil
}

// peakRSS runs a command as timed does and returns its peak resident set
// size in bytes, as GNU time reports it. Not from the rusage Go's os/exec
// returns: Go starts children with vfork, and Linux counts the parent's
// memory, which the child shares until exec, in the child's maximum, so
// that figure is this program's size whenever it is the larger.
func peakRSS(dir string, env []string, stdin []byte, name string, args ...string) (int64, error) {
	gnuTime, err := exec.LookPath("time")
	if err != nil {
		return 0, fmt.Errorf("GNU time is not on PATH (Debian: apt-get install time): %w", err)
	}
	out, err := os.CreateTemp("", "kmsgen-bench-rss-")
	if err != nil {
		return 0, err
	}
	defer os.Remove(out.Name())
	out.Close()
	if _, err := timed(dir, env, stdin, gnuTime, append([]string{"-f", "%M", "-o", out.Name(), name}, args...)...); err != nil {
		return 0, err
	}
	b, err := os.ReadFile(out.Name())
	if err != nil {
		return 0, err
	}
	kb, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("GNU time's output %q: %w", b, err)
	}
	return kb << 10, nil
}

// paired measures a and b interleaved (a b a b …), runs times each after
// one warm-up of each, and returns their medians.
func paired(runs int, a, b func() (time.Duration, error)) (time.Duration, time.Duration, error) {
	var as, bs []time.Duration
	for i := -1; i < runs; i++ {
		da, err := a()
		if err != nil {
			return 0, 0, err
		}
		db, err := b()
		if err != nil {
			return 0, 0, err
		}
		if i >= 0 {
			as, bs = append(as, da), append(bs, db)
		}
	}
	return median(as), median(bs), nil
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// row is one target's outcome.
type row struct {
	target   target
	measured string // what was measured, as the table shows it
	detail   string // the medians it comes from
	pass     bool
}

func printTable(w io.Writer, rows []row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "target\tmeasured\tlimit\tresult\tfrom")
	for _, r := range rows {
		result := "pass"
		switch {
		case r.target.limit == "reference":
			result = "—"
		case !r.pass:
			result = "FAIL"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.target.name, r.measured, r.target.limit, result, r.detail)
	}
	tw.Flush()
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
