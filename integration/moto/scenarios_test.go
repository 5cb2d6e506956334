package moto

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/grantsync"
	"github.com/bucketgrant/bucketgrant/pkg/snapshot"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// exampleState reads one of the repository's examples with its account IDs
// and bucket name replaced (repl: old, new, ...), so that each scenario has
// accounts and buckets of its own on the shared server.
func exampleState(t *testing.T, name string, repl ...string) *state.State {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	st, err := snapshot.Parse(name, []byte(strings.NewReplacer(repl...).Replace(string(data))))
	if err != nil {
		t.Fatal(err)
	}
	// Sources are the example's bytes; the scenarios edit the objects.
	st.Source = nil
	return st
}

// consoleBucketPolicy is a bucket policy as the S3 console's policy editor
// saves it (and as the AWS Policy Generator writes it, "Id" included): four
// spaces of indentation, one member per line, lists one item a line. Its
// second statement lets the account's Auditor role read the bucket's
// configuration, someone else's statement that must survive every write.
func consoleBucketPolicy(bucket, account string) string {
	return `{
    "Version": "2012-10-17",
    "Id": "Policy1700000000000",
    "Statement": [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [
                "arn:aws:s3:::` + bucket + `",
                "arn:aws:s3:::` + bucket + `/*"
            ],
            "Condition": {
                "Bool": {
                    "aws:SecureTransport": "false"
                }
            }
        },
        {
            "Sid": "AuditorReadsConfiguration",
            "Effect": "Allow",
            "Principal": {
                "AWS": "arn:aws:iam::` + account + `:role/Auditor"
            },
            "Action": [
                "s3:GetBucketPolicy",
                "s3:GetEncryptionConfiguration"
            ],
            "Resource": "arn:aws:s3:::` + bucket + `"
        }
    ]
}`
}

