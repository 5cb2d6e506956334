package awsfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// maxKeyPolicy is KMS's key policy size limit in bytes.
const maxKeyPolicy = 32768

type kmsKey struct {
	id, arn, account, region string
	manager                  string // CUSTOMER or AWS
	state                    string
	multiRegion              bool
	spec, usage, origin      string
	description              string
	created                  time.Time
	deletion                 *time.Time
	policy                   string
	seq                      int         // creation order for ListKeys
	grants                   []*kmsGrant // creation order (grants.go)
}

type kmsAlias struct {
	name, target string // target: key ID
	created      time.Time
}

// predefinedAWSAliases are the alias/aws/<service> names whose DescribeKey
// creates the AWS managed key on first use.
var predefinedAWSAliases = []string{
	"acm", "backup", "dynamodb", "ebs", "elasticfilesystem", "glue", "kinesis",
	"lambda", "rds", "redshift", "s3", "secretsmanager", "sns", "sqs", "ssm",
}

type kmsService struct{ s *Server }

type kmsInput struct {
	KeyID                          string `json:"KeyId"`
	Policy                         *string
	PolicyName                     string
	BypassPolicyLockoutSafetyCheck bool
	Description                    string
	KeyUsage                       string
	KeySpec                        string
	CustomerMasterKeySpec          string
	Origin                         string
	MultiRegion                    bool
	AliasName                      string
	TargetKeyID                    string `json:"TargetKeyId"`
	PendingWindowInDays            int
	Limit                          int
	Marker                         string
	grantInput                     // grants.go
}

type kmsHandler func(s *Server, r *request, in *kmsInput) (any, *apiError)

var kmsOps = map[string]kmsHandler{
	"CreateKey":           (*Server).createKey,
	"DescribeKey":         (*Server).describeKey,
	"GetKeyPolicy":        (*Server).getKeyPolicy,
	"PutKeyPolicy":        (*Server).putKeyPolicy,
	"ListKeys":            (*Server).listKeys,
	"ListAliases":         (*Server).listAliases,
	"CreateAlias":         (*Server).createAlias,
	"DeleteAlias":         (*Server).deleteAlias,
	"EnableKey":           func(s *Server, r *request, in *kmsInput) (any, *apiError) { return s.setKeyState(r, in, "Enabled") },
	"DisableKey":          func(s *Server, r *request, in *kmsInput) (any, *apiError) { return s.setKeyState(r, in, "Disabled") },
	"CancelKeyDeletion":   (*Server).cancelKeyDeletion,
	"ScheduleKeyDeletion": (*Server).scheduleKeyDeletion,
}

func (kmsService) parse(r *request) *apiError {
	target := r.http.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, "TrentService.")
	if !ok || kmsOps[op] == nil {
		return errf(http.StatusBadRequest, "UnknownOperationException", "unknown operation %q", target)
	}
	r.op = op
	in := &kmsInput{}
	if len(r.body) > 0 {
		if err := json.Unmarshal(r.body, in); err != nil {
			return errf(http.StatusBadRequest, "SerializationException", "cannot decode request: %v", err)
		}
	}
	r.svcData = in
	return nil
}

func (v kmsService) handle(r *request) (*reply, *apiError) {
	out, e := kmsOps[r.op](v.s, r, r.svcData.(*kmsInput))
	if e != nil {
		return nil, e
	}
	if out == nil {
		out = struct{}{}
	}
	return jsonReply(out)
}

func (kmsService) common(kind errKind) *apiError {
	switch kind {
	case errThrottled:
		return errf(http.StatusBadRequest, "ThrottlingException", "Rate exceeded")
	case errUnavailable:
		return errf(http.StatusServiceUnavailable, "ServiceUnavailableException", "Service is unavailable")
	case errExpired:
		return errf(http.StatusBadRequest, "ExpiredTokenException", "The security token included in the request is expired")
	case errUnknownKey:
		return errf(http.StatusBadRequest, "UnrecognizedClientException", "The security token included in the request is invalid.")
	}
	return errf(http.StatusInternalServerError, "KMSInternalException", "An internal error occurred")
}

func (kmsService) denied(r *request) *apiError {
	in, _ := r.svcData.(*kmsInput)
	res := "*"
	if in != nil && in.KeyID != "" {
		res = in.KeyID
	}
	return kmsDenied(r, res)
}

