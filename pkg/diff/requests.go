package diff

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bucketgrant/bucketgrant/pkg/policy"
)

// need is one request the principal must be able to make, as the planner
// evaluates it.
type need struct {
	level   Level
	service string // "s3" or "kms"
	action  string
	// resource is what the grant names (a pattern for objects); probe is
	// the concrete ARN evaluated.
	resource, probe string
	account         string // the resource's account
	context         map[string][]string
	// objectAt says where the request carries the grant's object
	// (objects.go); object is the probe standing for it until the
	// policies' patterns split it into classes.
	objectAt int
	object   string
}

// probeObject is the object key, under the prefix, that evaluation asks
// about. A statement allows every object under the prefix only if its
// pattern matches an arbitrary key; a name no narrower pattern would match
// stands for "any object".
const probeObject = "bucketgrant-probe/any-object"

// needs lists the requests behind the levels, in level order, KMS after S3.
func (p *planner) needs() []need {
	var out []need
	bucketARN := p.bucketARN()
	objects := bucketARN + "/" + p.opts.Prefix + "*"
	probe := bucketARN + "/" + p.opts.Prefix + probeObject
	kmsSeen := map[string]bool{}
	for _, l := range p.levels {
		n := need{level: l, service: "s3", action: l.s3Action(), resource: objects, probe: probe, account: p.bucket.Account,
			objectAt: objectResource, object: probe}
		if l == List {
			n.resource, n.probe, n.objectAt, n.object = bucketARN, bucketARN, objectNone, ""
			if p.opts.Prefix != "" {
				n.objectAt, n.object = objectPrefix, p.opts.Prefix
			}
		}
		n.context = p.s3Context(l)
		out = append(out, n)
	}
	if p.key == nil {
		return out
	}
	for _, l := range p.levels {
		for _, a := range l.kmsActions() {
			if kmsSeen[a] {
				continue
			}
			kmsSeen[a] = true
			n := need{
				level: l, service: "kms", action: a, resource: p.key.ARN, probe: p.key.ARN,
				account: accountOf(p.key.ARN), context: p.kmsContext(a, probe, bucketARN),
			}
			if !p.bucketKeys() {
				n.objectAt, n.object = objectEncryptionContext, probe
			}
			out = append(out, n)
		}
	}
	return out
}

// principalContext holds the global condition keys AWS sets from the
// principal on every request (IAM User Guide, "AWS global condition context
// keys"): they are facts, so conditions on them are decided, not guessed.
func (p *planner) principalContext() map[string][]string {
	now := p.opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.UTC().Truncate(time.Second)
	ctx := map[string][]string{
		"aws:PrincipalArn":     {p.principalARN},
		"aws:PrincipalAccount": {p.principalAccount},
		"aws:SecureTransport":  {"true"}, // SSE-KMS requests must use TLS anyway
		// The clock at request time: a plan is a statement about requests
		// made now (IAM User Guide, global condition keys).
		"aws:CurrentTime":           {now.Format(time.RFC3339)},
		"aws:EpochTime":             {strconv.FormatInt(now.Unix(), 10)},
		"aws:PrincipalIsAWSService": {"false"},
	}
	p.orgContext(ctx)
	if p.principal != nil && p.principal.ID != "" {
		ctx["aws:userid"] = []string{p.principal.ID}
		if p.kind == "role" {
			ctx["aws:userid"] = []string{p.principal.ID + ":" + p.sessionName()}
		}
	}
	if p.kind == "user" {
		ctx["aws:username"] = []string{lastSegment(p.principalARN)}
		ctx["aws:PrincipalType"] = []string{"User"}
	} else {
		ctx["aws:PrincipalType"] = []string{"AssumedRole"}
	}
	p.addPrincipalTags(ctx) // tags.go
	return ctx
}

func (p *planner) s3Context(l Level) map[string][]string {
	ctx := p.principalContext()
	ctx["aws:ViaAWSService"] = []string{"false"} // the principal's own call
	ctx["aws:ResourceAccount"] = []string{p.bucket.Account}
	p.orgResourceContext(ctx, p.bucket.Account)
	if p.bucket.Region != "" {
		ctx["aws:RequestedRegion"] = []string{p.bucket.Region}
	}
	if l == List && p.opts.Prefix != "" {
		ctx["s3:prefix"] = []string{p.opts.Prefix}
	}
	return ctx
}

