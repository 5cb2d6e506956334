package lifeseq

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"

	"github.com/bucketgrant/bucketgrant/internal/oracle"
	"github.com/bucketgrant/bucketgrant/internal/trust"
	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// caller is someone whose requests are probed: a principal of the world
// (as itself, or a session of its role) or an outsider whose own identity
// policy allows everything, so that only resource policies decide for it.
type caller struct {
	arn       string // the calling ARN
	principal string // the user or role ARN; "" for an outsider
	account   string
	id        string
}

// Probe kinds.
const (
	kindObject = iota
	kindList
	kindBucket // a bucket action no grant gives (s3:PutBucketPolicy)
	kindKey
)

// probe is one request whose decision the model predicts.
type probe struct {
	who    caller
	kind   int
	action string
	// bucket and object for S3 (object: the key within the bucket); key
	// for KMS; listPrefix the s3:prefix a list sends (hasPrefix: it sends
	// one).
	bucket, object, key string
	listPrefix          string
	hasPrefix           bool
}

func (p probe) resource() string {
	switch p.kind {
	case kindObject:
		return "arn:aws:s3:::" + p.bucket + "/" + p.object
	case kindKey:
		return p.key
	}
	return "arn:aws:s3:::" + p.bucket
}

func (p probe) String() string {
	s := p.who.arn + " " + p.action + " on " + p.resource()
	if p.hasPrefix {
		s += " with s3:prefix " + p.listPrefix
	}
	return s
}

// Objects probed in every bucket: under each prefix the sequences grant,
// deeper under it, and outside every prefix.
var probeObjects = []string{"reports/q1.csv", "reports/2026/deep/q2.csv", "logs/app.log"}

var (
	objectActions = []string{"s3:GetObject", "s3:PutObject", "s3:GetObjectVersion", "s3:PutObjectAcl", "s3:DeleteObject"}
	keyActions    = []string{"kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt", "kms:PutKeyPolicy"}
)

func (w World) callers() []caller {
	var out []caller
	st := w.State()
	for _, p := range w.Principals {
		c := caller{arn: callerARN(p.ARN), principal: p.ARN, account: state.AccountOf(p.ARN)}
		if pr := st.FindPrincipal(p.ARN); pr != nil {
			c.id = pr.ID
			if pr.Kind == state.KindRole {
				c.id += ":lifeseq"
			}
		}
		out = append(out, c)
	}
	accounts := []string{AccountA}
	for _, b := range w.Buckets {
		if !slices.Contains(accounts, b.Account) {
			accounts = append(accounts, b.Account)
		}
	}
	for _, p := range w.Principals {
		if a := state.AccountOf(p.ARN); !slices.Contains(accounts, a) {
			accounts = append(accounts, a)
		}
	}
	for _, a := range accounts {
		out = append(out, caller{arn: "arn:aws:iam::" + a + ":user/outsider", account: a, id: "AIDAOUTSIDER" + a})
	}
	return out
}

// probes lists every request the "nothing new" property watches.
func (w World) probes() []probe {
	var out []probe
	for _, c := range w.callers() {
		for _, b := range w.Buckets {
			for _, o := range probeObjects {
				for _, a := range objectActions {
					out = append(out, probe{who: c, kind: kindObject, action: a, bucket: b.Name, object: o})
				}
			}
			out = append(out, probe{who: c, kind: kindList, action: "s3:ListBucket", bucket: b.Name})
			for _, pre := range []string{"reports/", "logs/"} {
				out = append(out, probe{who: c, kind: kindList, action: "s3:ListBucket", bucket: b.Name, listPrefix: pre, hasPrefix: true})
			}
			out = append(out, probe{who: c, kind: kindBucket, action: "s3:PutBucketPolicy", bucket: b.Name})
		}
		for _, k := range w.Keys {
			for _, a := range keyActions {
				out = append(out, probe{who: c, kind: kindKey, action: a, key: k.ARN})
			}
		}
	}
	return out
}

