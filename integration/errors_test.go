package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// errorRow is one error class as a person sees it, for docs/errors.md.
type errorRow struct {
	class, cause, message, hint string
	code                        int
}

var (
	errorRowsMu sync.Mutex
	errorRows   = map[string]errorRow{}
)

// splitReport splits bucketgrant's stderr into its message (the
// "bucketgrant: " line(s)) and its hint.
func splitReport(stderr string) (message, hint string) {
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		switch {
		case strings.HasPrefix(line, "hint: "):
			hint = strings.TrimPrefix(line, "hint: ")
		case message == "":
			message = strings.TrimPrefix(line, "bucketgrant: ")
		default:
			message += " " + line
		}
	}
	return message, hint
}

// Issue 3: every class of AWS error a read can meet ends in exit 1 with a
// one-line message naming the permission and the resource, a hint saying
// what to do, and no stack trace or SDK dump. The rows seen make the table
// of docs/errors.md (go test ./integration -run TestErrorClasses -update).
func TestErrorClasses(t *testing.T) {
	t.Parallel()
	keyARN := "arn:aws:kms:us-east-1:" + janeAccount + ":key/" + keyID
	for _, tc := range []struct {
		class, cause string
		// edit changes the example before it is loaded.
		edit func(string) string
		// setup injects the fault and may change the command's arguments.
		setup func(t *testing.T, w *world, args []string) []string
		// message and hint are substrings the report must hold.
		message, hint []string
		// after checks more (may be nil).
		after func(t *testing.T, w *world)
	}{
		{
			class: "access denied", cause: "a read the credentials may not make (here kms:GetKeyPolicy)",
			setup: func(t *testing.T, w *world, args []string) []string {
				w.srv.Deny(w.resource, "kms:GetKeyPolicy")
				return args
			},
			message: []string{"kms:GetKeyPolicy on " + keyARN, "access denied", `profile "keyadmin"`},
			hint:    []string{"allow kms:GetKeyPolicy on " + keyARN, "--resource-profile"},
		},
		{
			class: "no such bucket", cause: "the bucket does not exist",
			setup: func(t *testing.T, w *world, args []string) []string {
				return []string{"plan", "--principal", jane, "--bucket", "no-such-bucket"}
			},
			message: []string{"no-such-bucket", "the bucket does not exist"},
			hint:    []string{"check the bucket name"},
		},
		{
			class: "missing user", cause: "the principal is a user that does not exist",
			setup: func(t *testing.T, w *world, args []string) []string {
				return []string{"plan", "--principal", "arn:aws:iam::" + janeAccount + ":user/Nobody", "--bucket", bucket}
			},
			message: []string{"iam:GetUser", "user/Nobody", "no such user"},
			hint:    []string{"check the principal arn"},
		},
		{
			class: "missing role", cause: "the principal is a role that does not exist",
			setup: func(t *testing.T, w *world, args []string) []string {
				return []string{"plan", "--principal", "arn:aws:iam::" + janeAccount + ":role/Nobody", "--bucket", bucket}
			},
			message: []string{"iam:GetRole", "role/Nobody", "no such role"},
			hint:    []string{"check the principal arn"},
		},
		{
			class: "missing key", cause: "the bucket's default encryption names a key that does not exist",
			setup: func(t *testing.T, w *world, args []string) []string {
				gone := "arn:aws:kms:us-east-1:" + janeAccount + ":key/00000000-0000-4000-8000-000000000000"
				c := s3.NewFromConfig(w.config(w.resource))
				_, err := c.PutBucketEncryption(context.Background(), &s3.PutBucketEncryptionInput{Bucket: aws.String(bucket),
					ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
						ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String(gone)}}}}})
				if err != nil {
					t.Fatal(err)
				}
				return args
			},
			message: []string{"00000000-0000-4000-8000-000000000000", "no such kms key"},
			hint:    []string{"default encryption names a key that does not exist"},
		},
		{
			class: "expired token", cause: "the profile's session credentials have expired",
			setup: func(t *testing.T, w *world, args []string) []string {
				w.srv.ExpireCredentials(w.creds["keyadmin"].AccessKeyID)
				return args
			},
			message: []string{"expired", `profile "keyadmin"`},
			hint:    []string{"refresh the credentials"},
		},
		{
			class: "throttled", cause: "AWS throttles a read beyond the SDK's retries",
			setup: func(t *testing.T, w *world, args []string) []string {
				// The SDK's standard retryer (3 attempts) waits up to 20 s
				// between attempts, with jitter; --retry-max-backoff
				// bounds the wait so the test stays fast.
				w.srv.Throttle("kms:GetKeyPolicy", 100)
				return append(args, "--retry-max-backoff", "20ms")
			},
			message: []string{"kms:GetKeyPolicy on " + keyARN, "throttled"},
			hint:    []string{"wait a minute and run again"},
			after: func(t *testing.T, w *world) {
				// The SDK tried 3 times (its standard attempts), and
				// nothing else retried on top.
				if n := w.srv.Calls("kms:GetKeyPolicy"); n != 3 {
					t.Errorf("GetKeyPolicy calls: %d, want 3", n)
				}
			},
		},
		{
			class: "organization read denied", cause: "--org-profile credentials that may not read the organization's hierarchy (here organizations:ListParents)",
			setup: func(t *testing.T, w *world, args []string) []string {
				addOrg(w)
				w.srv.Deny(orgManagement, "organizations:ListParents")
				return append(args, "--org-profile", "org")
			},
			message: []string{"reading the organization's SCPs and RCPs", "organizations:ListParents on account " + janeAccount, "access denied", `profile "org"`},
			hint:    []string{"allow organizations:ListParents", "--org-profile or --org-role-arn"},
		},
		{
			class: "not in an organization", cause: "--org-profile credentials of an account that is in no organization",
			setup: func(t *testing.T, w *world, args []string) []string {
				w.creds["org"] = w.srv.AddAccount("777788889999")
				w.writeAWSConfig("us-east-1", nil)
				return append(args, "--org-profile", "org")
			},
			message: []string{"organizations:DescribeOrganization", "not in an organization"},
			hint:    []string{"management account", "leave them out"},
		},
	} {
		t.Run(tc.class, func(t *testing.T) {
			w := newWorld(t, exampleState(t, sameAccount, tc.edit))
			args := append([]string{"plan"}, grantArgs()...)
			args = tc.setup(t, w, args)
			start := time.Now()
			out, stderr, code := w.aws(args...)
			took := time.Since(start)
			if code != 1 {
				t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
			}
			noRawErrors(t, stderr)
			msg, hint := splitReport(stderr)
			for _, s := range tc.message {
				if !strings.Contains(msg, s) {
					t.Errorf("message does not name %q:\n%s", s, msg)
				}
			}
			for _, s := range tc.hint {
				if !strings.Contains(hint, s) {
					t.Errorf("hint does not say %q:\n%s", s, hint)
				}
			}
			if strings.TrimSpace(out) != "" {
				t.Errorf("stdout holds output after an error:\n%s", out)
			}
			if took > 10*time.Second {
				t.Errorf("took %v", took)
			}
			if tc.after != nil {
				tc.after(t, w)
			}
			errorRowsMu.Lock()
			errorRows[tc.class] = errorRow{class: tc.class, cause: tc.cause, message: msg, hint: hint, code: code}
			errorRowsMu.Unlock()
		})
	}

	// A bucket in another region than the profile's: the tool finds the
	// bucket's region and follows it (design: --region is only the first
	// S3 call's region), so the read succeeds.
	t.Run("bucket in another region", func(t *testing.T) {
		toEU := func(s string) string { return strings.ReplaceAll(s, "us-east-1", "eu-west-1") }
		w := newWorld(t, exampleState(t, sameAccount, toEU))
		path := filepath.Join(w.dir, "snapshot.json")
		out, stderr, code := w.aws(append([]string{"snapshot", "-o", path}, grantArgs()...)...)
		if code != 0 {
			t.Fatalf("exit %d\n%s%s", code, out, stderr)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), `"region": "eu-west-1"`) {
			t.Errorf("the snapshot does not hold the bucket's region:\n%s", data)
		}
		// And a plan and apply there work end to end.
		w.mustRun(0, append([]string{"apply", "--yes"}, grantArgs()...)...)
		errorRowsMu.Lock()
		errorRows["bucket in another region"] = errorRow{class: "bucket in another region", cause: "the bucket is in another region than the profile's",
			message: "(none: bucketgrant finds the bucket's region and follows it)", code: code}
		errorRowsMu.Unlock()
	})

	t.Run("docs/errors.md", func(t *testing.T) {
		if t.Failed() {
			t.Skip("an error class failed")
		}
		checkErrorsDoc(t)
	})
}

