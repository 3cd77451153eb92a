// Command bench measures kmsgen where its users pay for it: kustomize
// builds (one process per generator), KMS latency, and the https start-up
// that real KMS costs. `make bench` runs it; BENCHMARKS.md records results.
//
// Every comparison is paired and interleaved (A B A B …) in one run, on the
// same machine and load, and reported as medians and their ratio: kmsgen
// under the real kustomize (exec mode) against kustomize's builtin
// secretGenerator on the same plaintext, or against sops. KMS is local-kms
// behind a proxy in this program that adds a chosen latency, counts calls
// and connections, and serves https at localhost with a test CA that the
// client trusts the way production trusts AWS's roots: added to copies of
// the full system bundle file and certificate directory (SSL_CERT_FILE,
// SSL_CERT_DIR), as update-ca-certificates adds a local CA, never as the
// only root.
//
// -startup prints a start-up profile instead: the process time of one
// generator over http and https, and where package initialisation spends
// it. -kmsgen measures a binary built elsewhere (an older commit, say)
// instead of building this tree's.
//
//	go run ./bench [-runs 7] [-only name] [-startup] [-kmsgen path]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	runs := flag.Int("runs", 7, "measurements of each side of a comparison (medians are reported)")
	only := flag.String("only", "", "run only the targets whose name contains this")
	serve := flag.Bool("serve", false, "set up, print the environment of the https and http proxies, and wait (for profiling by hand)")
	startup := flag.Bool("startup", false, "print the start-up profile (GODEBUG=inittrace=1) of one generator instead of the targets")
	flag.StringVar(&prebuilt, "kmsgen", "", "measure this kmsgen binary instead of building one from this tree")
	flag.Parse()
	if *startup {
		if err := withEnv(func(e *benchEnv) error { return startupProfile(context.Background(), e, *runs) }); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if *serve {
		if err := serveOnly(); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*runs, *only); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// withEnv sets up, calls f and tears down.
func withEnv(f func(*benchEnv) error) error {
	e, err := setup(context.Background())
	if err != nil {
		return err
	}
	defer e.close()
	return f(e)
}

func run(runs int, only string) error {
	ctx := context.Background()
	env, err := setup(ctx)
	if err != nil {
		return err
	}
	defer env.close()
	fmt.Printf("machine: %s; load before: %s\n", machine(), loadavg())
	var rows []row
	for _, t := range targets {
		if only != "" && !strings.Contains(t.name, only) {
			continue
		}
		start := time.Now()
		r, err := t.run(ctx, env, runs)
		if err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		r.target = t
		rows = append(rows, r)
		fmt.Fprintf(os.Stderr, "bench: %s done in %s\n", t.name, time.Since(start).Round(time.Millisecond))
	}
	fmt.Printf("load after: %s\n\n", loadavg())
	printTable(os.Stdout, rows)
	return nil
}

// serveOnly sets up and waits for an interrupt, printing what a shell needs
// to run kmsgen against the proxies by hand.
func serveOnly() error {
	e, err := setup(context.Background())
	if err != nil {
		return err
	}
	defer e.close()
	fmt.Printf("KMSGEN_BENCH_HTTP=%s\nKMSGEN_BENCH_HTTPS=%s\nSSL_CERT_FILE=%s\nSSL_CERT_DIR=%s\nKMSGEN=%s\nKEY=%s\nLOCAL_KMS=%s\n",
		e.http.URL, e.https.URL, e.certFile, e.certDir, e.kmsgen, e.keyARN, e.kms.URL)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	return nil
}
