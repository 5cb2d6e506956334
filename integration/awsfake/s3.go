package awsfake

import (
	"encoding/xml"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
)

// maxBucketPolicy is S3's bucket policy size limit (20 KB).
const maxBucketPolicy = 20480

type bucket struct {
	name, owner, region string
	created             time.Time
	policy              *string
	encryption          *sseConfig // nil: no configuration of its own
	ownership           string     // "": no ownership controls
}

// sseConfig is ServerSideEncryptionConfiguration as S3 stores it.
type sseConfig struct {
	Rules []sseRule `xml:"Rule"`
}

type sseRule struct {
	Default *struct {
		SSEAlgorithm   string
		KMSMasterKeyID string `xml:",omitempty"`
	} `xml:"ApplyServerSideEncryptionByDefault"`
	BucketKeyEnabled *bool `xml:",omitempty"`
}

type ownershipControls struct {
	Rules []struct {
		ObjectOwnership string
	} `xml:"Rule"`
}

// s3Input is the parsed target of a REST request.
type s3Input struct {
	bucket      string
	subresource string
}

type s3Service struct{ s *Server }

type s3Handler func(s *Server, r *request, b *bucket) (*reply, *apiError)

// s3Ops maps "METHOD subresource" to a handler for bucket operations.
var s3Ops = map[string]struct {
	op string
	fn s3Handler
}{
	"HEAD ":                    {"HeadBucket", func(*Server, *request, *bucket) (*reply, *apiError) { return &reply{}, nil }},
	"DELETE ":                  {"DeleteBucket", (*Server).deleteBucket},
	"GET location":             {"GetBucketLocation", (*Server).getBucketLocation},
	"GET policy":               {"GetBucketPolicy", (*Server).getBucketPolicy},
	"PUT policy":               {"PutBucketPolicy", (*Server).putBucketPolicy},
	"DELETE policy":            {"DeleteBucketPolicy", (*Server).deleteBucketPolicy},
	"GET encryption":           {"GetBucketEncryption", (*Server).getBucketEncryption},
	"PUT encryption":           {"PutBucketEncryption", (*Server).putBucketEncryption},
	"DELETE encryption":        {"DeleteBucketEncryption", (*Server).deleteBucketEncryption},
	"GET ownershipControls":    {"GetBucketOwnershipControls", (*Server).getOwnership},
	"PUT ownershipControls":    {"PutBucketOwnershipControls", (*Server).putOwnership},
	"DELETE ownershipControls": {"DeleteBucketOwnershipControls", (*Server).deleteOwnership},
}

var subresources = []string{"policy", "encryption", "ownershipControls", "location", "acl", "versioning",
	"tagging", "lifecycle", "cors", "website", "logging", "notification", "replication", "uploads",
	"publicAccessBlock", "policyStatus", "object-lock", "accelerate", "requestPayment", "analytics",
	"metrics", "inventory", "intelligent-tiering"}

func (s3Service) parse(r *request) *apiError {
	path := strings.TrimPrefix(r.http.URL.Path, "/")
	name, key, _ := strings.Cut(path, "/")
	in := &s3Input{bucket: name}
	q := r.http.URL.Query()
	for _, sub := range subresources {
		if q.Has(sub) {
			in.subresource = sub
			break
		}
	}
	r.svcData = in
	switch {
	case name == "" && r.http.Method == http.MethodGet:
		r.op = "ListBuckets"
	case key != "" || (name == "" && r.http.Method != http.MethodGet):
		return s3NotImplemented()
	case r.http.Method == http.MethodPut && in.subresource == "":
		r.op = "CreateBucket"
	default:
		op, ok := s3Ops[r.http.Method+" "+in.subresource]
		if !ok {
			return s3NotImplemented()
		}
		r.op = op.op
	}
	return nil
}

func s3NotImplemented() *apiError {
	return errf(http.StatusNotImplemented, "NotImplemented", "A header or query you provided implies functionality that is not implemented.")
}

func (v s3Service) handle(r *request) (*reply, *apiError) {
	in := r.svcData.(*s3Input)
	switch r.op {
	case "ListBuckets":
		return v.s.listBuckets(r)
	case "CreateBucket":
		return v.s.createBucket(r, in.bucket)
	}
	b, e := v.s.bucketFor(r, in.bucket)
	if e != nil {
		return nil, e
	}
	rep, e := s3Ops[r.http.Method+" "+in.subresource].fn(v.s, r, b)
	if rep != nil && r.op == "HeadBucket" {
		rep.header = map[string]string{"x-amz-bucket-region": b.region}
	}
	return rep, e
}

