package api

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

// ValidateKeyID checks a KMS KeyId as kms.keyId (or a key flag) gives it:
// a key ID, alias name ("alias/NAME") or, when it is an ARN, a KMS key ARN
// (arn:aws:kms:REGION:ACCOUNT:key/ID) or alias ARN (…:alias/NAME). Only
// ARNs are checked here; KMS itself judges the other forms.
func ValidateKeyID(keyID string) error {
	if !arn.IsARN(keyID) {
		if strings.HasPrefix(keyID, "arn:") {
			return fmt.Errorf("%q is not a valid ARN", keyID)
		}
		return nil
	}
	a, err := arn.Parse(keyID)
	if err != nil {
		return fmt.Errorf("%q is not a valid ARN: %w", keyID, err)
	}
	if a.Service != "kms" || !(strings.HasPrefix(a.Resource, "key/") || strings.HasPrefix(a.Resource, "alias/")) {
		return fmt.Errorf("%q is not a KMS key or alias ARN (want arn:aws:kms:REGION:ACCOUNT:key/ID or …:alias/NAME)", keyID)
	}
	return nil
}

// ValidateRoleARN checks kms.roleArn: an IAM role ARN,
// arn:aws:iam::ACCOUNT:role/NAME.
func ValidateRoleARN(roleARN string) error {
	a, err := arn.Parse(roleARN)
	if err != nil || a.Service != "iam" || !strings.HasPrefix(a.Resource, "role/") {
		return fmt.Errorf("%q is not an IAM role ARN (want arn:aws:iam::ACCOUNT:role/NAME)", roleARN)
	}
	return nil
}