// kmsContext is what KMS sees when S3 calls it on the principal's behalf:
// the S3 endpoint as kms:ViaService, the caller's account, and the
// encryption context S3 sends (the object ARN, or the bucket ARN with S3
// Bucket Keys; aws-facts.md §1).
//
// S3's request to KMS is a forward access session: it carries the
// principal's identity, aws:ViaAWSService = true and aws:CalledVia with S3's
// service principal (IAM User Guide, forward access sessions), and it goes
// to the key's region and account. kms:RequestAlias is present only when
// the request names the key by an alias: S3 does so for uploads when the
// bucket's default encryption names an alias; a download decrypts with the
// key recorded with the object (KMS Developer Guide, kms:RequestAlias).
func (p *planner) kmsContext(action, objectARN, bucketARN string) map[string][]string {
	ctx := p.principalContext()
	ctx["kms:ViaService"] = []string{p.s3Endpoint()}
	ctx["kms:CallerAccount"] = []string{p.principalAccount}
	ctx["aws:ViaAWSService"] = []string{"true"}
	ctx["aws:CalledVia"] = []string{"s3.amazonaws.com"}
	ctx["aws:CalledViaFirst"] = []string{"s3.amazonaws.com"}
	ctx["aws:CalledViaLast"] = []string{"s3.amazonaws.com"}
	ctx["aws:ResourceAccount"] = []string{accountOf(p.key.ARN)}
	p.orgResourceContext(ctx, accountOf(p.key.ARN))
	if r := regionOf(p.key.ARN); r != "" {
		ctx["aws:RequestedRegion"] = []string{r}
	}
	ctx["kms:EncryptionAlgorithm"] = []string{"SYMMETRIC_DEFAULT"}
	if len(p.key.Aliases) > 0 {
		ctx["kms:ResourceAliases"] = slices.Clone(p.key.Aliases)
	}
	if id := p.bucket.Encryption.KMSMasterKeyID; action == "kms:GenerateDataKey" && isAlias(id) {
		alias := id
		if i := strings.Index(id, ":alias/"); i >= 0 {
			alias = id[i+1:]
		}
		ctx["kms:RequestAlias"] = []string{alias}
	}
	arn := objectARN
	if p.bucketKeys() {
		arn = bucketARN
	}
	ctx["kms:EncryptionContext:aws:s3:arn"] = []string{arn}
	ctx["kms:EncryptionContextKeys"] = []string{"aws:s3:arn"}
	return ctx
}

// bucketKeys reports whether S3 Bucket Keys are on: S3 then sends the
// bucket's ARN as encryption context instead of the object's.
func (p *planner) bucketKeys() bool {
	return p.bucket.Encryption != nil && p.bucket.Encryption.BucketKeyEnabled
}

// sessionName is the session the planner imagines a role's requests come
// from: resource policies that name the role match all its sessions.
const sessionName = "bucketgrant"

// sessionName is the session evaluated: the one --principal names, else
// an arbitrary one standing for every session of the role.
func (p *planner) sessionName() string {
	if p.session != "" {
		return p.session
	}
	return sessionName
}

// callerFor is the identity that makes the requests: the user, or a session
// of the role.
func (p *planner) caller() policy.Caller {
	c := policy.Caller{ARN: p.principalARN, Account: p.principalAccount}
	if p.principal != nil {
		c.UniqueID = p.principal.ID
	}
	if p.kind == "role" {
		c.ARN = "arn:" + partitionOf(p.principalARN) + ":sts::" + p.principalAccount + ":assumed-role/" + lastSegment(p.principalARN) + "/" + p.sessionName()
	}
	return c
}

func (n need) request(c policy.Caller, ctx map[string][]string) policy.Request {
	return policy.Request{Principal: c, Action: n.action, Resource: n.probe, ResourceAccount: n.account, Context: ctx}
}

// bucketARN is the bucket's ARN in the principal's partition (aws, aws-cn,
// aws-us-gov): a grant never crosses partitions.
func (p *planner) bucketARN() string {
	return "arn:" + partitionOf(p.principalARN) + ":s3:::" + p.bucket.Name
}

// s3Endpoint is S3's service name in the bucket's region, what KMS sees as
// kms:ViaService; China's regions use their own DNS suffix.
func (p *planner) s3Endpoint() string {
	suffix := ".amazonaws.com"
	if partitionOf(p.principalARN) == "aws-cn" {
		suffix = ".amazonaws.com.cn"
	}
	return "s3." + p.bucket.Region + suffix
}

func lastSegment(s string) string {
	return s[strings.LastIndexByte(s, '/')+1:]
}

func accountOf(arn string) string {
	parts, ok := arnParts(arn)
	if !ok {
		return ""
	}
	return parts[4]
}

func partitionOf(arn string) string {
	parts, ok := arnParts(arn)
	if !ok || parts[1] == "" {
		return "aws"
	}
	return parts[1]
}

// arnParts splits an ARN at its first five colons, as strings.SplitN(arn,
// ":", 6) does, without allocating (planning asks for the partition and
// account of the same ARNs many times); ok is false with fewer parts.
func arnParts(arn string) (parts [6]string, ok bool) {
	for i := range 5 {
		j := strings.IndexByte(arn, ':')
		if j < 0 {
			return parts, false
		}
		parts[i], arn = arn[:j], arn[j+1:]
	}
	parts[5] = arn
	return parts, true
}

// cloneContext copies a request context, which evaluation only reads, for
// a request that changes a key. Never nil: callers set keys in the copy.
func cloneContext(ctx map[string][]string) map[string][]string {
	if ctx == nil {
		return make(map[string][]string, 2)
	}
	// maps.Clone copies the table whole: a few times faster than
	// inserting each key, and plans clone contexts of twenty keys for
	// every evaluation of S3's KMS requests.
	return maps.Clone(ctx)
}