// sameAccount is the same-account example: Jane and the bucket in one
// account, the key's policy as the KMS console writes it for a key with one
// administrator role (Id key-consolepolicy-3, " : " between names and
// values), the bucket policy as the S3 console writes it, and Jane in a
// group with a policy of its own.
func sameAccount(t *testing.T, base string) (st *state.State, account, bucket, jane string) {
	t.Helper()
	account, bucket = newAccountID(1), newBucketName(base)
	st = exampleState(t, "seed-same-account.json", "111122223333", account, "DOC-EXAMPLE-BUCKET", bucket)
	st.Buckets[0].Policy = state.NewDoc(consoleBucketPolicy(bucket, account))
	st.Principals[0].Groups = []state.Group{{Name: "analysts", InlinePolicies: []state.NamedDoc{{Name: "list-buckets",
		Doc: state.NewDoc(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}`)}}}}
	return st, account, bucket, "arn:aws:iam::" + account + ":user/Jane"
}

// crossAccount is the cross-account example: Jane in one account with an
// inline policy of her own; the bucket and its key in another, the key with
// the default key policy KMS writes (Id key-default-1), the bucket with
// the S3 console's policy layout.
func crossAccount(t *testing.T, base string) (st *state.State, principal, resource, bucket, jane string) {
	t.Helper()
	principal, resource, bucket = newAccountID(1), newAccountID(2), newBucketName(base)
	st = exampleState(t, "seed-cross-account.json", "111122223333", principal, "123456789098", resource, "DOC-EXAMPLE-BUCKET", bucket)
	st.Buckets[0].Policy = state.NewDoc(consoleBucketPolicy(bucket, resource))
	return st, principal, resource, bucket, "arn:aws:iam::" + principal + ":user/Jane"
}

// keyAdminSession writes the profile "keyadmin": a session of the role the
// same-account key policy lets manage the key, so the operator is an
// assumed-role session as a console user or SSO login would be. The
// session is assumed by the test and handed over as a static key with its
// token. (A role_arn + source_profile profile works too since bucketgrant
// points the SDK's AssumeRole client at AWS_ENDPOINT_URL itself, see
// pkg/awsstate's pointAt and integration's TestRoleProfileUsesTheEndpoint.)
func (w *world) keyAdminSession(account string) {
	w.t.Helper()
	sess, err := assumeRole(w.ctx, *w.admin(account), "arn:aws:iam::"+account+":role/KeyAdmin", "operator")
	if err != nil {
		w.t.Fatal(err)
	}
	w.writeProfiles(profile{name: "keyadmin", creds: &sess})
	w.flags = []string{"--profile", "keyadmin"}
}

// twoProfiles writes the profiles "principal" and "resource", the admins of
// the two accounts of a cross-account grant.
func (w *world) twoProfiles(principal, resource string) {
	w.writeProfiles(profile{name: "principal", creds: w.admin(principal)}, profile{name: "resource", creds: w.admin(resource)})
	w.flags = []string{"--principal-profile", "principal", "--resource-profile", "resource"}
}

// grant selects one grant on the command line.
type grant struct {
	principal, bucket string
	extra             []string // --access, --prefix
	// checkAs are other ARNs naming the same principal (a role's session
	// ARN, as an AccessDenied message gives it), checked after the apply.
	checkAs []string
}

// args is cmd, then the grant's flags.
func (g grant) args(cmd ...string) []string {
	out := append(slices.Clone(cmd), "--principal", g.principal, "--bucket", g.bucket)
	return append(out, g.extra...)
}

var backupRe = regexp.MustCompile(`Backup: (\S+\.json)`)

// lifecycle takes one grant through every command, judging each write on
// the documents read back through the SDK:
//
//	snapshot                      equals the read-back
//	check                         exit 2 (access missing)
//	plan --detailed-exitcode      exit 2, the plan as JSON
//	apply --yes                   the trust property; the plan's documents written, no other
//	check, plan --detailed-exitcode   exit 0
//	revoke --yes                  every document as before the apply, statement for statement
//	apply --yes, rollback --yes   the same again through the backup
//
// It returns the plan of the first apply.
func (w *world) lifecycle(g grant) *diff.Plan {
	t := w.t
	initial := w.readBack()

	// snapshot takes no --access or --prefix: it saves every document.
	path := filepath.Join(w.dir, "snapshot.json")
	r := w.must(0, "snapshot", "-o", path, "--principal", g.principal, "--bucket", g.bucket)
	noWrites(t, r, "snapshot")
	one, err := w.s.readBack(w.ctx, []string{g.principal}, w.bucketAcct, []string{g.bucket})
	if err != nil {
		t.Fatal(err)
	}
	sameState(t, loadSnapshot(t, path), one)

	r = w.must(2, g.args("check")...)
	noWrites(t, r, "check")
	p := w.planJSON(2, g.args()...)
	if len(p.Changes) == 0 {
		t.Fatalf("the plan changes nothing:\n%s", jsonIndent(p))
	}

	r = w.must(0, g.args("apply", "--yes")...)
	if !strings.Contains(r.stdout, " can now ") {
		t.Errorf("apply does not verify the access:\n%s", r.stdout)
	}
	judgeWrite(t, initial, w.readBack(), p)

	r = w.must(0, g.args("check")...)
	noWrites(t, r, "check")
	for _, as := range g.checkAs {
		r := w.must(0, grant{principal: as, bucket: g.bucket, extra: g.extra}.args("check")...)
		noWrites(t, r, "check")
	}
	r = w.must(0, g.args("plan", "--detailed-exitcode")...)
	noWrites(t, r, "plan")
	if !strings.Contains(r.stdout, "No changes.") {
		t.Errorf("plan after apply:\n%s", r.stdout)
	}

	w.must(0, g.args("revoke", "--yes")...)
	revoked := w.readBack()
	sameDocuments(t, "after revoke", revoked, initial)

	r = w.must(0, g.args("apply", "--yes")...)
	m := backupRe.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("apply names no backup:\n%s", r.stdout)
	}
	judgeWrite(t, revoked, w.readBack(), p)
	w.must(0, "rollback", "--yes", m[1])
	sameDocuments(t, "after rollback", w.readBack(), initial)
	return p
}

// TestMotoSameAccount: Jane and the bucket in one account, the key policy
// and the bucket policy in the consoles' layouts, the operator a session of
// the key's administrator role.
func TestMotoSameAccount(t *testing.T) {
	t.Parallel()
	requireMoto(t)
	st, account, bucket, jane := sameAccount(t, "same-account")
	// Tags, which bucketgrant reads from GetUser's answer: the snapshot
	// must hold what ListUserTags lists.
	st.Principals[0].Tags = []state.Tag{{Key: "team", Value: "data"}, {Key: "cost-center", Value: "42"}}
	w := newWorld(t, st, []string{jane})
	w.keyAdminSession(account)
	w.lifecycle(grant{principal: jane, bucket: bucket})
}

// TestMotoCrossAccount: Jane in one account, the bucket and key in another,
// each read and written with its own profile.
func TestMotoCrossAccount(t *testing.T) {
	t.Parallel()
	requireMoto(t)
	st, principal, resource, bucket, jane := crossAccount(t, "cross-account")
	w := newWorld(t, st, []string{jane})
	w.twoProfiles(principal, resource)
	w.lifecycle(grant{principal: jane, bucket: bucket})
}

// TestMotoRoleWithPath: the principal is a role with a path, granted read
// and list under a prefix across accounts; the operator assumes a role
// with a path in each account (--principal-role-arn, --resource-role-arn)
// from one base profile; the grant is also checked under the role's
// session ARN, which carries no path.
func TestMotoRoleWithPath(t *testing.T) {
	t.Parallel()
	requireMoto(t)
	st, principal, resource, bucket, _ := crossAccount(t, "role-path")
	reporter := "arn:aws:iam::" + principal + ":role/service-role/analytics/Reporter"
	st.Principals[0] = state.Principal{ARN: reporter, Kind: state.KindRole, InlinePolicies: []state.NamedDoc{{Name: "read-own-role",
		Doc: state.NewDoc(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetRole","Resource":"` + reporter + `"}]}`)}},
		// Read from GetRole's answer; the snapshot must hold what
		// ListRoleTags lists.
		Tags: []state.Tag{{Key: "team", Value: "analytics"}}}
	opP := "arn:aws:iam::" + principal + ":role/ops/BucketGrantOperator"
	opR := "arn:aws:iam::" + resource + ":role/ops/BucketGrantOperator"
	st.Principals = append(st.Principals, state.Principal{ARN: opP, Kind: state.KindRole}, state.Principal{ARN: opR, Kind: state.KindRole})
	w := newWorld(t, st, []string{reporter})
	w.writeProfiles(profile{name: "base", creds: w.admin(principal)})
	w.flags = []string{"--profile", "base", "--principal-role-arn", opP, "--resource-role-arn", opR}
	w.lifecycle(grant{principal: reporter, bucket: bucket, extra: []string{"--access", "read,list", "--prefix", "reports/"},
		checkAs: []string{"arn:aws:sts::" + principal + ":assumed-role/Reporter/nightly-report"}})
}

