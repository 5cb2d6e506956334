package apply

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/bucketgrant/bucketgrant/pkg/awsstate"
	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/limits"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// LimitError is a write refused whole, before anything was written,
// because its result would pass limits that AWS enforces (AWS would refuse
// it halfway, or a snapshot would hold what AWS never could).
type LimitError struct {
	Violations []limits.Violation
}

func (e *LimitError) Error() string {
	var b strings.Builder
	b.WriteString("refusing to write: ")
	for i, v := range e.Violations {
		if i > 0 {
			b.WriteString("\n  ")
		}
		b.WriteString(v.Error())
	}
	b.WriteString("\nnothing was written")
	return b.String()
}

// Inventory is a Store that can tell everything a principal holds (all its
// inline policies and attached managed policies) and an account's quotas,
// so that the limits check sees a principal's totals, not only the plan's
// documents.
type Inventory interface {
	// PrincipalPolicies returns the user or role with every inline and
	// attached policy; known is false where the store cannot tell.
	PrincipalPolicies(ctx context.Context, arn string) (p *state.Principal, known bool, err error)
	Quotas(ctx context.Context, account string) (limits.Quotas, error)
}

// checkLimits is every write path's limits check: the documents as read
// just now, with each principal's other policies where the store can tell
// them, before and after the changes, through limits.Check.
func checkLimits(ctx context.Context, store Store, p *diff.Plan, changes []diff.Change, current []saved, o Options) error {
	inv, hasInv := asStore[Inventory](store)
	before := &state.State{}
	var touched limits.Touched
	// seen finds a principal already added by its name without the path
	// (as FindPrincipal matches it): a FindPrincipal after every append
	// would rebuild the state's index each time, quadratic in a sync's
	// principals.
	seen := map[string]int{}
	principal := func(arn string) (*state.Principal, error) {
		key := arn
		if i := strings.LastIndexByte(arn, '/'); i >= 0 {
			if j := strings.IndexByte(arn, '/'); j < i {
				key = arn[:j] + arn[i:]
			}
		}
		if i, ok := seen[key]; ok {
			return &before.Principals[i], nil
		}
		seen[key] = len(before.Principals)
		pr := &state.Principal{ARN: arn, Kind: state.KindOf(arn)}
		if hasInv && arn != "" {
			got, known, err := inv.PrincipalPolicies(ctx, arn)
			if err != nil {
				return nil, err
			}
			if known && got != nil {
				pr = got
			}
		}
		before.Principals = append(before.Principals, *pr)
		return &before.Principals[len(before.Principals)-1], nil
	}
	for i, ch := range changes {
		ref, cur := ch.Document, current[i]
		var doc *state.Doc
		if cur.Existed {
			doc = state.NewDoc(cur.Content)
		}
		switch ref.Kind {
		case diff.DocKeyPolicy:
			before.Keys = append(before.Keys, state.Key{ARN: ref.ARN, Policy: doc})
			touched.KeyPolicies = append(touched.KeyPolicies, ref.ARN)
		case diff.DocBucketPolicy:
			before.Buckets = append(before.Buckets, state.Bucket{Name: bucketOf(ref), Account: ref.Account, Policy: doc})
			touched.BucketPolicies = append(touched.BucketPolicies, bucketOf(ref))
		case diff.DocInlinePolicy, diff.DocManagedPolicy:
			owner, _ := o.owner(p, ref)
			pr, err := principal(owner)
			if err != nil {
				return fmt.Errorf("reading %s to check IAM's limits: %w; nothing was written", owner, err)
			}
			// The document as just read, whatever the inventory said.
			if ref.Kind == diff.DocInlinePolicy {
				j := slices.IndexFunc(pr.InlinePolicies, func(n state.NamedDoc) bool { return n.Name == ref.Name })
				switch {
				case j >= 0 && doc == nil:
					pr.InlinePolicies = slices.Delete(pr.InlinePolicies, j, j+1)
				case j >= 0:
					pr.InlinePolicies[j].Doc = doc
				case doc != nil:
					pr.InlinePolicies = append(pr.InlinePolicies, state.NamedDoc{Name: ref.Name, Doc: doc})
				}
			} else {
				j := slices.IndexFunc(pr.AttachedPolicies, func(m state.ManagedPolicy) bool { return m.ARN == ref.ARN })
				switch {
				case j >= 0 && doc == nil:
					pr.AttachedPolicies = slices.Delete(pr.AttachedPolicies, j, j+1)
				case j >= 0:
					pr.AttachedPolicies[j].Document = doc
				case doc != nil:
					pr.AttachedPolicies = append(pr.AttachedPolicies, state.ManagedPolicy{ARN: ref.ARN, Document: doc})
				}
				touched.Managed = append(touched.Managed, ref.ARN)
			}
			if owner != "" {
				touched.Principals = append(touched.Principals, owner)
			}
		}
	}
	after := cloneState(before)
	for _, ch := range changes {
		owner, _ := o.owner(p, ch.Document)
		one := &diff.Plan{Changes: []diff.Change{ch}, Subject: diff.Subject{PrincipalARN: owner}, Grant: diff.Grant{Bucket: bucketOf(ch.Document)}}
		if ch.Document.Kind != diff.DocBucketPolicy {
			one.Grant.Bucket = ""
		}
		if err := ToState(after, one); err != nil {
			return fmt.Errorf("checking limits: %w", err)
		}
	}
	cache := map[string]limits.Quotas{}
	var qerr error
	quotas := func(account string) limits.Quotas {
		if q, ok := cache[account]; ok {
			return q
		}
		q := limits.Defaults("")
		if hasInv {
			got, err := inv.Quotas(ctx, account)
			if err != nil && qerr == nil {
				qerr = err
			} else if err == nil {
				q = got
			}
		}
		cache[account] = q
		return q
	}
	v := limits.Check(before, after, touched, quotas)
	if qerr != nil {
		return fmt.Errorf("reading the account's quotas: %w; nothing was written", qerr)
	}
	if len(v) > 0 {
		return &LimitError{Violations: v}
	}
	return nil
}

