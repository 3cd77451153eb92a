// Package awstest isolates tests from the AWS configuration of the machine
// they run on: no shared config or credentials files, no instance metadata,
// and only the credentials, region and endpoint a test chooses.
package awstest

import (
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"kmsgen.dev/kmsgen/internal/fakekms"
)

// Test credentials; emulators and the fake KMS accept any.
const (
	AccessKeyID     = "AKIDKMSGENTEST"
	SecretAccessKey = "kmsgen-test-secret"
	// Region is the fake KMS's region (fakekms.Region).
	Region = fakekms.Region
)

// Isolate points the AWS SDK (and the aws CLI) at endpoint with test
// credentials and region. An empty region or endpoint leaves it unset.
func Isolate(t testing.TB, endpoint, region string) {
	t.Helper()
	Clear(t)
	t.Setenv("AWS_ACCESS_KEY_ID", AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", SecretAccessKey)
	if region != "" {
		t.Setenv("AWS_REGION", region)
		t.Setenv("AWS_DEFAULT_REGION", region)
	}
	if endpoint != "" {
		t.Setenv("AWS_ENDPOINT_URL", endpoint)
	}
}

// nowhere is a directory that does not exist, for the shared config and
// credentials files.
const nowhere = "/nonexistent/kmsgen-awstest"

// Env returns the environment entries (KEY=value) a child process (kmsgen,
// kustomize, the aws CLI) needs to use endpoint with the test credentials
// and Region and nothing from the machine: AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_REGION and AWS_DEFAULT_REGION, AWS_ENDPOINT_URL,
// AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE pointing at nonexistent
// files, AWS_EC2_METADATA_DISABLED=true. Append them to an environment
// without AWS_* variables.
func Env(endpoint string) []string {
	return []string{
		"AWS_ACCESS_KEY_ID=" + AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + SecretAccessKey,
		"AWS_REGION=" + Region,
		"AWS_DEFAULT_REGION=" + Region,
		"AWS_ENDPOINT_URL=" + endpoint,
		"AWS_CONFIG_FILE=" + nowhere + "/config",
		"AWS_SHARED_CREDENTIALS_FILE=" + nowhere + "/credentials",
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// Clear removes every AWS setting from the environment, leaving the SDK
// with no credentials, no region and no endpoint.
func Clear(t testing.TB) {
	t.Helper()
	dir := t.TempDir()
	for _, name := range Vars {
		t.Setenv(name, "") // restores the old value when the test ends
		os.Unsetenv(name)
	}
	t.Setenv("AWS_CONFIG_FILE", dir+"/no-config")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", dir+"/no-credentials")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// Vars are the environment variables Clear empties.
var Vars = []string{
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
	"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_KMS", "AWS_ENDPOINT_URL_STS",
	"AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
	"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
	"AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE", "AWS_CA_BUNDLE",
}

// FastRetries keeps the SDK's standard retryer (three attempts) but without
// waiting between attempts or spending a retry quota, so tests of retries
// run quickly: use it as an awskms.Options.ClientOptions entry.
func FastRetries(o *kms.Options) {
	o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
		so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		so.RateLimiter = ratelimit.None
	})
}
