package diff

import (
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/bucketgrant/bucketgrant/pkg/policy"
)

// A Sid is only a name: anyone can copy bucketgrant's Sid onto a statement
// that allows more. So a statement is bucketgrant's for a grant only when
// its Sid is the grant's AND its content is what bucketgrant writes for
// that grant (design principle 2): an Allow, for the grant's principal
// alone, with actions of the grant's purpose, on the grant's bucket and
// prefix or on KMS keys, with no condition but those bucketgrant writes.
// Such a statement may be extended or rewritten whole and is removed by
// revoke and prune. A statement with the Sid but more content is someone
// else's: never extended, never removed; bucketgrant writes its own beside
// it under the next free Sid of the grant.

// GrantID names one grant: the principal (its full ARN, with path), the
// bucket and the prefix.
type GrantID struct {
	Principal string
	Bucket    string
	Prefix    string
}

// Purposes lists the purposes a grant's statements serve; each has its own
// Sid (SidFor).
var Purposes = []string{purposeObjects, purposeList, purposeKMS}

// purposeActions are the actions bucketgrant ever writes for a purpose, for
// any access level, so that a statement written for wider levels is still
// recognised (and can be narrowed).
var purposeActions = map[string][]string{
	purposeObjects: {"s3:GetObject", "s3:PutObject", "s3:GetObjectVersion", "s3:PutObjectAcl"},
	purposeList:    {"s3:ListBucket"},
	purposeKMS:     {"kms:Decrypt", "kms:GenerateDataKey"},
}

// maxSidVariants bounds the Sids of one purpose of one grant: the base Sid
// and, when someone else's statement carries it, base+"v2" … base+"v9".
const maxSidVariants = 9

// sidVariant returns the n-th Sid of a purpose (1: the base Sid).
func sidVariant(base string, n int) string {
	if n <= 1 {
		return base
	}
	return fmt.Sprintf("%sv%d", base, n)
}

// SidsOf returns every Sid a grant's statement for a purpose may carry.
func SidsOf(g GrantID, purpose string) []string {
	base := baseSid(g, purpose)
	out := make([]string, maxSidVariants)
	for i := range out {
		out[i] = sidVariant(base, i+1)
	}
	return out
}

// baseSids caches SidFor: ownership checks ask for the same grants' Sids
// for every statement of every document. It holds two generations of at
// most maxBaseSids entries (as the parse cache does): a sync of 100,000
// grants asks for 300,000 Sids, and what it asks for again is recent.
var baseSids = struct {
	sync.Mutex
	cur, old map[sidKey]string
}{cur: map[sidKey]string{}, old: map[sidKey]string{}}

const maxBaseSids = 1 << 14

type sidKey struct {
	g       GrantID
	purpose string
}

func baseSid(g GrantID, purpose string) string {
	k := sidKey{g, purpose}
	baseSids.Lock()
	defer baseSids.Unlock()
	if s, ok := baseSids.cur[k]; ok {
		return s
	}
	s, ok := baseSids.old[k]
	if !ok {
		s = SidFor(g.Principal, g.Bucket, g.Prefix, purpose)
	}
	if len(baseSids.cur) >= maxBaseSids {
		baseSids.old, baseSids.cur = baseSids.cur, make(map[sidKey]string, maxBaseSids)
	}
	baseSids.cur[k] = s
	return s
}

// isSidOf reports whether sid is base or one of its variants.
func isSidOf(sid, base string) bool { return sidVariantOf(sid, base) > 0 }

// sidVariantOf returns n when sid is sidVariant(base, n), else 0. It is
// asked of every statement of the documents a plan reads, so it compares
// in place rather than build base+"v".
func sidVariantOf(sid, base string) int {
	if sid == base {
		return 1
	}
	if len(sid) != len(base)+2 || !strings.HasPrefix(sid, base) || sid[len(base)] != 'v' {
		return 0
	}
	if c := sid[len(base)+1]; c >= '2' && c <= '0'+maxSidVariants {
		return int(c - '0')
	}
	return 0
}

var keyARNPattern = regexp.MustCompile(`^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$`)

// Owned reports whether statement s, in a document of the given kind, is
// bucketgrant's statement for one purpose of grant g.
func Owned(s policy.Statement, kind policy.Kind, g GrantID, purpose string) bool {
	if g.Bucket == anyBucket {
		// grantsNamedBy could not recover the bucket (a KMS statement
		// without conditions): the Sid's form stands for it.
		return purpose == purposeKMS && sidShape.MatchString(s.Sid) && ownedContent(s, kind, g, purpose)
	}
	if !strings.HasPrefix(s.Sid, SidPrefix) || !isSidOf(s.Sid, baseSid(g, purpose)) {
		return false
	}
	return ownedContent(s, kind, g, purpose)
}

