package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/bucketgrant/bucketgrant/pkg/awsstate"
	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/grantsync"
	"github.com/bucketgrant/bucketgrant/pkg/policy"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// The sync scenario: the cross-account seed (Jane in 111122223333, the
// bucket and its key in 123456789098) with more users, a second bucket on
// the same key, and a bucket whose key is disabled.
const (
	bob           = "arn:aws:iam::111122223333:user/Bob"
	carol         = "arn:aws:iam::111122223333:user/Carol"
	secondBucket  = "second-bucket"
	blockedBucket = "blocked-bucket"
	disabledKeyID = "222bb3cc-444d-4e55-8666-b222cc3d44ee"
)

func syncState(t *testing.T) *state.State {
	t.Helper()
	st := exampleState(t, crossAccount, nil)
	for _, arn := range []string{bob, carol} {
		st.Principals = append(st.Principals, state.Principal{ARN: arn, Kind: state.KindUser})
	}
	b2 := st.Buckets[0]
	b2.Name, b2.Policy, b2.Source = secondBucket, nil, nil
	k2 := st.Keys[0]
	k2.ARN = "arn:aws:kms:us-east-1:" + crossResource + ":key/" + disabledKeyID
	k2.KeyState, k2.Aliases, k2.Source = "Disabled", []string{}, nil
	b3 := b2
	b3.Name = blockedBucket
	enc := *b2.Encryption
	enc.KMSMasterKeyID, enc.Source = k2.ARN, nil
	b3.Encryption = &enc
	st.Buckets = append(st.Buckets, b2, b3)
	st.Keys = append(st.Keys, k2)
	return st
}

// syncWorld is a world for sync: the grants file names a profile per
// account.
func newSyncWorld(t *testing.T) *world {
	t.Helper()
	return newWorld(t, syncState(t))
}

type grantLine struct {
	principal, bucket, access, prefix string
}

// grantsFile writes a grants file and returns its path.
func (w *world) grantsFile(grants ...grantLine) string {
	w.t.Helper()
	return w.grantsFileListing([]string{bucket, secondBucket, blockedBucket}, grants...)
}

// grantsFileListing is grantsFile with the buckets: section listing only
// buckets (a bucket listed there is named by the file, and --prune treats
// the file as the truth for it).
func (w *world) grantsFileListing(buckets []string, grants ...grantLine) string {
	w.t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "version: 1\ncredentials:\n  accounts:\n    %q: {profile: principal}\n    %q: {profile: resource}\n", w.principal, w.resource)
	fmt.Fprintf(&b, "buckets:\n")
	for _, name := range buckets {
		fmt.Fprintf(&b, "  %s: {account: %q}\n", name, w.resource)
	}
	b.WriteString("grants:\n")
	for _, g := range grants {
		fmt.Fprintf(&b, "  - principal: %s\n    bucket: %s\n", g.principal, g.bucket)
		if g.access != "" {
			fmt.Fprintf(&b, "    access: %s\n", g.access)
		}
		if g.prefix != "" {
			fmt.Fprintf(&b, "    prefix: %s\n", g.prefix)
		}
	}
	path := filepath.Join(w.dir, fmt.Sprintf("grants-%d.yaml", len(grants)))
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		w.t.Fatal(err)
	}
	return path
}

// syncJSON runs sync with --format json, checks the exit code and parses
// the report.
func (w *world) syncJSON(want int, args ...string) *grantsync.Report {
	w.t.Helper()
	out, errOut, code := w.run(append([]string{"sync", "--format", "json"}, args...)...)
	if code != want {
		w.t.Fatalf("sync %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, out, errOut)
	}
	noRawErrors(w.t, errOut)
	var rep grantsync.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		w.t.Fatalf("sync report: %v\n%s", err, out)
	}
	if rep.Format != grantsync.ReportFormat {
		w.t.Fatalf("report format %q", rep.Format)
	}
	return &rep
}

func statuses(rep *grantsync.Report) map[string]grantsync.Status {
	out := map[string]grantsync.Status{}
	for _, g := range rep.Grants {
		out[g.Principal[strings.LastIndexByte(g.Principal, '/')+1:]+" "+g.Bucket+g.Prefix] = g.Status
	}
	return out
}

