package awskms

import (
	"strings"

	"fmt"
	"strconv"
	"time"

	"kmsgen.dev/kmsgen/internal/tlsroots"
)

// Environment variables that tune a Client. They reach an exec function
// from the host's environment, and a container function through its envs.
const (
	EnvConcurrency = "KMSGEN_CONCURRENCY" // calls in flight, default DefaultConcurrency
	EnvTimeout     = "KMSGEN_TIMEOUT"     // per call, retries included, default DefaultCallTimeout
	EnvDeadline    = "KMSGEN_DEADLINE"    // all calls of a run together, default DefaultDeadline
)

// OptionsFromEnv reads EnvConcurrency (a whole number of at least 1),
// EnvTimeout and EnvDeadline (positive Go durations such as 30s or 2m)
// through getenv.
// Unset or empty variables leave the defaults; a bad value is an error
// naming the variable and the form it wants.
func OptionsFromEnv(getenv func(string) string) (Options, error) {
	var opts Options
	if v := getenv(EnvConcurrency); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return opts, fmt.Errorf("%s=%q: want a whole number of at least 1", EnvConcurrency, v)
		}
		opts.Concurrency = n
	}
	for _, d := range []struct {
		name string
		to   *time.Duration
	}{{EnvTimeout, &opts.CallTimeout}, {EnvDeadline, &opts.Deadline}} {
		v := getenv(d.name)
		if v == "" {
			continue
		}
		parsed, err := time.ParseDuration(v)
		if err != nil || parsed <= 0 {
			return opts, fmt.Errorf("%s=%q: want a positive duration such as 30s or 2m", d.name, v)
		}
		*d.to = parsed
	}
	return opts, nil
}

// FromEnv is the one way kmsgen's commands make their Client: the AWS
// SDK's default configuration chain, tuned by OptionsFromEnv. On a bad
// setting it returns the error together with a Client using the defaults
// for what could not be read, so that a caller reporting errors later (the
// KRM function reports them as results) still has a Client.
//
// It also starts reading the system's trust roots in the background
// (tlsroots.Prefetch), so that they are ready by the first handshake with
// KMS, unless the environment points KMS at a plain http endpoint (an
// emulator).
func FromEnv(getenv func(string) string) (*Client, error) {
	opts, err := OptionsFromEnv(getenv)
	endpoint := getenv("AWS_ENDPOINT_URL_KMS")
	if endpoint == "" {
		endpoint = getenv("AWS_ENDPOINT_URL")
	}
	if !strings.HasPrefix(strings.ToLower(endpoint), "http://") {
		tlsroots.Prefetch()
	}
	return New(opts), err
}
