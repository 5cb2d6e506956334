package plangen

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The suite's model of a request's condition keys, written from AWS's
// documentation (IAM User Guide, global condition context keys and forward
// access sessions; S3's and KMS's entries in the Service Authorization
// Reference; KMS Developer Guide, condition keys): for each key a scenario's
// documents test, whether AWS sets it from facts the scenario fixes, whether
// the request cannot carry it, or which values the client, the network path
// or facts bucketgrant does not read may give it.

// Class is where a condition key's value comes from for one request.
type Class int

const (
	// Fact: AWS sets it from facts the scenario fixes (Facts holds the
	// value, or the key is absent from this request).
	Fact Class = iota
	// Absent: this request never carries it (a header the action does not
	// take, a key only AWS services' own calls carry, the caller's VPC
	// endpoint on S3's call to KMS).
	Absent
	// Client: the client chooses (a header, MFA, TLS).
	Client
	// Network: the network path sets it (address, VPC endpoint).
	Network
	// Unknown: AWS sets it from facts bucketgrant does not read (tags,
	// organization), or the key is not documented.
	Unknown
)

func (c Class) String() string {
	return [...]string{"fact", "absent", "client", "network", "unknown"}[c]
}

var factKeys = []string{
	"aws:currenttime", "aws:epochtime", "aws:requestedregion", "aws:resourceaccount", "aws:principalarn",
	"aws:principalaccount", "aws:principaltype", "aws:userid", "aws:username", "aws:principalisawsservice",
	"aws:viaawsservice", "aws:calledvia", "aws:calledviafirst", "aws:calledvialast", "aws:securetransport",
	"kms:viaservice", "kms:calleraccount", "kms:encryptioncontext:aws:s3:arn", "kms:encryptioncontextkeys",
	"kms:requestalias", "kms:resourcealiases", "kms:encryptionalgorithm", "s3:prefix",
}

// serviceOnly keys exist only on requests AWS services make with their own
// service principal (IAM User Guide, global condition context keys).
var serviceOnly = []string{"aws:sourceaccount", "aws:sourcearn", "aws:sourceowner", "aws:principalservicename", "aws:principalservicenameslist"}

// Classify says where key's value comes from on the principal's request for
// action (kms: S3's forward access session to KMS for the principal).
func Classify(key, action string, kms bool) Class {
	k := strings.ToLower(key)
	switch {
	case slices.Contains(factKeys, k):
		return Fact
	case slices.Contains(serviceOnly, k):
		return Absent
	case k == "s3:x-amz-server-side-encryption" || k == "s3:x-amz-server-side-encryption-aws-kms-key-id":
		// Only uploads carry the SSE headers (S3 refuses them on GET and
		// HEAD of SSE-KMS objects).
		if !kms && strings.EqualFold(action, "s3:PutObject") {
			return Client
		}
		return Absent
	case k == "s3:x-amz-acl":
		if !kms && (strings.EqualFold(action, "s3:PutObject") || strings.EqualFold(action, "s3:PutObjectAcl")) {
			return Client
		}
		return Absent
	case k == "aws:multifactorauthpresent":
		return Client
	case k == "aws:sourceip":
		if kms {
			// IAM says a forward access session keeps the requester's
			// address; older KMS guidance says otherwise.
			return Unknown
		}
		return Network
	case k == "aws:sourcevpce" || k == "aws:sourcevpc" || k == "aws:vpcsourceip":
		if kms {
			return Absent
		}
		return Network
	}
	return Unknown
}

// RequestAction is one request the grant needs.
type RequestAction struct {
	Action string
	KMS    bool
}

// Requests lists the grant's requests: each level's S3 action, then the KMS
// actions S3 makes for them (reading decrypts; writing generates a data key
// and, for multipart uploads, decrypts it).
func (s *Scenario) Requests() []RequestAction {
	var out []RequestAction
	kms := map[string]bool{}
	for _, l := range s.Levels() {
		switch l {
		case "read":
			out = append(out, RequestAction{Action: "s3:GetObject"})
			kms["kms:Decrypt"] = true
		case "write":
			out = append(out, RequestAction{Action: "s3:PutObject"})
			kms["kms:Decrypt"], kms["kms:GenerateDataKey"] = true, true
		case "list":
			out = append(out, RequestAction{Action: "s3:ListBucket"})
		case "versions":
			out = append(out, RequestAction{Action: "s3:GetObjectVersion"})
			kms["kms:Decrypt"] = true
		case "acl":
			out = append(out, RequestAction{Action: "s3:PutObjectAcl"})
		}
	}
	for _, a := range []string{"kms:Decrypt", "kms:GenerateDataKey"} {
		if kms[a] {
			out = append(out, RequestAction{Action: a, KMS: true})
		}
	}
	return out
}