func wantStatuses(t *testing.T, rep *grantsync.Report, want map[string]grantsync.Status) {
	t.Helper()
	if got := statuses(rep); !maps.Equal(got, want) {
		t.Errorf("statuses %v\nwant %v\n%s", got, want, jsonIndent(rep.Grants))
	}
}

var driftGrants = []grantLine{
	{principal: jane, bucket: bucket, access: "[read, write]"},
	{principal: bob, bucket: bucket, access: "[read]"},
	{principal: jane, bucket: secondBucket, access: "[read, write, list]"},
}

// TestSyncFixesDriftByHand: drift made by hand (a statement removed, a
// document replaced by another writer) is found by a dry run (exit 2),
// fixed by sync (exit 0), and the next run is in sync with no writes.
func TestSyncFixesDriftByHand(t *testing.T) {
	w := newSyncWorld(t)
	file := w.grantsFile(driftGrants...)

	// First run: everything is missing; one write per document.
	w.srv.ResetCalls() // not the fixture's own calls
	rep := w.syncJSON(0, "-f", file, "--yes")
	wantStatuses(t, rep, map[string]grantsync.Status{"Jane " + bucket: "fixed", "Bob " + bucket: "fixed", "Jane " + secondBucket: "fixed"})
	counts := w.srv.CallCounts()
	// Two buckets, one shared key, Jane's two inline policies, Bob's one.
	for op, want := range map[string]int{"s3:PutBucketPolicy": 2, "kms:PutKeyPolicy": 1, "iam:PutUserPolicy": 3} {
		if counts[op] != want {
			t.Errorf("%s called %d times, want %d (one write per document)", op, counts[op], want)
		}
	}

	// In sync: a dry run finds nothing, and a real run writes nothing.
	w.srv.ResetCalls()
	rep = w.syncJSON(0, "-f", file, "--dry-run", "--detailed-exitcode")
	wantStatuses(t, rep, map[string]grantsync.Status{"Jane " + bucket: "in sync", "Bob " + bucket: "in sync", "Jane " + secondBucket: "in sync"})
	// Each document is read once however many grants need it: the key of
	// both buckets, Jane for her two grants, each bucket, each account's
	// identity.
	counts = w.srv.CallCounts()
	for op, want := range map[string]int{"kms:GetKeyPolicy": 1, "kms:DescribeKey": 1, "s3:GetBucketPolicy": 2, "iam:GetUser": 2, "iam:GetUserPolicy": 4, "sts:GetCallerIdentity": 2} {
		if counts[op] != want {
			t.Errorf("the dry run called %s %d times, want %d", op, counts[op], want)
		}
	}
	w.syncJSON(0, "-f", file, "--yes")
	if n := writes(w.srv.CallCounts()); len(n) != 0 {
		t.Errorf("runs in sync wrote: %v", n)
	}

	// Drift by hand: Bob's statement removed from the bucket policy, and
	// Jane's policy for the second bucket replaced by another writer.
	ctx := context.Background()
	s3c := s3.NewFromConfig(w.config(w.resource), func(o *s3.Options) { o.UsePathStyle = true })
	bp, err := s3c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	doc := policy.MustParse(aws.ToString(bp.Policy), policy.KindBucketPolicy)
	bobSid := diff.SidFor(bob, bucket, "", "Objects")
	removed := false
	for i, s := range doc.Statements() {
		if s.Sid == bobSid {
			if err := doc.RemoveStatement(i); err != nil {
				t.Fatal(err)
			}
			removed = true
			break
		}
	}
	if !removed {
		t.Fatalf("the bucket policy has no statement %s:\n%s", bobSid, doc)
	}
	if _, err := s3c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(doc.String())}); err != nil {
		t.Fatal(err)
	}
	iamc := iam.NewFromConfig(w.config(w.principal))
	other := `{"Version":"2012-10-17","Statement":[{"Sid":"SomeoneElse","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + secondBucket + `/public/*"}]}`
	if _, err := iamc.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("Jane"), PolicyName: aws.String(diff.InlinePolicyName(secondBucket)), PolicyDocument: aws.String(other)}); err != nil {
		t.Fatal(err)
	}

	w.srv.ResetCalls()
	rep = w.syncJSON(2, "-f", file, "--dry-run", "--detailed-exitcode")
	wantStatuses(t, rep, map[string]grantsync.Status{"Jane " + bucket: "in sync", "Bob " + bucket: "drift found", "Jane " + secondBucket: "drift found"})
	if n := writes(w.srv.CallCounts()); len(n) != 0 {
		t.Errorf("the dry run wrote: %v", n)
	}
	// Without --detailed-exitcode a dry run that finds drift exits 0.
	w.syncJSON(0, "-f", file, "--dry-run")

	w.srv.ResetCalls()
	rep = w.syncJSON(0, "-f", file, "--yes")
	wantStatuses(t, rep, map[string]grantsync.Status{"Jane " + bucket: "in sync", "Bob " + bucket: "fixed", "Jane " + secondBucket: "fixed"})
	if got := writes(w.srv.CallCounts()); !maps.Equal(got, map[string]int{"s3:PutBucketPolicy": 1, "iam:PutUserPolicy": 1}) {
		t.Errorf("writes fixing the drift: %v, want one bucket policy and one user policy", got)
	}
	// The other writer's statement is kept beside bucketgrant's.
	got, err := iamc.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("Jane"), PolicyName: aws.String(diff.InlinePolicyName(secondBucket))})
	if err != nil {
		t.Fatal(err)
	}
	text, _ := policy.DecodeURLEncoded(aws.ToString(got.PolicyDocument))
	if !strings.Contains(text, "SomeoneElse") || !strings.Contains(text, diff.SidFor(jane, secondBucket, "", "Objects")) {
		t.Errorf("Jane's policy after the fix:\n%s", text)
	}

	w.srv.ResetCalls()
	w.syncJSON(0, "-f", file, "--dry-run", "--detailed-exitcode")
	w.syncJSON(0, "-f", file, "--yes")
	if n := writes(w.srv.CallCounts()); len(n) != 0 {
		t.Errorf("the run after the fix wrote: %v", n)
	}
}

// TestSyncBlockedGrantDoesNotStopOthers: a grant on a bucket whose key is
// disabled is blocked (exit 3) and the others are fixed.
func TestSyncBlockedGrantDoesNotStopOthers(t *testing.T) {
	w := newSyncWorld(t)
	file := w.grantsFile(append(slices.Clone(driftGrants), grantLine{principal: carol, bucket: blockedBucket, access: "[read]"})...)
	rep := w.syncJSON(3, "-f", file, "--yes")
	wantStatuses(t, rep, map[string]grantsync.Status{"Jane " + bucket: "fixed", "Bob " + bucket: "fixed", "Jane " + secondBucket: "fixed", "Carol " + blockedBucket: "blocked"})
	for _, g := range rep.Grants {
		if g.Status == "blocked" && (len(g.Reasons) == 0 || !strings.Contains(g.Reasons[0], "Disabled")) {
			t.Errorf("blocked without the key's state as reason: %v", g.Reasons)
		}
	}
	// Nothing was written for Carol.
	st := w.readAll(append(slices.Clone(driftGrants), grantLine{principal: carol, bucket: blockedBucket}))
	if p := st.FindPrincipal(carol); p == nil || len(p.InlinePolicies) != 0 {
		t.Errorf("Carol's policies: %+v", p)
	}
	// The text report names the blocker, and the exit code stays 3.
	out, _, code := w.run("sync", "-f", file, "--dry-run")
	if code != 3 || !strings.Contains(out, "blocked") || !strings.Contains(out, "1 blocked") {
		t.Errorf("text report, exit %d:\n%s", code, out)
	}
}

// TestSyncPrune: --prune removes bucketgrant's statements of grants no
// longer in the file, and nothing else.
func TestSyncPrune(t *testing.T) {
	w := newSyncWorld(t)
	w.syncJSON(0, "-f", w.grantsFile(driftGrants...), "--yes")

	// Someone else's statement in the bucket policy.
	ctx := context.Background()
	s3c := s3.NewFromConfig(w.config(w.resource), func(o *s3.Options) { o.UsePathStyle = true })
	bp, err := s3c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	doc := policy.MustParse(aws.ToString(bp.Policy), policy.KindBucketPolicy)
	if err := doc.AppendStatement([]byte(`{"Sid":"NotOurs","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::` + bucket + `/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(doc.String())}); err != nil {
		t.Fatal(err)
	}
	before := w.readAll(driftGrants)

	// Bob's grant leaves the file. Without --prune nothing is removed.
	file := w.grantsFile(driftGrants[0], driftGrants[2])
	w.srv.ResetCalls()
	w.syncJSON(0, "-f", file, "--yes")
	if n := writes(w.srv.CallCounts()); len(n) != 0 {
		t.Errorf("sync without --prune wrote: %v", n)
	}
	rep := w.syncJSON(2, "-f", file, "--dry-run", "--detailed-exitcode", "--prune")
	if len(rep.Pruned) == 0 {
		t.Fatal("the dry run with --prune finds nothing to prune")
	}
	w.syncJSON(0, "-f", file, "--yes", "--prune")
	after := w.readAll(driftGrants)

	bobSids := map[string]bool{}
	for _, p := range []string{"Objects", "List", "Kms"} {
		bobSids[diff.SidFor(bob, bucket, "", p)] = true
	}
	keep := func(d *state.Doc, kind policy.Kind) []string {
		var out []string
		for _, s := range policy.MustParse(d.String(), kind).Statements() {
			if !bobSids[s.Sid] {
				out = append(out, s.Sid)
			}
		}
		return out
	}
	sidsOf := func(d *state.Doc, kind policy.Kind) []string {
		var out []string
		for _, s := range policy.MustParse(d.String(), kind).Statements() {
			out = append(out, s.Sid)
		}
		return out
	}
	if got, want := sidsOf(after.FindBucket(bucket).Policy, policy.KindBucketPolicy), keep(before.FindBucket(bucket).Policy, policy.KindBucketPolicy); !slices.Equal(got, want) {
		t.Errorf("bucket policy Sids after prune %v, want %v", got, want)
	}
	if !slices.Contains(sidsOf(after.FindBucket(bucket).Policy, policy.KindBucketPolicy), "NotOurs") {
		t.Error("prune removed someone else's statement")
	}
	key := after.FindKey(w.keyARN)
	if got, want := sidsOf(key.Policy, policy.KindKeyPolicy), keep(before.FindKey(w.keyARN).Policy, policy.KindKeyPolicy); !slices.Equal(got, want) {
		t.Errorf("key policy Sids after prune %v, want %v", got, want)
	}
	if p := after.FindPrincipal(bob); len(p.InlinePolicies) != 0 {
		t.Errorf("Bob's bucketgrant policy is still there: %v", p.InlinePolicies)
	}
	if !after.FindBucket(secondBucket).Policy.Equal(before.FindBucket(secondBucket).Policy) {
		t.Error("prune changed the second bucket's policy, which held no stale statement")
	}
	janeBefore, janeAfter := before.FindPrincipal(jane), after.FindPrincipal(jane)
	if len(janeAfter.InlinePolicies) != len(janeBefore.InlinePolicies) {
		t.Errorf("Jane's inline policies changed: %d, were %d", len(janeAfter.InlinePolicies), len(janeBefore.InlinePolicies))
	}
	// And again: nothing left to prune, nothing written.
	w.srv.ResetCalls()
	w.syncJSON(0, "-f", file, "--dry-run", "--detailed-exitcode", "--prune")
	w.syncJSON(0, "-f", file, "--yes", "--prune")
	if n := writes(w.srv.CallCounts()); len(n) != 0 {
		t.Errorf("a second prune wrote: %v", n)
	}
}

// TestSyncShards: each shard writes only its own documents, no document is
// written by two shards, and together they fix everything.
func TestSyncShards(t *testing.T) {
	w := newSyncWorld(t)
	grants := []grantLine{
		{principal: jane, bucket: bucket, access: "[read, write]"},
		{principal: bob, bucket: bucket, access: "[read]"},
		{principal: jane, bucket: secondBucket, access: "[read]"},
		{principal: carol, bucket: secondBucket, access: "[read]"},
		{principal: carol, bucket: bucket, access: "[write]", prefix: "in/"},
	}
	// Buckets in the principals' own account, without a key, so that some
	// groups of grants land apart from the shared key's.
	ctx := context.Background()
	s3p := s3.NewFromConfig(w.config(w.principal), func(o *s3.Options) { o.UsePathStyle = true })
	for i := range 4 {
		name := fmt.Sprintf("team-bucket-%d", i)
		if _, err := s3p.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
		grants = append(grants, grantLine{principal: bob, bucket: name, access: "[read, write]"}, grantLine{principal: carol, bucket: name, access: "[read]"})
	}
	file := w.grantsFile(grants...)

	const n = 3
	owner := map[string]int{}
	shardsWithWrites := 0
	for k := range n {
		before := w.readAll(grants)
		rep := w.syncJSON(0, "-f", file, "--yes", "--shard", fmt.Sprintf("%d/%d", k, n))
		after := w.readAll(grants)
		changed := changedDocs(before, after)
		if len(changed) > 0 {
			shardsWithWrites++
		}
		for _, d := range changed {
			if o, ok := owner[d]; ok {
				t.Errorf("%s was written by shard %d and shard %d", d, o, k)
			}
			owner[d] = k
		}
		for _, g := range rep.Grants {
			for _, ch := range g.Changes {
				if !slices.Contains(changed, ch.Document) {
					t.Errorf("shard %d reports %s changed, but it did not change", k, ch.Document)
				}
			}
		}
	}
	if shardsWithWrites < 2 {
		t.Errorf("only %d of %d shards wrote anything: the test does not exercise sharding", shardsWithWrites, n)
	}
	// Together they fixed everything.
	rep := w.syncJSON(0, "-f", file, "--dry-run", "--detailed-exitcode")
	for _, g := range rep.Grants {
		if g.Status != "in sync" {
			t.Errorf("after all shards: %s on %s is %s", g.Principal, g.Bucket, g.Status)
		}
	}
}

// readAll reads every document of the grants' principals and buckets in
// process, as the accounts' admins. Its calls are counted by the server.
func (w *world) readAll(grants []grantLine) *state.State {
	w.t.Helper()
	mr := &awsstate.MultiReader{For: func(ctx context.Context, account string) (*awsstate.Reader, error) {
		return awsstate.NewReaderFromConfig(w.config(account), nil, true), nil
	}}
	var ts []awsstate.Target
	for _, g := range grants {
		acct := w.resource
		if strings.HasPrefix(g.bucket, "team-") {
			acct = w.principal
		}
		ts = append(ts, awsstate.Target{Principal: g.principal, Bucket: g.bucket, BucketAccount: acct})
	}
	res, err := mr.ReadMany(context.Background(), ts)
	if err != nil {
		w.t.Fatal(err)
	}
	for k, err := range res.PrincipalErrors {
		w.t.Fatalf("reading %s: %v", k, err)
	}
	for k, err := range res.BucketErrors {
		w.t.Fatalf("reading %s: %v", k, err)
	}
	return res.State
}

// changedDocs lists the IDs of the documents that differ between two reads.
func changedDocs(before, after *state.State) []string {
	docs := func(st *state.State) map[string]string {
		out := map[string]string{}
		for _, b := range st.Buckets {
			out[(diff.DocRef{Kind: diff.DocBucketPolicy, ARN: "arn:aws:s3:::" + b.Name}).ID()] = b.Policy.String()
		}
		for _, k := range st.Keys {
			out[(diff.DocRef{Kind: diff.DocKeyPolicy, ARN: k.ARN}).ID()] = k.Policy.String()
		}
		for _, p := range st.Principals {
			for _, in := range p.InlinePolicies {
				out[(diff.DocRef{Kind: diff.DocInlinePolicy, ARN: p.ARN, Name: in.Name}).ID()] = in.Doc.String()
			}
			for _, m := range p.AttachedPolicies {
				out[(diff.DocRef{Kind: diff.DocManagedPolicy, ARN: m.ARN}).ID()] = m.Document.String()
			}
		}
		return out
	}
	b, a := docs(before), docs(after)
	var out []string
	for id := range maps.Keys(a) {
		if a[id] != b[id] {
			out = append(out, id)
		}
	}
	for id := range maps.Keys(b) {
		if _, ok := a[id]; !ok {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}
