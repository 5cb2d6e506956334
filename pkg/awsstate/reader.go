package awsstate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// Reader reads live state through narrow SDK interfaces. Build one with
// NewReader (from Options) or fill it by hand in tests.
type Reader struct {
	// IAM and PrincipalSTS use the principal's account's credentials.
	IAM          IAMAPI
	PrincipalSTS STSAPI
	// S3 and KMS return a client for the resources' account in a region
	// ("" is the configured region). ResourceSTS is nil when the resources
	// are read with the principal's credentials (one identity).
	S3          func(region string) S3API
	KMS         func(region string) KMSAPI
	ResourceSTS STSAPI
	// S3Region is the region of S3("") when known. A bucket is then found
	// by reading its policy there (bucketProbe) instead of asking
	// HeadBucket first: one S3 call a bucket fewer when it is in that
	// region, the same count when it is not. "" keeps HeadBucket.
	S3Region string
	// PrincipalLabel and ResourceLabel say where each set of credentials
	// came from (for errors), e.g. `profile "dev"`.
	PrincipalLabel, ResourceLabel string
	// Parallel bounds the AWS calls in flight (default 8).
	Parallel int
	// Logf narrates what was found that is not an error (may be nil).
	Logf func(format string, args ...any)
	// OldKeys: see Options.OldKeys (oldkeys.go).
	OldKeys bool

	semOnce sync.Once
	sem     chan struct{}
}

// identity is one set of credentials: its account and how to name it.
type identity struct {
	account, arn, partition, label string
}

func (id identity) String() string {
	switch {
	case id.label != "" && id.arn != "":
		return id.label + " (" + id.arn + ")"
	case id.arn != "":
		return id.arn
	}
	return id.label
}

// run holds one Read's progress.
type run struct {
	r   *Reader
	pid identity // the principal account's credentials
	rid identity // the resources' account's credentials

	mu      sync.Mutex
	managed map[string]*managedEntry
	// keys caches key reads by the name the bucket used and the region, so
	// buckets sharing a key read it once (ReadMany).
	keys map[string]*keyEntry
	// root is the whole run's context: an interrupt cancels it, and with
	// it the shared reads that no single bucket's failure may cancel.
	root context.Context
	// regionAliases, set for runs that read many keys (ReadMany), lists
	// every alias of a region once and serves every key there from it:
	// one call per region (per 100 aliases) instead of one per key.
	regionAliases map[string]*aliasEntry
	// keyPols caches, per region, the keys and their policies (oldkeys.go).
	keyPols map[string]*keyPoliciesEntry
}

type aliasEntry struct {
	once    sync.Once
	aliases []kmstypes.AliasListEntry
	err     error
}

type keyEntry struct {
	once sync.Once
	key  *state.Key
	err  error
}

type managedEntry struct {
	once sync.Once
	mp   state.ManagedPolicy
	err  error
}

func (r *Reader) logf(format string, args ...any) {
	if r.Logf != nil {
		r.Logf(format, args...)
	}
}

// call runs one AWS call under the bound on calls in flight.
func (r *Reader) call(ctx context.Context, f func() error) error {
	r.semOnce.Do(func() {
		n := r.Parallel
		if n <= 0 {
			n = 8
		}
		r.sem = make(chan struct{}, n)
	})
	select {
	case r.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-r.sem }()
	return f()
}

// principalRef is a parsed principal ARN.
type principalRef struct {
	arn, partition, account, kind, name string
}

func parsePrincipal(arn string) (principalRef, error) {
	a, err := state.ParseARN(arn)
	if err != nil {
		return principalRef{}, invalidPrincipal(arn, "not an arn")
	}
	p := principalRef{arn: arn, partition: a.Partition, account: a.Account}
	if len(a.Account) != 12 || strings.Trim(a.Account, "0123456789") != "" {
		return p, invalidPrincipal(arn, "the account must be 12 digits")
	}
	segs := strings.Split(a.Resource, "/")
	switch {
	case a.Service == "iam" && segs[0] == "user" && len(segs) >= 2 && segs[len(segs)-1] != "":
		p.kind, p.name = state.KindUser, segs[len(segs)-1]
	case a.Service == "iam" && segs[0] == "role" && len(segs) >= 2 && segs[len(segs)-1] != "":
		p.kind, p.name = state.KindRole, segs[len(segs)-1]
	case a.Service == "sts" && segs[0] == "assumed-role" && len(segs) == 3 && segs[1] != "" && segs[2] != "":
		p.kind, p.name = state.KindRole, segs[1]
	case a.Service == "iam" && (segs[0] == "group" || segs[0] == "policy" || a.Resource == "root"):
		return p, invalidPrincipal(arn, "bucketgrant grants to users and roles, not "+segs[0]+"s")
	default:
		return p, invalidPrincipal(arn, "not a user, role or assumed-role session")
	}
	return p, nil
}