func kmsDenied(r *request, resource string) *apiError {
	caller := "anonymous"
	if r.caller != nil {
		caller = r.caller.arn
	}
	return errf(http.StatusBadRequest, "AccessDeniedException",
		"User: %s is not authorized to perform: kms:%s on resource: %s because no resource-based policy allows the kms:%s action",
		caller, r.op, resource, r.op)
}

func (kmsService) writeError(w http.ResponseWriter, r *request, e *apiError) {
	writeJSONError(w, r, e)
}

func kmsNotFound(format string, args ...any) *apiError {
	return errf(http.StatusBadRequest, "NotFoundException", format, args...)
}

func kmsMalformed(format string, args ...any) *apiError {
	return errf(http.StatusBadRequest, "MalformedPolicyDocumentException", format, args...)
}

func keyARN(account, region, id string) string {
	return fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", region, account, id)
}

func aliasARN(account, region, name string) string {
	return fmt.Sprintf("arn:aws:kms:%s:%s:%s", region, account, name)
}

// resolveKey finds the key a KeyId names (key ID, key ARN, alias name or
// alias ARN) in the request's region. With managedOK, an unused predefined
// alias/aws/<service> of the caller's account gets its AWS managed key.
func (s *Server) resolveKey(r *request, keyID string, managedOK bool) (*kmsKey, *apiError) {
	if keyID == "" {
		return nil, errf(http.StatusBadRequest, "ValidationException", "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null")
	}
	account, region, resource := r.account(), r.region, keyID
	if rest, ok := strings.CutPrefix(keyID, "arn:aws:kms:"); ok {
		parts := strings.SplitN(rest, ":", 3)
		if len(parts) != 3 {
			return nil, errf(http.StatusBadRequest, "InvalidArnException", "Invalid arn %s", keyID)
		}
		region, account, resource = parts[0], parts[1], parts[2]
		if region != r.region {
			return nil, kmsNotFound("Invalid arn %s: the key is not in region %s", keyID, r.region)
		}
	}
	if id, ok := strings.CutPrefix(resource, "key/"); ok {
		resource = id
	}
	if !strings.HasPrefix(resource, "alias/") {
		k := s.keys[keyARN(account, region, resource)]
		if k == nil {
			return nil, kmsNotFound("Key '%s' does not exist", keyARN(account, region, resource))
		}
		return k, nil
	}
	a := s.accounts[account]
	if a != nil {
		if al := a.aliases[region][resource]; al != nil {
			return s.keys[keyARN(account, region, al.target)], nil
		}
	}
	svc, isAWS := strings.CutPrefix(resource, "alias/aws/")
	if managedOK && isAWS && account == r.account() && slices.Contains(predefinedAWSAliases, svc) {
		return s.createManagedKey(account, region, svc), nil
	}
	return nil, kmsNotFound("Alias %s is not found.", aliasARN(account, region, resource))
}

// ownKey resolves a key that only its own account may use this way.
func (s *Server) ownKey(r *request, keyID string) (*kmsKey, *apiError) {
	k, e := s.resolveKey(r, keyID, false)
	if e != nil {
		return nil, e
	}
	if k.account != r.account() {
		return nil, kmsDenied(r, k.arn)
	}
	return k, nil
}

func defaultKeyPolicy(account string) string {
	return fmt.Sprintf(`{
  "Version" : "2012-10-17",
  "Id" : "key-default-1",
  "Statement" : [ {
    "Sid" : "Enable IAM User Permissions",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "arn:aws:iam::%s:root"
    },
    "Action" : "kms:*",
    "Resource" : "*"
  } ]
}`, account)
}

func managedKeyPolicy(account, region, service string) string {
	return fmt.Sprintf(`{
  "Version" : "2012-10-17",
  "Id" : "auto-%[3]s-2",
  "Statement" : [ {
    "Sid" : "Allow access through %[3]s for all principals in the account that are authorized to use %[3]s",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "*"
    },
    "Action" : [ "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey" ],
    "Resource" : "*",
    "Condition" : {
      "StringEquals" : {
        "kms:CallerAccount" : "%[1]s",
        "kms:ViaService" : "%[3]s.%[2]s.amazonaws.com"
      }
    }
  }, {
    "Sid" : "Allow direct access to key metadata to the account",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "arn:aws:iam::%[1]s:root"
    },
    "Action" : [ "kms:Describe*", "kms:Get*", "kms:List*" ],
    "Resource" : "*"
  } ]
}`, account, region, service)
}