func cloneState(st *state.State) *state.State {
	out := &state.State{Keys: slices.Clone(st.Keys), Buckets: slices.Clone(st.Buckets), Principals: slices.Clone(st.Principals), Org: st.Org}
	for i := range out.Principals {
		p := &out.Principals[i]
		p.InlinePolicies = slices.Clone(p.InlinePolicies)
		p.AttachedPolicies = slices.Clone(p.AttachedPolicies)
	}
	return out
}

// PrincipalPolicies returns the principal as the snapshot holds it (under the
// lock, the copy the writes go to).
func (s *StateStore) PrincipalPolicies(_ context.Context, arn string) (*state.Principal, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pr := s.st.FindPrincipal(arn)
	if pr == nil {
		return nil, true, nil
	}
	out := *pr
	out.InlinePolicies = slices.Clone(pr.InlinePolicies)
	out.AttachedPolicies = slices.Clone(pr.AttachedPolicies)
	return &out, true, nil
}

// Quotas are AWS's defaults: a snapshot file holds no account's quotas.
func (s *StateStore) Quotas(context.Context, string) (limits.Quotas, error) {
	return limits.Defaults("a snapshot file holds no account's own quotas"), nil
}

// inventoryAPI is what the limits check calls on IAM beyond IAMAPI: the
// principal's other policies and the account's quotas. *iam.Client has it;
// a narrower client makes the check use only the plan's own documents.
type inventoryAPI interface {
	ListUserPolicies(context.Context, *iam.ListUserPoliciesInput, ...func(*iam.Options)) (*iam.ListUserPoliciesOutput, error)
	ListRolePolicies(context.Context, *iam.ListRolePoliciesInput, ...func(*iam.Options)) (*iam.ListRolePoliciesOutput, error)
	ListAttachedUserPolicies(context.Context, *iam.ListAttachedUserPoliciesInput, ...func(*iam.Options)) (*iam.ListAttachedUserPoliciesOutput, error)
	ListAttachedRolePolicies(context.Context, *iam.ListAttachedRolePoliciesInput, ...func(*iam.Options)) (*iam.ListAttachedRolePoliciesOutput, error)
	awsstate.SummaryAPI
}

var _ inventoryAPI = (*iam.Client)(nil)

