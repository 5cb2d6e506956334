package sar

import (
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// sample turns a catalogue name or a row's family into a concrete key a
// policy could name.
func sample(name string, global bool) string {
	if strings.HasSuffix(name, "*") {
		return strings.TrimSuffix(name, "*") + "x"
	}
	if p := newPattern(name, "", global); p.family {
		return p.prefix + "x"
	}
	return name
}

// candidates are every catalogued key a request could name: the action's
// catalogue keys and the global keys.
func candidates(r RequestKind) []string {
	var out []string
	for _, k := range ActionKeys(r.Action()) {
		out = append(out, sample(k, false))
	}
	for _, g := range globalKeys {
		out = append(out, sample(g.Name, true))
	}
	return out
}

// unsourced are the keys a request carries for which no source reached says
// where the value comes from. They answer Unknown. The test fails when the
// list and the tables disagree, so a key AWS adds to the catalogue is decided
// here, on purpose, instead of slipping through.
var unsourced = map[string]reqMask{
	"aws:AssumedRoot":                  every,
	"aws:CalledViaAWSMCP":              every,
	"aws:ChatbotSourceArn":             every,
	"aws:Ec2InstanceSourcePrivateIPv4": every,
	"aws:Ec2InstanceSourceVpc":         every,
	"aws:IsMcpServiceAction":           every,
	"aws:SourceOrgID":                  every,
	"aws:SourceOrgPaths":               every,
	"aws:SourceOwner":                  every,
	"aws:SourceVpcArn":                 every,
	"aws:ViaAWSMCPService":             every,
	"aws:VpceAccount":                  every,
	"aws:VpceOrgID":                    every,
	"aws:VpceOrgPaths":                 every,
	"ec2:RoleDelivery":                 every,
	"ec2:SourceInstanceArn":            every,
	"glue:CredentialIssuingService":    every,
	"glue:RoleAssumedBy":               every,
	"identitystore:UserId":             every,
	"lambda:SourceFunctionArn":         every,
	"ssm:SourceInstanceArn":            every,
	// On S3's KMS requests only.
	"aws:SecureTransport": viaS3,
	"aws:UserAgent":       viaS3,
	"aws:referer":         viaS3,
	"aws:TokenIssueTime":  viaS3,
	"aws:CalledVia":       viaS3, // sources disagree: a row says so, Kind Unknown
	"aws:CalledViaFirst":  viaS3,
	"aws:CalledViaLast":   viaS3,
	// Whether S3 sends a Recipient attestation is not documented.
	"kms:RecipientAttestation:*": viaS3,
	"s3:AccessGrantsInstanceArn": s3Own,
	"s3:AccessPointTag/x":        s3Own,
	"s3:ObjectCreationOperation": 1 << PutObject,
}

func unsourcedFor(key string, r RequestKind) bool {
	for k, m := range unsourced {
		if m&(1<<r) == 0 {
			continue
		}
		if strings.EqualFold(k, key) || strings.HasSuffix(k, "*") && strings.HasPrefix(strings.ToLower(key), strings.ToLower(strings.TrimSuffix(k, "*"))) {
			return true
		}
	}
	return false
}

// TestEveryCarriedKeyIsDecided: each key a request can carry has a sourced
// row, or is listed as unsourced, never both.
func TestEveryCarriedKeyIsDecided(t *testing.T) {
	for _, r := range RequestKinds {
		for _, key := range candidates(r) {
			o := Origin(key, r)
			if !o.Carried {
				if o.Kind != NotCarried {
					t.Errorf("%s on %s: not carried but kind %v", key, r, o.Kind)
				}
				continue
			}
			_, hasRow := findRow(strings.ToLower(key), r)
			switch {
			case unsourcedFor(key, r) && hasRow && o.Kind != Unknown:
				t.Errorf("%s on %s is listed as unsourced but has a row of kind %v", key, r, o.Kind)
			case !unsourcedFor(key, r) && !hasRow:
				t.Errorf("%s on %s: carried, with no sourced row and not listed as unsourced", key, r)
			case !unsourcedFor(key, r) && o.Kind == Unknown:
				t.Errorf("%s on %s: Unknown but not listed as unsourced", key, r)
			}
		}
	}
	// No stale entries: each unsourced key is carried by some request.
	for k, m := range unsourced {
		found := false
		for _, r := range RequestKinds {
			for _, key := range candidates(r) {
				if m&(1<<r) != 0 && unsourcedFor(key, r) && strings.HasPrefix(strings.ToLower(key), strings.ToLower(strings.TrimSuffix(k, "*"))) && Origin(key, r).Carried {
					found = true
				}
			}
		}
		if !found {
			t.Errorf("unsourced entry %s matches no carried key", k)
		}
	}
}

// TestRowsAgreeWithCatalogue: every row names catalogued keys, has a source,
// and each request it covers either carries the key (the row applies) or
// does not (Origin says NotCarried before the row is read); no row is dead.
func TestRowsAgreeWithCatalogue(t *testing.T) {
	for _, rw := range rows {
		if rw.source == "" || !strings.HasPrefix(rw.source, "https://") {
			t.Errorf("row %s has no source", rw.key)
		}
		if rw.rule == "" {
			t.Errorf("row %s has no rule", rw.key)
		}
		if rw.reqs == 0 || rw.reqs&^every != 0 {
			t.Errorf("row %s covers no request, or one that does not exist", rw.key)
		}
		if rw.kind == Fact && rw.value == ValueNone && rw.presence != never {
			t.Errorf("row %s: a Fact that may be present needs a Value", rw.key)
		}
		// Keys the row's pattern covers, as the catalogue names them.
		pattern := strings.ToLower(rw.key)
		family := strings.HasSuffix(pattern, "*")
		pattern = strings.TrimSuffix(pattern, "*")
		applies := false
		for _, r := range RequestKinds {
			if rw.reqs&(1<<r) == 0 {
				continue
			}
			keys := candidates(r)
			if !family {
				// A member of a catalogued family, such as
				// kms:EncryptionContext:aws:s3:arn.
				keys = append(keys, rw.key)
			}
			for _, key := range keys {
				lk := strings.ToLower(key)
				if !(lk == pattern || family && strings.HasPrefix(lk, pattern) && len(lk) > len(pattern)) {
					continue
				}
				o := Origin(key, r)
				if !o.Carried {
					if o.Kind != NotCarried {
						t.Errorf("row %s, %s on %s: not carried but kind %v", rw.key, key, r, o.Kind)
					}
					continue
				}
				applies = true
				if !strings.EqualFold(o.Family, rw.key) {
					// A narrower row took the key (kms:EncryptionContext:aws:s3:arn).
					continue
				}
				if o.Kind != rw.kind {
					t.Errorf("row %s, %s on %s: Origin says %v", rw.key, key, r, o.Kind)
				}
			}
		}
		if !applies {
			t.Errorf("row %s applies to no request that carries the key: a dead row", rw.key)
		}
	}
}

// Rows for client-chosen service keys must be on actions whose catalogue
// lists the key: the way a Deny is avoided is only real where the request
// can carry it.
func TestClientKeysOnlyWhereCatalogued(t *testing.T) {
	for _, r := range RequestKinds {
		for _, key := range candidates(r) {
			o := Origin(key, r)
			if o.Kind != Client || isGlobal(strings.ToLower(key)) {
				continue
			}
			if !Carries(r.Action(), key) {
				t.Errorf("%s is client-chosen on %s but the catalogue does not list it", key, r)
			}
		}
	}
}

func TestProbes(t *testing.T) {
	tests := []struct {
		name   string
		key    string
		req    RequestKind
		caller Caller
		kind   Kind
		pres   Presence
	}{
		{"an SSE header cannot ride on a GET", "s3:x-amz-server-side-encryption", GetObject, UserKeys, NotCarried, Absent},
		{"an SSE header is the uploader's choice", "s3:x-amz-server-side-encryption", PutObject, UserKeys, Client, IfChosen},
		{"the KMS key-id header is the uploader's choice", "s3:x-amz-server-side-encryption-aws-kms-key-id", PutObject, UserKeys, Client, IfChosen},
		{"S3 headers never reach KMS", "s3:x-amz-server-side-encryption", KMSGenerateDataKey, UserKeys, NotCarried, Absent},
		{"long-term keys carry no MFA key", "aws:MultiFactorAuthPresent", GetObject, UserKeys, Client, Absent},
		{"a session carries the MFA key", "aws:MultiFactorAuthPresent", GetObject, UserSession, Client, Present},
		{"S3's KMS call for long-term keys carries MFA false", "aws:MultiFactorAuthPresent", KMSDecrypt, UserKeys, Client, Present},
		{"no MFA age without MFA", "aws:MultiFactorAuthAge", PutObject, UserKeys, Client, Absent},
		{"S3's KMS call never comes through the caller's endpoint", "aws:SourceVpce", KMSDecrypt, UserKeys, Network, Absent},
		{"the caller's own call may", "aws:SourceVpce", GetObject, RoleSession, Network, IfFact},
		{"a user's call has no service principal name", "aws:PrincipalServiceName", GetObject, UserKeys, ServiceOnly, Absent},
		{"nor does S3's call for it", "aws:PrincipalServiceNamesList", KMSGenerateDataKey, RoleSession, ServiceOnly, Absent},
		{"source ARN only on service calls", "aws:SourceArn", PutObject, UserKeys, ServiceOnly, Absent},
		{"time is a fact", "aws:CurrentTime", GetObject, UserKeys, Fact, Present},
		{"region is a fact", "aws:RequestedRegion", KMSDecrypt, RoleSession, Fact, Present},
		{"resource account is a fact", "aws:ResourceAccount", ListBucket, UserKeys, Fact, Present},
		{"a role session has no user name", "aws:username", GetObject, RoleSession, Fact, Absent},
		{"principal tags are unread", "aws:PrincipalTag/team", GetObject, UserKeys, Unread, IfFact},
		{"principal org is unread", "aws:PrincipalOrgID", KMSDecrypt, UserKeys, Unread, IfFact},
		{"object tags are unread on GET", "s3:ExistingObjectTag/team", GetObject, UserKeys, Unread, IfFact},
		{"object tags are not carried by PUT", "s3:ExistingObjectTag/team", PutObject, UserKeys, NotCarried, Absent},
		{"request tags are not carried by PUT", "aws:RequestTag/team", PutObject, UserKeys, NotCarried, Absent},
		{"key tags are unread", "aws:ResourceTag/team", KMSDecrypt, UserKeys, Unread, IfFact},
		{"S3's context is a fact", "kms:EncryptionContext:aws:s3:arn", KMSDecrypt, UserKeys, Fact, Present},
		{"extra context on upload is the client's", "kms:EncryptionContext:dept", KMSGenerateDataKey, UserKeys, Client, IfChosen},
		{"extra context on download is the object's", "kms:EncryptionContext:dept", KMSDecrypt, UserKeys, Unread, IfFact},
		{"kms:ViaService on S3's call", "kms:ViaService", KMSGenerateDataKey, UserKeys, Fact, Present},
		{"kms keys never on the principal's S3 call", "kms:ViaService", GetObject, UserKeys, NotCarried, Absent},
		{"decrypt names no alias", "kms:RequestAlias", KMSDecrypt, UserKeys, Fact, Absent},
		{"generate may name an alias", "kms:RequestAlias", KMSGenerateDataKey, UserKeys, Fact, IfFact},
		{"not via a service on the principal's own call", "aws:ViaAWSService", PutObject, UserKeys, Fact, Present},
		{"CalledVia absent on the principal's own call", "aws:CalledVia", GetObject, UserKeys, Fact, Absent},
		{"CalledVia on S3's call: sources disagree", "aws:CalledVia", KMSDecrypt, UserKeys, Unknown, IfFact},
		{"prefix is the lister's choice", "s3:prefix", ListBucket, UserKeys, Client, IfChosen},
		{"prefix is not carried by GET", "s3:prefix", GetObject, UserKeys, NotCarried, Absent},
		{"names are case-insensitive", "AWS:SOURCEVPCE", KMSGenerateDataKey, UserKeys, Network, Absent},
		{"a made-up global key", "aws:MadeUpKey", GetObject, UserKeys, Unknown, PresenceUnknown},
		{"a made-up S3 key", "s3:x-amz-made-up", PutObject, UserKeys, Unknown, PresenceUnknown},
		{"a made-up service", "foo:bar", KMSDecrypt, UserKeys, Unknown, PresenceUnknown},
		{"empty key", "", GetObject, UserKeys, Unknown, PresenceUnknown},
		{"no request", "aws:CurrentTime", 0, UserKeys, Unknown, PresenceUnknown},
		{"a request out of range", "aws:CurrentTime", RequestKind(200), UserKeys, Unknown, PresenceUnknown},
		{"a caller out of range", "aws:CurrentTime", GetObject, Caller(9), Fact, PresenceUnknown},
		{"catalogued but unsourced", "aws:SourceOrgID", GetObject, UserKeys, Unknown, PresenceUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Origin(tt.key, tt.req)
			if o.Kind != tt.kind || o.Presence(tt.caller) != tt.pres {
				t.Fatalf("Origin(%q, %v) = %v, %v for caller %d; want %v, %v (rule %q)", tt.key, tt.req, o.Kind, o.Presence(tt.caller), tt.caller, tt.kind, tt.pres, o.Rule)
			}
			if o.Kind != Unknown && o.Kind != NotCarried && o.Source == "" {
				t.Fatalf("no source for %s", tt.key)
			}
			if o.Rule == "" {
				t.Fatalf("no rule for %s", tt.key)
			}
		})
	}
}

