package diff

import (
	"strings"

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
		n := need{level: l, service: "s3", action: l.s3Action(), resource: objects, probe: probe, account: p.bucket.Account}
		if l == List {
			n.resource, n.probe = bucketARN, bucketARN
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
			out = append(out, need{
				level: l, service: "kms", action: a, resource: p.key.ARN, probe: p.key.ARN,
				account: accountOf(p.key.ARN), context: p.kmsContext(probe, bucketARN),
			})
		}
	}
	return out
}

// principalContext holds the global condition keys AWS sets from the
// principal on every request (IAM User Guide, "AWS global condition context
// keys"): they are facts, so conditions on them are decided, not guessed.
func (p *planner) principalContext() map[string][]string {
	ctx := map[string][]string{
		"aws:PrincipalArn":     {p.principalARN},
		"aws:PrincipalAccount": {p.principalAccount},
		"aws:SecureTransport":  {"true"}, // SSE-KMS requests must use TLS anyway
	}
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
	return ctx
}

func (p *planner) s3Context(l Level) map[string][]string {
	ctx := p.principalContext()
	if l == List && p.opts.Prefix != "" {
		ctx["s3:prefix"] = []string{p.opts.Prefix}
	}
	return ctx
}

// kmsContext is what KMS sees when S3 calls it on the principal's behalf:
// the S3 endpoint as kms:ViaService, the caller's account, and the
// encryption context S3 sends (the object ARN, or the bucket ARN with S3
// Bucket Keys; aws-facts.md §1).
func (p *planner) kmsContext(objectARN, bucketARN string) map[string][]string {
	ctx := p.principalContext()
	ctx["kms:ViaService"] = []string{p.s3Endpoint()}
	ctx["kms:CallerAccount"] = []string{p.principalAccount}
	ctx["aws:ViaAWSService"] = []string{"true"}
	arn := objectARN
	if p.bucket.Encryption != nil && p.bucket.Encryption.BucketKeyEnabled {
		arn = bucketARN
	}
	ctx["kms:EncryptionContext:aws:s3:arn"] = []string{arn}
	ctx["kms:EncryptionContextKeys"] = []string{"aws:s3:arn"}
	return ctx
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
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[4]
}

func partitionOf(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || parts[1] == "" {
		return "aws"
	}
	return parts[1]
}

func cloneContext(ctx map[string][]string) map[string][]string {
	out := make(map[string][]string, len(ctx)+2)
	for k, v := range ctx {
		out[k] = v
	}
	return out
}
