package awsfake

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
)

func keyPolicy(principals ...string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"Admin","Effect":"Allow","Principal":{"AWS":["%s"]},"Action":"kms:*","Resource":"*"}]}`,
		strings.Join(principals, `","`))
}

func TestKMSKeyLifecycle(t *testing.T) {
	srv, c := setup(t)
	key := must[*kms.CreateKeyOutput](t)(c.kms.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("data")})).KeyMetadata
	wantARN := "arn:aws:kms:us-east-1:" + acctA + ":key/" + *key.KeyId
	if *key.Arn != wantARN || *key.AWSAccountId != acctA || key.KeyManager != kmstypes.KeyManagerTypeCustomer ||
		key.KeyState != kmstypes.KeyStateEnabled || !key.Enabled || key.KeySpec != kmstypes.KeySpecSymmetricDefault ||
		key.KeyUsage != kmstypes.KeyUsageTypeEncryptDecrypt || key.CreationDate == nil || key.Origin != kmstypes.OriginTypeAwsKms {
		t.Fatalf("metadata = %+v", key)
	}
	// The default policy gives the account root kms:*.
	pol := must[*kms.GetKeyPolicyOutput](t)(c.kms.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: key.KeyId}))
	if !strings.Contains(*pol.Policy, `"arn:aws:iam::`+acctA+`:root"`) || *pol.PolicyName != "default" {
		t.Fatalf("default policy = %s", *pol.Policy)
	}
	must[*kms.CreateAliasOutput](t)(c.kms.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/data"), TargetKeyId: key.KeyId}))
	for _, id := range []string{*key.KeyId, *key.Arn, "alias/data", "arn:aws:kms:us-east-1:" + acctA + ":alias/data"} {
		d := must[*kms.DescribeKeyOutput](t)(c.kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(id)}))
		if *d.KeyMetadata.Arn != wantARN {
			t.Fatalf("DescribeKey(%s) = %s", id, *d.KeyMetadata.Arn)
		}
	}
	// New policy, lockout check satisfied through the admin user's ARN.
	newPol := keyPolicy("arn:aws:iam::" + acctA + ":user/admin")
	must[*kms.PutKeyPolicyOutput](t)(c.kms.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: key.KeyId, Policy: aws.String(newPol)}))
	if got, _ := srv.KeyPolicy(wantARN); got != newPol {
		t.Fatalf("stored policy = %s", got)
	}
	_, err := c.kms.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: key.KeyId, PolicyName: aws.String("other")})
	wantCode(t, err, "NotFoundException")

	must[*kms.DisableKeyOutput](t)(c.kms.DisableKey(ctx, &kms.DisableKeyInput{KeyId: key.KeyId}))
	d := must[*kms.DescribeKeyOutput](t)(c.kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: key.KeyId}))
	if d.KeyMetadata.Enabled || d.KeyMetadata.KeyState != kmstypes.KeyStateDisabled {
		t.Fatalf("after disable: %+v", d.KeyMetadata)
	}
	must[*kms.EnableKeyOutput](t)(c.kms.EnableKey(ctx, &kms.EnableKeyInput{KeyId: key.KeyId}))
	del := must[*kms.ScheduleKeyDeletionOutput](t)(c.kms.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: key.KeyId, PendingWindowInDays: aws.Int32(7)}))
	if del.KeyState != kmstypes.KeyStatePendingDeletion || del.DeletionDate == nil {
		t.Fatalf("schedule = %+v", del)
	}
	d = must[*kms.DescribeKeyOutput](t)(c.kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: key.KeyId}))
	if d.KeyMetadata.KeyState != kmstypes.KeyStatePendingDeletion || d.KeyMetadata.DeletionDate == nil {
		t.Fatalf("pending deletion: %+v", d.KeyMetadata)
	}
	_, err = c.kms.EnableKey(ctx, &kms.EnableKeyInput{KeyId: key.KeyId})
	var invalid *kmstypes.KMSInvalidStateException
	if !errors.As(err, &invalid) {
		t.Fatalf("EnableKey pending deletion: %v", err)
	}
	// Multi-Region keys.
	mrk := must[*kms.CreateKeyOutput](t)(c.kms.CreateKey(ctx, &kms.CreateKeyInput{MultiRegion: aws.Bool(true)})).KeyMetadata
	if !strings.HasPrefix(*mrk.KeyId, "mrk-") || !*mrk.MultiRegion {
		t.Fatalf("mrk = %+v", mrk)
	}
}

func TestKMSNotFoundRegionsAndAccounts(t *testing.T) {
	srv, c := setup(t)
	key := must[*kms.CreateKeyOutput](t)(c.kms.CreateKey(ctx, &kms.CreateKeyInput{})).KeyMetadata
	var nf *kmstypes.NotFoundException
	_, err := c.kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/missing")})
	if !errors.As(err, &nf) {
		t.Fatalf("missing alias: %v", err)
	}
	west := newClients(t, srv, srv.AddAccount(acctA), "eu-west-1")
	for _, id := range []string{*key.KeyId, *key.Arn} {
		_, err = west.kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(id)})
		if !errors.As(err, &nf) {
			t.Fatalf("other region %s: %v", id, err)
		}
	}
	// Another account: DescribeKey by ARN works, the key policy is off limits,
	// a bare key ID does not resolve.
	b := newClients(t, srv, srv.AddAccount(acctB), "us-east-1")
	must[*kms.DescribeKeyOutput](t)(b.kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: key.Arn}))
	_, err = b.kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: key.KeyId})
	wantCode(t, err, "NotFoundException")
	_, err = b.kms.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: key.Arn})
	wantCode(t, err, "AccessDeniedException")
	_, err = b.kms.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: key.Arn, Policy: aws.String(keyPolicy("*"))})
	wantCode(t, err, "AccessDeniedException")
}

func TestKMSAWSManagedKey(t *testing.T) {
	srv, c := setup(t)
	s3Alias := func() kmstypes.AliasListEntry {
		for _, a := range must[*kms.ListAliasesOutput](t)(c.kms.ListAliases(ctx, &kms.ListAliasesInput{})).Aliases {
			if *a.AliasName == "alias/aws/s3" {
				return a
			}
		}
		t.Fatal("alias/aws/s3 not listed")
		return kmstypes.AliasListEntry{}
	}
	// Listed before any key exists, without a target; listing creates nothing.
	if a := s3Alias(); a.TargetKeyId != nil || *a.AliasArn != "arn:aws:kms:us-east-1:"+acctA+":alias/aws/s3" {
		t.Fatalf("predefined alias = %+v", a)
	}
	if keys := srv.KeyARNs(acctA, "us-east-1"); len(keys) != 0 {
		t.Fatalf("keys before DescribeKey: %v", keys)
	}
	// DescribeKey on the predefined alias creates the AWS managed key.
	d := must[*kms.DescribeKeyOutput](t)(c.kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/aws/s3")}))
	if d.KeyMetadata.KeyManager != kmstypes.KeyManagerTypeAws {
		t.Fatalf("manager = %s", d.KeyMetadata.KeyManager)
	}
	if a := s3Alias(); aws.ToString(a.TargetKeyId) != *d.KeyMetadata.KeyId {
		t.Fatalf("alias after DescribeKey = %+v", a)
	}
	if keys := srv.KeyARNs(acctA, "us-east-1"); len(keys) != 1 || keys[0] != *d.KeyMetadata.Arn {
		t.Fatalf("keys after DescribeKey: %v", keys)
	}
	pol := must[*kms.GetKeyPolicyOutput](t)(c.kms.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: d.KeyMetadata.KeyId}))
	if !strings.Contains(*pol.Policy, `"kms:ViaService" : "s3.us-east-1.amazonaws.com"`) {
		t.Fatalf("managed key policy = %s", *pol.Policy)
	}
	_, err := c.kms.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: d.KeyMetadata.KeyId, Policy: aws.String(keyPolicy("*"))})
	wantCode(t, err, "AccessDeniedException")
	// The Go API creates it without a call, in another region.
	arn := srv.CreateAWSManagedKey(acctA, "eu-west-1", "s3")
	if !strings.HasPrefix(arn, "arn:aws:kms:eu-west-1:"+acctA+":key/") {
		t.Fatalf("arn = %s", arn)
	}
	if again := srv.CreateAWSManagedKey(acctA, "eu-west-1", "s3"); again != arn {
		t.Fatalf("second call made another key")
	}
	_, err = c.kms.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/aws/mine"), TargetKeyId: d.KeyMetadata.KeyId})
	wantCode(t, err, "NotAuthorizedException")
}

func TestKMSListsPaginate(t *testing.T) {
	_, c := setup(t)
	var ids []string
	for i := range 5 {
		k := must[*kms.CreateKeyOutput](t)(c.kms.CreateKey(ctx, &kms.CreateKeyInput{})).KeyMetadata
		ids = append(ids, *k.KeyId)
		must[*kms.CreateAliasOutput](t)(c.kms.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(fmt.Sprintf("alias/k%d", i)), TargetKeyId: k.KeyId}))
	}
	must[*kms.CreateAliasOutput](t)(c.kms.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/second"), TargetKeyId: aws.String(ids[0])}))
	var got []string
	pages := 0
	for p := kms.NewListKeysPaginator(c.kms, &kms.ListKeysInput{Limit: aws.Int32(2)}); p.HasMorePages(); pages++ {
		for _, k := range must[*kms.ListKeysOutput](t)(p.NextPage(ctx)).Keys {
			got = append(got, *k.KeyId)
		}
	}
	if pages != 3 || strings.Join(got, ",") != strings.Join(ids, ",") {
		t.Fatalf("%d pages, keys %v want %v", pages, got, ids)
	}
	var aliases []string
	for p := kms.NewListAliasesPaginator(c.kms, &kms.ListAliasesInput{Limit: aws.Int32(4)}); p.HasMorePages(); {
		for _, a := range must[*kms.ListAliasesOutput](t)(p.NextPage(ctx)).Aliases {
			aliases = append(aliases, *a.AliasName)
		}
	}
	if len(aliases) != 6+len(predefinedAWSAliases) {
		t.Fatalf("aliases %v", aliases)
	}
	forKey := must[*kms.ListAliasesOutput](t)(c.kms.ListAliases(ctx, &kms.ListAliasesInput{KeyId: aws.String(ids[0])}))
	if len(forKey.Aliases) != 2 || forKey.Truncated {
		t.Fatalf("aliases of key 0 = %+v", forKey.Aliases)
	}
	_, err := c.kms.ListKeys(ctx, &kms.ListKeysInput{Marker: aws.String("junk")})
	wantCode(t, err, "InvalidMarkerException")
}

func TestKMSPolicyChecks(t *testing.T) {
	srv, c := setup(t)
	must[*iam.CreateUserOutput](t)(c.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("jane")}))
	janeID, _ := srv.UniqueID(acctA, "user", "jane")
	key := must[*kms.CreateKeyOutput](t)(c.kms.CreateKey(ctx, &kms.CreateKeyInput{})).KeyMetadata
	put := func(doc string, bypass bool) error {
		_, err := c.kms.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: key.KeyId, Policy: aws.String(doc), BypassPolicyLockoutSafetyCheck: bypass})
		return err
	}
	root := "arn:aws:iam::" + acctA + ":root"
	for name, doc := range map[string]string{
		"valid user":         keyPolicy(root, "arn:aws:iam::"+acctA+":user/jane"),
		"unique id":          keyPolicy(root, janeID),
		"unknown account":    keyPolicy(root, "arn:aws:iam::999999999999:user/whoever"),
		"bare account":       keyPolicy(acctA),
		"wildcard principal": keyPolicy("*"),
		"wildcard action":    strings.Replace(keyPolicy(root), `"kms:*"`, `["kms:Put*"]`, 1),
	} {
		if err := put(doc, false); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name, doc := range map[string]string{
		"bad json":          `{"Statement":`,
		"duplicate member":  `{"Statement":[],"Statement":[]}`,
		"missing user":      keyPolicy(root, "arn:aws:iam::"+acctA+":user/ghost"),
		"missing role":      keyPolicy(root, "arn:aws:iam::"+acctB+":role/ghost"),
		"orphaned id":       keyPolicy(root, "AIDAAAAAAAAAAAAAAAAAA"),
		"lockout":           keyPolicy("arn:aws:iam::" + acctA + ":user/jane"),
		"lockout by action": strings.Replace(keyPolicy(root), `"kms:*"`, `"kms:Decrypt"`, 1),
	} {
		var mpd *kmstypes.MalformedPolicyDocumentException
		if err := put(doc, false); !errors.As(err, &mpd) {
			t.Errorf("%s: %v, want MalformedPolicyDocumentException", name, err)
		} else if name == "lockout" && !strings.Contains(err.Error(), "will not allow you to update the key policy") {
			t.Errorf("lockout message: %v", err)
		} else if name == "missing user" && !strings.Contains(err.Error(), "invalid principals") {
			t.Errorf("principal message: %v", err)
		}
	}
	big := keyPolicy(root)
	big = strings.Replace(big, `"Admin"`, `"`+strings.Repeat("a", maxKeyPolicy+1-(len(big)-len("Admin")))+`"`, 1)
	var limit *kmstypes.LimitExceededException
	if err := put(big, false); !errors.As(err, &limit) {
		t.Fatalf("oversized policy: %v", err)
	}
	if srv.BypassLockoutCount() != 0 {
		t.Fatal("bypass counted without use")
	}
	if err := put(keyPolicy("arn:aws:iam::"+acctA+":user/jane"), true); err != nil {
		t.Fatal(err)
	}
	if srv.BypassLockoutCount() != 1 {
		t.Fatalf("bypass count = %d", srv.BypassLockoutCount())
	}
	// An orphaned ID can still be planted through the Go API.
	if err := srv.SetKeyPolicyRaw(*key.Arn, keyPolicy(root, "AIDAAAAAAAAAAAAAAAAAA")); err != nil {
		t.Fatal(err)
	}
	got := must[*kms.GetKeyPolicyOutput](t)(c.kms.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: key.KeyId}))
	if !strings.Contains(*got.Policy, "AIDAAAAAAAAAAAAAAAAAA") {
		t.Fatal(*got.Policy)
	}
}

func TestKMSLockoutForAssumedRole(t *testing.T) {
	srv, c := setup(t)
	trust := `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acctA + `:root"},"Action":"sts:AssumeRole"}]}`
	role := must[*iam.CreateRoleOutput](t)(c.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("kadmin"), AssumeRolePolicyDocument: aws.String(trust)}))
	sess := newClients(t, srv, srv.NewCredentials(acctA, "arn:aws:sts::"+acctA+":assumed-role/kadmin/s"), "us-east-1")
	key := must[*kms.CreateKeyOutput](t)(sess.kms.CreateKey(ctx, &kms.CreateKeyInput{})).KeyMetadata
	for _, p := range []string{*role.Role.Arn, "arn:aws:sts::" + acctA + ":assumed-role/kadmin/s"} {
		if _, err := sess.kms.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: key.KeyId, Policy: aws.String(keyPolicy(p))}); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
	}
	// CreateKey applies the same lockout check.
	_, err := c.kms.CreateKey(ctx, &kms.CreateKeyInput{Policy: aws.String(keyPolicy(*role.Role.Arn))})
	wantCode(t, err, "MalformedPolicyDocumentException")
}
