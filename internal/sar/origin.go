package sar

import (
	"strings"
)

// RequestKind is one request bucketgrant reasons about: the principal's own
// S3 request, or a KMS request that S3 makes for it while serving one. S3's
// KMS requests are forward access sessions (FAS): they carry the principal's
// identity and permissions, and S3's identity as the caller's service.
type RequestKind uint8

// The requests. The zero value is no request.
const (
	GetObject RequestKind = iota + 1
	PutObject
	ListBucket
	GetObjectVersion
	PutObjectAcl
	// KMSDecrypt is the kms:Decrypt S3 makes for a download (and for
	// multipart uploads).
	KMSDecrypt
	// KMSGenerateDataKey is the kms:GenerateDataKey S3 makes for an upload.
	KMSGenerateDataKey
)

// RequestKinds lists every RequestKind, S3 first.
var RequestKinds = []RequestKind{GetObject, PutObject, ListBucket, GetObjectVersion, PutObjectAcl, KMSDecrypt, KMSGenerateDataKey}

var requestActions = [...]string{
	GetObject: "s3:GetObject", PutObject: "s3:PutObject", ListBucket: "s3:ListBucket",
	GetObjectVersion: "s3:GetObjectVersion", PutObjectAcl: "s3:PutObjectAcl",
	KMSDecrypt: "kms:Decrypt", KMSGenerateDataKey: "kms:GenerateDataKey",
}

// Action is the IAM action AWS authorizes for the request.
func (r RequestKind) Action() string {
	if int(r) >= len(requestActions) {
		return ""
	}
	return requestActions[r]
}

// ViaS3 reports whether S3 makes the request for the principal (a forward
// access session) rather than the principal itself.
func (r RequestKind) ViaS3() bool { return r == KMSDecrypt || r == KMSGenerateDataKey }

func (r RequestKind) String() string {
	a := r.Action()
	if a == "" {
		return "no request"
	}
	if r.ViaS3() {
		return a + " (made by S3 for the principal)"
	}
	return a
}

// Kind says where a key's value comes from, and so how a condition on it is
// decided.
type Kind uint8

const (
	// Unknown: the key is in no table, or its origin for this request has no
	// source bucketgrant trusts. A verdict that hangs on it is "allowed if",
	// never "works"; it is never treated as the client's choice.
	Unknown Kind = iota
	// Fact: AWS sets it from facts bucketgrant knows; decide the condition
	// with the real value (Value says how to compute it), in Denies and
	// Allows alike.
	Fact
	// Client: the client chooses it per request (a header, a parameter, the
	// TLS connection, how it signs, which credentials it uses). A Deny
	// avoided by choosing it is a warning that names the request shape.
	Client
	// Network: the network path the request takes sets it (VPC endpoints,
	// source addresses).
	Network
	// ServiceOnly: present only on calls an AWS service principal makes, so
	// absent on this request.
	ServiceOnly
	// Unread: AWS sets it from facts bucketgrant does not read (tags,
	// organizations, how a role's sessions are created).
	Unread
	// NotCarried: the catalogue does not list the key for the request's
	// action, so the request never carries it: decide conditions with the
	// key absent.
	NotCarried
)