// anyBucket stands for "a bucket the statement does not show".
const anyBucket = "\x00any"

// OwnedPurpose reports which purpose of grant g statement s is
// bucketgrant's statement for, if any.
func OwnedPurpose(s policy.Statement, kind policy.Kind, g GrantID) (string, bool) {
	for _, purpose := range Purposes {
		if Owned(s, kind, g, purpose) {
			return purpose, true
		}
	}
	return "", false
}

// ClaimsGrant reports whether s carries one of grant g's Sids, whatever
// its content.
func ClaimsGrant(s policy.Statement, g GrantID) bool {
	if !strings.HasPrefix(s.Sid, SidPrefix) {
		return false
	}
	for _, purpose := range Purposes {
		if isSidOf(s.Sid, baseSid(g, purpose)) {
			return true
		}
	}
	return false
}

func ownedContent(s policy.Statement, kind policy.Kind, g GrantID, purpose string) bool {
	if s.Effect != policy.Allow || s.NotPrincipal != nil || s.NotAction != nil || s.NotResource != nil {
		return false
	}
	if kind == policy.KindIdentity {
		if s.Principal != nil {
			return false
		}
	} else {
		pr := s.Principal
		if pr == nil || pr.Star || len(pr.Service)+len(pr.Federated)+len(pr.CanonicalUser) > 0 ||
			len(pr.AWS) != 1 || pr.AWS[0] != g.Principal {
			return false
		}
	}
	if s.Action == nil || len(s.Action.Values) == 0 {
		return false
	}
	for _, a := range s.Action.Values {
		if !containsFold(purposeActions[purpose], a) {
			return false
		}
	}
	if s.Resource == nil || len(s.Resource.Values) == 0 {
		return false
	}
	bucketARN := "arn:" + partitionOf(g.Principal) + ":s3:::" + g.Bucket
	switch purpose {
	case purposeObjects:
		return len(s.Resource.Values) == 1 && s.Resource.Values[0] == bucketARN+"/"+g.Prefix+"*" && len(s.Conditions) == 0
	case purposeList:
		if len(s.Resource.Values) != 1 || s.Resource.Values[0] != bucketARN {
			return false
		}
		if g.Prefix == "" {
			return len(s.Conditions) == 0
		}
		return len(s.Conditions) == 1 && isCondition(s.Conditions[0], "StringLike", "s3:prefix", g.Prefix+"*")
	case purposeKMS:
		for _, r := range s.Resource.Values {
			if kind == policy.KindKeyPolicy {
				if r != "*" {
					return false
				}
			} else if !keyARNPattern.MatchString(r) {
				return false
			}
		}
		return kmsConditionsOwned(s.Conditions, bucketARN, g.Prefix)
	}
	return false
}

// kmsConditionsOwned accepts no condition, or exactly the conditions
// --kms-through-s3 writes: kms:ViaService of an S3 endpoint and the
// encryption context of the grant's objects (or of the bucket, with S3
// Bucket Keys).
func kmsConditionsOwned(cs []policy.Condition, bucketARN, prefix string) bool {
	if len(cs) == 0 {
		return true
	}
	if len(cs) != 2 {
		return false
	}
	via, ctx := false, false
	for _, c := range cs {
		switch {
		case isConditionKey(c, "StringEquals", "kms:ViaService") && len(c.Values) == 1 &&
			strings.HasPrefix(c.Values[0], "s3.") && (strings.HasSuffix(c.Values[0], ".amazonaws.com") || strings.HasSuffix(c.Values[0], ".amazonaws.com.cn")):
			via = true
		case isCondition(c, "StringEquals", "kms:EncryptionContext:aws:s3:arn", bucketARN),
			isCondition(c, "StringLike", "kms:EncryptionContext:aws:s3:arn", bucketARN+"/"+prefix+"*"):
			ctx = true
		default:
			return false
		}
	}
	return via && ctx
}

func isConditionKey(c policy.Condition, operator, key string) bool {
	return c.Operator == operator && strings.EqualFold(c.Key, key)
}

func isCondition(c policy.Condition, operator, key, value string) bool {
	return isConditionKey(c, operator, key) && len(c.Values) == 1 && c.Values[0] == value
}

// Every grant stands on its own statements (docs/lifecycle.md): a grant is
// planned as if the statements of bucketgrant's other grants were not
// there, so revoking, rolling back or pruning one grant can never take
// away what another relies on. Two grants of one principal on two buckets
// that share a key each hold their own KMS statement.

var sidShape = regexp.MustCompile(`^` + SidPrefix + `(Objects|List|Kms)[0-9a-f]{10}(v[2-9])?$`)

