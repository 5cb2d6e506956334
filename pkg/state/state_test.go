package state

import "testing"

func testState() *State {
	return &State{
		Buckets: []Bucket{{Name: "b", Account: "111122223333", Region: "us-east-1",
			Encryption: &Encryption{SSEAlgorithm: "aws:kms", KMSMasterKeyID: "alias/app"}}},
		Keys: []Key{
			{ARN: "arn:aws:kms:us-east-1:111122223333:key/k1", Aliases: []string{"alias/app"}},
			{ARN: "arn:aws:kms:eu-west-1:111122223333:key/k1", Aliases: []string{"alias/app"}},
			{ARN: "arn:aws:kms:us-east-1:111122223333:key/aws-s3-key", KeyManager: "AWS", Aliases: []string{"alias/aws/s3"}},
			{ARN: "arn:aws:kms:us-east-1:444455556666:key/k2", Aliases: []string{"alias/app"}},
		},
		Principals: []Principal{
			{ARN: "arn:aws:iam::111122223333:user/Jane", Kind: KindUser},
			{ARN: "arn:aws:iam::111122223333:role/team/App", Kind: KindRole},
		},
	}
}

func TestResolveKey(t *testing.T) {
	st := testState()
	tests := []struct {
		name, id, account, region, want string
	}{
		{"key arn", "arn:aws:kms:eu-west-1:111122223333:key/k1", "", "", "arn:aws:kms:eu-west-1:111122223333:key/k1"},
		{"key id in bucket region", "k1", "111122223333", "us-east-1", "arn:aws:kms:us-east-1:111122223333:key/k1"},
		{"key id other region", "k1", "111122223333", "eu-west-1", "arn:aws:kms:eu-west-1:111122223333:key/k1"},
		{"alias name", "alias/app", "444455556666", "us-east-1", "arn:aws:kms:us-east-1:444455556666:key/k2"},
		{"alias arn", "arn:aws:kms:us-east-1:444455556666:alias/app", "111122223333", "us-east-1", "arn:aws:kms:us-east-1:444455556666:key/k2"},
		{"unknown alias", "alias/none", "111122223333", "us-east-1", ""},
		{"unknown key arn", "arn:aws:kms:us-east-1:111122223333:key/zzz", "", "", ""},
		{"not kms", "arn:aws:s3:::b", "", "", ""},
		{"empty", "", "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ""
			if k := st.ResolveKey(tc.id, tc.account, tc.region); k != nil {
				got = k.ARN
			}
			if got != tc.want {
				t.Errorf("ResolveKey(%q) = %q, want %q", tc.id, got, tc.want)
			}
		})
	}
}

func TestKeyForBucket(t *testing.T) {
	st := testState()
	b := st.FindBucket("b")
	if k := st.KeyForBucket(b); k == nil || k.ARN != "arn:aws:kms:us-east-1:111122223333:key/k1" {
		t.Errorf("KeyForBucket = %+v", k)
	}
	b.Encryption.KMSMasterKeyID = ""
	if k := st.KeyForBucket(b); k == nil || k.KeyManager != "AWS" {
		t.Errorf("aws:kms without a key id should mean aws/s3, got %+v", k)
	}
	b.Encryption.SSEAlgorithm = "AES256"
	if k := st.KeyForBucket(b); k != nil {
		t.Errorf("AES256 has no key, got %+v", k)
	}
	b.Encryption = nil
	if k := st.KeyForBucket(b); k != nil {
		t.Errorf("no encryption, got %+v", k)
	}
}

func TestFind(t *testing.T) {
	st := testState()
	if st.FindBucket("b") == nil || st.FindBucket("x") != nil {
		t.Error("FindBucket")
	}
	if st.FindKey("arn:aws:kms:us-east-1:444455556666:key/k2") == nil || st.FindKey("k2") != nil {
		t.Error("FindKey")
	}
	for arn, want := range map[string]string{
		"arn:aws:iam::111122223333:user/Jane":             "arn:aws:iam::111122223333:user/Jane",
		"arn:aws:sts::111122223333:assumed-role/App/sess": "arn:aws:iam::111122223333:role/team/App",
		"arn:aws:sts::444455556666:assumed-role/App/sess": "",
		"arn:aws:iam::111122223333:user/Other":            "",
		"not-an-arn":                                      "",
		"arn:aws:sts::111122223333:assumed-role/App":      "",
	} {
		got := ""
		if p := st.FindPrincipal(arn); p != nil {
			got = p.ARN
		}
		if got != want {
			t.Errorf("FindPrincipal(%q) = %q, want %q", arn, got, want)
		}
	}
}

func TestNilSafe(t *testing.T) {
	var st *State
	if st.FindBucket("b") != nil || st.FindKey("k") != nil || st.FindPrincipal("p") != nil || st.KeyForBucket(nil) != nil || st.ResolveKey("k", "", "") != nil {
		t.Error("nil state found something")
	}
	var d *Doc
	if !d.Equal(nil) || d.String() != "" || d.Clone() != nil || d.Equal(NewDoc("{}")) {
		t.Error("nil Doc")
	}
	if !NewDoc("{}").Equal(NewDoc("{}")) || NewDoc("{}").Equal(&Doc{Text: []byte("{}"), Form: FormObject}) {
		t.Error("Doc.Equal compares text and form")
	}
}

func TestARN(t *testing.T) {
	for arn, kind := range map[string]string{
		"arn:aws:iam::1:user/a":              KindUser,
		"arn:aws:iam::1:role/p/a":            KindRole,
		"arn:aws-cn:sts::1:assumed-role/r/s": KindRole,
		"arn:aws:iam::1:group/g":             "",
		"arn:aws:iam::1:root":                "",
		"arn:aws:iam::1":                     "",
		"":                                   "",
	} {
		if got := KindOf(arn); got != kind {
			t.Errorf("KindOf(%q) = %q, want %q", arn, got, kind)
		}
	}
	a, err := ParseARN("arn:aws:kms:us-east-1:1:key/x")
	if err != nil || a.String() != "arn:aws:kms:us-east-1:1:key/x" || RegionOf(a.String()) != "us-east-1" || AccountOf(a.String()) != "1" {
		t.Errorf("%+v %v", a, err)
	}
}
