package awsstate_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/bucketgrant/bucketgrant/pkg/awsstate"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// grantsAndTags gives the bucket's key n grants (the first for Jane, with
// an encryption-context constraint) and Jane two tags.
func (w *world) grantsAndTags(t *testing.T, n int) {
	t.Helper()
	ctx := context.Background()
	rk := kms.NewFromConfig(w.cfg, func(o *kms.Options) { o.Region = "eu-west-1" })
	keys, err := rk.ListKeys(ctx, &kms.ListKeysInput{})
	w.must(keys, err)
	key := keys.Keys[0].KeyArn
	w.must(rk.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: key, GranteePrincipal: aws.String(jane), Name: aws.String("reader"),
		Operations:  []kmstypes.GrantOperation{kmstypes.GrantOperationDecrypt, kmstypes.GrantOperationGenerateDataKey},
		Constraints: &kmstypes.GrantConstraints{EncryptionContextEquals: map[string]string{"aws:s3:arn": "arn:aws:s3:::data"}}}))
	for i := 1; i < n; i++ {
		w.must(rk.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: key, GranteePrincipal: aws.String(fmt.Sprintf("arn:aws:iam::%s:role/svc%d", acctA, i)),
			Operations: []kmstypes.GrantOperation{kmstypes.GrantOperationEncrypt}}))
	}
	w.must(w.iam.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("Jane"), Tags: []iamtypes.Tag{
		{Key: aws.String("team"), Value: aws.String("data")}, {Key: aws.String("cost-center"), Value: aws.String("42")}}}))
}

func TestLiveGrantsAndTags(t *testing.T) {
	w := newWorld(t)
	w.basic(t, "eu-west-1", func(arn string) string { return arn })
	w.grantsAndTags(t, 130)
	w.srv.ResetCalls()
	st, err := w.read(jane)
	if err != nil {
		t.Fatalf("%v (%s)", err, awsstate.Detail(err))
	}
	k := st.Keys[0]
	if len(k.Grants) != 130 {
		t.Fatalf("read %d grants, want 130", len(k.Grants))
	}
	g := k.Grants[0]
	if g.GranteePrincipal != jane || g.Name != "reader" || g.IssuingAccount != "arn:aws:iam::"+acctA+":root" || len(g.ID) == 0 ||
		strings.Join(g.Operations, ",") != "Decrypt,GenerateDataKey" || g.Constraints == nil ||
		g.Constraints.EncryptionContextEquals["aws:s3:arn"] != "arn:aws:s3:::data" || g.Constraints.EncryptionContextSubset != nil {
		t.Errorf("first grant = %+v", g)
	}
	if k.Grants[1].Constraints != nil {
		t.Errorf("a grant without constraints reads with %+v", k.Grants[1].Constraints)
	}
	// 100 grants a page: two calls for 130.
	if n := w.srv.Calls("kms:ListGrants"); n != 2 {
		t.Errorf("ListGrants calls = %d, want 2", n)
	}
	// The tags come with GetUser: no call of their own.
	if n, m := w.srv.Calls("iam:ListUserTags"), w.srv.Calls("iam:GetUser"); n != 0 || m != 1 {
		t.Errorf("ListUserTags calls = %d, GetUser calls = %d, want 0 and 1", n, m)
	}
	want := []state.Tag{{Key: "team", Value: "data"}, {Key: "cost-center", Value: "42"}}
	if got := st.Principals[0].Tags; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("tags = %v, want %v", got, want)
	}
}

func TestLiveRoleTags(t *testing.T) {
	w := newWorld(t)
	w.basic(t, "eu-west-1", func(arn string) string { return arn })
	ctx := context.Background()
	w.must(w.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("Loader"), AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[]}`),
		Tags: nil}))
	w.must(w.iam.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("Loader"), Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("etl")}}}))
	st, err := w.read("arn:aws:sts::" + acctA + ":assumed-role/Loader/s1")
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Principals[0].Tags; len(got) != 1 || got[0] != (state.Tag{Key: "team", Value: "etl"}) {
		t.Errorf("role tags = %v", got)
	}
	if w.srv.Calls("iam:ListRoleTags") != 0 || w.srv.Calls("iam:ListUserTags") != 0 {
		t.Errorf("calls: %v", w.srv.CallCounts())
	}
}

// Credentials without kms:ListGrants still read the rest: the grants are
// left unread (nil), which the planner never takes for "none". Any other
// failure of that read is an error as for every read. The tags need no
// permission of their own: they come with GetUser, whose failure fails
// the read.
func TestLiveGrantsAndTagsDeniedOrFailing(t *testing.T) {
	w := newWorld(t)
	w.basic(t, "eu-west-1", func(arn string) string { return arn })
	w.grantsAndTags(t, 1)
	w.srv.Deny("", "kms:ListGrants")
	w.srv.Deny("", "iam:ListUserTags")
	st, err := w.read(jane)
	if err != nil {
		t.Fatalf("denied ListGrants/ListUserTags must not fail the read: %v", err)
	}
	if st.Keys[0].Grants != nil {
		t.Errorf("a denied ListGrants must leave the grants unread, got %v", st.Keys[0].Grants)
	}
	if want := []state.Tag{{Key: "team", Value: "data"}, {Key: "cost-center", Value: "42"}}; fmt.Sprint(st.Principals[0].Tags) != fmt.Sprint(want) {
		t.Errorf("tags = %v, want %v from GetUser", st.Principals[0].Tags, want)
	}
	w.srv.ClearFaults()
	for _, op := range []string{"kms:ListGrants", "iam:GetUser"} {
		w.srv.Throttle(op, 10)
		_, err := w.read(jane)
		w.srv.ClearFaults()
		if err == nil || !strings.Contains(err.Error(), op) || awsstate.KindOf(err) != awsstate.KindThrottled {
			t.Errorf("%s throttled: err = %v (kind %v), want a throttling error naming it", op, err, awsstate.KindOf(err))
		}
	}
}