func TestActionKeys(t *testing.T) {
	get := ActionKeys("S3:getobject")
	if !slices.Contains(get, "s3:ExistingObjectTag/<key>") || slices.Contains(get, "s3:x-amz-server-side-encryption") {
		t.Errorf("GetObject keys = %v", get)
	}
	if !sort.StringsAreSorted(get) {
		t.Errorf("not sorted: %v", get)
	}
	put := ActionKeys("s3:PutObject")
	for _, k := range []string{"s3:x-amz-server-side-encryption", "s3:x-amz-server-side-encryption-aws-kms-key-id", "s3:x-amz-acl"} {
		if !slices.Contains(put, k) {
			t.Errorf("PutObject lacks %s", k)
		}
	}
	dec := ActionKeys("kms:Decrypt")
	for _, k := range []string{"kms:ViaService", "kms:CallerAccount", "kms:EncryptionContext:${EncryptionContextKey}", "kms:ResourceAliases", "aws:ResourceTag/${TagKey}"} {
		if !slices.Contains(dec, k) {
			t.Errorf("Decrypt lacks %s (the key resource type's keys count)", k)
		}
	}
	if ActionKeys("s3:NoSuchAction") != nil || ActionKeys("") != nil {
		t.Error("an unknown action has keys")
	}
	if !Carries("kms:GenerateDataKey", "KMS:EncryptionContext:aws:s3:arn") || Carries("s3:GetObject", "s3:x-amz-acl") || Carries("nope", "aws:SourceIp") {
		t.Error("Carries is wrong")
	}
	a, ok := LookupAction("s3:listbucket")
	if !ok || a.Name != "ListBucket" || a.AccessLevel != "List" {
		t.Errorf("LookupAction = %+v, %v", a, ok)
	}
	for key, want := range map[string]string{"aws:SourceIp": "IPAddress", "aws:PrincipalTag/team": "String", "kms:EncryptionContext:aws:s3:arn": "String", "s3:max-keys": "Numeric", "aws:CalledVia": "ArrayOfString"} {
		if typ, _, ok := KeyType(key); !ok || typ != want {
			t.Errorf("KeyType(%s) = %q, %v; want %s", key, typ, ok, want)
		}
	}
	if _, _, ok := KeyType("aws:Nope"); ok {
		t.Error("KeyType knows a made-up key")
	}
}

