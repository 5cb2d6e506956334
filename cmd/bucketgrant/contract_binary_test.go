package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/bucketgrant/bucketgrant/integration/awsfake"
)

// firstLine is the report's first line, without the "bucketgrant: ".
func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return strings.TrimPrefix(l, "bucketgrant: ")
}

// A principal, bucket or key that does not exist: exit 1 both offline and
// live, with the same message (offline adds where it looked).
func TestMissingIsTheSameOfflineAndLive(t *testing.T) {
	t.Parallel()
	w := newLiveWorld(t)
	snap := filepath.Join(w.dir, "snap.json")
	if r := runBin(t, w.env, "", "snapshot", "--profile", "keyadmin", "--principal", jane, "--bucket", liveBucket, "-o", snap); r.code != 0 {
		t.Fatalf("snapshot: exit %d\n%s", r.code, r.err)
	}
	for _, tc := range []struct {
		name, principal, bucket, says string
	}{
		{"user", "arn:aws:iam::111122223333:user/Nobody", liveBucket, "iam:GetUser on arn:aws:iam::111122223333:user/Nobody: no such user"},
		{"role", "arn:aws:iam::111122223333:role/Nobody", liveBucket, "iam:GetRole on arn:aws:iam::111122223333:role/Nobody: no such role"},
		// A session names its role, which is what does not exist.
		{"session", "arn:aws:sts::111122223333:assumed-role/Nobody/me", liveBucket, "iam:GetRole on arn:aws:iam::111122223333:role/Nobody: no such role"},
		{"bucket", jane, "no-such-bucket", "s3:ListBucket on arn:aws:s3:::no-such-bucket: the bucket does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			live := runBin(t, w.env, "", "plan", "--profile", "keyadmin", "--principal", tc.principal, "--bucket", tc.bucket)
			off := runBin(t, w.env, "", "plan", "--state", snap, "--principal", tc.principal, "--bucket", tc.bucket)
			if live.code != exitError || off.code != exitError {
				t.Fatalf("exit live %d, offline %d; want 1 both\n%s\n%s", live.code, off.code, live.err, off.err)
			}
			if got := firstLine(live.err); got != tc.says {
				t.Errorf("live: %q, want %q", got, tc.says)
			}
			if got, want := firstLine(off.err), tc.says+" in the snapshot snap.json"; got != want {
				t.Errorf("offline: %q, want %q", got, want)
			}
			if live.out != "" || off.out != "" {
				t.Errorf("stdout after an error: %q %q", live.out, off.out)
			}
		})
	}
	t.Run("key", func(t *testing.T) {
		gone := "arn:aws:kms:us-east-1:111122223333:key/00000000-0000-4000-8000-000000000000"
		off := filepath.Join(w.dir, "gone-key.json")
		os.WriteFile(off, bytes.ReplaceAll(fileBytes(t, snap), []byte(`"kms_master_key_id": "arn:aws:kms:us-east-1:111122223333:key/111aa2bb-333c-4d44-5555-a111bb2c33dd"`), []byte(`"kms_master_key_id": "`+gone+`"`)), 0o600)
		cfg, err := w.srv.AWSConfig(context.Background(), w.creds, "us-east-1")
		if err != nil {
			t.Fatal(err)
		}
		_, err = s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).PutBucketEncryption(context.Background(), &s3.PutBucketEncryptionInput{Bucket: aws.String(liveBucket),
			ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
				ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String(gone)}}}}})
		if err != nil {
			t.Fatal(err)
		}
		live := runBin(t, w.env, "", "plan", "--profile", "keyadmin", "--principal", jane, "--bucket", liveBucket)
		offr := runBin(t, w.env, "", "plan", "--state", off, "--principal", jane, "--bucket", liveBucket)
		want := "kms:DescribeKey on " + gone + ": no such kms key"
		if live.code != exitError || firstLine(live.err) != want {
			t.Errorf("live: exit %d %q, want %q", live.code, firstLine(live.err), want)
		}
		if offr.code != exitError || firstLine(offr.err) != want+" in the snapshot gone-key.json" {
			t.Errorf("offline: exit %d %q", offr.code, firstLine(offr.err))
		}
	})
}

