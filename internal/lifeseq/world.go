package lifeseq

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// State builds the world's snapshot state.
func (w World) State() *state.State {
	st := &state.State{}
	for _, k := range w.Keys {
		acct := state.AccountOf(k.ARN)
		stmts := []any{map[string]any{
			"Sid": "KeyAdministrators", "Effect": "Allow",
			"Principal": map[string]any{"AWS": "arn:aws:iam::" + acct + ":role/KeyAdmin"},
			"Action":    []string{"kms:Describe*", "kms:Get*", "kms:List*", "kms:Put*", "kms:ScheduleKeyDeletion"},
			"Resource":  "*",
		}}
		if k.Delegates {
			stmts = append([]any{map[string]any{
				"Sid": "EnableIAMUserPermissions", "Effect": "Allow",
				"Principal": map[string]any{"AWS": "arn:aws:iam::" + acct + ":root"},
				"Action":    "kms:*", "Resource": "*",
			}}, stmts...)
		}
		st.Keys = append(st.Keys, state.Key{ARN: k.ARN, KeyManager: "CUSTOMER", KeyState: "Enabled", Region: Region,
			Policy: state.NewDoc(policyText(stmts))})
	}
	for _, b := range w.Buckets {
		bk := state.Bucket{Name: b.Name, Account: b.Account, Region: Region,
			Encryption: &state.Encryption{SSEAlgorithm: "aws:kms", KMSMasterKeyID: b.Key, BucketKeyEnabled: b.BucketKeys}}
		if b.Enforced {
			bk.ObjectOwnership = "BucketOwnerEnforced"
		}
		var stmts []any
		arn := "arn:aws:s3:::" + b.Name
		if b.DenyHTTP {
			stmts = append(stmts, map[string]any{"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
				"Resource": []string{arn, arn + "/*"}, "Condition": map[string]any{"Bool": map[string]string{"aws:SecureTransport": "false"}}})
		}
		if b.Reader {
			stmts = append(stmts, map[string]any{"Sid": "Reader", "Effect": "Allow",
				"Principal": map[string]any{"AWS": "arn:aws:iam::" + b.Account + ":role/reader"}, "Action": "s3:GetObject", "Resource": arn + "/*"})
		}
		if c := w.Claimed; c != nil && c.Bucket == b.Name {
			// bucketgrant's Sid for the grant's objects, on a statement
			// that allows another principal too: not bucketgrant's.
			stmts = append(stmts, map[string]any{"Sid": diff.SidFor(c.Principal, c.Bucket, c.Prefix, diff.PurposeObjects), "Effect": "Allow",
				"Principal": map[string]any{"AWS": []string{c.Principal, "arn:aws:iam::" + b.Account + ":role/auditor"}},
				"Action":    "s3:GetObject", "Resource": arn + "/" + c.Prefix + "*"})
		}
		if len(stmts) > 0 {
			bk.Policy = state.NewDoc(policyText(stmts))
		}
		st.Buckets = append(st.Buckets, bk)
	}
	for i, p := range w.Principals {
		pr := state.Principal{ARN: p.ARN, Kind: state.KindOf(p.ARN)}
		if pr.Kind == state.KindUser {
			pr.ID = fmt.Sprintf("AIDAEXAMPLE%09d", i+1)
		} else {
			pr.ID = fmt.Sprintf("AROAEXAMPLE%09d", i+1)
		}
		if p.Padding > 0 {
			pr.InlinePolicies = append(pr.InlinePolicies, state.NamedDoc{Name: "team-archive", Doc: state.NewDoc(padding(p.Padding))})
		}
		st.Principals = append(st.Principals, pr)
	}
	return st
}

func policyText(stmts []any) string {
	b, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": stmts}) // plain data
	return string(b)
}

// padding is an identity policy of about n characters (white space aside)
// allowing reads of an archive bucket nobody else names: a few long
// resources rather than many short ones, which would cost the oracle far
// more to evaluate for the same size.
func padding(n int) string {
	var res []string
	size := len(policyText([]any{map[string]any{"Sid": "TeamArchive", "Effect": "Allow", "Action": "s3:GetObject", "Resource": []string{}}}))
	for i := 0; size < n; i++ {
		r := fmt.Sprintf("arn:aws:s3:::team-archive/project-%04d/%s/*", i, strings.Repeat("archived-quarterly-reports-", 30))
		if rest := n - size - 3; rest < len(r) {
			r = r[:max(rest, 40)-2] + "/*"
		}
		res = append(res, r)
		size += len(r) + 3
	}
	return policyText([]any{map[string]any{"Sid": "TeamArchive", "Effect": "Allow", "Action": "s3:GetObject", "Resource": res}})
}

// callerARN is the ARN a principal calls as: a user itself, a role through
// a session of it.
func callerARN(principal string) string {
	if i := strings.Index(principal, ":role/"); i >= 0 {
		name := principal[strings.LastIndexByte(principal, '/')+1:]
		return "arn:aws:sts::" + state.AccountOf(principal) + ":assumed-role/" + name + "/lifeseq"
	}
	return principal
}