func TestValues(t *testing.T) {
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	user := Facts{
		Now: now, Region: "eu-west-1", BucketName: "b", BucketAccount: "111111111111", ObjectKey: "k/1",
		KeyAccount: "222222222222", Caller: UserKeys, PrincipalARN: "arn:aws:iam::333333333333:user/team/Jane",
		PrincipalAccount: "333333333333", UniqueID: "AIDAEXAMPLE", KeyAliases: []string{"alias/a"},
	}
	role := user
	role.Caller, role.PrincipalARN, role.UniqueID, role.SessionName = RoleSession, "arn:aws:iam::333333333333:role/R", "AROAEXAMPLE", "s1"
	bk := user
	bk.BucketKeyEnabled, bk.Partition, bk.EncryptionAlias = true, "aws-cn", "alias/data"
	tests := []struct {
		f       Facts
		key     string
		req     RequestKind
		want    []string
		present bool
		ok      bool
	}{
		{user, "aws:CurrentTime", GetObject, []string{"2026-03-04T05:06:07Z"}, true, true},
		{user, "aws:EpochTime", GetObject, []string{"1772600767"}, true, true},
		{user, "aws:RequestedRegion", KMSDecrypt, []string{"eu-west-1"}, true, true},
		{user, "aws:ResourceAccount", GetObject, []string{"111111111111"}, true, true},
		{user, "aws:ResourceAccount", KMSDecrypt, []string{"222222222222"}, true, true},
		{user, "s3:ResourceAccount", PutObject, []string{"111111111111"}, true, true},
		{user, "aws:PrincipalType", GetObject, []string{"User"}, true, true},
		{role, "aws:PrincipalType", GetObject, []string{"AssumedRole"}, true, true},
		{user, "aws:userid", GetObject, []string{"AIDAEXAMPLE"}, true, true},
		{role, "aws:userid", GetObject, []string{"AROAEXAMPLE:s1"}, true, true},
		{user, "aws:username", GetObject, []string{"Jane"}, true, true},
		{role, "aws:username", GetObject, nil, false, true},
		{user, "aws:ViaAWSService", GetObject, []string{"false"}, true, true},
		{user, "aws:ViaAWSService", KMSDecrypt, []string{"true"}, true, true},
		{user, "aws:PrincipalIsAWSService", KMSDecrypt, []string{"false"}, true, true},
		{user, "kms:CallerAccount", KMSDecrypt, []string{"333333333333"}, true, true},
		{user, "kms:ViaService", KMSGenerateDataKey, []string{"s3.eu-west-1.amazonaws.com"}, true, true},
		{bk, "kms:ViaService", KMSGenerateDataKey, []string{"s3.eu-west-1.amazonaws.com.cn"}, true, true},
		{user, "kms:EncryptionContext:aws:s3:arn", KMSDecrypt, []string{"arn:aws:s3:::b/k/1"}, true, true},
		{bk, "kms:EncryptionContext:aws:s3:arn", KMSDecrypt, []string{"arn:aws-cn:s3:::b"}, true, true},
		{user, "kms:EncryptionContextKeys", KMSDecrypt, []string{"aws:s3:arn"}, true, true},
		{user, "kms:EncryptionAlgorithm", KMSGenerateDataKey, []string{"SYMMETRIC_DEFAULT"}, true, true},
		{user, "kms:RequestAlias", KMSGenerateDataKey, nil, false, true},
		{bk, "kms:RequestAlias", KMSGenerateDataKey, []string{"alias/data"}, true, true},
		{bk, "kms:RequestAlias", KMSDecrypt, nil, false, true},
		{user, "kms:ResourceAliases", KMSDecrypt, []string{"alias/a"}, true, true},
		{user, "kms:MultiRegion", KMSDecrypt, []string{"false"}, true, true},
		{user, "aws:CalledVia", GetObject, nil, false, true},
		// Not facts, or facts the request lacks.
		{user, "aws:SourceIp", GetObject, nil, false, false},
		{user, "aws:CalledVia", KMSDecrypt, nil, false, false},
		{Facts{}, "aws:CurrentTime", GetObject, nil, false, false},
		{Facts{}, "kms:EncryptionContext:aws:s3:arn", KMSDecrypt, nil, false, false},
		{Facts{Caller: RoleSession, UniqueID: "AROA"}, "aws:userid", GetObject, nil, false, false},
	}
	for _, tt := range tests {
		got, present, ok := tt.f.Values(Origin(tt.key, tt.req))
		if !slices.Equal(got, tt.want) || present != tt.present || ok != tt.ok {
			t.Errorf("%s on %v (caller %d) = %v, %v, %v; want %v, %v, %v", tt.key, tt.req, tt.f.Caller, got, present, ok, tt.want, tt.present, tt.ok)
		}
	}
}

func TestStrings(t *testing.T) {
	for _, r := range RequestKinds {
		if r.String() == "" || r.Action() == "" {
			t.Errorf("%d has no name", r)
		}
	}
	if RequestKind(0).String() != "no request" || Kind(99).String() != "unknown" || Presence(99).String() != "unknown" {
		t.Error("out-of-range names")
	}
	if !KMSDecrypt.ViaS3() || GetObject.ViaS3() {
		t.Error("ViaS3")
	}
}