// Input AWS never produces or accepts is exit 1 before any planning,
// naming the input; a value that cannot be an ARN is refused before any
// AWS call.
func TestInputAWSWouldRefuse(t *testing.T) {
	t.Parallel()
	w := newLiveWorld(t)
	long := "arn:aws:iam::111122223333:user/" + strings.Repeat("a", 20000)
	r := runBin(t, w.env, "", "plan", "--profile", "keyadmin", "--principal", long, "--bucket", liveBucket)
	if r.code != exitError || !strings.Contains(r.err, "--principal \"arn:aws:iam::111122223333:user/aaaa") || !strings.Contains(r.err, "(20031 characters)") || len(r.err) > 400 {
		t.Errorf("20,000-character ARN: exit %d\n%s", r.code, r.err)
	}
	if n := len(w.srv.CallCounts()); n != 0 {
		t.Errorf("%d kinds of AWS calls made for an ARN IAM cannot hold", n)
	}
	for _, tc := range []struct{ principal, says string }{
		{"arn:aws:iam::111122223333:user/" + strings.Repeat("b", 65), "the user name is 65 characters; IAM allows 1 to 64"},
		{"arn:aws:iam::111122223333:user/Ja ne", "IAM names hold letters, digits and +=,.@_- only"},
		{"arn:aws:iam:us-east-1:111122223333:user/Jane", "IAM and STS ARNs have no region"},
		{"arn:aws:sts::111122223333:assumed-role/R/x", "the session name is 1 characters"},
		{"arn:awz:iam::111122223333:user/Jane", `unknown partition "awz"`},
	} {
		r := runBin(t, w.env, "", "plan", "--profile", "keyadmin", "--principal", tc.principal, "--bucket", liveBucket)
		if r.code != exitError || !strings.Contains(r.err, tc.says) {
			t.Errorf("%s: exit %d\n%s", tc.principal, r.code, r.err)
		}
	}

	// Another partition than the bucket's, offline and live.
	_, state := snapshotCopy(t, "seed-same-account.json")
	cn := "arn:aws-cn:iam::111122223333:user/Jane"
	for _, args := range [][]string{
		{"plan", "--state", state, "--principal", cn, "--bucket", "DOC-EXAMPLE-BUCKET"},
		{"plan", "--profile", "keyadmin", "--principal", cn, "--bucket", liveBucket},
	} {
		r := runBin(t, w.env, "", args...)
		if r.code != exitError || !strings.Contains(r.err, "is in partition aws-cn, but bucket") || r.out != "" {
			t.Errorf("%v: exit %d\n%s%s", args[:3], r.code, r.out, r.err)
		}
	}

	// A 3 MB bucket policy in a snapshot: AWS never holds one.
	dir, big := snapshotCopy(t, "seed-same-account.json")
	stmt := `{\"Sid\":\"S%d\",\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::DOC-EXAMPLE-BUCKET/x%d\"}`
	var b strings.Builder
	for i := 0; b.Len() < 3<<20; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, stmt, i, i)
	}
	data := fileBytes(t, big)
	i := bytes.Index(data, []byte(`"policy": "`))
	j := i + bytes.Index(data[i:], []byte("\n"))
	edited := append(append(append([]byte{}, data[:i]...), []byte(`"policy": "{\"Version\":\"2012-10-17\",\"Statement\":[`+b.String()+`]}"`)...), data[j:]...)
	os.WriteFile(big, edited, 0o600)
	before := fileBytes(t, big)
	for _, cmd := range []string{"plan", "apply"} {
		args := []string{cmd, "--state", big, "--principal", jane, "--bucket", "DOC-EXAMPLE-BUCKET", "--backup-dir", filepath.Join(dir, "bk")}
		if cmd == "plan" {
			args = args[:len(args)-2]
		} else {
			args = append(args, "--yes")
		}
		r := runBin(t, w.env, "", args...)
		if r.code != exitError || !strings.Contains(r.err, "state.json: the bucket policy of DOC-EXAMPLE-BUCKET is") || !strings.Contains(r.err, "over S3's limit of 20,480 bytes") || r.out != "" {
			t.Errorf("%s on a 3 MB bucket policy: exit %d\n%s%s", cmd, r.code, r.out, r.err[:min(len(r.err), 500)])
		}
	}
	if !bytes.Equal(fileBytes(t, big), before) {
		t.Error("the snapshot was written")
	}
}

