package grantsync

import (
	"slices"
	"strings"
	"testing"

	"github.com/bucketgrant/bucketgrant/pkg/apply"
	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/policy"
	"github.com/bucketgrant/bucketgrant/pkg/snapshot"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

const (
	jane   = "arn:aws:iam::111122223333:user/Jane"
	bob    = "arn:aws:iam::111122223333:user/Bob"
	bucket = "DOC-EXAMPLE-BUCKET"
)

// crossAccount is the cross-account seed with a second user, Bob, beside
// Jane: every grant writes the key policy, the bucket policy and an
// identity policy.
func crossAccount(t *testing.T) *state.State {
	t.Helper()
	st, err := snapshot.Load("../../examples/seed-cross-account.json")
	if err != nil {
		t.Fatal(err)
	}
	st.Principals = append(st.Principals, state.Principal{ARN: bob, ID: "AIDAEXAMPLEBOB0000001", Kind: state.KindUser})
	return st
}

func file(grants ...Grant) *File {
	return &File{Name: "test.yaml", Grants: grants, Buckets: map[string]BucketInfo{bucket: {Account: "123456789098"}}}
}

func sids(t *testing.T, text string, kind policy.Kind) []string {
	t.Helper()
	d, err := policy.Parse([]byte(text), kind)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range d.Statements() {
		out = append(out, s.Sid)
	}
	return out
}

// written applies a run's combined plan to a copy of st, as a write would.
func written(t *testing.T, st *state.State, run *Run) *state.State {
	t.Helper()
	out := CloneState(st)
	for _, ch := range run.Plan.Changes {
		p := &diff.Plan{Changes: []diff.Change{ch}, Grant: diff.Grant{Bucket: bucketOfRef(ch.Document)}, Subject: diff.Subject{PrincipalARN: run.Principals[ch.Document.ID()]}}
		if err := apply.ToState(out, p); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func TestMergeOneWritePerDocument(t *testing.T) {
	st := crossAccount(t)
	f := file(Grant{Principal: jane, Bucket: bucket}, Grant{Principal: bob, Bucket: bucket, Access: []diff.Level{diff.Read}})
	run, err := PlanAll(st, f, f.Grants, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range run.Results {
		if r.Status != StatusDrift {
			t.Fatalf("%s: %s %v", r.Grant, r.Status, r.Reasons)
		}
	}
	byKind := map[string][]diff.Change{}
	ids := map[string]bool{}
	for _, ch := range run.Plan.Changes {
		if ids[ch.Document.ID()] {
			t.Errorf("%s is written twice", ch.Document.ID())
		}
		ids[ch.Document.ID()] = true
		byKind[ch.Document.Kind] = append(byKind[ch.Document.Kind], ch)
	}
	// One bucket policy and one key policy holding both grants, and each
	// user's own inline policy.
	if n := len(byKind[diff.DocBucketPolicy]); n != 1 {
		t.Fatalf("%d bucket policy writes, want 1", n)
	}
	if n := len(byKind[diff.DocKeyPolicy]); n != 1 {
		t.Fatalf("%d key policy writes, want 1", n)
	}
	if n := len(byKind[diff.DocInlinePolicy]); n != 2 {
		t.Errorf("%d inline policy writes, want 2", n)
	}
	bp := byKind[diff.DocBucketPolicy][0]
	got := sids(t, bp.After, policy.KindBucketPolicy)
	for _, who := range []string{jane, bob} {
		if sid := diff.SidFor(who, bucket, "", "Objects"); !slices.Contains(got, sid) {
			t.Errorf("the merged bucket policy lacks %s's statement %s: %v", who, sid, got)
		}
	}
	if bp.Action != diff.ActionCreate || bp.Before != "" {
		t.Errorf("bucket policy: action %s, before %q; want create from nothing", bp.Action, bp.Before)
	}
	kp := byKind[diff.DocKeyPolicy][0]
	if kp.Before != st.Keys[0].Policy.String() {
		t.Error("the key policy's Before is not the text as read")
	}
	if fp := run.Plan.Fingerprints[kp.Document.ID()]; fp == "" || fp != policy.MustParse(kp.Before, policy.KindKeyPolicy).Fingerprint() {
		t.Errorf("the key policy's fingerprint %q is not the read document's", fp)
	}
	// Written, every grant plans empty, and nothing else changed.
	after := written(t, st, run)
	for _, g := range f.Grants {
		p, err := diff.Make(after, f.Options(g, ""))
		if err != nil {
			t.Fatal(err)
		}
		if !p.Empty() || p.Blocked() {
			t.Errorf("%s after the write: %d changes, blockers %v", g, len(p.Changes), p.Blockers)
		}
	}
	if !st.Keys[0].Policy.Equal(crossAccount(t).Keys[0].Policy) {
		t.Error("PlanAll modified its input state")
	}
}

func TestBlockedGrantIsSkipped(t *testing.T) {
	st := crossAccount(t)
	f := file(Grant{Principal: jane, Bucket: bucket}, Grant{Principal: "arn:aws:iam::111122223333:user/Gone", Bucket: bucket},
		Grant{Principal: bob, Bucket: "no-such-bucket"})
	run, err := PlanAll(st, f, f.Grants, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Status{StatusDrift, StatusBlocked, StatusError}
	for i, r := range run.Results {
		if r.Status != want[i] {
			t.Errorf("%s: %s, want %s (%v)", r.Grant, r.Status, want[i], r.Reasons)
		}
		if r.Status != StatusDrift && len(r.Reasons) == 0 {
			t.Errorf("%s: %s without a reason", r.Grant, r.Status)
		}
	}
	for _, ch := range run.Plan.Changes {
		if strings.Contains(ch.After, "Gone") {
			t.Errorf("the blocked grant's change is in %s", ch.Document.ID())
		}
	}
}

func TestPrune(t *testing.T) {
	st := crossAccount(t)
	janeAll := Grant{Principal: jane, Bucket: bucket}
	janeReports := Grant{Principal: jane, Bucket: bucket, Prefix: "reports/", Access: []diff.Level{diff.Read}}
	bobRead := Grant{Principal: bob, Bucket: bucket, Access: []diff.Level{diff.Read}}
	f := file(janeAll, janeReports, bobRead)
	run, err := PlanAll(st, f, f.Grants, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st = written(t, st, run)
	// Someone else's statement in the bucket policy, beside bucketgrant's.
	b := st.FindBucket(bucket)
	d := policy.MustParse(b.Policy.String(), policy.KindBucketPolicy)
	if err := d.AppendStatement([]byte(`{"Sid":"KeepMe","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`)); err != nil {
		t.Fatal(err)
	}
	b.Policy = state.NewDoc(d.String())
	keyBefore := sids(t, st.Keys[0].Policy.String(), policy.KindKeyPolicy)

	// Jane's reports/ grant and Bob's grant leave the file.
	f2 := file(janeAll)
	run2, err := PlanAll(st, f2, f2.Grants, PlanOptions{Prune: true, AllGrants: f2.Grants})
	if err != nil {
		t.Fatal(err)
	}
	after := written(t, st, run2)
	gone := map[string]bool{}
	for _, g := range []Grant{janeReports, bobRead} {
		for _, p := range diff.Purposes {
			gone[diff.SidFor(g.Principal, g.Bucket, g.Prefix, p)] = true
		}
	}
	check := func(name string, before, now []string) {
		t.Helper()
		var want []string
		for _, s := range before {
			if !gone[s] {
				want = append(want, s)
			}
		}
		if !slices.Equal(want, now) {
			t.Errorf("%s: Sids %v, want %v (from %v)", name, now, want, before)
		}
	}
	check("bucket policy", sids(t, b.Policy.String(), policy.KindBucketPolicy), sids(t, after.FindBucket(bucket).Policy.String(), policy.KindBucketPolicy))
	check("key policy", keyBefore, sids(t, after.Keys[0].Policy.String(), policy.KindKeyPolicy))
	if !slices.Contains(sids(t, after.FindBucket(bucket).Policy.String(), policy.KindBucketPolicy), "KeepMe") {
		t.Error("prune removed someone else's statement")
	}
	// Bob's own policy held only the pruned grant: it is deleted; his
	// other documents, and Jane's read-own-profile, are untouched.
	bobNow := after.FindPrincipal(bob)
	if len(bobNow.InlinePolicies) != 0 {
		t.Errorf("Bob's inline policies after prune: %v", bobNow.InlinePolicies)
	}
	janeNow := after.FindPrincipal(jane)
	if len(janeNow.InlinePolicies) != 2 || janeNow.InlinePolicies[0].Name != "read-own-profile" || !janeNow.InlinePolicies[0].Doc.Equal(st.FindPrincipal(jane).InlinePolicies[0].Doc) {
		t.Errorf("Jane's inline policies after prune: %+v", janeNow.InlinePolicies)
	}
	if p, _ := diff.Make(after, f2.Options(janeAll, "")); !p.Empty() {
		t.Errorf("prune broke the grant that stays: %d changes", len(p.Changes))
	}
	// Again: nothing left to prune.
	run3, err := PlanAll(after, f2, f2.Grants, PlanOptions{Prune: true, AllGrants: f2.Grants})
	if err != nil {
		t.Fatal(err)
	}
	if !run3.Plan.Empty() {
		t.Errorf("a second prune changes %d documents", len(run3.Plan.Changes))
	}
	// Within a shard's documents only.
	run4, err := PlanAll(st, f2, f2.Grants, PlanOptions{Prune: true, AllGrants: f2.Grants,
		OwnsDoc: func(id string) bool { return strings.HasPrefix(id, "key:") }})
	if err != nil {
		t.Fatal(err)
	}
	if len(run4.Plan.Changes) != 1 || run4.Plan.Changes[0].Document.Kind != diff.DocKeyPolicy {
		t.Errorf("prune limited to key policies changed %v", run4.Plan.Changes)
	}
}