// bigPolicy is an inline policy of n characters as IAM counts them (white
// space aside) that allows nothing on the scenario's bucket or key.
func bigPolicy(t *testing.T, n int) string {
	t.Helper()
	head, tail := `{"Version":"2012-10-17","Statement":[`, `]}`
	var stmts []string
	for i := 0; ; i++ {
		s := `{"Sid":"Read` + strconv.Itoa(i) + `","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::other-bucket-` + strconv.Itoa(i) + `/*"}`
		if diff.IAMSize([]byte(head+strings.Join(append(stmts, s), ",")+tail)) > n {
			break
		}
		stmts = append(stmts, s)
	}
	// Pad the last resource so the policy is exactly n characters long.
	doc := head + strings.Join(stmts, ",") + tail
	pad := n - diff.IAMSize([]byte(doc))
	last := stmts[len(stmts)-1]
	stmts[len(stmts)-1] = strings.Replace(last, "/*", "/"+strings.Repeat("x", pad)+"*", 1)
	doc = head + strings.Join(stmts, ",") + tail
	if got := diff.IAMSize([]byte(doc)); got != n {
		t.Fatalf("bigPolicy: %d characters, want %d", got, n)
	}
	return doc
}

// TestMotoInlineLimit: Jane's inline policies are 48 characters short of
// IAM's 2,048 for a user, so bucketgrant's statements go to a customer
// managed policy it creates and attaches (and revoke detaches and deletes).
// moto returns managed policy documents from GetPolicyVersion as plain JSON
// where AWS URL-encodes them (a deviation both readers take in their
// stride).
func TestMotoInlineLimit(t *testing.T) {
	t.Parallel()
	requireMoto(t)
	st, principal, resource, bucket, jane := crossAccount(t, "inline-limit")
	own := diff.IAMSize(st.Principals[0].InlinePolicies[0].Doc.Text)
	st.Principals[0].InlinePolicies = append(st.Principals[0].InlinePolicies,
		state.NamedDoc{Name: "other-buckets", Doc: state.NewDoc(bigPolicy(t, 2048-48-own))})
	w := newWorld(t, st, []string{jane})
	w.twoProfiles(principal, resource)
	p := w.lifecycle(grant{principal: jane, bucket: bucket})
	var created bool
	for _, ch := range p.Changes {
		switch ch.Document.Kind {
		case diff.DocManagedPolicy:
			created = ch.Action == diff.ActionCreate && ch.Attach
		case diff.DocInlinePolicy:
			t.Errorf("the plan writes an inline policy past the limit: %s", ch.Document.ID())
		}
	}
	if !created {
		t.Errorf("the plan does not create and attach a managed policy:\n%s", jsonIndent(p.Changes))
	}
}