// Credentials AWS rejects are their own class, not access denied.
func TestInvalidCredentials(t *testing.T) {
	t.Parallel()
	w := newLiveWorld(t)
	w.writeProfile(awsfake.Credentials{AccessKeyID: "AKIAUNKNOWNKEY000000", SecretAccessKey: "not-the-secret"})
	r := runBin(t, w.env, "", "plan", "--profile", "keyadmin", "--principal", jane, "--bucket", liveBucket)
	if r.code != exitError {
		t.Fatalf("exit %d\n%s", r.code, r.err)
	}
	for _, want := range []string{`aws rejected the credentials for profile "keyadmin"`, "InvalidClientTokenId", "hint: check the keys or run aws sso login"} {
		if !strings.Contains(r.err, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.err)
		}
	}
	if strings.Contains(r.err, "access denied") || strings.Contains(r.err, "allow sts:GetCallerIdentity") {
		t.Errorf("invalid credentials reported as access denied:\n%s", r.err)
	}
}

// --debug lists every AWS call, without secrets; without it, a successful
// run writes nothing to stderr (no SDK log lines).
func TestDebugCallLog(t *testing.T) {
	t.Parallel()
	w := newLiveWorld(t)
	sel := []string{"plan", "--profile", "keyadmin", "--principal", jane, "--bucket", liveBucket}
	r := runBin(t, w.env, "", sel...)
	if r.code != 0 || r.err != "" {
		t.Errorf("without --debug: exit %d, stderr:\n%s", r.code, r.err)
	}
	w.srv.ResetCalls()
	r = runBin(t, w.env, "", append(sel, "--debug")...)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.err)
	}
	logged := 0
	for _, l := range strings.Split(r.err, "\n") {
		if strings.HasPrefix(l, "debug: aws call ") {
			logged++
		}
	}
	calls := 0
	for _, n := range w.srv.CallCounts() {
		calls += n
	}
	if logged != calls || calls == 0 {
		t.Errorf("%d calls logged, the server saw %d:\n%s", logged, calls, r.err)
	}
	for _, want := range []string{
		"debug: aws call sts:GetCallerIdentity - attempt 1 ",
		"debug: aws call kms:GetKeyPolicy keyId=arn:aws:kms:us-east-1:111122223333:key/111aa2bb-333c-4d44-5555-a111bb2c33dd policyName=default attempt 1 ",
		"debug: aws call iam:GetUser userName=Jane attempt 1 ",
		" ok (http 200)",
	} {
		if !strings.Contains(r.err, want) {
			t.Errorf("the call log lacks %q:\n%s", want, r.err)
		}
	}
	for _, secret := range []string{w.creds.SecretAccessKey, w.creds.SessionToken, w.creds.AccessKeyID} {
		if secret != "" && strings.Contains(r.err+r.out, secret) {
			t.Errorf("a credential reached the output")
		}
	}
}

// Rolling back a revoke says what it will really do: create the policy
// the revoke deleted, with its content from the backup.
func TestRollbackSaysWhatItDoes(t *testing.T) {
	t.Parallel()
	dir, state := snapshotCopy(t, "seed-same-account.json")
	env := baseEnv(t)
	sel := []string{"--state", state, "--backup-dir", filepath.Join(dir, "bk"), "--principal", jane, "--bucket", "DOC-EXAMPLE-BUCKET", "--yes"}
	if r := runBin(t, env, "", append([]string{"apply"}, sel...)...); r.code != 0 {
		t.Fatalf("apply: %d %s", r.code, r.err)
	}
	r := runBin(t, env, "", append([]string{"revoke", "--format", "json"}, sel...)...)
	if r.code != 0 {
		t.Fatalf("revoke: %d %s", r.code, r.err)
	}
	backup := validate(t, "apply-result", []byte(r.out))["backup"].(string)
	r = runBin(t, env, "", "rollback", "--yes", "--state", state, "--backup-dir", filepath.Join(dir, "bk"), backup)
	if r.code != 0 {
		t.Fatalf("rollback: %d %s", r.code, r.err)
	}
	for _, want := range []string{"will be created again, with its content from the backup", "will be restored to its content from the backup", "why: restore the content saved at"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("rollback's plan lacks %q:\n%s", want, r.out)
		}
	}
	if strings.Contains(r.out, "removes statement") {
		t.Errorf("rollback's plan says it removes a statement:\n%s", r.out)
	}
}
