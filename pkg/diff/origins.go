package diff

import (
	"strings"

	"github.com/bucketgrant/bucketgrant/internal/sar"
)

// Where a condition key's value comes from decides how a condition on it is
// judged (design principle 8; aws-facts.md §10). The facts themselves (the
// principal, the time, the region, what S3 sends KMS) are put into every
// need's context by requests.go; origin classifies the keys a statement
// tests that the context does not hold.

type originKind int

const (
	// originFact: AWS sets the key from facts bucketgrant knows; when the
	// context lacks it, it is absent from this request.
	originFact originKind = iota
	// originAbsent: this request cannot carry the key (the action's entry
	// in AWS's Service Authorization Reference does not list it, or only
	// AWS services' own calls carry it).
	originAbsent
	// originClient: the client (or its network path, for the principal's
	// own S3 requests) chooses the value; the plan may name a choice.
	originClient
	// originUnknown: AWS sets it from facts bucketgrant does not read; a
	// verdict must hold for every value, or say which it needs.
	originUnknown
)

type keyOrigin struct {
	kind originKind
	// domain, when set, lists every value the client may choose (nil:
	// absent); otherwise the values come from the conditions.
	domain [][]string
	// dflt is what a request carries when the client does nothing special
	// (nil: absent).
	dflt []string
}

// serviceOnlyKeys exist only on requests that AWS services make with their
// own service principal (IAM User Guide, "AWS global condition context
// keys": aws:SourceArn, aws:SourceAccount,
// aws:PrincipalServiceName,
// aws:PrincipalServiceNamesList). An IAM principal's request, and S3's
// forward access session to KMS on its behalf, never carries them.
var serviceOnlyKeys = []string{
	"aws:sourcearn", "aws:sourceaccount",
	"aws:principalservicename", "aws:principalservicenameslist",
}

// factKeys are set by requests.go whenever they apply; a statement testing
// one the context lacks tests an absent key (aws:username on a role's
// request, aws:CalledVia on the principal's own call, kms:RequestAlias when
// no alias names the key).
var factKeys = []string{
	"aws:currenttime", "aws:epochtime", "aws:requestedregion", "aws:resourceaccount",
	"aws:principalarn", "aws:principalaccount", "aws:principaltype", "aws:userid", "aws:username",
	"aws:principalisawsservice", "aws:viaawsservice", "aws:calledvia", "aws:calledviafirst", "aws:calledvialast",
	"aws:securetransport",
	"kms:callerAccount", "kms:viaservice", "kms:encryptioncontext:aws:s3:arn", "kms:encryptioncontextkeys",
	"kms:requestalias", "kms:resourcealiases", "kms:encryptionalgorithm", "kms:keyspec", "kms:keyusage",
	"s3:prefix",
}

