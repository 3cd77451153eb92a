package main

import (
	"bytes"
	"context"
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

// initGroups sorts packages into the groups the start-up profile reports,
// by import path prefix; the first match wins.
var initGroups = []struct{ name, prefix string }{
	{"AWS SDK", "github.com/aws/"},
	{"kyaml, kustomize", "sigs.k8s.io/"},
	{"kube-openapi", "k8s.io/"},
	{"gnostic, protobuf (through kube-openapi)", "github.com/google/gnostic-models"},
	{"gnostic, protobuf (through kube-openapi)", "google.golang.org/protobuf"},
	{"YAML parsers", "go.yaml.in/"},
	{"kmsgen", "kmsgen.dev/"},
}

func initGroup(pkg string) string {
	for _, g := range initGroups {
		if strings.HasPrefix(pkg, g.prefix) {
			return g.name
		}
	}
	if first, _, _ := strings.Cut(pkg, "/"); !strings.Contains(first, ".") {
		return "Go standard library"
	}
	return "other modules"
}

// startupProfile runs kmsgen as kustomize would for one generator of a
// 20-key env file, over http and https, runs times each, and prints the
// median process time and where package initialisation spends it
// (GODEBUG=inittrace=1), by group and the costliest packages.
func startupProfile(ctx context.Context, e *benchEnv, runs int) error {
	env, err := e.seal(ctx, envFile(20, "startup"))
	if err != nil {
		return err
	}
	gen := generator("startup", "envs: [app.env.encrypted]\n")
	dir, err := e.tree("startup", map[string]string{"app.env.encrypted": env, "gen.yaml": gen})
	if err != nil {
		return err
	}
	input := []byte(resourceList(gen))
	fmt.Printf("kmsgen start-up (%s), one generator of a 20-key env file, medians of %d runs\n\n", e.kmsgen, runs)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "endpoint\tprocess\tpackage init (sum of clocks)\tlast init done at\tmain and exit")
	var traces [][]initTrace
	for _, p := range []*proxy{e.http, e.https} {
		var wall, clock, end []time.Duration
		for range runs {
			d, trace, err := tracedRun(dir, e.env(p, "GODEBUG=inittrace=1"), input, e.kmsgen)
			if err != nil {
				return err
			}
			wall = append(wall, d)
			clock = append(clock, sumClock(trace))
			end = append(end, trace[len(trace)-1].at+trace[len(trace)-1].clock)
			traces = append(traces, trace)
		}
		scheme, _, _ := strings.Cut(p.URL, ":")
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", scheme, ms(median(wall)), ms(median(clock)), ms(median(end)), ms(median(wall)-median(end)))
	}
	tw.Flush()
	fmt.Println()
	printInitGroups(os.Stdout, traces)
	return nil
}

// initTrace is one line of GODEBUG=inittrace=1.
type initTrace struct {
	pkg       string
	at, clock time.Duration
}

// tracedRun runs a command and returns its wall time and init trace.
func tracedRun(dir string, env []string, stdin []byte, name string, args ...string) (time.Duration, []initTrace, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env, cmd.Stdin, cmd.Stdout = dir, env, bytes.NewReader(stdin), io.Discard
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, nil, fmt.Errorf("%s: %v\n%s", name, err, stderr.String())
	}
	elapsed := time.Since(start)
	var trace []initTrace
	for _, line := range strings.Split(stderr.String(), "\n") {
		// init kmsgen.dev/kmsgen/fn @12 ms, 0.011 ms clock, 0 bytes, 0 allocs
		f := strings.Fields(line)
		if len(f) < 6 || f[0] != "init" || !strings.HasPrefix(f[2], "@") {
			continue
		}
		at, err1 := strconv.ParseFloat(strings.TrimPrefix(f[2], "@"), 64)
		clock, err2 := strconv.ParseFloat(f[4], 64)
		if err1 != nil || err2 != nil {
			continue
		}
		trace = append(trace, initTrace{f[1], time.Duration(at * float64(time.Millisecond)), time.Duration(clock * float64(time.Millisecond))})
	}
	if len(trace) == 0 {
		return 0, nil, fmt.Errorf("%s printed no init trace", name)
	}
	return elapsed, trace, nil
}

func sumClock(trace []initTrace) time.Duration {
	var d time.Duration
	for _, t := range trace {
		d += t.clock
	}
	return d
}

// printInitGroups prints the median init clock of each group and of the
// ten costliest packages, over all runs.
func printInitGroups(w io.Writer, traces [][]initTrace) {
	groups := map[string][]time.Duration{}
	pkgs := map[string][]time.Duration{}
	for _, trace := range traces {
		perGroup := map[string]time.Duration{}
		for _, t := range trace {
			perGroup[initGroup(t.pkg)] += t.clock
			pkgs[t.pkg] = append(pkgs[t.pkg], t.clock)
		}
		for g, d := range perGroup {
			groups[g] = append(groups[g], d)
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "package init by module\tmedian clock")
	for _, g := range sortedByMedian(groups) {
		fmt.Fprintf(tw, "%s\t%s\n", g, ms(median(groups[g])))
	}
	fmt.Fprintln(tw, "\t")
	fmt.Fprintln(tw, "costliest packages\tmedian clock")
	for _, p := range sortedByMedian(pkgs)[:min(10, len(pkgs))] {
		fmt.Fprintf(tw, "%s\t%s\n", p, ms(median(pkgs[p])))
	}
	tw.Flush()
}

func sortedByMedian(m map[string][]time.Duration) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return int(median(m[b]) - median(m[a])) })
	return keys
}