// Identity is one set of credentials the reader used.
type Identity struct {
	Account string // from sts:GetCallerIdentity
	ARN     string // the caller, e.g. arn:aws:sts::A:assumed-role/R/s
	Label   string // where the credentials came from, e.g. profile "dev"
}

// Result is what ReadDetailed found: the state and who read it.
type Result struct {
	State *state.State
	// Principal read IAM; Resource read S3 and KMS (the same identity when
	// one set of credentials read everything).
	Principal, Resource Identity
}

// Read gathers the state of principalARN's access to bucket.
func (r *Reader) Read(ctx context.Context, principalARN, bucket string) (*state.State, error) {
	res, err := r.ReadDetailed(ctx, principalARN, bucket)
	if err != nil {
		return nil, err
	}
	return res.State, nil
}

// ReadDetailed is Read that also tells which identities read what (the
// planner needs the writer's identity to keep its own access to the key).
func (r *Reader) ReadDetailed(ctx context.Context, principalARN, bucket string) (*Result, error) {
	pr, err := parsePrincipal(principalARN)
	if err != nil {
		return nil, err
	}
	if bucket == "" {
		return nil, &Error{Kind: KindOther, Op: "no bucket name given", Hint: "pass --bucket NAME"}
	}
	ru := &run{r: r, managed: map[string]*managedEntry{}, root: ctx}
	if err := ru.identities(ctx); err != nil {
		return nil, err
	}
	if pr.account != ru.pid.account {
		return nil, &Error{
			Kind: KindWrongAccount,
			Op:   fmt.Sprintf("principal %s is in account %s but the principal credentials (%s) are for account %s", pr.arn, pr.account, ru.pid, ru.pid.account),
			Hint: "pass --principal-profile or --principal-role-arn for account " + pr.account + " (and --resource-profile for the bucket's account)",
		}
	}

	st := &state.State{}
	var principal state.Principal
	var b state.Bucket
	var key *state.Key
	g := newGroup(ctx)
	g.Go(func(ctx context.Context) error {
		var err error
		principal, err = ru.principal(ctx, pr)
		return err
	})
	g.Go(func(ctx context.Context) error {
		var err error
		b, key, err = ru.bucket(ctx, bucket)
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	st.Buckets = []state.Bucket{b}
	if key != nil {
		st.Keys = []state.Key{*key}
		if r.OldKeys {
			old, err := ru.oldKeys(ctx, b, key, principal)
			if err != nil {
				return nil, err
			}
			st.Keys = append(st.Keys, old...)
		}
	}
	st.Principals = []state.Principal{principal}
	return &Result{State: st,
		Principal: Identity{Account: ru.pid.account, ARN: ru.pid.arn, Label: ru.pid.label},
		Resource:  Identity{Account: ru.rid.account, ARN: ru.rid.arn, Label: ru.rid.label},
	}, nil
}

func (ru *run) identities(ctx context.Context) error {
	who := func(api STSAPI, label string) (identity, error) {
		var out *sts.GetCallerIdentityOutput
		err := ru.r.call(ctx, func() error {
			var err error
			out, err = api.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			return err
		})
		if err != nil {
			return identity{}, Classify(err, "sts:GetCallerIdentity", "", label)
		}
		id := identity{account: aws.ToString(out.Account), arn: aws.ToString(out.Arn), label: label, partition: "aws"}
		if a, err := state.ParseARN(id.arn); err == nil {
			id.partition = a.Partition
		}
		return id, nil
	}
	g := newGroup(ctx)
	g.Go(func(context.Context) error {
		var err error
		ru.pid, err = who(ru.r.PrincipalSTS, ru.r.PrincipalLabel)
		return err
	})
	if ru.r.ResourceSTS != nil {
		g.Go(func(context.Context) error {
			var err error
			ru.rid, err = who(ru.r.ResourceSTS, ru.r.ResourceLabel)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if ru.r.ResourceSTS == nil {
		ru.rid = ru.pid
	}
	return nil
}

// ---- the bucket and its key ----

func (ru *run) bucket(ctx context.Context, name string) (state.Bucket, *state.Key, error) {
	b := state.Bucket{Name: name, Account: ru.rid.account}
	res := "arn:" + ru.rid.partition + ":s3:::" + name
	who := ru.rid.String()
	owner := aws.String(ru.rid.account)

	// The policy read where S3("") points, when that is the bucket's
	// region; else the region from HeadBucket or GetBucketLocation.
	region, probe, probeErr := ru.bucketProbe(ctx, name)
	if region == "" {
		var err error
		if region, err = ru.bucketRegion(ctx, name, res); err != nil {
			return b, nil, err
		}
	}
	b.Region = region
	s3c := ru.r.S3(region)

	g := newGroup(ctx)
	var key *state.Key
	g.Go(func(ctx context.Context) error {
		var out *s3.GetBucketEncryptionOutput
		err := ru.r.call(ctx, func() error {
			var err error
			out, err = s3c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: &name, ExpectedBucketOwner: owner})
			return err
		})
		if code(err) == "ServerSideEncryptionConfigurationNotFoundError" {
			return nil // older servers: no default encryption configured
		}
		if err != nil {
			return Classify(err, "s3:GetEncryptionConfiguration", res, who)
		}
		b.Encryption = encryptionOf(out)
		if b.Encryption == nil || !strings.HasPrefix(b.Encryption.SSEAlgorithm, "aws:kms") {
			return nil
		}
		key, err = ru.cachedKey(ctx, b.Encryption.KMSMasterKeyID, region)
		return err
	})
	g.Go(func(ctx context.Context) error {
		var out *s3.GetBucketOwnershipControlsOutput
		err := ru.r.call(ctx, func() error {
			var err error
			out, err = s3c.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: &name, ExpectedBucketOwner: owner})
			return err
		})
		if code(err) == "OwnershipControlsNotFoundError" {
			return nil
		}
		if err != nil {
			return Classify(err, "s3:GetBucketOwnershipControls", res, who)
		}
		if out.OwnershipControls != nil {
			for _, rule := range out.OwnershipControls.Rules {
				b.ObjectOwnership = string(rule.ObjectOwnership)
				break
			}
		}
		return nil
	})
	g.Go(func(ctx context.Context) error {
		out, err := probe, probeErr
		if out == nil && err == nil {
			err = ru.r.call(ctx, func() error {
				var err error
				out, err = s3c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: &name, ExpectedBucketOwner: owner})
				return err
			})
		}
		if code(err) == "NoSuchBucketPolicy" {
			return nil
		}
		if err != nil {
			return Classify(err, "s3:GetBucketPolicy", res, who)
		}
		if p := aws.ToString(out.Policy); p != "" {
			b.Policy = state.NewDoc(p)
		}
		return nil
	})
	err := g.Wait()
	return b, key, err
}