// newKey stores a key. Caller holds s.mu.
func (s *Server) newKey(account, region string, multiRegion bool) *kmsKey {
	s.account(account)
	h := strings.ToLower(s.nextID(32))
	id := fmt.Sprintf("%s-%s-%s-%s-%s", h[:8], h[8:12], h[12:16], h[16:20], h[20:32])
	if multiRegion {
		id = "mrk-" + h
	}
	k := &kmsKey{
		id: id, arn: keyARN(account, region, id), account: account, region: region,
		manager: "CUSTOMER", state: "Enabled", multiRegion: multiRegion,
		spec: "SYMMETRIC_DEFAULT", usage: "ENCRYPT_DECRYPT", origin: "AWS_KMS",
		created: time.Now().UTC(), policy: defaultKeyPolicy(account), seq: s.seq,
	}
	s.keys[k.arn] = k
	return k
}

// createManagedKey makes the AWS managed key for alias/aws/<service>.
// Caller holds s.mu.
func (s *Server) createManagedKey(account, region, service string) *kmsKey {
	k := s.newKey(account, region, false)
	k.manager = "AWS"
	k.description = "Default key that protects my " + service + " data when no other key is defined"
	k.policy = managedKeyPolicy(account, region, service)
	s.setAlias(account, region, "alias/aws/"+service, k.id)
	return k
}

func (s *Server) setAlias(account, region, name, target string) {
	a := s.account(account)
	if a.aliases[region] == nil {
		a.aliases[region] = map[string]*kmsAlias{}
	}
	a.aliases[region][name] = &kmsAlias{name: name, target: target, created: time.Now().UTC()}
}

type keyMetadata struct {
	AWSAccountID          string `json:"AWSAccountId"`
	KeyID                 string `json:"KeyId"`
	Arn                   string
	CreationDate          float64
	Enabled               bool
	Description           string
	KeyUsage              string
	KeyState              string
	DeletionDate          *float64 `json:",omitempty"`
	Origin                string
	KeyManager            string
	CustomerMasterKeySpec string
	KeySpec               string
	EncryptionAlgorithms  []string
	MultiRegion           bool
	MultiRegionConfig     *struct {
		MultiRegionKeyType string
		PrimaryKey         struct{ Arn, Region string }
	} `json:"MultiRegionConfiguration,omitempty"`
}

func (k *kmsKey) metadata() keyMetadata {
	m := keyMetadata{
		AWSAccountID: k.account, KeyID: k.id, Arn: k.arn, CreationDate: epoch(k.created),
		Enabled: k.state == "Enabled", Description: k.description, KeyUsage: k.usage,
		KeyState: k.state, Origin: k.origin, KeyManager: k.manager,
		CustomerMasterKeySpec: k.spec, KeySpec: k.spec, MultiRegion: k.multiRegion,
		EncryptionAlgorithms: []string{"SYMMETRIC_DEFAULT"},
	}
	if k.deletion != nil {
		d := epoch(*k.deletion)
		m.DeletionDate = &d
	}
	if k.multiRegion {
		m.MultiRegionConfig = &struct {
			MultiRegionKeyType string
			PrimaryKey         struct{ Arn, Region string }
		}{MultiRegionKeyType: "PRIMARY", PrimaryKey: struct{ Arn, Region string }{k.arn, k.region}}
	}
	return m
}

// checkKeyPolicy applies PutKeyPolicy's and CreateKey's document checks;
// bypass skips the lockout check.
func (s *Server) checkKeyPolicy(r *request, doc string, bypass bool) *apiError {
	if len(doc) > maxKeyPolicy {
		return errf(http.StatusBadRequest, "LimitExceededException", "Policy exceeds the maximum size of %d bytes", maxKeyPolicy)
	}
	p, err := parsePolicy(doc)
	if err != nil {
		return kmsMalformed("The policy is not valid JSON: %v", err)
	}
	if bad := s.invalidPrincipal(p); bad != "" {
		return kmsMalformed("Policy contains a statement with one or more invalid principals.")
	}
	if !bypass && !p.allows("kms:PutKeyPolicy", r.caller.principalNames()) {
		return kmsMalformed("The new key policy will not allow you to update the key policy in the future.")
	}
	return nil
}

