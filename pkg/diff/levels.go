package diff

import (
	"fmt"
	"slices"
	"strings"
)

// Level is an access level a grant asks for.
type Level string

const (
	Read     Level = "read"     // s3:GetObject
	Write    Level = "write"    // s3:PutObject
	List     Level = "list"     // s3:ListBucket
	Versions Level = "versions" // s3:GetObjectVersion
	ACL      Level = "acl"      // s3:PutObjectAcl
)

// allLevels is the order levels are shown and granted in.
var allLevels = []Level{Read, Write, List, Versions, ACL}

// ParseLevels parses a comma-separated list such as "read,write".
func ParseLevels(s string) ([]Level, error) {
	var out []Level
	for _, part := range strings.Split(s, ",") {
		l := Level(strings.ToLower(strings.TrimSpace(part)))
		if l == "" {
			continue
		}
		if !slices.Contains(allLevels, l) {
			return nil, fmt.Errorf("unknown access level %q: use read, write, list, versions or acl", part)
		}
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no access level given: use read, write, list, versions or acl")
	}
	return sortLevels(out), nil
}

func sortLevels(ls []Level) []Level {
	slices.SortFunc(ls, func(a, b Level) int { return slices.Index(allLevels, a) - slices.Index(allLevels, b) })
	return ls
}

// DefaultLevels are the levels granted when none are asked for: download and
// upload within one account; across accounts the seed's full set (listing
// for sync and recursive copies, versions, and ACLs so uploaders can hand
// objects to the bucket owner), without acl where ACLs are disabled.
func DefaultLevels(crossAccount bool, objectOwnership string) []Level {
	if !crossAccount {
		return []Level{Read, Write}
	}
	if objectOwnership == "BucketOwnerEnforced" {
		return []Level{Read, Write, List, Versions}
	}
	return []Level{Read, Write, List, Versions, ACL}
}

// s3Action is the S3 action behind a level.
func (l Level) s3Action() string {
	switch l {
	case Read:
		return "s3:GetObject"
	case Write:
		return "s3:PutObject"
	case List:
		return "s3:ListBucket"
	case Versions:
		return "s3:GetObjectVersion"
	case ACL:
		return "s3:PutObjectAcl"
	}
	return ""
}

// kmsActions are the KMS actions the level needs on an SSE-KMS bucket:
// reading decrypts the data key; writing generates one, and multipart
// uploads decrypt it again to complete (aws-facts.md §1, S3-MPU).
func (l Level) kmsActions() []string {
	switch l {
	case Read, Versions:
		return []string{"kms:Decrypt"}
	case Write:
		return []string{"kms:GenerateDataKey", "kms:Decrypt"}
	}
	return nil
}

// Verb is how people say what a level lets them do.
func (l Level) Verb() string {
	switch l {
	case Read:
		return "download from"
	case Write:
		return "upload to"
	case List:
		return "list"
	case Versions:
		return "download object versions from"
	case ACL:
		return "set object ACLs in"
	}
	return string(l)
}

// Describe joins the verbs of levels for a sentence:
// "download from and upload to".
func Describe(levels []Level) string {
	verbs := make([]string, len(levels))
	for i, l := range levels {
		verbs[i] = l.Verb()
	}
	switch len(verbs) {
	case 0:
		return "access"
	case 1:
		return verbs[0]
	}
	return strings.Join(verbs[:len(verbs)-1], ", ") + " and " + verbs[len(verbs)-1]
}