// ObjectRequest reports whether the request names an object (as resource
// for S3, as encryption context for S3's KMS requests without Bucket Keys).
func (s *Scenario) ObjectRequest(r RequestAction) bool {
	if r.KMS {
		return !s.BucketKeys
	}
	return r.Action != "s3:ListBucket"
}

// Resource is the ARN a request is made on: the object, the bucket or the
// key.
func (s *Scenario) Resource(r RequestAction, object string) string {
	switch {
	case r.KMS:
		return s.KeyARNOf()
	case r.Action == "s3:ListBucket":
		return BucketARN()
	}
	return BucketARN() + "/" + object
}

// ResourceAccount is the account of a request's resource.
func (s *Scenario) ResourceAccount(r RequestAction) string {
	if r.KMS {
		return s.KeyAccount
	}
	return s.BucketAccount
}

// Facts are the keys AWS sets on the principal's request from facts: the
// principal, the time, the region and account of the resource, and for
// S3's call to KMS what S3 sends (IAM User Guide, forward access sessions;
// aws-facts.md §1 and §10). object is the object key the request is about
// ("" for the bucket).
func (s *Scenario) Facts(r RequestAction, object string) map[string][]string {
	now, _ := time.Parse(time.RFC3339, Now)
	ctx := map[string][]string{
		"aws:PrincipalArn":          {s.PrincipalARN()},
		"aws:PrincipalAccount":      {AccountP},
		"aws:SecureTransport":       {"true"},
		"aws:CurrentTime":           {Now},
		"aws:EpochTime":             {strconv.FormatInt(now.Unix(), 10)},
		"aws:PrincipalIsAWSService": {"false"},
		"aws:RequestedRegion":       {Region},
		"aws:ResourceAccount":       {s.ResourceAccount(r)},
	}
	s.orgFacts(ctx, s.ResourceAccount(r))
	s.tagFacts(ctx)
	if s.Kind == "user" {
		ctx["aws:userid"] = []string{JaneID}
		ctx["aws:username"] = []string{"Jane"}
		ctx["aws:PrincipalType"] = []string{"User"}
	} else {
		ctx["aws:userid"] = []string{ReaderID + ":" + s.sessionName()}
		ctx["aws:PrincipalType"] = []string{"AssumedRole"}
	}
	if !r.KMS {
		ctx["aws:ViaAWSService"] = []string{"false"}
		if r.Action == "s3:ListBucket" && s.Prefix != "" {
			ctx["s3:prefix"] = []string{s.Prefix}
		}
		return ctx
	}
	ctx["aws:ViaAWSService"] = []string{"true"}
	ctx["aws:CalledVia"] = []string{"s3.amazonaws.com"}
	ctx["aws:CalledViaFirst"] = []string{"s3.amazonaws.com"}
	ctx["aws:CalledViaLast"] = []string{"s3.amazonaws.com"}
	ctx["kms:ViaService"] = []string{"s3." + Region + ".amazonaws.com"}
	ctx["kms:CallerAccount"] = []string{AccountP}
	ctx["kms:EncryptionAlgorithm"] = []string{"SYMMETRIC_DEFAULT"}
	ctx["kms:ResourceAliases"] = []string{Alias}
	if s.KeyRef == "alias" && r.Action == "kms:GenerateDataKey" {
		ctx["kms:RequestAlias"] = []string{Alias}
	}
	if s.BucketKeys || object == "" {
		ctx["kms:EncryptionContext:aws:s3:arn"] = []string{BucketARN()}
	} else {
		ctx["kms:EncryptionContext:aws:s3:arn"] = []string{BucketARN() + "/" + object}
	}
	ctx["kms:EncryptionContextKeys"] = []string{"aws:s3:arn"}
	return ctx
}

// FreeKey is a condition key whose value the request's facts do not fix,
// with every value worth trying (nil: absent).
type FreeKey struct {
	Key    string
	Class  Class
	Values [][]string
}

// otherValue stands for every value no condition names.
const otherValue = "bucketgrant-other-value"

// outsideIP is an address no generated range holds.
const outsideIP = "198.51.100.77"