// secondBucket adds to st a bucket like its first one (same account,
// region, default encryption and so the same key, same Object Ownership),
// with the console's policy layout when withPolicy is set.
func secondBucket(st *state.State, base string, withPolicy bool) string {
	b := st.Buckets[0]
	b.Name, b.Source = newBucketName(base), nil
	enc := *b.Encryption
	enc.Source = nil
	b.Encryption = &enc
	b.Policy = nil
	if withPolicy {
		b.Policy = state.NewDoc(consoleBucketPolicy(b.Name, b.Account))
	}
	st.Buckets = append(st.Buckets, b)
	return b.Name
}

// withoutChanges is p reduced to what a state must allow: its requests
// whose action starts with one of prefixes ("" for all), and no changes.
// Judged on a state, it asks the oracle whether those requests are allowed
// and whether anything else is allowed that was not before.
func withoutChanges(p *diff.Plan, prefixes ...string) *diff.Plan {
	q := *p
	q.Changes = nil
	q.Requests = nil
	for _, r := range p.Requests {
		for _, pre := range prefixes {
			if strings.HasPrefix(r.Action, pre) {
				q.Requests = append(q.Requests, r)
				break
			}
		}
	}
	return &q
}

// TestMotoTwoBucketsOneKey: two buckets of one account encrypted with the
// same key, Jane granted on both; revoking her grant on either leaves her
// access to the other whole and nothing of the revoked one's.
func TestMotoTwoBucketsOneKey(t *testing.T) {
	t.Parallel()
	requireMoto(t)
	st, account, bucketA, jane := sameAccount(t, "shared-key-a")
	bucketB := secondBucket(st, "shared-key-b", true)
	w := newWorld(t, st, []string{jane})
	w.keyAdminSession(account)
	ga := grant{principal: jane, bucket: bucketA}
	gb := grant{principal: jane, bucket: bucketB, extra: []string{"--access", "read,write,list"}}

	initial := w.readBack()
	pa := w.planJSON(2, ga.args()...)
	w.must(0, ga.args("apply", "--yes")...)
	afterA := w.readBack()
	judgeWrite(t, initial, afterA, pa)
	pb := w.planJSON(2, gb.args()...)
	w.must(0, gb.args("apply", "--yes")...)
	judgeWrite(t, afterA, w.readBack(), pb)

	// B granted second, revoked first: A keeps everything.
	w.revokeOne(initial, gb, ga, pb, pa)

	w.must(0, gb.args("apply", "--yes")...)
	// A granted first, revoked first.
	w.revokeOne(initial, ga, gb, pa, pb)
}