// otherGrant reports whether s is bucketgrant's statement for a grant
// other than self: a Sid of bucketgrant's form that is not one of self's,
// on a statement whose content is what bucketgrant writes for the grant
// that Sid names. docPrincipal is the principal an identity policy
// belongs to ("" for resource policies). Denies are never left out.
func otherGrant(s policy.Statement, kind policy.Kind, docPrincipal string, self GrantID) bool {
	if !strings.HasPrefix(s.Sid, SidPrefix) {
		return false // what sidShape needs first, without a match per statement
	}
	m := sidShape.FindStringSubmatch(s.Sid)
	if m == nil || s.Effect != policy.Allow || ClaimsGrant(s, self) {
		return false
	}
	purpose := m[1]
	principal := docPrincipal
	if kind != policy.KindIdentity {
		if s.Principal == nil || len(s.Principal.AWS) != 1 {
			return false
		}
		principal = s.Principal.AWS[0]
	}
	for _, g := range grantsNamedBy(s, purpose, principal) {
		if Owned(s, kind, g, purpose) {
			return true
		}
	}
	return false
}

// grantsNamedBy recovers the grants a statement of a purpose can belong
// to from its content: the bucket and prefix of its resource, its prefix
// condition, or its encryption-context condition. A KMS statement without
// conditions names no bucket; its Sid then decides with every bucket and
// prefix it could have been written for, which the statement cannot show,
// so it is taken as another grant's when its shape is bucketgrant's.
func grantsNamedBy(s policy.Statement, purpose, principal string) []GrantID {
	part := partitionOf(principal)
	s3pfx := "arn:" + part + ":s3:::"
	var out []GrantID
	split := func(arn string) (bucket, prefix string, ok bool) {
		rest, found := strings.CutPrefix(arn, s3pfx)
		if !found {
			return "", "", false
		}
		bucket, prefix, _ = strings.Cut(rest, "/")
		return bucket, prefix, true
	}
	switch purpose {
	case purposeObjects:
		if s.Resource != nil && len(s.Resource.Values) == 1 && strings.HasSuffix(s.Resource.Values[0], "*") {
			if b, pfx, ok := split(strings.TrimSuffix(s.Resource.Values[0], "*")); ok {
				out = append(out, GrantID{Principal: principal, Bucket: b, Prefix: pfx})
			}
		}
	case purposeList:
		if s.Resource != nil && len(s.Resource.Values) == 1 {
			if b, _, ok := split(s.Resource.Values[0]); ok {
				pfx := ""
				for _, c := range s.Conditions {
					if isConditionKey(c, "StringLike", "s3:prefix") && len(c.Values) == 1 {
						pfx = strings.TrimSuffix(c.Values[0], "*")
					}
				}
				out = append(out, GrantID{Principal: principal, Bucket: b, Prefix: pfx})
			}
		}
	case purposeKMS:
		for _, c := range s.Conditions {
			if strings.EqualFold(c.Key, "kms:EncryptionContext:aws:s3:arn") && len(c.Values) == 1 {
				if b, pfx, ok := split(strings.TrimSuffix(c.Values[0], "*")); ok {
					out = append(out, GrantID{Principal: principal, Bucket: b, Prefix: pfx})
				}
			}
		}
		if len(s.Conditions) == 0 && kmsShape(s) {
			// Owned checks the Sid against the grant; with no bucket to
			// recover, accept the shape: the Sid's form and content are
			// bucketgrant's and it is not this grant's.
			return []GrantID{{Principal: principal, Bucket: anyBucket}}
		}
	}
	return out
}

// kmsShape reports whether a statement without conditions has the shape of
// bucketgrant's KMS statement: an Allow of KMS purpose actions on keys.
func kmsShape(s policy.Statement) bool {
	if s.NotPrincipal != nil || s.NotAction != nil || s.NotResource != nil || s.Action == nil || s.Resource == nil {
		return false
	}
	for _, a := range s.Action.Values {
		if !containsFold(purposeActions[purposeKMS], a) {
			return false
		}
	}
	for _, r := range s.Resource.Values {
		if r != "*" && !keyARNPattern.MatchString(r) {
			return false
		}
	}
	return true
}

// markOthers sets named.Ignore to leave out the other grants' statements.
func markOthers(named *policy.Named, kind policy.Kind, docPrincipal string, self GrantID) {
	if named == nil || named.Doc == nil {
		return
	}
	named.Ignore = nil
	for i, s := range named.Doc.Statements() {
		if otherGrant(s, kind, docPrincipal, self) {
			if named.Ignore == nil {
				named.Ignore = make([]bool, len(named.Doc.Statements()))
			}
			named.Ignore[i] = true
		}
	}
}