var errorOrder = []string{"access denied", "no such bucket", "missing user", "missing role", "missing key", "expired token", "bucket in another region", "throttled", "organization read denied", "not in an organization"}

func errorsDoc() string {
	var b strings.Builder
	b.WriteString(`# Errors

What bucketgrant says when AWS refuses or fails a read, and what to do. Every
of these errors ends the command with exit code 1 before anything is written; the
message names the permission (the IAM action of the call), the resource and the
credentials used, and the hint says what to do. ` + "`--debug`" + ` adds AWS's own
error text (` + "`aws said: …`" + `).

This table is generated from what the integration tests see
(` + "`go test ./integration -run TestErrorClasses -update`" + `), on the same-account example
with profile "keyadmin"; TestErrorClasses fails when it is out of date.

| class | cause | exit | message | hint |
| --- | --- | --- | --- | --- |
`)
	cell := func(s string) string {
		if s == "" {
			return "-"
		}
		return strings.ReplaceAll(s, "|", `\|`)
	}
	for _, class := range errorOrder {
		r, ok := errorRows[class]
		if !ok {
			continue
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %s | %s |\n", r.class, cell(r.cause), r.code, cell(r.message), cell(r.hint))
	}
	b.WriteString(`
Exit codes: 0 done or nothing to do; 1 error (the classes above, bad input, a stale plan, a failed
write); 2 changes pending (` + "`plan --detailed-exitcode`" + `, ` + "`check`" + `); 3 blocked (nothing was written);
130 interrupted.

Blockers are not errors: a blocked plan exits 3, writes nothing, and says in its ` + "`" + `blockers` + "`" + ` what stands
in the way ([plan schema](plan-schema.md)). One of them asks a person outside bucketgrant to act:
` + "`" + `protected-role` + "`" + `, for a principal that is an IAM Identity Center role (path
` + "`" + `/aws-reserved/sso.amazonaws.com/` + "`" + `, name ` + "`" + `AWSReservedSSO_…` + "`" + `) or a service-linked role (path
` + "`" + `/aws-service-role/` + "`" + `). Their identity policies belong to the permission set or to the service, and
bucketgrant never writes them. In one account it grants in the bucket policy and the key policy instead
(naming the role's ARN there is enough); across accounts the role's own policies must allow too, so the
plan is blocked and the hint holds the statement to add to the permission set.

Another, ` + "`organization-policy`" + `, names an SCP or RCP that denies a request, or a level of the
organization (root, OU or account) where no SCP or RCP allows it, with the policy's ID and name and the
level:

` + "```" + `
x s3:PutObject on arn:aws:s3:::my-bucket/* is explicitly denied by SCP p-examplepol (NoUploads) at OU ou-ab12-11111111 (Workloads) statement 0 (Sid "NoUploads"), whatever the request looks like
    fix: an explicit deny in an SCP overrides every allow; ask the organization's management account (or its delegated administrator for SCPs) to exempt arn:aws:iam::111122223333:user/Jane (bucketgrant never changes organization policies)
` + "```" + `
`)
	return b.String()
}

func checkErrorsDoc(t *testing.T) {
	t.Helper()
	path := filepath.Join(repoRoot, "docs", "errors.md")
	got := errorsDoc()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./integration -run TestErrorClasses -update)", err)
	}
	if string(want) != got {
		t.Errorf("docs/errors.md is out of date (run go test ./integration -run TestErrorClasses -update); the tests see:\n%s", got)
	}
}