// origin classifies a condition key the need's context does not hold.
func (p *planner) origin(key string, n need) keyOrigin {
	k := strings.ToLower(key)
	fas := n.service == "kms" // S3's forward access session to KMS
	if o, ok := p.principalTagOrigin(k); ok {
		return o // tags.go
	}
	if o, ok := p.orgOrigin(k); ok {
		return o
	}
	switch {
	case containsFold(serviceOnlyKeys, k), containsFold(factKeys, k):
		return keyOrigin{kind: originAbsent}
	case k == "aws:multifactorauthpresent":
		// Present only on requests signed with temporary credentials: a
		// user with long-term keys sends none unless it makes its
		// requests with an MFA session; a role session carries false
		// unless it was assumed with MFA (aws-facts.md §10). S3's call to
		// KMS carries the original request's value.
		if p.kind == "user" {
			// A session made without MFA (GetSessionToken without a
			// code) carries false.
			return keyOrigin{kind: originClient, domain: [][]string{nil, {"true"}, {"false"}}, dflt: nil}
		}
		return keyOrigin{kind: originClient, domain: [][]string{{"false"}, {"true"}}, dflt: []string{"false"}}
	case k == "aws:multifactorauthage":
		return keyOrigin{kind: originClient, domain: [][]string{nil, {"60"}}, dflt: nil}
	case k == "aws:sourcevpce" || k == "aws:sourcevpc" || k == "aws:vpcsourceip":
		if fas {
			// S3's calls to KMS do not come through the caller's VPC
			// endpoint (IAM User Guide, forward access sessions; KMS
			// Developer Guide, VPC endpoint conditions).
			return keyOrigin{kind: originAbsent}
		}
		return keyOrigin{kind: originClient}
	case k == "aws:sourceip":
		if fas {
			// IAM says a forward access session keeps the requester's
			// source IP; older KMS guidance says otherwise: never
			// "works" on it (aws-facts.md §10).
			return keyOrigin{kind: originUnknown}
		}
		return keyOrigin{kind: originClient} // default: see freeKeys
	}
	// Everything else by AWS's catalogue and the sourced table of
	// internal/sar: a key the action's requests cannot carry, or that only
	// AWS services' own calls carry, is absent; a header or parameter the
	// action carries is the client's; what bucketgrant does not read, or has
	// no sourced rule for, is unknown and never the client's choice.
	info := sar.Origin(key, requestKind(n))
	switch info.Kind {
	case sar.NotCarried, sar.ServiceOnly:
		return keyOrigin{kind: originAbsent}
	case sar.Client, sar.Network:
		if n.service == "s3" {
			return p.clientS3(k)
		}
		if info.Kind == sar.Client {
			// On S3's KMS call: the uploader may add its own encryption
			// context pairs with the x-amz-server-side-encryption-context
			// header; S3 sends only aws:s3:arn by default.
			return keyOrigin{kind: originClient}
		}
	}
	return keyOrigin{kind: originUnknown}
}

// requestKind maps a need to the request internal/sar describes.
func requestKind(n need) sar.RequestKind {
	for _, r := range sar.RequestKinds {
		if strings.EqualFold(r.Action(), n.action) && r.ViaS3() == (n.service == "kms") {
			return r
		}
	}
	return 0
}

// clientS3 restricts the headers whose values decide which key encrypts an
// upload to the ones that keep the bucket's key: bucketgrant grants access
// to a bucket encrypted with its KMS key, so advising a client to send
// AES256 (or another key) would change what the bucket is for.
func (p *planner) clientS3(k string) keyOrigin {
	switch k {
	case "s3:x-amz-server-side-encryption":
		alg := "aws:kms"
		if p.bucket.Encryption != nil && p.bucket.Encryption.SSEAlgorithm == "aws:kms:dsse" {
			alg = "aws:kms:dsse"
		}
		return keyOrigin{kind: originClient, domain: [][]string{nil, {alg}}}
	case "s3:x-amz-server-side-encryption-aws-kms-key-id":
		if p.key == nil {
			return keyOrigin{kind: originClient, domain: [][]string{nil}}
		}
		return keyOrigin{kind: originClient, domain: [][]string{nil, {p.key.ARN}}}
	case "s3:x-amz-acl":
		return keyOrigin{kind: originClient, domain: [][]string{nil, {"bucket-owner-full-control"}, {"private"}}}
	case "s3:signatureversion":
		return keyOrigin{kind: originClient, domain: [][]string{{"AWS4-HMAC-SHA256"}}, dflt: []string{"AWS4-HMAC-SHA256"}}
	case "s3:authtype":
		return keyOrigin{kind: originClient, domain: [][]string{{"REST-HEADER"}, {"REST-QUERY-STRING"}}, dflt: []string{"REST-HEADER"}}
	case "s3:tlsversion":
		return keyOrigin{kind: originClient, domain: [][]string{{"1.2"}, {"1.3"}}, dflt: []string{"1.2"}}
	case "s3:x-amz-content-sha256":
		return keyOrigin{kind: originClient, domain: [][]string{{"UNSIGNED-PAYLOAD"}, {"STREAMING-AWS4-HMAC-SHA256-PAYLOAD"}}, dflt: []string{"UNSIGNED-PAYLOAD"}}
	}
	return keyOrigin{kind: originClient}
}
