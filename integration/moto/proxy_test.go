package moto

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

// httpClient talks to moto directly (seeding, read-back, readiness).
var httpClient = &http.Client{}

// recorder is one test's window on moto: a reverse proxy on 127.0.0.1 that
// passes every request and answer through unchanged and counts the API
// operations by name ("kms:GetKeyPolicy"), the way moto saw them. moto's own
// request log names only the HTTP method and path, which for IAM, STS and
// KMS is always "POST /", so the operations are read here from what the SDK
// sent: the X-Amz-Target header (KMS), the Action form field (IAM, STS), or
// the method, path and sub-resource (S3).
type recorder struct {
	srv *httptest.Server

	mu     sync.Mutex
	counts map[string]int
	calls  []string // the operations in the order they arrived
	// bypass counts PutKeyPolicy and CreateKey requests that set
	// BypassPolicyLockoutSafetyCheck, which bucketgrant must never do.
	bypass int
}

func newRecorder(t *testing.T) *recorder {
	t.Helper()
	target, err := url.Parse(motoURL)
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{counts: map[string]int{}}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(target) },
		// moto closes the connection after many error answers (a
		// deviation from AWS, which keeps it open); the proxy's transport
		// opens a new one for the next request, and the binary sees the
		// answer moto gave.
		ErrorHandler: func(w http.ResponseWriter, req *http.Request, err error) {
			// A binary that stops at its first error cancels its other
			// calls in flight; only a failure the binary did not cause is
			// the test's.
			if req.Context().Err() == nil {
				t.Errorf("proxy to moto: %s %s: %v", req.Method, req.URL, err)
			}
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		r.record(req, body)
		proxy.ServeHTTP(w, req)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// URL is the proxy's address, the binary's AWS_ENDPOINT_URL.
func (r *recorder) URL() string { return r.srv.URL }

var scopeRe = regexp.MustCompile(`Credential=[^/]+/[0-9]{8}/[^/]+/([a-z0-9-]+)/aws4_request`)

func (r *recorder) record(req *http.Request, body []byte) {
	op := operation(req, body)
	bypass := false
	if op == "kms:PutKeyPolicy" || op == "kms:CreateKey" {
		var in struct{ BypassPolicyLockoutSafetyCheck bool }
		_ = json.Unmarshal(body, &in)
		bypass = in.BypassPolicyLockoutSafetyCheck
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.counts[op]++
	r.calls = append(r.calls, op)
	if bypass {
		r.bypass++
	}
}

// operation names the API operation of a request, "service:Operation".
func operation(req *http.Request, body []byte) string {
	service := "unknown"
	if m := scopeRe.FindStringSubmatch(req.Header.Get("Authorization")); m != nil {
		service = m[1]
	}
	if target := req.Header.Get("X-Amz-Target"); target != "" {
		return service + ":" + target[strings.LastIndexByte(target, '.')+1:]
	}
	if service == "s3" {
		return "s3:" + s3Operation(req)
	}
	if a := req.URL.Query().Get("Action"); a != "" {
		return service + ":" + a
	}
	if form, err := url.ParseQuery(string(body)); err == nil && form.Get("Action") != "" {
		return service + ":" + form.Get("Action")
	}
	return service + ":" + req.Method + " " + req.URL.Path
}

// s3Operation names a path-style S3 request by its method, whether it is on
// the bucket or an object, and its sub-resource.
func s3Operation(req *http.Request) string {
	path := strings.TrimPrefix(req.URL.Path, "/")
	onObject := strings.Contains(path, "/") && !strings.HasSuffix(path, "/")
	q := req.URL.Query()
	sub := ""
	for _, s := range []string{"policy", "encryption", "ownershipControls", "location", "acl", "versioning", "tagging", "uploads", "list-type"} {
		if q.Has(s) {
			sub = s
			break
		}
	}
	noun := map[string]string{"policy": "BucketPolicy", "encryption": "BucketEncryption", "ownershipControls": "BucketOwnershipControls",
		"location": "BucketLocation", "acl": "BucketAcl", "versioning": "BucketVersioning", "tagging": "BucketTagging"}
	verb := map[string]string{"GET": "Get", "PUT": "Put", "DELETE": "Delete", "HEAD": "Head", "POST": "Post"}[req.Method]
	switch {
	case path == "":
		return "ListBuckets"
	case onObject && sub == "acl":
		return verb + "ObjectAcl"
	case onObject:
		return verb + "Object"
	case sub == "list-type":
		return "ListObjectsV2"
	case noun[sub] != "":
		return verb + noun[sub]
	case req.Method == "HEAD":
		return "HeadBucket"
	case req.Method == "PUT":
		return "CreateBucket"
	case req.Method == "DELETE":
		return "DeleteBucket"
	case req.Method == "GET":
		return "ListObjects"
	}
	return req.Method + " " + sub
}

// bypassed is how many of the binary's KMS calls set
// BypassPolicyLockoutSafetyCheck.
func (r *recorder) bypassed() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.bypass
}

// take returns the counts since the last take and starts counting afresh.
func (r *recorder) take() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.counts
	r.counts = map[string]int{}
	r.calls = nil
	return out
}

// writes keeps the operations that change something.
func writes(counts map[string]int) map[string]int {
	out := map[string]int{}
	for op, n := range counts {
		name := op[strings.IndexByte(op, ':')+1:]
		for _, p := range []string{"Put", "Create", "Attach", "Delete", "Detach", "Update", "Set", "Schedule", "Disable", "Enable", "Tag", "Untag"} {
			if strings.HasPrefix(name, p) {
				out[op] = n
			}
		}
	}
	return out
}

func total(counts map[string]int) int {
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}

// formatCounts writes counts as "12 calls: iam:GetUser 1, ...", sorted.
func formatCounts(counts map[string]int) string {
	var parts []string
	for _, op := range slices.Sorted(maps.Keys(counts)) {
		parts = append(parts, fmt.Sprintf("%s %d", op, counts[op]))
	}
	return fmt.Sprintf("%d calls: %s", total(counts), strings.Join(parts, ", "))
}
