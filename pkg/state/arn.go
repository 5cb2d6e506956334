package state

import (
	"fmt"
	"strings"
)

// ARN is an Amazon Resource Name split into its parts.
type ARN struct {
	Partition, Service, Region, Account, Resource string
}

// ParseARN splits an ARN. It checks only the shape
// (arn:partition:service:region:account:resource).
func ParseARN(s string) (ARN, error) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] == "" || parts[5] == "" {
		return ARN{}, fmt.Errorf("%q is not an arn (want arn:partition:service:region:account:resource)", s)
	}
	return ARN{Partition: parts[1], Service: parts[2], Region: parts[3], Account: parts[4], Resource: parts[5]}, nil
}

func (a ARN) String() string {
	return "arn:" + a.Partition + ":" + a.Service + ":" + a.Region + ":" + a.Account + ":" + a.Resource
}

// KindOf returns KindUser or KindRole for an IAM user or role ARN (an
// assumed-role session ARN counts as its role), or "".
func KindOf(arn string) string {
	a, err := ParseARN(arn)
	if err != nil {
		return ""
	}
	switch {
	case a.Service == "iam" && strings.HasPrefix(a.Resource, "user/"):
		return KindUser
	case a.Service == "iam" && strings.HasPrefix(a.Resource, "role/"):
		return KindRole
	case a.Service == "sts" && strings.HasPrefix(a.Resource, "assumed-role/"):
		return KindRole
	}
	return ""
}

// RegionOf returns the region part of an ARN ("" if it is not an ARN).
func RegionOf(arn string) string {
	a, err := ParseARN(arn)
	if err != nil {
		return ""
	}
	return a.Region
}

// AccountOf returns the account part of an ARN ("" if it is not an ARN).
func AccountOf(arn string) string {
	a, err := ParseARN(arn)
	if err != nil {
		return ""
	}
	return a.Account
}

// CheckBucketName applies S3's naming rules loosely: legacy buckets may
// hold upper-case letters and underscores (like the AWS docs'
// DOC-EXAMPLE-BUCKET), but never characters that would change an ARN's
// meaning.
func CheckBucketName(name string) error {
	if len(name) < 3 || len(name) > 255 {
		return fmt.Errorf("%q: bucket names are 3 to 63 characters (255 for legacy buckets)", name)
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_'
		if !ok {
			return fmt.Errorf("%q: a bucket name holds only letters, digits, '-', '.' and '_'", name)
		}
	}
	return nil
}
