package awsfake

import (
	"fmt"
	"time"
)

// This file is the Go-side setup API for tests: things the SDK cannot do
// (AWS managed resources, documents stored without validation) and read
// access to stored state for assertions.

// SetAttachedQuota raises (or lowers back) an account's quota of managed
// policies attached per user, role and group, as Service Quotas does:
// AttachUserPolicy and GetAccountSummary follow it. 0 restores AWS's
// default of 10.
func (s *Server) SetAttachedQuota(account string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.account(account).attachedQuota = n
}

// SetLegacyS3Defaults switches GetBucketEncryption on buckets without a
// configuration of their own between today's AWS answer (false: the SSE-S3
// AES256 default rule) and the older answer of 404
// ServerSideEncryptionConfigurationNotFoundError (true).
func (s *Server) SetLegacyS3Defaults(legacy bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.legacyS3 = legacy
}

// CreateAWSManagedKey creates (or returns) the AWS managed key of service
// (e.g. "s3") in account and region with its alias alias/aws/<service>, and
// returns the key ARN.
func (s *Server) CreateAWSManagedKey(account, region, service string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if al := s.account(account).aliases[region]["alias/aws/"+service]; al != nil {
		return keyARN(account, region, al.target)
	}
	return s.createManagedKey(account, region, service).arn
}

// AddAWSManagedPolicy stores an AWS managed policy
// (arn:aws:iam::aws:policy/NAME) that every account can attach, and
// returns its ARN.
func (s *Server) AddAWSManagedPolicy(name, document string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.newManagedPolicy("aws", name, "/", document)
	s.awsPols[p.arn] = p
	return p.arn
}

// SetBucketPolicyRaw stores doc as the bucket's policy without any check
// (e.g. to plant an orphaned AIDA… principal).
func (s *Server) SetBucketPolicyRaw(bucketName, doc string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.buckets[bucketName]
	if b == nil {
		return fmt.Errorf("awsfake: no bucket %q", bucketName)
	}
	b.policy = &doc
	return nil
}

// BucketPolicy returns the stored bucket policy.
func (s *Server) BucketPolicy(bucketName string) (doc string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.buckets[bucketName]; b != nil && b.policy != nil {
		return *b.policy, true
	}
	return "", false
}

// SetKeyPolicyRaw stores doc as the key policy of the key with ARN keyARN
// without any check.
func (s *Server) SetKeyPolicyRaw(keyARN, doc string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.keys[keyARN]
	if k == nil {
		return fmt.Errorf("awsfake: no key %q", keyARN)
	}
	k.policy = doc
	return nil
}

// KeyPolicy returns the key policy of the key with ARN keyARN.
func (s *Server) KeyPolicy(keyARN string) (doc string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k := s.keys[keyARN]; k != nil {
		return k.policy, true
	}
	return "", false
}

// SetInlinePolicyRaw stores an inline policy of a user, role or group
// (kind "user", "role" or "group") without checks.
func (s *Server) SetInlinePolicyRaw(account, kind, entityName, policyName, doc string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.entityByKind(account, kind, entityName)
	if err != nil {
		return err
	}
	e.inline[policyName] = doc
	return nil
}

// InlinePolicy returns an inline policy document as stored.
func (s *Server) InlinePolicy(account, kind, entityName, policyName string) (doc string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.entityByKind(account, kind, entityName)
	if err != nil {
		return "", false
	}
	doc, ok = e.inline[policyName]
	return doc, ok
}

// SetPolicyVersionRaw replaces the document of a managed policy version
// without checks, as another writer might.
func (s *Server) SetPolicyVersionRaw(policyARN, versionID, doc string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.accounts {
		if p := a.policies[policyARN]; p != nil {
			if v := p.version(versionID); v != nil {
				v.doc, p.updated = doc, time.Now().UTC()
				return nil
			}
		}
	}
	return fmt.Errorf("awsfake: no version %s of %s", versionID, policyARN)
}

// UniqueID returns the unique ID (AIDA…, AROA…, AGPA…) of a user, role or
// group.
func (s *Server) UniqueID(account, kind, name string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.entityByKind(account, kind, name)
	if err != nil {
		return "", err
	}
	return e.id, nil
}

// KeyARNs returns the ARNs of the keys of account in region, oldest first
// (for assertions such as "no AWS managed key was created").
func (s *Server) KeyARNs(account, region string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := s.keysOf(account, region)
	arns := make([]string, len(keys))
	for i, k := range keys {
		arns[i] = k.arn
	}
	return arns
}

// BypassLockoutCount returns how many PutKeyPolicy calls set
// BypassPolicyLockoutSafetyCheck (CreateKey calls are not counted, so tests
// may load key policies with it).
func (s *Server) BypassLockoutCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bypass
}

func (s *Server) entityByKind(account, kind, name string) (*entity, error) {
	a := s.accounts[account]
	if a == nil {
		return nil, fmt.Errorf("awsfake: no account %s", account)
	}
	for k, spec := range kinds {
		if spec.lower == kind {
			if e := a.entities[k][name]; e != nil {
				return e, nil
			}
		}
	}
	return nil, fmt.Errorf("awsfake: no %s %q in %s", kind, name, account)
}
