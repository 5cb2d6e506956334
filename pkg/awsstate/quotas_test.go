package awsstate_test

import (
	"context"
	"strings"
	"testing"

	"github.com/bucketgrant/bucketgrant/pkg/awsstate"
)

// The account's own quotas come from iam:GetAccountSummary, a raised one
// included; without the permission, AWS's defaults, saying why.
func TestReadQuotas(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	q, err := awsstate.ReadQuotas(ctx, w.iam, acctA, "test")
	if err != nil || q.AttachedPerUser != 10 || q.UserInlineChars != 2048 || q.RoleInlineChars != 10240 || !strings.Contains(q.Source, acctA) {
		t.Fatalf("%+v %v", q, err)
	}
	w.srv.SetAttachedQuota(acctA, 20)
	if q, _ := awsstate.ReadQuotas(ctx, w.iam, acctA, "test"); q.AttachedPerUser != 20 || q.AttachedPerRole != 20 {
		t.Errorf("raised quota: %+v", q)
	}
	w.srv.Deny(acctA, "iam:GetAccountSummary")
	q, err = awsstate.ReadQuotas(ctx, w.iam, acctA, "test")
	if err != nil || q.AttachedPerUser != 10 || !strings.Contains(q.Source, "default") || !strings.Contains(q.Source, "iam:GetAccountSummary") {
		t.Errorf("denied: %+v %v", q, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := awsstate.ReadQuotas(cctx, w.iam, acctA, "test"); err == nil {
		t.Error("an interrupted read is not an error")
	}
}
