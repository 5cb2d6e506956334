package awsfake

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// maxBody bounds request bodies; AWS rejects far smaller documents anyway.
const maxBody = 4 << 20

// Credentials are the access key, secret and (for assumed roles) session
// token the server issued. Pass them to the SDK as static credentials.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
}

// Provider returns an aws.CredentialsProvider for c.
func (c Credentials) Provider() aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)
}

// identity is who an access key authenticates as.
type identity struct {
	account string
	arn     string
	userID  string
	roleARN string // set for assumed-role sessions
	expired bool
}

// Server is a local AWS-compatible endpoint for STS, IAM, KMS, S3 and
// (reads only) Organizations.
// All methods are safe for concurrent use.
type Server struct {
	// URL is the endpoint, e.g. "http://127.0.0.1:41234".
	URL string

	ln   net.Listener
	http *http.Server

	mu       sync.Mutex // guards everything below
	seq      int
	accounts map[string]*account
	creds    map[string]*identity
	buckets  map[string]*bucket
	keys     map[string]*kmsKey // by key ARN
	awsPols  map[string]*managedPolicy
	bypass   int
	legacyS3 bool
	orgs     []*Organization // organizations.go

	reqSeq atomic.Int64
	faults faults // has its own lock
	svcs   map[string]service
}

// New starts a server on 127.0.0.1 with a random port.
func New() (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{
		URL:      "http://" + ln.Addr().String(),
		ln:       ln,
		accounts: map[string]*account{},
		creds:    map[string]*identity{},
		buckets:  map[string]*bucket{},
		keys:     map[string]*kmsKey{},
		awsPols:  map[string]*managedPolicy{},
	}
	s.faults.init()
	s.svcs = map[string]service{
		"sts": stsService{s},
		"iam": iamService{s},
		"kms": kmsService{s},
		"s3":  s3Service{s},
		// AWS Organizations (organizations.go)
		"organizations": orgService{s},
	}
	s.http = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go s.http.Serve(ln) //nolint:errcheck // returns on Close
	return s, nil
}

// Start is New for tests: it fails tb on error and closes the server when
// the test ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	s, err := New()
	if err != nil {
		tb.Fatalf("awsfake: %v", err)
	}
	tb.Cleanup(s.Close)
	return s
}

// Close stops the server and drops open connections.
func (s *Server) Close() { _ = s.http.Close() }

// AWSConfig returns an SDK configuration that sends every service to the
// server with creds, signing for region. The SDK retries are limited to
// one attempt so that fault hooks are observed directly; callers can
// override cfg.RetryMaxAttempts (and set a client's RetryMaxAttempts to 0
// when giving it its own Retryer). The SDK addresses S3 path-style by itself
// because the endpoint is an IP address.
func (s *Server) AWSConfig(ctx context.Context, creds Credentials, region string) (aws.Config, error) {
	return config.LoadDefaultConfig(ctx,
		config.WithRegion(region),
		config.WithCredentialsProvider(creds.Provider()),
		config.WithBaseEndpoint(s.URL),
		config.WithRetryMaxAttempts(1),
	)
}

var accountIDRe = regexp.MustCompile(`^[0-9]{12}$`)

