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

// Partitions are AWS's partitions, by ARN prefix.
var Partitions = []string{"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"}

// PartitionOfRegion is the partition a region belongs to ("" for no
// region).
func PartitionOfRegion(region string) string {
	switch {
	case region == "":
		return ""
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	case strings.HasPrefix(region, "us-iso-"):
		return "aws-iso"
	case strings.HasPrefix(region, "us-isob-"):
		return "aws-iso-b"
	case strings.HasPrefix(region, "eu-isoe-"):
		return "aws-iso-e"
	case strings.HasPrefix(region, "us-isof-"):
		return "aws-iso-f"
	case strings.HasPrefix(region, "eusc-"):
		return "aws-eusc"
	}
	return "aws"
}

// IAM's limits on the names in a principal ARN (IAM API reference: the
// User, Role and AssumeRole parameters).
const (
	maxARNLength     = 2048 // IAM's arnType
	maxPathLength    = 512
	maxNameLength    = 64 // user and role names
	minSessionLength = 2
	maxSessionLength = 64
)

// CheckPrincipalARN checks an IAM user, role or assumed-role session ARN
// against IAM's rules: a known partition, no region, a 12-digit account,
// names of IAM's characters and lengths, a path of printable ASCII. An ARN
// that fails can name no principal AWS has: refusing it up front gives a
// clear message instead of a misleading "not found" or a blocked plan.
func CheckPrincipalARN(arn string) error {
	if len(arn) > maxARNLength {
		return fmt.Errorf("longer than IAM's limit of %d characters for an ARN", maxARNLength)
	}
	if strings.ContainsAny(arn, "*?") || strings.ContainsFunc(arn, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fmt.Errorf("give the ARN of one user or role, without wildcards or control characters")
	}
	const want = "expected an IAM user or role ARN (arn:aws:iam::111122223333:user/Jane, arn:aws:iam::111122223333:role/Name) or an assumed-role session ARN (arn:aws:sts::111122223333:assumed-role/Name/session)"
	a, err := ParseARN(arn)
	if err != nil || KindOf(arn) == "" {
		return fmt.Errorf("%s", want)
	}
	known := false
	for _, p := range Partitions {
		known = known || a.Partition == p
	}
	if !known {
		return fmt.Errorf("unknown partition %q (AWS's are %s)", a.Partition, strings.Join(Partitions, ", "))
	}
	if a.Region != "" {
		return fmt.Errorf("IAM and STS ARNs have no region, this one names %q", a.Region)
	}
	if len(a.Account) != 12 || strings.Trim(a.Account, "0123456789") != "" {
		return fmt.Errorf("the account must be 12 digits, not %q", a.Account)
	}
	segs := strings.Split(a.Resource, "/")
	if a.Service == "sts" {
		if len(segs) != 3 {
			return fmt.Errorf("an assumed-role session ARN is arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE/SESSION")
		}
		if err := checkIAMName("role name", segs[1], 1, maxNameLength); err != nil {
			return err
		}
		return checkIAMName("session name", segs[2], minSessionLength, maxSessionLength)
	}
	kind := segs[0]
	if len(segs) < 2 {
		return fmt.Errorf("%s", want)
	}
	if len(segs) > 2 {
		path := "/" + strings.Join(segs[1:len(segs)-1], "/") + "/"
		if len(path) > maxPathLength {
			return fmt.Errorf("the path is %d characters; IAM paths are at most %d", len(path), maxPathLength)
		}
		for _, s := range segs[1 : len(segs)-1] {
			if s == "" {
				return fmt.Errorf("the path %q has an empty segment", path)
			}
			for _, r := range s {
				if r < 0x21 || r > 0x7e {
					return fmt.Errorf("the path %q holds %q; IAM paths hold printable ASCII only", path, r)
				}
			}
		}
	}
	return checkIAMName(kind+" name", segs[len(segs)-1], 1, maxNameLength)
}

// checkIAMName applies IAM's name rule: letters, digits and +=,.@_-.
func checkIAMName(what, name string, minLen, maxLen int) error {
	if len(name) < minLen || len(name) > maxLen {
		return fmt.Errorf("the %s is %d characters; IAM allows %d to %d", what, len(name), minLen, maxLen)
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("+=,.@_-", r)
		if !ok {
			return fmt.Errorf("the %s %q holds %q; IAM names hold letters, digits and +=,.@_- only", what, name, r)
		}
	}
	return nil
}
