package awsstate

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// GrantsAPI lists a key's KMS grants. It is apart from KMSAPI so that a
// client that cannot list grants still reads everything else: the key's
// grants are then not read (nil), and the planner never counts a grant it
// has not seen.
type GrantsAPI interface {
	ListGrants(context.Context, *kms.ListGrantsInput, ...func(*kms.Options)) (*kms.ListGrantsOutput, error)
}

// TagsAPI lists a user's or a role's IAM tags (the values of
// aws:PrincipalTag/*).
type TagsAPI interface {
	ListUserTags(context.Context, *iam.ListUserTagsInput, ...func(*iam.Options)) (*iam.ListUserTagsOutput, error)
	ListRoleTags(context.Context, *iam.ListRoleTagsInput, ...func(*iam.Options)) (*iam.ListRoleTagsOutput, error)
}

var (
	_ GrantsAPI = (*kms.Client)(nil)
	_ TagsAPI   = (*iam.Client)(nil)
)

// grants reads every grant of key k, with the key's account's credentials
// (ListGrants needs kms:ListGrants in the key policy). Access denied is not
// an error: the grants stay unread (nil) and the reader says so; any
// other failure is.
func (ru *run) grants(ctx context.Context, kc KMSAPI, k *state.Key) ([]state.Grant, error) {
	gc, ok := kc.(GrantsAPI)
	if !ok {
		return nil, nil
	}
	// 100 is the largest page ListGrants serves: fewer calls for keys
	// that AWS services have many grants on.
	p := kms.NewListGrantsPaginator(gc, &kms.ListGrantsInput{KeyId: &k.ARN, Limit: aws.Int32(100)})
	out := []state.Grant{}
	for p.HasMorePages() {
		var page *kms.ListGrantsOutput
		err := ru.r.call(ctx, func() error {
			var err error
			page, err = p.NextPage(ctx)
			return err
		})
		if err != nil {
			e := Classify(err, "kms:ListGrants", k.ARN, ru.rid.String())
			if KindOf(e) == KindAccessDenied {
				ru.r.logf("%s; the key's grants are not counted", e.Error())
				return nil, nil
			}
			return nil, e
		}
		for _, g := range page.Grants {
			out = append(out, stateGrant(g))
		}
	}
	return out, nil
}

// tags reads the tags of the user or role name (kind user or role).
// Access denied leaves them unread (nil), as for grants.
func (ru *run) tags(ctx context.Context, kind, name, res string) ([]state.Tag, error) {
	tc, ok := ru.r.IAM.(TagsAPI)
	if !ok {
		return nil, nil
	}
	out := []state.Tag{}
	add := func(key, value *string) {
		out = append(out, state.Tag{Key: aws.ToString(key), Value: aws.ToString(value)})
	}
	var err error
	op := "iam:ListUserTags"
	if kind == state.KindUser {
		p := iam.NewListUserTagsPaginator(tc, &iam.ListUserTagsInput{UserName: &name, MaxItems: aws.Int32(1000)})
		for p.HasMorePages() && err == nil {
			var page *iam.ListUserTagsOutput
			if err = ru.r.call(ctx, func() (e error) { page, e = p.NextPage(ctx); return }); err == nil {
				for _, t := range page.Tags {
					add(t.Key, t.Value)
				}
			}
		}
	} else {
		op = "iam:ListRoleTags"
		p := iam.NewListRoleTagsPaginator(tc, &iam.ListRoleTagsInput{RoleName: &name, MaxItems: aws.Int32(1000)})
		for p.HasMorePages() && err == nil {
			var page *iam.ListRoleTagsOutput
			if err = ru.r.call(ctx, func() (e error) { page, e = p.NextPage(ctx); return }); err == nil {
				for _, t := range page.Tags {
					add(t.Key, t.Value)
				}
			}
		}
	}
	if err != nil {
		e := Classify(err, op, res, ru.pid.String())
		if KindOf(e) == KindAccessDenied {
			ru.r.logf("%s; conditions on aws:PrincipalTag stay undecided", strings.TrimSpace(e.Error()))
			return nil, nil
		}
		return nil, e
	}
	return out, nil
}