// AddAccount registers an AWS account (12 digits) and returns credentials
// of its IAM user "admin", which the server creates in the account. It
// panics on an invalid ID. Adding an existing account returns a new key
// for the same admin user.
func (s *Server) AddAccount(id string) Credentials {
	if !accountIDRe.MatchString(id) {
		panic("awsfake: invalid account ID " + id)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.account(id)
	u := a.users()["admin"]
	if u == nil {
		u = s.newEntity(a, kindUser, "admin", "/")
		a.users()["admin"] = u
	}
	return s.issueKey(&identity{account: id, arn: u.arn, userID: u.id}, "AKIA", false)
}

// NewCredentials issues an access key that authenticates as principalARN
// (a user, role, assumed-role session or root ARN) in account. The entity
// need not exist. The account is registered if new.
func (s *Server) NewCredentials(account, principalARN string) Credentials {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.account(account)
	id := &identity{account: account, arn: principalARN}
	switch {
	case strings.HasSuffix(principalARN, ":root"):
		id.userID = account
	case strings.Contains(principalARN, ":assumed-role/"):
		parts := strings.Split(principalARN, "/")
		role, session := parts[1], parts[len(parts)-1]
		id.roleARN, id.userID = "arn:aws:iam::"+account+":role/"+role, s.hashID("AROA", role)+":"+session
		if r := a.entities[kindRole][role]; r != nil {
			id.roleARN, id.userID = r.arn, r.id+":"+session
		}
	default:
		if e := a.entityByARN(principalARN); e != nil {
			id.userID = e.id
		} else {
			id.userID = s.hashID("AIDA", principalARN)
		}
	}
	return s.issueKey(id, "AKIA", false)
}

// ExpireCredentials makes every later call with the access key fail with the
// service's expired-token error.
func (s *Server) ExpireCredentials(accessKeyID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id := s.creds[accessKeyID]; id != nil {
		id.expired = true
	}
}

// issueKey stores a new access key for id. Caller holds s.mu.
func (s *Server) issueKey(id *identity, prefix string, session bool) Credentials {
	c := Credentials{
		AccessKeyID:     prefix + s.nextID(16),
		SecretAccessKey: s.nextID(40),
	}
	if session {
		c.SessionToken = "FwoGZXIvYXdzE" + s.nextID(60)
	}
	s.creds[c.AccessKeyID] = id
	return c
}

// account returns the account with id, creating it. Caller holds s.mu.
func (s *Server) account(id string) *account {
	a := s.accounts[id]
	if a == nil {
		a = newAccount(id)
		s.accounts[id] = a
	}
	return a
}

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// nextID returns n deterministic uppercase alphanumerics from a counter, so
// a test that does the same calls in the same order gets the same IDs.
func (s *Server) nextID(n int) string {
	s.seq++
	return s.hashID("", fmt.Sprint("seq-", s.seq))[:n]
}

// hashID derives a 21-character unique ID (prefix + 17) from seed.
func (s *Server) hashID(prefix, seed string) string {
	var out strings.Builder
	out.WriteString(prefix)
	for i := 0; out.Len() < len(prefix)+64; i++ {
		sum := sha256.Sum256(fmt.Appendf(nil, "%s|%d", seed, i))
		out.WriteString(idEncoding.EncodeToString(sum[:]))
	}
	if prefix == "" {
		return out.String()
	}
	return out.String()[:len(prefix)+17]
}

// request is one parsed API call.
type request struct {
	http    *http.Request
	service string // credential-scope service: sts, iam, kms, s3
	region  string
	akid    string
	op      string    // e.g. "GetUser"
	caller  *identity // nil when the key is unknown
	body    []byte
	svcData any // per-service parsed input (form, JSON, S3 path)
	reqID   string
}

// account returns the caller's account ID.
func (r *request) account() string {
	if r.caller == nil {
		return ""
	}
	return r.caller.account
}

// apiError is an AWS error answer, written in the service's wire format.
type apiError struct {
	status  int
	code    string
	message string
	bucket  string            // S3 BucketName element
	header  map[string]string // extra headers (x-amz-bucket-region)
	noBody  bool              // HEAD answers
}

func errf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// reply is a successful answer.
type reply struct {
	status      int
	contentType string
	header      map[string]string
	body        []byte
}

// errKind names an error every service has, in its own spelling.
type errKind int

const (
	errThrottled   errKind = iota
	errInternal            // HTTP 500
	errUnavailable         // HTTP 503
	errExpired
	errUnknownKey
	errMissingAuth
)

// service is one emulated AWS service.
type service interface {
	// parse identifies the operation and decodes its input into r.
	parse(r *request) *apiError
	// handle executes r; s.mu is held.
	handle(r *request) (*reply, *apiError)
	// common returns the service's spelling of a shared error.
	common(kind errKind) *apiError
	// denied returns the service's AccessDenied answer for r.
	denied(r *request) *apiError
	// write sends e in the service's wire format.
	writeError(w http.ResponseWriter, r *request, e *apiError)
}

var credentialRe = regexp.MustCompile(`Credential=([^/,\s]+)/[0-9]{8}/([^/]+)/([^/]+)/aws4_request`)

// ServeHTTP routes by the SigV4 credential scope; signatures are not checked.
func (s *Server) ServeHTTP(w http.ResponseWriter, hr *http.Request) {
	r := &request{http: hr, reqID: s.requestID()}
	m := credentialRe.FindStringSubmatch(hr.Header.Get("Authorization"))
	if m == nil {
		writeQueryError(w, r, errf(http.StatusForbidden, "MissingAuthenticationToken",
			"Request is missing Authentication Token"))
		return
	}
	r.akid, r.region, r.service = m[1], m[2], m[3]
	svc := s.svcs[r.service]
	if svc == nil {
		writeQueryError(w, r, errf(http.StatusBadRequest, "UnknownService", "service %q is not emulated", r.service))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, hr.Body, maxBody))
	if err != nil {
		svc.writeError(w, r, errf(http.StatusBadRequest, "IncompleteBody", "cannot read body: %v", err))
		return
	}
	r.body = body
	if e := svc.parse(r); e != nil {
		svc.writeError(w, r, e)
		return
	}
	s.mu.Lock()
	if id := s.creds[r.akid]; id != nil {
		caller := *id // a copy: ExpireCredentials may change the original
		r.caller = &caller
	}
	s.mu.Unlock()
	s.serve(w, r, svc)
}