func encryptionOf(out *s3.GetBucketEncryptionOutput) *state.Encryption {
	if out == nil || out.ServerSideEncryptionConfiguration == nil {
		return nil
	}
	for _, rule := range out.ServerSideEncryptionConfiguration.Rules {
		d := rule.ApplyServerSideEncryptionByDefault
		if d == nil {
			continue
		}
		return &state.Encryption{
			SSEAlgorithm:     string(d.SSEAlgorithm),
			KMSMasterKeyID:   aws.ToString(d.KMSMasterKeyID),
			BucketKeyEnabled: aws.ToBool(rule.BucketKeyEnabled),
		}
	}
	return nil
}

// bucketProbe reads the bucket's policy with S3(""), whose region is
// Reader.S3Region, to find the bucket's region without a call of its own.
// S3 serves a bucket's requests only in its region: an answer (the policy,
// NoSuchBucketPolicy, or access denied naming this region) means the
// bucket is here, and is returned as the policy read (out, err); a
// redirect or a denial naming another region gives that region, where the
// policy is read again. Anything else (no region known, an error that
// names none) returns "" and the caller asks HeadBucket, as without a
// probe, so errors are reported as they always were.
func (ru *run) bucketProbe(ctx context.Context, name string) (region string, out *s3.GetBucketPolicyOutput, err error) {
	def := ru.r.S3Region
	if def == "" {
		return "", nil, nil
	}
	err = ru.r.call(ctx, func() error {
		var err error
		out, err = ru.r.S3("").GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: &name, ExpectedBucketOwner: aws.String(ru.rid.account)})
		return err
	})
	if err == nil || code(err) == "NoSuchBucketPolicy" {
		return def, out, err
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.Response != nil && (re.HTTPStatusCode() == 301 || re.HTTPStatusCode() == 403) {
		switch h := re.Response.Header.Get("x-amz-bucket-region"); h {
		case "":
		case def:
			if re.HTTPStatusCode() == 403 {
				return def, nil, err // denied here: the policy read's error
			}
		default:
			return h, nil, nil
		}
	}
	return "", nil, nil
}