// explains reports whether a standing grant gives the probe's request.
func (m *Model) explains(p probe) bool {
	if p.who.principal == "" {
		return false
	}
	for id, s := range m.Grants {
		if id.Principal == p.who.principal && s.gives(id, p) {
			return true
		}
	}
	for id, s := range m.Residue {
		if id.Principal == p.who.principal && s.gives(id, p) {
			return true
		}
	}
	return false
}

// gives reports whether the statements of grant id, standing as s, give
// the probe's request.
func (s Standing) gives(id diff.GrantID, p probe) bool {
	switch p.kind {
	case kindObject:
		return id.Bucket == p.bucket && strings.HasPrefix(p.object, id.Prefix) && slices.Contains(s3Actions(s.Levels), p.action)
	case kindList:
		return id.Bucket == p.bucket && slices.Contains(s.Levels, diff.List) && (id.Prefix == "" || (p.hasPrefix && strings.HasPrefix(p.listPrefix, id.Prefix)))
	case kindKey:
		return slices.Contains(s.Keys[p.key], p.action)
	}
	return false
}

// s3Actions and kmsActions are what the design says each level needs.
func s3Actions(ls []diff.Level) []string {
	var out []string
	for _, l := range ls {
		switch l {
		case diff.Read:
			out = append(out, "s3:GetObject")
		case diff.Write:
			out = append(out, "s3:PutObject")
		case diff.Versions:
			out = append(out, "s3:GetObjectVersion")
		case diff.ACL:
			out = append(out, "s3:PutObjectAcl")
		}
	}
	return out
}