// serve runs faults, hooks and the operation for a parsed request.
func (s *Server) serve(w http.ResponseWriter, r *request, svc service) {
	op := r.service + ":" + r.op
	call := Call{Op: op, Account: r.account(), Region: r.region, Request: r.http}
	if r.caller != nil {
		call.CallerARN = r.caller.arn
	}
	s.faults.count(op, call.Account)
	f := s.faults.take(r.http.Context(), op, call.Account)
	switch {
	case f.drop:
		dropConnection(w)
		return
	case f.kind >= 0:
		svc.writeError(w, r, svc.common(f.kind))
		return
	case f.denied:
		svc.writeError(w, r, svc.denied(r))
		return
	case r.caller == nil:
		svc.writeError(w, r, svc.common(errUnknownKey))
		return
	case r.caller.expired:
		svc.writeError(w, r, svc.common(errExpired))
		return
	}
	s.faults.runHooks(true, call)
	s.mu.Lock()
	rep, e := svc.handle(r)
	s.mu.Unlock()
	s.faults.runHooks(false, call)
	if e != nil {
		svc.writeError(w, r, e)
		return
	}
	writeReply(w, r, rep)
}

func (s *Server) requestID() string {
	id := s.hashID("", fmt.Sprint("req-", s.reqSeq.Add(1)))
	id = strings.ToLower(id)
	return fmt.Sprintf("%s-%s-%s-%s-%s", id[:8], id[8:12], id[12:16], id[16:20], id[20:32])
}

func writeReply(w http.ResponseWriter, r *request, rep *reply) {
	h := w.Header()
	h.Set("x-amzn-RequestId", r.reqID)
	if rep.contentType != "" {
		h.Set("Content-Type", rep.contentType)
	}
	for k, v := range rep.header {
		h.Set(k, v)
	}
	status := rep.status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	if r.http.Method != http.MethodHead {
		_, _ = w.Write(rep.body)
	}
}

// dropConnection closes the connection without an answer.
func dropConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}
