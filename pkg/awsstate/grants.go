package awsstate

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
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

var _ GrantsAPI = (*kms.Client)(nil)

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

// tagsOf is a user's or role's tags as GetUser and GetRole return them.
// IAM fills Tags in those two answers (unlike ListUsers and ListRoles), and
// in full: an entity holds at most 50 tags and neither call paginates. So
// no ListUserTags or ListRoleTags call is needed, one IAM call a principal
// fewer. An entity without tags gets an empty list, not nil: its tags were
// read, and there are none.
func tagsOf(tags []iamtypes.Tag) []state.Tag {
	out := make([]state.Tag, 0, len(tags))
	for _, t := range tags {
		out = append(out, state.Tag{Key: aws.ToString(t.Key), Value: aws.ToString(t.Value)})
	}
	return out
}
