package diff

import (
	"slices"
	"strings"
)

// The purposes of bucketgrant's statements: the word between SidPrefix and
// the digest in their Sids. Objects holds the S3 object actions, List
// s3:ListBucket, Kms the KMS actions.
const (
	PurposeObjects = purposeObjects
	PurposeList    = purposeList
	PurposeKMS     = purposeKMS
)

// OpNarrow takes actions out of one of bucketgrant's own statements that
// its grant, as now declared, no longer asks for (sync --prune; Actions
// lists what was taken out), or keys the bucket no longer uses out of its
// KMS statement (--drop-old-keys).
const OpNarrow = "narrow"

// PurposeActions lists the actions bucketgrant writes in a statement of the
// purpose for a grant of these levels: what the planner's needs ask for
// (Level.s3Action and Level.kmsActions). A List statement exists only for
// the list level; a Kms statement only where the bucket has a KMS key.
func PurposeActions(levels []Level, purpose string) []string {
	var out []string
	for _, l := range levels {
		switch {
		case purpose == PurposeKMS:
			for _, a := range l.kmsActions() {
				if !slices.Contains(out, a) {
					out = append(out, a)
				}
			}
		case (l == List) == (purpose == PurposeList):
			out = append(out, l.s3Action())
		}
	}
	return out
}

// GrantLevels are the levels the planner grants when asked for these
// (nil: the default for the account pair and the bucket's Object
// Ownership), as planner.locate decides them: acl is dropped where ACLs are
// disabled.
func GrantLevels(asked []Level, crossAccount bool, objectOwnership string) []Level {
	if len(asked) == 0 {
		return DefaultLevels(crossAccount, objectOwnership)
	}
	out := slices.Clone(asked)
	if objectOwnership == "BucketOwnerEnforced" {
		out = slices.DeleteFunc(out, func(l Level) bool { return l == ACL })
	}
	return sortLevels(out)
}

// PurposeOfSid returns the purpose a bucketgrant Sid names ("" when the Sid
// is not of bucketgrant's form), for the base Sid and its variants alike.
func PurposeOfSid(sid string) string {
	rest, ok := strings.CutPrefix(BaseSid(sid), SidPrefix)
	if !ok || len(rest) <= maxSidDigest {
		return ""
	}
	p := rest[:len(rest)-maxSidDigest]
	if slices.Contains(Purposes, p) {
		return p
	}
	return ""
}

// BaseSid returns the Sid a variant Sid (base+"v2" … base+"v9", written
// beside someone else's statement that carries the base Sid) is a variant
// of; any other Sid is returned as it is.
func BaseSid(sid string) string {
	if n := len(sid); n > 2 && sid[n-2] == 'v' && sid[n-1] >= '2' && sid[n-1] <= '0'+maxSidVariants && strings.HasPrefix(sid, SidPrefix) {
		return sid[:n-2]
	}
	return sid
}
