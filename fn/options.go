package fn

import (
	"fmt"
	"strconv"
	"time"

	"kmsgen.dev/kmsgen/fn/awskms"
)

// Environment variables that tune decryption. They reach an exec function
// from the host's environment, and a container function through its envs.
const (
	EnvConcurrency = "KMSGEN_CONCURRENCY" // Decrypt calls in flight, default 8
	EnvTimeout     = "KMSGEN_TIMEOUT"     // per Decrypt call, retries included, default 30s
)

// OptionsFromEnv reads the decryption settings from the environment.
func OptionsFromEnv(getenv func(string) string) (awskms.Options, error) {
	var opts awskms.Options
	if v := getenv(EnvConcurrency); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return opts, fmt.Errorf("%s=%q: want a whole number of at least 1", EnvConcurrency, v)
		}
		opts.Concurrency = n
	}
	if v := getenv(EnvTimeout); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return opts, fmt.Errorf("%s=%q: want a positive duration such as 30s or 2m", EnvTimeout, v)
		}
		opts.CallTimeout = d
	}
	return opts, nil
}