// Free lists the keys the scenario's documents test that a request for r
// may carry with values the facts do not fix, each with the values that
// every condition on it tells apart. The client's choices stay inside what
// keeps the bucket's key: the SSE headers name aws:kms (or aws:kms:dsse)
// and the bucket's key, never AES256 or another key.
func (s *Scenario) Free(r RequestAction) []FreeKey {
	var out []FreeKey
	for _, key := range s.ConditionKeys() {
		class := s.Classify(key, r.Action, r.KMS)
		if class == Fact || class == Absent {
			continue
		}
		f := FreeKey{Key: key, Class: class}
		switch strings.ToLower(key) {
		case "s3:x-amz-server-side-encryption":
			alg := "aws:kms"
			if s.SSE == "aws:kms:dsse" {
				alg = "aws:kms:dsse"
			}
			f.Values = [][]string{nil, {alg}}
		case "s3:x-amz-server-side-encryption-aws-kms-key-id":
			f.Values = [][]string{nil, {s.KeyARNOf()}}
		case "s3:x-amz-acl":
			f.Values = [][]string{nil, {"bucket-owner-full-control"}, {"private"}}
		case "aws:multifactorauthpresent":
			// Long-term keys of a user send no MFA key; a session (of a
			// user or a role) says whether it was made with MFA.
			f.Values = [][]string{{"false"}, {"true"}}
			if s.Kind == "user" {
				f.Values = [][]string{nil, {"false"}, {"true"}}
			}
		case "aws:sourceip":
			f.Values = [][]string{{outsideIP}}
			for _, c := range s.conditionsOn(key) {
				for _, v := range c.Values {
					if p, err := netip.ParsePrefix(v); err == nil {
						f.Values = appendValue(f.Values, []string{p.Masked().Addr().Next().String()})
					} else if a, err := netip.ParseAddr(v); err == nil {
						f.Values = appendValue(f.Values, []string{a.String()})
					}
				}
			}
		default:
			f.Values = [][]string{nil}
			for _, c := range s.conditionsOn(key) {
				for _, v := range c.Values {
					f.Values = appendValue(f.Values, []string{concrete(v)})
				}
			}
			f.Values = appendValue(f.Values, []string{otherValue})
		}
		out = append(out, f)
	}
	return out
}

func appendValue(vs [][]string, v []string) [][]string {
	for _, have := range vs {
		if have != nil && slices.Equal(have, v) {
			return vs
		}
	}
	return append(vs, v)
}

// patternFiller makes a pattern concrete; built once (building a Replacer
// costs far more than using one).
var patternFiller = strings.NewReplacer("*", "", "?", "x")

// concrete turns a pattern into a value it matches.
func concrete(v string) string {
	return patternFiller.Replace(v)
}

// Contexts lists every request context for r and object: the facts plus
// one value of each free key, at most limit of them (nil when there are
// more: the caller says it could not search).
func (s *Scenario) Contexts(r RequestAction, object string, limit int) []map[string][]string {
	base := s.Facts(r, object)
	frees := s.Free(r)
	total := 1
	for _, f := range frees {
		total *= len(f.Values)
		if total > limit {
			return nil
		}
	}
	out := make([]map[string][]string, 0, total)
	idx := make([]int, len(frees))
	for {
		ctx := make(map[string][]string, len(base)+len(frees))
		for k, v := range base {
			ctx[k] = v
		}
		for i, f := range frees {
			if v := f.Values[idx[i]]; v != nil {
				ctx[f.Key] = v
			}
		}
		out = append(out, ctx)
		i := 0
		for ; i < len(frees); i++ {
			idx[i]++
			if idx[i] < len(frees[i].Values) {
				break
			}
			idx[i] = 0
		}
		if i == len(frees) {
			return out
		}
	}
}

// DefaultShape reports whether ctx sends request r the way a client does
// when it does nothing special: no SSE or ACL header, no MFA session (a
// role's session says false), no VPC endpoint, from an address no
// condition names. Keys bucketgrant cannot read may take any value.
func (s *Scenario) DefaultShape(r RequestAction, ctx map[string][]string) bool {
	return s.DefaultShapeOf(s.Free(r), ctx)
}

// DefaultShapeOf is DefaultShape with the request's free keys (Free)
// computed once by the caller, which asks about many contexts.
func (s *Scenario) DefaultShapeOf(frees []FreeKey, ctx map[string][]string) bool {
	for _, f := range frees {
		if f.Class != Client && f.Class != Network {
			continue
		}
		var dflt []string
		switch strings.ToLower(f.Key) {
		case "aws:multifactorauthpresent":
			if s.Kind != "user" {
				dflt = []string{"false"}
			}
		case "aws:sourceip":
			dflt = []string{outsideIP}
		}
		var got []string
		for k, v := range ctx {
			if strings.EqualFold(k, f.Key) {
				got = v
			}
		}
		if (got == nil) != (dflt == nil) || !slices.Equal(got, dflt) {
			return false
		}
	}
	return true
}