func (s *Server) createKey(r *request, in *kmsInput) (any, *apiError) {
	if in.Policy != nil {
		if e := s.checkKeyPolicy(r, *in.Policy, in.BypassPolicyLockoutSafetyCheck); e != nil {
			return nil, e
		}
	}
	k := s.newKey(r.account(), r.region, in.MultiRegion)
	if in.Policy != nil {
		k.policy = *in.Policy
	}
	k.description = in.Description
	k.usage = orDefault(in.KeyUsage, k.usage)
	k.spec = orDefault(in.KeySpec, orDefault(in.CustomerMasterKeySpec, k.spec))
	k.origin = orDefault(in.Origin, k.origin)
	return struct{ KeyMetadata keyMetadata }{k.metadata()}, nil
}

// orDefault returns v, or def when v is empty.
func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func (s *Server) describeKey(r *request, in *kmsInput) (any, *apiError) {
	k, e := s.resolveKey(r, in.KeyID, true)
	if e != nil {
		return nil, e
	}
	return struct{ KeyMetadata keyMetadata }{k.metadata()}, nil
}

func checkPolicyName(name string) *apiError {
	if name != "" && name != "default" {
		return kmsNotFound("Policy %s does not exist; the only key policy name is default", name)
	}
	return nil
}

func (s *Server) getKeyPolicy(r *request, in *kmsInput) (any, *apiError) {
	k, e := s.ownKey(r, in.KeyID)
	if e != nil {
		return nil, e
	}
	if e := checkPolicyName(in.PolicyName); e != nil {
		return nil, e
	}
	return struct{ Policy, PolicyName string }{k.policy, "default"}, nil
}

func (s *Server) putKeyPolicy(r *request, in *kmsInput) (any, *apiError) {
	k, e := s.ownKey(r, in.KeyID)
	if e != nil {
		return nil, e
	}
	if e := checkPolicyName(in.PolicyName); e != nil {
		return nil, e
	}
	if in.Policy == nil {
		return nil, errf(http.StatusBadRequest, "ValidationException", "1 validation error detected: Value null at 'policy' failed to satisfy constraint: Member must not be null")
	}
	if k.manager == "AWS" {
		return nil, kmsDenied(r, k.arn)
	}
	if in.BypassPolicyLockoutSafetyCheck {
		s.bypass++
	}
	if e := s.checkKeyPolicy(r, *in.Policy, in.BypassPolicyLockoutSafetyCheck); e != nil {
		return nil, e
	}
	k.policy = *in.Policy
	return nil, nil
}

// kmsPage paginates with KMS's Limit/Marker and error codes.
func kmsPage[T any](items []T, in *kmsInput) ([]T, string, bool, *apiError) {
	limit := ""
	if in.Limit != 0 {
		limit = fmt.Sprint(in.Limit)
	}
	page, next, trunc, e := paginate(items, in.Marker, limit, 100, 1000)
	if e != nil {
		if e.code == "InvalidInput" {
			e.code = "InvalidMarkerException"
		} else {
			e.code = "ValidationException"
		}
	}
	return page, next, trunc, e
}

// keysOf returns the keys of account in region, oldest first. Caller holds
// s.mu.
func (s *Server) keysOf(account, region string) []*kmsKey {
	var keys []*kmsKey
	for _, k := range s.keys {
		if k.account == account && k.region == region {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b *kmsKey) int { return a.seq - b.seq })
	return keys
}

type keyListEntry struct {
	KeyID  string `json:"KeyId"`
	KeyArn string
}