// revokeOne revokes grant gone and checks, with the binary and with the
// oracle against the state before either grant, that kept's requests are
// all allowed, that nothing beyond them is (kept's plan probes its bucket,
// its objects and the key), and that of gone nothing is left but the use
// of the key the two share (gone's plan probes its own bucket).
func (w *world) revokeOne(initial *state.State, gone, kept grant, pGone, pKept *diff.Plan) {
	t := w.t
	w.must(0, gone.args("revoke", "--yes")...)
	revoked := w.readBack()
	r := w.aws(kept.args("check")...)
	if r.code != 0 {
		t.Fatalf("check on %s after revoking %s: exit %d, want 0\n%s%s", kept.bucket, gone.bucket, r.code, r.stdout, r.stderr)
	}
	w.must(2, gone.args("check")...)
	judge(t, initial, revoked, withoutChanges(pKept, ""))
	judge(t, initial, revoked, withoutChanges(pGone, "kms:"))
}

// grantsFile writes a grants file for grants: each account with its own
// profile, every bucket with its account.
func (w *world) grantsFile(accounts map[string]string, grants ...grant) string {
	w.t.Helper()
	var b strings.Builder
	b.WriteString("version: 1\ncredentials:\n  accounts:\n")
	for _, acct := range slices.Sorted(maps.Keys(accounts)) {
		fmt.Fprintf(&b, "    %q: {profile: %s}\n", acct, accounts[acct])
	}
	b.WriteString("buckets:\n")
	for _, name := range w.buckets {
		fmt.Fprintf(&b, "  %s: {account: %q}\n", name, w.bucketAcct[name])
	}
	b.WriteString("grants:\n")
	for _, g := range grants {
		fmt.Fprintf(&b, "  - principal: %s\n    bucket: %s\n", g.principal, g.bucket)
		for i := 0; i+1 < len(g.extra); i += 2 {
			fmt.Fprintf(&b, "    %s: %s\n", strings.TrimPrefix(g.extra[i], "--"), g.extra[i+1])
		}
	}
	path := filepath.Join(w.dir, "grants.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		w.t.Fatal(err)
	}
	return path
}

// syncReport runs sync with --format json, wants exit code want, and
// returns each grant's status by "principal bucket".
func (w *world) syncReport(want int, args ...string) map[string]grantsync.Status {
	w.t.Helper()
	r := w.run(append([]string{"sync", "--format", "json"}, args...)...)
	if r.code != want {
		w.t.Fatalf("sync %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, want, r.stdout, r.stderr)
	}
	if slices.Contains(args, "--dry-run") {
		noWrites(w.t, r, "sync --dry-run")
	}
	var rep grantsync.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		w.t.Fatalf("sync report: %v\n%s", err, r.stdout)
	}
	out := map[string]grantsync.Status{}
	for _, g := range rep.Grants {
		out[g.Principal+" "+g.Bucket] = g.Status
	}
	return out
}