var kindNames = [...]string{"unknown", "set by AWS", "chosen by the client", "set by the network path", "only on AWS service calls", "not read by bucketgrant", "not carried by this action"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Caller is the credentials the request is signed with; some keys exist only
// for temporary credentials.
type Caller uint8

const (
	// UserKeys is an IAM user signing with its long-term access keys.
	UserKeys Caller = iota
	// UserSession is an IAM user signing with temporary credentials from
	// sts:GetSessionToken (the way a user satisfies an MFA requirement).
	UserSession
	// RoleSession is a session of an IAM role.
	RoleSession
)

// Presence says when the key is in the request.
type Presence uint8

const (
	// PresenceUnknown: not known.
	PresenceUnknown Presence = iota
	// Present: always in this request.
	Present
	// Absent: never in this request.
	Absent
	// IfChosen: in the request only when the client sends it (a header or
	// parameter, MFA on its session, an access point).
	IfChosen
	// IfFact: in the request only when a fact holds that KeyInfo.Rule names
	// (a tag attached, an organization, a VPC endpoint, an alias).
	IfFact
)

var presenceNames = [...]string{"unknown", "present", "absent", "present if the client sends it", "present if a fact holds"}

func (p Presence) String() string {
	if int(p) < len(presenceNames) {
		return presenceNames[p]
	}
	return "unknown"
}

// Value names how to compute a Fact key's value; Facts.Values computes it.
type Value uint8

// Values. ValueNone is for keys bucketgrant does not compute.
const (
	ValueNone Value = iota
	// ValueCurrentTime is the request time, ISO 8601 in UTC.
	ValueCurrentTime
	// ValueEpochTime is the request time in seconds since 1970.
	ValueEpochTime
	// ValueRegion is the region the request is sent to: the bucket's for
	// S3, the key's for KMS (the same region: S3 uses a key of its own).
	ValueRegion
	// ValueResourceAccount is the account that owns the resource: the
	// bucket's for S3, the key's for KMS.
	ValueResourceAccount
	// ValuePrincipalARN is the user's ARN, or for a role session the role's
	// ARN (not the session's).
	ValuePrincipalARN
	// ValuePrincipalAccount is the principal's account.
	ValuePrincipalAccount
	// ValuePrincipalType is "User" or "AssumedRole".
	ValuePrincipalType
	// ValueUserID is the user's unique ID, or "ROLEID:session-name".
	ValueUserID
	// ValueUsername is the user's name.
	ValueUsername
	// ValueFalse and ValueTrue are the constant Booleans.
	ValueFalse
	ValueTrue
	// ValueS3Principal is S3's service principal, s3.amazonaws.com.
	ValueS3Principal
	// ValueS3ViaService is S3's endpoint name in the bucket's region,
	// s3.REGION.amazonaws.com (.com.cn in China).
	ValueS3ViaService
	// ValueS3ContextARN is the encryption context S3 sends under aws:s3:arn:
	// the object's ARN, or the bucket's with S3 Bucket Keys.
	ValueS3ContextARN
	// ValueS3ContextKeys is the encryption context keys S3 sends: aws:s3:arn.
	ValueS3ContextKeys
	// ValueSymmetricDefault is SYMMETRIC_DEFAULT, the only algorithm of the
	// symmetric encryption keys SSE-KMS uses.
	ValueSymmetricDefault
	// ValueRequestAlias is the alias the bucket's default encryption names
	// the key by; absent when it names a key ID or ARN.
	ValueRequestAlias
	// ValueKeyAliases is the key's aliases.
	ValueKeyAliases
	// ValueKeyMultiRegion is whether the key is a multi-Region key.
	ValueKeyMultiRegion
)

// KeyInfo is where one condition key's value comes from in one request.
type KeyInfo struct {
	Key     string      // the key asked about
	Family  string      // the hand table's row: a name, or a family such as "aws:PrincipalTag/*"
	Request RequestKind // the request asked about
	Kind    Kind
	// Carried is whether the catalogue says the request's action can carry
	// the key (global keys other than the tag keys always can).
	Carried bool
	// presence per Caller.
	presence [3]Presence
	Value    Value
	Multi    bool   // multivalued: ForAnyValue/ForAllValues apply
	Type     string // the catalogue's value type, "" if uncatalogued
	Rule     string // plain words, for plans and warnings
	Source   string // where the row's claim comes from
}

// Presence says whether the key is in the request for this caller.
func (k KeyInfo) Presence(c Caller) Presence {
	if int(c) >= len(k.presence) {
		return PresenceUnknown
	}
	return k.presence[c]
}

// Origin says where key's value comes from in request req. A key in no table
// comes back Unknown; a service key or tag key the catalogue does not list
// for the action comes back NotCarried (absent); a catalogued key without a
// sourced row in the hand table comes back Unknown.
func Origin(key string, req RequestKind) KeyInfo {
	info := KeyInfo{Key: key, Request: req}
	action := req.Action()
	lower := strings.ToLower(strings.TrimSpace(key))
	typ, catalogued, known := KeyType(lower)
	info.Type = typ
	if action == "" || !known {
		info.Rule = "not in AWS's catalogue of condition keys for S3, KMS or the global keys"
		if action == "" {
			info.Rule = "no such request"
		}
		info.presence = [3]Presence{PresenceUnknown, PresenceUnknown, PresenceUnknown}
		return info
	}
	switch {
	case isSARGoverned(lower) || !isGlobal(lower):
		info.Carried = Carries(action, lower)
	default:
		info.Carried = true
	}
	if !info.Carried {
		info.Kind = NotCarried
		info.Family = catalogued
		info.presence = [3]Presence{Absent, Absent, Absent}
		info.Rule = "AWS's Service Authorization Reference does not list " + catalogued + " for " + action + ", so the request never carries it"
		info.Source = sarSource(action)
		return info
	}
	r, ok := findRow(lower, req)
	if !ok {
		info.Family = catalogued
		info.presence = [3]Presence{PresenceUnknown, PresenceUnknown, PresenceUnknown}
		info.Rule = "listed for " + action + ", but bucketgrant has no sourced rule for where its value comes from in this request"
		return info
	}
	info.Family = r.key
	info.Kind = r.kind
	info.presence = r.presence
	info.Value = r.value
	info.Multi = r.multi
	info.Rule = r.rule
	info.Source = r.source
	return info
}

func sarSource(action string) string {
	if strings.HasPrefix(strings.ToLower(action), "kms:") {
		return srcSARKMS
	}
	return srcSARS3
}

// findRow picks the hand-table row for key and request: an exact name before
// the longest family.
func findRow(lower string, req RequestKind) (row, bool) {
	var best row
	bestLen := -1
	for _, r := range rows {
		if r.reqs&(1<<req) == 0 {
			continue
		}
		rk := strings.ToLower(r.key)
		if strings.HasSuffix(rk, "*") {
			prefix := rk[:len(rk)-1]
			if len(lower) > len(prefix) && strings.HasPrefix(lower, prefix) && len(prefix) > bestLen {
				best, bestLen = r, len(prefix)
			}
			continue
		}
		if rk == lower {
			return r, true
		}
	}
	return best, bestLen >= 0
}