// bucketRegion asks HeadBucket (its BucketRegion, or the x-amz-bucket-region
// header of a redirect or a 403), then GetBucketLocation.
func (ru *run) bucketRegion(ctx context.Context, name, res string) (string, error) {
	who := ru.rid.String()
	s3c := ru.r.S3("")
	var out *s3.HeadBucketOutput
	err := ru.r.call(ctx, func() error {
		var err error
		out, err = s3c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &name, ExpectedBucketOwner: aws.String(ru.rid.account)})
		return err
	})
	if err == nil && aws.ToString(out.BucketRegion) != "" {
		return aws.ToString(out.BucketRegion), nil
	}
	if err != nil {
		var re *awshttp.ResponseError
		if errors.As(err, &re) && re.Response != nil {
			if h := re.Response.Header.Get("x-amz-bucket-region"); h != "" && (re.HTTPStatusCode() == 301 || re.HTTPStatusCode() == 403) {
				if re.HTTPStatusCode() == 403 {
					// Denied s3:ListBucket: the later reads say what else is
					// missing; HeadBucket alone is not needed to plan.
					ru.r.logf("head bucket %s: access denied (s3:ListBucket); reading on in %s", name, h)
				}
				return h, nil
			}
		}
		cerr := Classify(err, "s3:ListBucket", res, who)
		if k := KindOf(cerr); k != KindWrongRegion && k != KindAccessDenied {
			return "", cerr
		}
	}
	var loc *s3.GetBucketLocationOutput
	err = ru.r.call(ctx, func() error {
		var err error
		loc, err = s3c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: &name, ExpectedBucketOwner: aws.String(ru.rid.account)})
		return err
	})
	if err != nil {
		return "", Classify(err, "s3:GetBucketLocation", res, who)
	}
	switch c := string(loc.LocationConstraint); c {
	case "":
		return "us-east-1", nil
	case "EU":
		return "eu-west-1", nil
	default:
		return c, nil
	}
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// key resolves the bucket's kms_master_key_id (key ID, key ARN, alias name
// or alias ARN; "" means aws/s3) to a key and reads it. Predefined
// alias/aws/* aliases are resolved through ListAliases, never DescribeKey,
// which would create the AWS managed key.
func (ru *run) key(ctx context.Context, id, bucketRegion string) (*state.Key, error) {
	who := ru.rid.String()
	if id == "" {
		id = "alias/aws/s3"
	}
	region, account, alias := bucketRegion, ru.rid.account, ""
	if a, err := state.ParseARN(id); err == nil {
		region, account = a.Region, a.Account
		if strings.HasPrefix(a.Resource, "alias/") {
			alias = a.Resource
		}
	} else if strings.HasPrefix(id, "alias/") {
		alias = id
	}
	kc := ru.r.KMS(region)

	var listed []kmstypes.AliasListEntry // every alias in the region, when listed
	describeID := id
	if strings.HasPrefix(alias, "alias/aws/") {
		if account != ru.rid.account {
			return nil, &Error{Kind: KindOther, Op: fmt.Sprintf("resolve %s: an aws managed key of another account cannot be resolved without side effects", id),
				Hint: "use --resource-profile for account " + account}
		}
		var err error
		listed, err = ru.listAliases(ctx, kc, "", arnOrName(id, ru.rid.partition, region, account))
		if err != nil {
			return nil, err
		}
		target := ""
		for _, a := range listed {
			if aws.ToString(a.AliasName) == alias {
				target = aws.ToString(a.TargetKeyId)
			}
		}
		if target == "" {
			// S3 creates the AWS managed key on first use.
			ru.r.logf("%s has no key yet in %s (aws creates it on first use)", alias, region)
			return nil, nil
		}
		describeID = "arn:" + ru.rid.partition + ":kms:" + region + ":" + account + ":key/" + target
	}

	var dk *kms.DescribeKeyOutput
	err := ru.r.call(ctx, func() error {
		var err error
		dk, err = kc.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &describeID})
		return err
	})
	if err != nil {
		return nil, Classify(err, "kms:DescribeKey", arnOrName(describeID, ru.rid.partition, region, account), who)
	}
	md := dk.KeyMetadata
	if md == nil || aws.ToString(md.Arn) == "" {
		return nil, &Error{Kind: KindOther, Op: "kms:DescribeKey on " + describeID + ": the answer has no key metadata", Hint: "run again with --debug"}
	}
	k := &state.Key{
		ARN:         aws.ToString(md.Arn),
		KeyManager:  string(md.KeyManager),
		KeyState:    string(md.KeyState),
		MultiRegion: aws.ToBool(md.MultiRegion),
		Region:      state.RegionOf(aws.ToString(md.Arn)),
	}
	if k.Region != "" && k.Region != region {
		kc = ru.r.KMS(k.Region)
	}
	keyID := aws.ToString(md.KeyId)

	g := newGroup(ctx)
	g.Go(func(ctx context.Context) error {
		if listed != nil && k.Region == region {
			k.Aliases = aliasesOf(listed, keyID)
			return nil
		}
		if state.AccountOf(k.ARN) != ru.rid.account {
			return nil // ListAliases lists only the caller's own account
		}
		l, err := ru.aliasesFor(ctx, kc, k)
		if err != nil {
			return err
		}
		k.Aliases = aliasesOf(l, keyID)
		return nil
	})
	g.Go(func(ctx context.Context) error {
		var out *kms.GetKeyPolicyOutput
		err := ru.r.call(ctx, func() error {
			var err error
			out, err = kc.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: &k.ARN, PolicyName: aws.String("default")})
			return err
		})
		if err != nil {
			e := Classify(err, "kms:GetKeyPolicy", k.ARN, who)
			if KindOf(e) == KindAccessDenied && state.AccountOf(k.ARN) != ru.rid.account {
				e.(*Error).Hint = "key policies can be read only with the key's own account's credentials; use --resource-profile for account " + state.AccountOf(k.ARN)
			}
			return e
		}
		k.Policy = state.NewDoc(aws.ToString(out.Policy))
		return nil
	})
	g.Go(func(ctx context.Context) error {
		var err error
		k.Grants, err = ru.grants(ctx, kc, k) // grants.go
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if k.Aliases == nil {
		k.Aliases = []string{}
	}
	return k, nil
}

// cachedKey is key, once per run for each key name and region.
func (ru *run) cachedKey(ctx context.Context, id, bucketRegion string) (*state.Key, error) {
	ru.mu.Lock()
	if ru.keys == nil {
		ru.keys = map[string]*keyEntry{}
	}
	e, ok := ru.keys[id+"|"+bucketRegion]
	if !ok {
		e = &keyEntry{}
		ru.keys[id+"|"+bucketRegion] = e
	}
	ru.mu.Unlock()
	// The read is shared: one bucket's failure (which cancels that
	// bucket's context) must not become every other bucket's error.
	// An interrupt still stops it: it cancels the run's root context.
	root := ru.root
	if root == nil {
		root = context.WithoutCancel(ctx)
	}
	e.once.Do(func() { e.key, e.err = ru.key(root, id, bucketRegion) })
	return e.key, e.err
}

func arnOrName(id, partition, region, account string) string {
	if strings.HasPrefix(id, "arn:") {
		return id
	}
	return "arn:" + partition + ":kms:" + region + ":" + account + ":" + map[bool]string{true: "", false: "key/"}[strings.HasPrefix(id, "alias/")] + id
}

func aliasesOf(l []kmstypes.AliasListEntry, keyID string) []string {
	out := []string{}
	for _, a := range l {
		if aws.ToString(a.TargetKeyId) == keyID && keyID != "" {
			out = append(out, aws.ToString(a.AliasName))
		}
	}
	return out
}

// aliasesFor lists the aliases of key k (or more: the caller filters):
// in a run that reads many keys, every alias of k's region, listed once;
// else only k's.
func (ru *run) aliasesFor(ctx context.Context, kc KMSAPI, k *state.Key) ([]kmstypes.AliasListEntry, error) {
	ru.mu.Lock()
	if ru.regionAliases == nil {
		ru.mu.Unlock()
		return ru.listAliases(ctx, kc, k.ARN, k.ARN)
	}
	e, ok := ru.regionAliases[k.Region]
	if !ok {
		e = &aliasEntry{}
		ru.regionAliases[k.Region] = e
	}
	ru.mu.Unlock()
	// Shared: one key's cancelled context must not fail the others; an
	// interrupt still stops it through the run's root context.
	root := ru.root
	if root == nil {
		root = context.WithoutCancel(ctx)
	}
	e.once.Do(func() {
		e.aliases, e.err = ru.listAliases(root, kc, "", "arn:"+ru.rid.partition+":kms:"+k.Region+":"+ru.rid.account+":alias/*")
	})
	return e.aliases, e.err
}

// listAliases lists aliases, of one key when keyID is set, else all.
func (ru *run) listAliases(ctx context.Context, kc KMSAPI, keyID, res string) ([]kmstypes.AliasListEntry, error) {
	// The largest page KMS serves: fewer calls for accounts with many.
	in := &kms.ListAliasesInput{Limit: aws.Int32(100)}
	if keyID != "" {
		in.KeyId = &keyID
	}
	p := kms.NewListAliasesPaginator(kc, in)
	out := []kmstypes.AliasListEntry{}
	for p.HasMorePages() {
		var page *kms.ListAliasesOutput
		err := ru.r.call(ctx, func() error {
			var err error
			page, err = p.NextPage(ctx)
			return err
		})
		if err != nil {
			return nil, Classify(err, "kms:ListAliases", res, ru.rid.String())
		}
		out = append(out, page.Aliases...)
	}
	return out, nil
}

// ---- the principal ----

func (ru *run) principal(ctx context.Context, pr principalRef) (state.Principal, error) {
	api := ru.r.IAM
	who := ru.pid.String()
	p := state.Principal{ARN: pr.arn, Kind: pr.kind}
	var boundary string
	if pr.kind == state.KindUser {
		var out *iam.GetUserOutput
		err := ru.r.call(ctx, func() error {
			var err error
			out, err = api.GetUser(ctx, &iam.GetUserInput{UserName: &pr.name})
			return err
		})
		if err != nil {
			return p, Classify(err, "iam:GetUser", pr.arn, who)
		}
		p.ARN, p.ID = aws.ToString(out.User.Arn), aws.ToString(out.User.UserId)
		p.Tags = tagsOf(out.User.Tags) // grants.go
		if out.User.PermissionsBoundary != nil {
			boundary = aws.ToString(out.User.PermissionsBoundary.PermissionsBoundaryArn)
		}
	} else {
		var out *iam.GetRoleOutput
		err := ru.r.call(ctx, func() error {
			var err error
			out, err = api.GetRole(ctx, &iam.GetRoleInput{RoleName: &pr.name})
			return err
		})
		if err != nil {
			// A session names its role: say which role was not found.
			return p, Classify(err, "iam:GetRole", pr.roleARN(), who)
		}
		p.ARN, p.ID = aws.ToString(out.Role.Arn), aws.ToString(out.Role.RoleId)
		p.Tags = tagsOf(out.Role.Tags) // grants.go
		if out.Role.PermissionsBoundary != nil {
			boundary = aws.ToString(out.Role.PermissionsBoundary.PermissionsBoundaryArn)
		}
	}
	if p.ARN == "" {
		p.ARN = pr.arn
	}
	if p.ARN != pr.arn {
		ru.r.logf("principal %s is %s", pr.arn, p.ARN)
	}

	g := newGroup(ctx)
	g.Go(func(ctx context.Context) error {
		var err error
		p.InlinePolicies, err = ru.inline(ctx, pr.kind, pr.name, p.ARN)
		return err
	})
	g.Go(func(ctx context.Context) error {
		var err error
		p.AttachedPolicies, err = ru.attached(ctx, pr.kind, pr.name, p.ARN)
		return err
	})
	if pr.kind == state.KindUser {
		g.Go(func(ctx context.Context) error {
			var err error
			p.Groups, err = ru.groups(ctx, pr.name, p.ARN)
			return err
		})
	}
	if boundary != "" {
		g.Go(func(ctx context.Context) error {
			mp, err := ru.managedPolicy(ctx, boundary)
			p.PermissionsBoundary = &mp
			return err
		})
	}
	err := g.Wait()
	return p, err
}

// inline reads the inline policies of a user, role or group ("group").
func (ru *run) inline(ctx context.Context, kind, name, res string) ([]state.NamedDoc, error) {
	api, who := ru.r.IAM, ru.pid.String()
	var names []string
	var op string
	switch kind {
	case state.KindUser:
		op = "iam:ListUserPolicies"
		pg := iam.NewListUserPoliciesPaginator(api, &iam.ListUserPoliciesInput{UserName: &name})
		for pg.HasMorePages() {
			var page *iam.ListUserPoliciesOutput
			if err := ru.r.call(ctx, func() (err error) { page, err = pg.NextPage(ctx); return }); err != nil {
				return nil, Classify(err, op, res, who)
			}
			names = append(names, page.PolicyNames...)
		}
	case state.KindRole:
		op = "iam:ListRolePolicies"
		pg := iam.NewListRolePoliciesPaginator(api, &iam.ListRolePoliciesInput{RoleName: &name})
		for pg.HasMorePages() {
			var page *iam.ListRolePoliciesOutput
			if err := ru.r.call(ctx, func() (err error) { page, err = pg.NextPage(ctx); return }); err != nil {
				return nil, Classify(err, op, res, who)
			}
			names = append(names, page.PolicyNames...)
		}
	default:
		op = "iam:ListGroupPolicies"
		pg := iam.NewListGroupPoliciesPaginator(api, &iam.ListGroupPoliciesInput{GroupName: &name})
		for pg.HasMorePages() {
			var page *iam.ListGroupPoliciesOutput
			if err := ru.r.call(ctx, func() (err error) { page, err = pg.NextPage(ctx); return }); err != nil {
				return nil, Classify(err, op, res, who)
			}
			names = append(names, page.PolicyNames...)
		}
	}
	out := make([]state.NamedDoc, len(names))
	g := newGroup(ctx)
	for i, pn := range names {
		g.Go(func(ctx context.Context) error {
			var text *string
			var op string
			err := ru.r.call(ctx, func() error {
				switch kind {
				case state.KindUser:
					op = "iam:GetUserPolicy"
					o, err := api.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: &name, PolicyName: &pn})
					if err == nil {
						text = o.PolicyDocument
					}
					return err
				case state.KindRole:
					op = "iam:GetRolePolicy"
					o, err := api.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: &name, PolicyName: &pn})
					if err == nil {
						text = o.PolicyDocument
					}
					return err
				default:
					op = "iam:GetGroupPolicy"
					o, err := api.GetGroupPolicy(ctx, &iam.GetGroupPolicyInput{GroupName: &name, PolicyName: &pn})
					if err == nil {
						text = o.PolicyDocument
					}
					return err
				}
			})
			if err != nil {
				return Classify(err, op, res+" (inline policy "+pn+")", who)
			}
			doc, err := DecodeDocument(aws.ToString(text))
			if err != nil {
				return &Error{Kind: KindOther, Op: op + " on " + res + " (inline policy " + pn + "): " + err.Error(), Hint: "run again with --debug", Err: err}
			}
			out[i] = state.NamedDoc{Name: pn, Doc: state.NewDoc(doc)}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// attached reads the managed policies attached to a user, role or group.
func (ru *run) attached(ctx context.Context, kind, name, res string) ([]state.ManagedPolicy, error) {
	api, who := ru.r.IAM, ru.pid.String()
	var arns []string
	add := func(ps []iamtypes.AttachedPolicy) {
		for _, p := range ps {
			arns = append(arns, aws.ToString(p.PolicyArn))
		}
	}
	switch kind {
	case state.KindUser:
		pg := iam.NewListAttachedUserPoliciesPaginator(api, &iam.ListAttachedUserPoliciesInput{UserName: &name})
		for pg.HasMorePages() {
			var page *iam.ListAttachedUserPoliciesOutput
			if err := ru.r.call(ctx, func() (err error) { page, err = pg.NextPage(ctx); return }); err != nil {
				return nil, Classify(err, "iam:ListAttachedUserPolicies", res, who)
			}
			add(page.AttachedPolicies)
		}
	case state.KindRole:
		pg := iam.NewListAttachedRolePoliciesPaginator(api, &iam.ListAttachedRolePoliciesInput{RoleName: &name})
		for pg.HasMorePages() {
			var page *iam.ListAttachedRolePoliciesOutput
			if err := ru.r.call(ctx, func() (err error) { page, err = pg.NextPage(ctx); return }); err != nil {
				return nil, Classify(err, "iam:ListAttachedRolePolicies", res, who)
			}
			add(page.AttachedPolicies)
		}
	default:
		pg := iam.NewListAttachedGroupPoliciesPaginator(api, &iam.ListAttachedGroupPoliciesInput{GroupName: &name})
		for pg.HasMorePages() {
			var page *iam.ListAttachedGroupPoliciesOutput
			if err := ru.r.call(ctx, func() (err error) { page, err = pg.NextPage(ctx); return }); err != nil {
				return nil, Classify(err, "iam:ListAttachedGroupPolicies", res, who)
			}
			add(page.AttachedPolicies)
		}
	}
	out := make([]state.ManagedPolicy, len(arns))
	g := newGroup(ctx)
	for i, a := range arns {
		g.Go(func(ctx context.Context) error {
			mp, err := ru.managedPolicy(ctx, a)
			out[i] = mp
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

func (ru *run) groups(ctx context.Context, user, res string) ([]state.Group, error) {
	var names []string
	pg := iam.NewListGroupsForUserPaginator(ru.r.IAM, &iam.ListGroupsForUserInput{UserName: &user})
	for pg.HasMorePages() {
		var page *iam.ListGroupsForUserOutput
		if err := ru.r.call(ctx, func() (err error) { page, err = pg.NextPage(ctx); return }); err != nil {
			return nil, Classify(err, "iam:ListGroupsForUser", res, ru.pid.String())
		}
		for _, g := range page.Groups {
			names = append(names, aws.ToString(g.GroupName))
		}
	}
	out := make([]state.Group, len(names))
	g := newGroup(ctx)
	for i, gn := range names {
		gres := "arn:" + ru.pid.partition + ":iam::" + ru.pid.account + ":group/" + gn
		out[i].Name = gn
		g.Go(func(ctx context.Context) error {
			var err error
			out[i].InlinePolicies, err = ru.inline(ctx, "group", gn, gres)
			return err
		})
		g.Go(func(ctx context.Context) error {
			var err error
			out[i].AttachedPolicies, err = ru.attached(ctx, "group", gn, gres)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// managedPolicy reads a managed policy's default version, once per run
// however many times it is attached.
func (ru *run) managedPolicy(ctx context.Context, arn string) (state.ManagedPolicy, error) {
	ru.mu.Lock()
	e, ok := ru.managed[arn]
	if !ok {
		e = &managedEntry{}
		ru.managed[arn] = e
	}
	ru.mu.Unlock()
	e.once.Do(func() { e.mp, e.err = ru.readManaged(ctx, arn) })
	return e.mp, e.err
}

func (ru *run) readManaged(ctx context.Context, arn string) (state.ManagedPolicy, error) {
	api, who := ru.r.IAM, ru.pid.String()
	mp := state.ManagedPolicy{ARN: arn}
	var gp *iam.GetPolicyOutput
	if err := ru.r.call(ctx, func() (err error) {
		gp, err = api.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: &arn})
		return
	}); err != nil {
		return mp, Classify(err, "iam:GetPolicy", arn, who)
	}
	if gp.Policy == nil || aws.ToString(gp.Policy.DefaultVersionId) == "" {
		return mp, &Error{Kind: KindOther, Op: "iam:GetPolicy on " + arn + ": the answer names no default version", Hint: "run again with --debug"}
	}
	mp.VersionID = aws.ToString(gp.Policy.DefaultVersionId)
	var pv *iam.GetPolicyVersionOutput
	if err := ru.r.call(ctx, func() (err error) {
		pv, err = api.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: &arn, VersionId: &mp.VersionID})
		return
	}); err != nil {
		return mp, Classify(err, "iam:GetPolicyVersion", arn, who)
	}
	if pv.PolicyVersion == nil {
		return mp, &Error{Kind: KindOther, Op: "iam:GetPolicyVersion on " + arn + ": the answer holds no document", Hint: "run again with --debug"}
	}
	doc, err := DecodeDocument(aws.ToString(pv.PolicyVersion.Document))
	if err != nil {
		return mp, &Error{Kind: KindOther, Op: "iam:GetPolicyVersion on " + arn + ": " + err.Error(), Hint: "run again with --debug", Err: err}
	}
	mp.Document = state.NewDoc(doc)
	return mp, nil
}

// roleARN is the ARN of the role a role or session ARN names; for a role
// it is the ARN as given (with its path).
func (p principalRef) roleARN() string {
	if a, err := state.ParseARN(p.arn); err == nil && a.Service == "sts" {
		return "arn:" + p.partition + ":iam::" + p.account + ":role/" + p.name
	}
	return p.arn
}