// PrincipalPolicies reads the user's or role's inline policies (names and
// documents) and attached managed policies (ARNs: only the count matters,
// and the plan's own managed policy is read by Apply).
func (s *AWSStore) PrincipalPolicies(ctx context.Context, arn string) (*state.Principal, bool, error) {
	api, ok := s.IAM.(inventoryAPI)
	if !ok {
		return nil, false, nil
	}
	name := principalName(arn)
	pr := &state.Principal{ARN: arn, Kind: state.KindOf(arn)}
	var names []string
	if isRole(arn) {
		pg := iam.NewListRolePoliciesPaginator(api, &iam.ListRolePoliciesInput{RoleName: aws.String(name)})
		for pg.HasMorePages() {
			page, err := pg.NextPage(ctx)
			if code(err) == "NoSuchEntity" {
				return nil, true, nil
			}
			if err != nil {
				return nil, false, s.fail(err, "iam:ListRolePolicies", arn, s.PrincipalLabel)
			}
			names = append(names, page.PolicyNames...)
		}
		pa := iam.NewListAttachedRolePoliciesPaginator(api, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(name)})
		for pa.HasMorePages() {
			page, err := pa.NextPage(ctx)
			if err != nil {
				return nil, false, s.fail(err, "iam:ListAttachedRolePolicies", arn, s.PrincipalLabel)
			}
			for _, m := range page.AttachedPolicies {
				pr.AttachedPolicies = append(pr.AttachedPolicies, state.ManagedPolicy{ARN: aws.ToString(m.PolicyArn)})
			}
		}
	} else {
		pg := iam.NewListUserPoliciesPaginator(api, &iam.ListUserPoliciesInput{UserName: aws.String(name)})
		for pg.HasMorePages() {
			page, err := pg.NextPage(ctx)
			if code(err) == "NoSuchEntity" {
				return nil, true, nil
			}
			if err != nil {
				return nil, false, s.fail(err, "iam:ListUserPolicies", arn, s.PrincipalLabel)
			}
			names = append(names, page.PolicyNames...)
		}
		pa := iam.NewListAttachedUserPoliciesPaginator(api, &iam.ListAttachedUserPoliciesInput{UserName: aws.String(name)})
		for pa.HasMorePages() {
			page, err := pa.NextPage(ctx)
			if err != nil {
				return nil, false, s.fail(err, "iam:ListAttachedUserPolicies", arn, s.PrincipalLabel)
			}
			for _, m := range page.AttachedPolicies {
				pr.AttachedPolicies = append(pr.AttachedPolicies, state.ManagedPolicy{ARN: aws.ToString(m.PolicyArn)})
			}
		}
	}
	for _, n := range names {
		text, exists, err := s.readInline(ctx, diff.DocRef{Kind: diff.DocInlinePolicy, ARN: arn, Name: n})
		if err != nil {
			return nil, false, err
		}
		if exists {
			pr.InlinePolicies = append(pr.InlinePolicies, state.NamedDoc{Name: n, Doc: state.NewDoc(text)})
		}
	}
	return pr, true, nil
}

// Quotas reads the account's IAM quotas once per store (AWS's defaults
// where IAM does not tell them).
func (s *AWSStore) Quotas(ctx context.Context, account string) (limits.Quotas, error) {
	s.quotaMu.Lock()
	defer s.quotaMu.Unlock()
	if q, ok := s.quotas[account]; ok {
		return q, nil
	}
	api, ok := s.IAM.(awsstate.SummaryAPI)
	if !ok || (s.Principal != "" && state.AccountOf(s.Principal) != account) {
		// IAM here is the principal's account's; another account's
		// quotas are not its to tell.
		return limits.Defaults("the account's own were not read"), nil
	}
	q, err := awsstate.ReadQuotas(ctx, api, account, s.PrincipalLabel)
	if err != nil {
		return q, err
	}
	if s.quotas == nil {
		s.quotas = map[string]limits.Quotas{}
	}
	s.quotas[account] = q
	return q, nil
}

// quotaState is AWSStore's cache of quotas.
type quotaState struct {
	quotaMu sync.Mutex
	quotas  map[string]limits.Quotas
}