func (s *Server) listKeys(r *request, in *kmsInput) (any, *apiError) {
	var list []keyListEntry
	for _, k := range s.keysOf(r.account(), r.region) {
		list = append(list, keyListEntry{k.id, k.arn})
	}
	page, next, trunc, e := kmsPage(list, in)
	if e != nil {
		return nil, e
	}
	return struct {
		Keys       []keyListEntry
		NextMarker string `json:",omitempty"`
		Truncated  bool
	}{nonNil(page), next, trunc}, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

type aliasJSON struct {
	AliasName       string
	AliasArn        string
	TargetKeyID     string   `json:"TargetKeyId,omitempty"`
	CreationDate    *float64 `json:",omitempty"`
	LastUpdatedDate *float64 `json:",omitempty"`
}

// listAliases lists the aliases of the caller's account and region. Like
// AWS, without a KeyId it includes the predefined alias/aws/<service>
// names that have no key yet, without TargetKeyId.
func (s *Server) listAliases(r *request, in *kmsInput) (any, *apiError) {
	target := ""
	if in.KeyID != "" {
		k, e := s.ownKey(r, in.KeyID)
		if e != nil {
			return nil, e
		}
		target = k.id
	}
	acct := r.account()
	aliases := s.account(acct).aliases[r.region]
	var list []aliasJSON
	for _, al := range aliases {
		if target == "" || al.target == target {
			t := epoch(al.created)
			list = append(list, aliasJSON{al.name, aliasARN(acct, r.region, al.name), al.target, &t, &t})
		}
	}
	for _, svc := range predefinedAWSAliases {
		name := "alias/aws/" + svc
		if target == "" && aliases[name] == nil {
			list = append(list, aliasJSON{AliasName: name, AliasArn: aliasARN(acct, r.region, name)})
		}
	}
	slices.SortFunc(list, func(x, y aliasJSON) int { return strings.Compare(x.AliasName, y.AliasName) })
	page, next, trunc, e := kmsPage(list, in)
	if e != nil {
		return nil, e
	}
	return struct {
		Aliases    []aliasJSON
		NextMarker string `json:",omitempty"`
		Truncated  bool
	}{nonNil(page), next, trunc}, nil
}

func (s *Server) createAlias(r *request, in *kmsInput) (any, *apiError) {
	switch {
	case !strings.HasPrefix(in.AliasName, "alias/") || len(in.AliasName) <= len("alias/"):
		return nil, errf(http.StatusBadRequest, "ValidationException", "Alias must start with the prefix \"alias/\"")
	case strings.HasPrefix(in.AliasName, "alias/aws/"):
		return nil, errf(http.StatusBadRequest, "NotAuthorizedException", "Alias names starting with alias/aws/ are reserved")
	}
	k, e := s.ownKey(r, in.TargetKeyID)
	if e != nil {
		return nil, e
	}
	if a := s.accounts[r.account()]; a.aliases[r.region][in.AliasName] != nil {
		return nil, errf(http.StatusBadRequest, "AlreadyExistsException", "An alias with the name %s already exists", aliasARN(a.id, r.region, in.AliasName))
	}
	s.setAlias(r.account(), r.region, in.AliasName, k.id)
	return nil, nil
}

func (s *Server) deleteAlias(r *request, in *kmsInput) (any, *apiError) {
	a := s.accounts[r.account()]
	if a.aliases[r.region][in.AliasName] == nil {
		return nil, kmsNotFound("Alias %s is not found.", aliasARN(a.id, r.region, in.AliasName))
	}
	delete(a.aliases[r.region], in.AliasName)
	return nil, nil
}

func (s *Server) setKeyState(r *request, in *kmsInput, state string) (any, *apiError) {
	k, e := s.ownKey(r, in.KeyID)
	if e != nil {
		return nil, e
	}
	if k.state == "PendingDeletion" {
		return nil, errf(http.StatusBadRequest, "KMSInvalidStateException", "%s is pending deletion.", k.arn)
	}
	k.state = state
	return nil, nil
}

func (s *Server) scheduleKeyDeletion(r *request, in *kmsInput) (any, *apiError) {
	k, e := s.ownKey(r, in.KeyID)
	if e != nil {
		return nil, e
	}
	days := in.PendingWindowInDays
	if days == 0 {
		days = 30
	}
	switch {
	case days < 7 || days > 30:
		return nil, errf(http.StatusBadRequest, "ValidationException", "PendingWindowInDays must be between 7 and 30")
	case k.manager == "AWS":
		return nil, kmsDenied(r, k.arn)
	case k.state == "PendingDeletion":
		return nil, errf(http.StatusBadRequest, "KMSInvalidStateException", "%s is pending deletion.", k.arn)
	}
	d := time.Now().UTC().Add(time.Duration(days) * 24 * time.Hour)
	k.state, k.deletion = "PendingDeletion", &d
	return struct {
		KeyID               string `json:"KeyId"`
		DeletionDate        float64
		KeyState            string
		PendingWindowInDays int
	}{k.arn, epoch(d), k.state, days}, nil
}

func (s *Server) cancelKeyDeletion(r *request, in *kmsInput) (any, *apiError) {
	k, e := s.ownKey(r, in.KeyID)
	if e != nil {
		return nil, e
	}
	if k.state != "PendingDeletion" {
		return nil, errf(http.StatusBadRequest, "KMSInvalidStateException", "%s is not pending deletion.", k.arn)
	}
	k.state, k.deletion = "Disabled", nil
	return struct {
		KeyID string `json:"KeyId"`
	}{k.arn}, nil
}