func kmsActions(ls []diff.Level) []string {
	var out []string
	for _, l := range ls {
		switch l {
		case diff.Read, diff.Versions:
			out = append(out, "kms:Decrypt")
		case diff.Write:
			out = append(out, "kms:GenerateDataKey", "kms:Decrypt")
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

var allowAll = json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)

// caseFor is the request under the documents of st. ctx nil: the context
// of a request sent over TLS, through S3 for KMS.
func (w World) caseFor(st *state.State, p probe, ctx map[string][]string) oracle.Case {
	c := oracle.Case{ResourceType: "s3", Principal: p.who.arn, PrincipalAccount: p.who.account, PrincipalID: p.who.id,
		Action: p.action, ResourceARN: p.resource()}
	if p.who.principal == "" {
		c.Identity = []oracle.NamedPolicy{{Name: "allow-all", Policy: allowAll}}
	} else {
		c.Identity, c.Boundary = trust.IdentityOf(st.FindPrincipal(p.who.principal))
	}
	if p.kind == kindKey {
		c.ResourceType, c.ResourceAccount = "kms", state.AccountOf(p.key)
		if k := st.FindKey(p.key); k != nil && k.Policy != nil {
			c.Resource = json.RawMessage(k.Policy.Text)
		}
	} else if b := st.FindBucket(p.bucket); b != nil {
		c.ResourceAccount = b.Account
		if b.Policy != nil {
			c.Resource = json.RawMessage(b.Policy.Text)
		}
	}
	if ctx == nil {
		ctx = w.context(st, p)
	}
	c.Context = ctx
	return c
}

// context is the facts AWS sets for the caller's request.
func (w World) context(st *state.State, p probe) map[string][]string {
	ctx := map[string][]string{
		"aws:SecureTransport": {"true"}, "aws:PrincipalAccount": {p.who.account}, "aws:RequestedRegion": {Region},
		"aws:PrincipalIsAWSService": {"false"},
	}
	if p.who.id != "" {
		ctx["aws:userid"] = []string{p.who.id}
	}
	if i := strings.Index(p.who.arn, ":assumed-role/"); i >= 0 {
		ctx["aws:PrincipalType"] = []string{"AssumedRole"}
		ctx["aws:PrincipalArn"] = []string{p.who.principal}
	} else {
		ctx["aws:PrincipalType"] = []string{"User"}
		ctx["aws:PrincipalArn"] = []string{p.who.arn}
		ctx["aws:username"] = []string{p.who.arn[strings.LastIndexByte(p.who.arn, '/')+1:]}
	}
	switch p.kind {
	case kindKey:
		ctx["aws:ResourceAccount"] = []string{state.AccountOf(p.key)}
		ctx["aws:ViaAWSService"] = []string{"true"}
		ctx["aws:CalledVia"] = []string{"s3.amazonaws.com"}
		ctx["kms:ViaService"] = []string{"s3." + Region + ".amazonaws.com"}
		ctx["kms:CallerAccount"] = []string{p.who.account}
		for _, b := range st.Buckets {
			if b.Encryption != nil && b.Encryption.KMSMasterKeyID == p.key {
				ctx["kms:EncryptionContext:aws:s3:arn"] = []string{"arn:aws:s3:::" + b.Name}
				break
			}
		}
	default:
		ctx["aws:ViaAWSService"] = []string{"false"}
		if b := st.FindBucket(p.bucket); b != nil {
			ctx["aws:ResourceAccount"] = []string{b.Account}
		}
		if p.hasPrefix {
			ctx["s3:prefix"] = []string{p.listPrefix}
		}
	}
	return ctx
}

// fingerprint holds digests of what a probe's decision reads: each
// principal's identity policies, each bucket's and key's policy, and the
// bucket a key's context names. A probe whose digests did not change
// keeps its decision.
type fingerprint struct {
	identity, resource map[string]uint64
	keyBucket          map[string]uint64
}

func fingerprints(st *state.State) fingerprint {
	f := fingerprint{identity: map[string]uint64{}, resource: map[string]uint64{}, keyBucket: map[string]uint64{}}
	sum := func(parts ...[]byte) uint64 {
		h := fnv.New64a()
		for _, p := range parts {
			h.Write(p)
			h.Write([]byte{0})
		}
		return h.Sum64()
	}
	for _, p := range st.Principals {
		var parts [][]byte
		for _, in := range p.InlinePolicies {
			parts = append(parts, []byte(in.Name), docBytes(in.Doc))
		}
		for _, m := range p.AttachedPolicies {
			parts = append(parts, []byte(m.ARN), docBytes(m.Document))
		}
		f.identity[p.ARN] = sum(parts...)
	}
	for _, b := range st.Buckets {
		f.resource[b.Name] = sum(docBytes(b.Policy))
		if e := b.Encryption; e != nil {
			if _, ok := f.keyBucket[e.KMSMasterKeyID]; !ok {
				f.keyBucket[e.KMSMasterKeyID] = sum([]byte(b.Name))
			}
		}
	}
	for _, k := range st.Keys {
		f.resource[k.ARN] = sum(docBytes(k.Policy))
	}
	return f
}

func (f fingerprint) of(p probe) uint64 {
	k := f.identity[p.who.principal]*31 + 7
	if p.kind == kindKey {
		return (k+f.resource[p.key])*31 + f.keyBucket[p.key]
	}
	return k + f.resource[p.bucket]
}

func docBytes(d *state.Doc) []byte {
	if d == nil {
		return nil
	}
	return d.Text
}

// ofGrant is a digest of everything planning a standing grant reads (its
// principal's identity policies, its bucket's policy, default key and
// that key's policy, every key policy for the old keys it keeps) and of
// what the model says it is.
func (f fingerprint) ofGrant(st *state.State, s Standing, key string) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d|%d|%s|%v|%v|%s|", f.identity[s.Spec.Principal], f.resource[s.Spec.Bucket], key, s.Levels, s.Keys, s.Spec.KMSVia) // %v prints a map sorted
	for _, k := range st.Keys {
		fmt.Fprintf(h, "%d,", f.resource[k.ARN])
	}
	return h.Sum64()
}