// TestMotoSync: a grants file of four grants across two accounts (two
// users and a role with a path; two buckets sharing a key, one with the
// console's policy layout, one without a policy; a prefix) is found
// drifted by a dry run (exit 2), written by sync --yes, then in sync.
// The written state is judged against every grant's own plan.
func TestMotoSync(t *testing.T) {
	t.Parallel()
	requireMoto(t)
	st, principal, resource, bucketA, jane := crossAccount(t, "sync-a")
	bucketB := secondBucket(st, "sync-b", false)
	bob := "arn:aws:iam::" + principal + ":user/Bob"
	reporter := "arn:aws:iam::" + principal + ":role/service-role/analytics/Reporter"
	st.Principals = append(st.Principals, state.Principal{ARN: bob, Kind: state.KindUser}, state.Principal{ARN: reporter, Kind: state.KindRole})
	w := newWorld(t, st, []string{jane, bob, reporter})
	w.twoProfiles(principal, resource)
	grants := []grant{
		{principal: jane, bucket: bucketA, extra: []string{"--access", "read,write"}},
		{principal: bob, bucket: bucketA, extra: []string{"--access", "read"}},
		{principal: jane, bucket: bucketB, extra: []string{"--access", "read,write,list"}},
		{principal: reporter, bucket: bucketB, extra: []string{"--access", "read,list", "--prefix", "reports/"}},
	}
	file := w.grantsFile(map[string]string{principal: "principal", resource: "resource"}, grants...)
	status := func(s grantsync.Status) map[string]grantsync.Status {
		out := map[string]grantsync.Status{}
		for _, g := range grants {
			out[g.principal+" "+g.bucket] = s
		}
		return out
	}

	initial := w.readBack()
	var plans []*diff.Plan
	for _, g := range grants {
		plans = append(plans, w.planJSON(2, g.args()...))
	}
	if got := w.syncReport(2, "-f", file, "--dry-run", "--detailed-exitcode"); !maps.Equal(got, status(grantsync.StatusDrift)) {
		t.Errorf("dry run: %v", got)
	}
	if got := w.syncReport(0, "-f", file, "--yes"); !maps.Equal(got, status(grantsync.StatusFixed)) {
		t.Errorf("sync --yes: %v", got)
	}
	judgeWrite(t, initial, w.readBack(), plans...)
	if got := w.syncReport(0, "-f", file, "--dry-run", "--detailed-exitcode"); !maps.Equal(got, status(grantsync.StatusInSync)) {
		t.Errorf("dry run after sync: %v", got)
	}
}

// TestMotoWrongCredentials: credentials for the wrong account stop every
// command before it writes, with one line that names what could not be
// read and no SDK error dump (w.run checks stderr of every run).
func TestMotoWrongCredentials(t *testing.T) {
	t.Parallel()
	requireMoto(t)
	st, principal, _, bucket, jane := crossAccount(t, "wrong-credentials")
	w := newWorld(t, st, []string{jane})
	// moto checks no signature and puts an access key it never issued in
	// its default account 123456789012 (two deviations: AWS refuses such a
	// key with InvalidClientTokenId), so a made-up key reads as an
	// identity of that account.
	unknown := creds{AccessKeyID: "AKIAUNKNOWNKEY000000", SecretAccessKey: "wrong"}
	w.writeProfiles(profile{name: "principal", creds: w.admin(principal)}, profile{name: "unknown", creds: &unknown})
	initial := w.readBack()
	g := grant{principal: jane, bucket: bucket}

	w.flags = []string{"--profile", "unknown"}
	for _, cmd := range [][]string{{"plan"}, {"apply", "--yes"}} {
		r := w.must(1, g.args(cmd...)...)
		noWrites(t, r, cmd[0])
		for _, s := range []string{"is in account " + principal, "are for account 123456789012", "--principal-profile"} {
			if !strings.Contains(r.stderr, s) {
				t.Errorf("%s with a key of another account: stderr does not say %q:\n%s", cmd[0], s, r.stderr)
			}
		}
	}

	// Only the principal's account given for a cross-account grant: its
	// credentials cannot read the other account's bucket and key. On AWS
	// the bucket reads answer 403 (ExpectedBucketOwner does not match) and
	// bucketgrant says access denied and to pass --resource-profile; moto
	// ignores ExpectedBucketOwner and answers NotFound for another
	// account's key (two deviations), so bucketgrant says the key does not
	// exist. Either way it names the key and writes nothing.
	w.flags = []string{"--profile", "principal"}
	keyARN := initial.Keys[0].ARN
	for _, cmd := range [][]string{{"plan"}, {"apply", "--yes"}} {
		r := w.must(1, g.args(cmd...)...)
		noWrites(t, r, cmd[0])
		if !strings.Contains(r.stderr, keyARN) || !strings.Contains(r.stderr, "hint: ") {
			t.Errorf("%s without the resource account's credentials: stderr names no key or gives no hint:\n%s", cmd[0], r.stderr)
		}
	}
	sameDocuments(t, "after the refused runs", w.readBack(), initial)
}