func (s3Service) common(kind errKind) *apiError {
	switch kind {
	case errThrottled:
		return errf(http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.")
	case errUnavailable:
		return errf(http.StatusServiceUnavailable, "ServiceUnavailable", "Service is unable to handle request.")
	case errExpired:
		return errf(http.StatusBadRequest, "ExpiredToken", "The provided token has expired.")
	case errUnknownKey:
		return errf(http.StatusForbidden, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
	}
	return errf(http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.")
}

func (s3Service) denied(r *request) *apiError {
	in, _ := r.svcData.(*s3Input)
	name := ""
	if in != nil {
		name = in.bucket
	}
	return s3Denied(r, name)
}

func s3Denied(r *request, bucketName string) *apiError {
	caller := "anonymous"
	if r.caller != nil {
		caller = r.caller.arn
	}
	action := orDefault(s3Actions[r.op], r.op)
	e := errf(http.StatusForbidden, "AccessDenied",
		"User: %s is not authorized to perform: s3:%s on resource: \"arn:aws:s3:::%s\" because no resource-based policy allows the s3:%s action",
		caller, action, bucketName, action)
	e.bucket = bucketName
	return e
}

// s3Actions maps operations to the IAM action they are authorized by, where
// the names differ.
var s3Actions = map[string]string{
	"HeadBucket":                    "ListBucket",
	"ListBuckets":                   "ListAllMyBuckets",
	"GetBucketEncryption":           "GetEncryptionConfiguration",
	"PutBucketEncryption":           "PutEncryptionConfiguration",
	"DeleteBucketEncryption":        "PutEncryptionConfiguration",
	"DeleteBucketOwnershipControls": "PutBucketOwnershipControls",
}

func (s3Service) writeError(w http.ResponseWriter, r *request, e *apiError) {
	writeS3Error(w, r, e)
}

// bucketFor applies the checks every bucket operation shares: the bucket
// exists, the request is signed for its region, x-amz-expected-bucket-owner
// matches, and the caller's account owns it.
func (s *Server) bucketFor(r *request, name string) (*bucket, *apiError) {
	b := s.buckets[name]
	if b == nil {
		e := errf(http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
		e.bucket = name
		return nil, e
	}
	regionHeader := map[string]string{"x-amz-bucket-region": b.region}
	if b.region != r.region && r.op != "GetBucketLocation" {
		e := errf(http.StatusMovedPermanently, "PermanentRedirect",
			"The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.")
		e.bucket, e.header, e.noBody = name, regionHeader, r.op == "HeadBucket"
		return nil, e
	}
	expected := r.http.Header.Get("x-amz-expected-bucket-owner")
	foreign := b.owner != r.account() && r.op != "HeadBucket" && r.op != "GetBucketLocation"
	if (expected != "" && expected != b.owner) || foreign {
		e := s3Denied(r, name)
		if expected != "" && expected != b.owner {
			e.message = "Access Denied"
		}
		e.header = regionHeader
		return nil, e
	}
	return b, nil
}

var bucketNameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

func (s *Server) createBucket(r *request, name string) (*reply, *apiError) {
	if !bucketNameRe.MatchString(name) {
		e := errf(http.StatusBadRequest, "InvalidBucketName", "The specified bucket is not valid.")
		e.bucket = name
		return nil, e
	}
	var cfg struct{ LocationConstraint string }
	if len(r.body) > 0 {
		if err := xml.Unmarshal(r.body, &cfg); err != nil {
			return nil, errf(http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
		}
	}
	region := orDefault(cfg.LocationConstraint, "us-east-1")
	if cfg.LocationConstraint == "" && r.region != "us-east-1" {
		return nil, errf(http.StatusBadRequest, "IllegalLocationConstraintException",
			"The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.")
	}
	if old := s.buckets[name]; old != nil {
		code := "BucketAlreadyExists"
		if old.owner == r.account() {
			code = "BucketAlreadyOwnedByYou"
		}
		e := errf(http.StatusConflict, code, "The requested bucket name is not available.")
		e.bucket = name
		return nil, e
	}
	s.buckets[name] = &bucket{name: name, owner: r.account(), region: region,
		created: time.Now().UTC().Truncate(time.Second), ownership: "BucketOwnerEnforced"}
	return &reply{header: map[string]string{"Location": "/" + name}}, nil
}

func (s *Server) deleteBucket(r *request, b *bucket) (*reply, *apiError) {
	delete(s.buckets, b.name)
	return &reply{status: http.StatusNoContent}, nil
}

// canonicalID is the S3 canonical user ID of an account.
func (s *Server) canonicalID(account string) string {
	return strings.ToLower(s.hashID("", "canonical-"+account)[:64])
}

func (s *Server) listBuckets(r *request) (*reply, *apiError) {
	type bucketXML struct {
		Name         string
		CreationDate string
		BucketRegion string
	}
	var list []bucketXML
	for _, b := range s.buckets {
		if b.owner == r.account() {
			list = append(list, bucketXML{b.name, isoTime(b.created), b.region})
		}
	}
	slices.SortFunc(list, func(x, y bucketXML) int { return strings.Compare(x.Name, y.Name) })
	return xmlReply("ListAllMyBucketsResult", struct {
		Owner   struct{ ID, DisplayName string }
		Buckets []bucketXML `xml:"Buckets>Bucket"`
	}{struct{ ID, DisplayName string }{s.canonicalID(r.account()), "owner-" + r.account()}, list})
}

func (s *Server) getBucketLocation(r *request, b *bucket) (*reply, *apiError) {
	loc := b.region
	if loc == "us-east-1" {
		loc = ""
	}
	return xmlReply("LocationConstraint", struct {
		Value string `xml:",chardata"`
	}{loc})
}

func (s *Server) getBucketPolicy(r *request, b *bucket) (*reply, *apiError) {
	if b.policy == nil {
		e := errf(http.StatusNotFound, "NoSuchBucketPolicy", "The bucket policy does not exist")
		e.bucket = b.name
		return nil, e
	}
	return &reply{contentType: "application/json", body: []byte(*b.policy)}, nil
}

func s3Malformed(msg string) *apiError {
	return errf(http.StatusBadRequest, "MalformedPolicy", "%s", msg)
}

func (s *Server) putBucketPolicy(r *request, b *bucket) (*reply, *apiError) {
	doc := string(r.body)
	if len(doc) > maxBucketPolicy {
		return nil, s3Malformed("Policies must be less than 20KB")
	}
	p, err := parsePolicy(doc)
	if err != nil {
		return nil, s3Malformed("Policies must be valid JSON and the first byte must be '{': " + err.Error())
	}
	if s.invalidPrincipal(p) != "" {
		return nil, s3Malformed("Invalid principal in policy")
	}
	b.policy = &doc
	return &reply{status: http.StatusNoContent}, nil
}

func (s *Server) deleteBucketPolicy(r *request, b *bucket) (*reply, *apiError) {
	b.policy = nil
	return &reply{status: http.StatusNoContent}, nil
}

func (s *Server) getBucketEncryption(r *request, b *bucket) (*reply, *apiError) {
	cfg := b.encryption
	if cfg == nil {
		if s.legacyS3 {
			e := errf(http.StatusNotFound, "ServerSideEncryptionConfigurationNotFoundError", "The server side encryption configuration was not found")
			e.bucket = b.name
			return nil, e
		}
		cfg = defaultSSE()
	}
	return xmlReply("ServerSideEncryptionConfiguration", cfg)
}

// defaultSSE is the SSE-S3 rule AWS reports for buckets without their own
// configuration.
func defaultSSE() *sseConfig {
	off := false
	r := sseRule{BucketKeyEnabled: &off}
	r.Default = &struct {
		SSEAlgorithm   string
		KMSMasterKeyID string `xml:",omitempty"`
	}{SSEAlgorithm: "AES256"}
	return &sseConfig{Rules: []sseRule{r}}
}

var sseAlgorithms = []string{"AES256", "aws:kms", "aws:kms:dsse", "aws:fsx", "aws:backup"}

func (s *Server) putBucketEncryption(r *request, b *bucket) (*reply, *apiError) {
	var cfg sseConfig
	if err := xml.Unmarshal(r.body, &cfg); err != nil || len(cfg.Rules) == 0 {
		return nil, errf(http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
	}
	for _, rule := range cfg.Rules {
		d := rule.Default
		switch {
		case d == nil:
			return nil, errf(http.StatusBadRequest, "MalformedXML", "ApplyServerSideEncryptionByDefault is required")
		case !slices.Contains(sseAlgorithms, d.SSEAlgorithm):
			return nil, errf(http.StatusBadRequest, "MalformedXML", "Unknown SSEAlgorithm %q", d.SSEAlgorithm)
		case d.KMSMasterKeyID != "" && !strings.HasPrefix(d.SSEAlgorithm, "aws:kms"):
			return nil, errf(http.StatusBadRequest, "InvalidArgument", "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse")
		}
	}
	b.encryption = &cfg
	return &reply{}, nil
}

func (s *Server) deleteBucketEncryption(r *request, b *bucket) (*reply, *apiError) {
	b.encryption = nil
	return &reply{status: http.StatusNoContent}, nil
}

func (s *Server) getOwnership(r *request, b *bucket) (*reply, *apiError) {
	if b.ownership == "" {
		e := errf(http.StatusNotFound, "OwnershipControlsNotFoundError", "The bucket ownership controls were not found")
		e.bucket = b.name
		return nil, e
	}
	var oc ownershipControls
	oc.Rules = append(oc.Rules, struct{ ObjectOwnership string }{b.ownership})
	return xmlReply("OwnershipControls", oc)
}

var ownershipValues = []string{"BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter"}

func (s *Server) putOwnership(r *request, b *bucket) (*reply, *apiError) {
	var oc ownershipControls
	if err := xml.Unmarshal(r.body, &oc); err != nil || len(oc.Rules) != 1 ||
		!slices.Contains(ownershipValues, oc.Rules[0].ObjectOwnership) {
		return nil, errf(http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
	}
	b.ownership = oc.Rules[0].ObjectOwnership
	return &reply{}, nil
}

func (s *Server) deleteOwnership(r *request, b *bucket) (*reply, *apiError) {
	b.ownership = ""
	return &reply{status: http.StatusNoContent}, nil
}
