package awsfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// AWS Organizations, JSON 1.1 (X-Amz-Target AWSOrganizationsV20161128.*):
// the read calls bucketgrant makes (DescribeOrganization, ListRoots,
// ListParents, ListPoliciesForTarget, DescribePolicy) answered from
// organizations seeded with AddOrganization. Only the management account and
// delegated administrators may call them; other members get
// AccessDeniedException, and accounts outside every organization
// AWSOrganizationsNotInUseException, as AWS answers.

// Policy types, as Organizations spells them.
const (
	SCP = "SERVICE_CONTROL_POLICY"
	RCP = "RESOURCE_CONTROL_POLICY"
)

// AWS's own full-access policies, attached everywhere when a type is
// enabled.
const (
	fullSCPID  = "p-FullAWSAccess"
	fullRCPID  = "p-RCPFullAWSAccess"
	fullSCPDoc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	fullRCPDoc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`
)

// Organization is a seeded organization. Its methods are safe for
// concurrent use (they take the server's lock).
type Organization struct {
	s          *Server
	ID         string
	RootID     string
	Management string
	enabled    []string
	delegated  []string
	parent     map[string]string // account or OU → parent
	ouNames    map[string]string
	policies   map[string]*orgPolicy
	attached   map[string][]string // target → policy IDs, in attachment order
	seq        int
	// PageSize is how many items a list call answers per page when the
	// caller does not say (AWS's default is 20); tests lower it to make
	// callers paginate. Set it before serving.
	PageSize int
}

type orgPolicy struct {
	id, name, typ, content string
	awsManaged             bool
}

// AddOrganization creates an organization whose management account is
// management (registered if new), with all features, its root, and no
// policy type enabled.
func (s *Server) AddOrganization(management string) *Organization {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.account(management)
	n := len(s.orgs) + 1
	o := &Organization{s: s, Management: management,
		ID: fmt.Sprintf("o-%010d", n), RootID: fmt.Sprintf("r-%04d", n),
		parent: map[string]string{}, ouNames: map[string]string{}, policies: map[string]*orgPolicy{}, attached: map[string][]string{}}
	o.parent[management] = o.RootID
	s.orgs = append(s.orgs, o)
	return o
}

// EnablePolicyType enables SCP or RCP and attaches AWS's full-access policy
// of that type to the root, every OU and every account, as AWS does.
func (o *Organization) EnablePolicyType(typ string) {
	o.s.mu.Lock()
	defer o.s.mu.Unlock()
	if slices.Contains(o.enabled, typ) {
		return
	}
	o.enabled = append(o.enabled, typ)
	id, name, doc := fullSCPID, "FullAWSAccess", fullSCPDoc
	if typ == RCP {
		id, name, doc = fullRCPID, "RCPFullAWSAccess", fullRCPDoc
	}
	o.policies[id] = &orgPolicy{id: id, name: name, typ: typ, content: doc, awsManaged: true}
	for _, t := range o.allTargets() {
		o.attached[t] = append(o.attached[t], id)
	}
}

func (o *Organization) allTargets() []string {
	out := []string{o.RootID}
	for t := range o.parent {
		out = append(out, t)
	}
	slices.Sort(out[1:])
	return out
}

// AddOU creates an OU under parent (the root or another OU) and returns its
// ID. It gets the full-access policies of the enabled types.
func (o *Organization) AddOU(parent, name string) string {
	o.s.mu.Lock()
	defer o.s.mu.Unlock()
	o.seq++
	id := fmt.Sprintf("ou-%s-%08d", strings.TrimPrefix(o.RootID, "r-"), o.seq)
	o.parent[id], o.ouNames[id] = parent, name
	o.attachFull(id)
	return id
}

func (o *Organization) attachFull(target string) {
	for _, typ := range o.enabled {
		if typ == SCP {
			o.attached[target] = append(o.attached[target], fullSCPID)
		} else {
			o.attached[target] = append(o.attached[target], fullRCPID)
		}
	}
}

// AddAccount makes account (registered if new) a member under parent.
func (o *Organization) AddAccount(account, parent string) {
	o.s.mu.Lock()
	defer o.s.mu.Unlock()
	o.s.account(account)
	if _, ok := o.parent[account]; !ok {
		o.attachFull(account)
	}
	o.parent[account] = parent
}

// Delegate makes account a delegated administrator for Organizations
// policies: it may read the organization's hierarchy and policies.
func (o *Organization) Delegate(account string) {
	o.s.mu.Lock()
	defer o.s.mu.Unlock()
	o.delegated = append(o.delegated, account)
}

// CreatePolicy creates a customer managed SCP or RCP and returns its ID.
func (o *Organization) CreatePolicy(typ, name, content string) string {
	o.s.mu.Lock()
	defer o.s.mu.Unlock()
	o.seq++
	id := fmt.Sprintf("p-%08d", o.seq)
	o.policies[id] = &orgPolicy{id: id, name: name, typ: typ, content: content}
	return id
}

// Attach attaches a policy to a target (the root, an OU or an account).
func (o *Organization) Attach(policyID, target string) {
	o.s.mu.Lock()
	defer o.s.mu.Unlock()
	if !slices.Contains(o.attached[target], policyID) {
		o.attached[target] = append(o.attached[target], policyID)
	}
}

// Detach removes a policy from a target.
func (o *Organization) Detach(policyID, target string) {
	o.s.mu.Lock()
	defer o.s.mu.Unlock()
	o.attached[target] = slices.DeleteFunc(o.attached[target], func(id string) bool { return id == policyID })
}

// orgOf returns the organization account belongs to, or nil. Caller holds
// s.mu.
func (s *Server) orgOf(account string) *Organization {
	for _, o := range s.orgs {
		if _, ok := o.parent[account]; ok {
			return o
		}
	}
	return nil
}

type orgService struct{ s *Server }

type orgInput struct {
	ChildID    string `json:"ChildId"`
	TargetID   string `json:"TargetId"`
	PolicyID   string `json:"PolicyId"`
	Filter     string
	MaxResults int
	NextToken  string
}

var orgOps = map[string]func(o *Organization, r *request, in *orgInput) (any, *apiError){
	"DescribeOrganization":  (*Organization).describe,
	"ListRoots":             (*Organization).listRoots,
	"ListParents":           (*Organization).listParents,
	"ListPoliciesForTarget": (*Organization).listPoliciesForTarget,
	"DescribePolicy":        (*Organization).describePolicy,
}

func (orgService) parse(r *request) *apiError {
	target := r.http.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, "AWSOrganizationsV20161128.")
	if !ok || orgOps[op] == nil {
		return errf(http.StatusBadRequest, "UnknownOperationException", "unknown operation %q", target)
	}
	r.op = op
	in := &orgInput{}
	if len(r.body) > 0 {
		if err := json.Unmarshal(r.body, in); err != nil {
			return errf(http.StatusBadRequest, "SerializationException", "cannot decode request: %v", err)
		}
	}
	r.svcData = in
	return nil
}

func (v orgService) handle(r *request) (*reply, *apiError) {
	o := v.s.orgOf(r.account())
	if o == nil {
		return nil, errf(http.StatusBadRequest, "AWSOrganizationsNotInUseException", "Your account is not a member of an organization.")
	}
	if r.account() != o.Management && !slices.Contains(o.delegated, r.account()) {
		return nil, v.denied(r)
	}
	out, e := orgOps[r.op](o, r, r.svcData.(*orgInput))
	if e != nil {
		return nil, e
	}
	return jsonReply(out)
}

func (orgService) common(kind errKind) *apiError {
	switch kind {
	case errThrottled:
		return errf(http.StatusBadRequest, "TooManyRequestsException", "AWS Organizations can't complete your request because another request is already in progress. Try again later.")
	case errUnavailable:
		return errf(http.StatusServiceUnavailable, "ServiceException", "AWS Organizations can't complete your request because of an internal service error. Try again later.")
	case errExpired:
		return errf(http.StatusBadRequest, "ExpiredTokenException", "The security token included in the request is expired")
	case errUnknownKey:
		return errf(http.StatusBadRequest, "UnrecognizedClientException", "The security token included in the request is invalid.")
	}
	return errf(http.StatusInternalServerError, "ServiceException", "AWS Organizations can't complete your request because of an internal service error. Try again later.")
}

func (orgService) denied(*request) *apiError {
	return errf(http.StatusBadRequest, "AccessDeniedException", "You don't have permissions to access this resource.")
}

func (orgService) writeError(w http.ResponseWriter, r *request, e *apiError) { writeJSONError(w, r, e) }

func (o *Organization) arn(kind, id string) string {
	if kind == "organization" {
		return fmt.Sprintf("arn:aws:organizations::%s:organization/%s", o.Management, o.ID)
	}
	return fmt.Sprintf("arn:aws:organizations::%s:%s/%s/%s", o.Management, kind, o.ID, id)
}

func (o *Organization) typeSummaries() []map[string]string {
	out := []map[string]string{}
	for _, t := range o.enabled {
		out = append(out, map[string]string{"Type": t, "Status": "ENABLED"})
	}
	return out
}

func (o *Organization) describe(*request, *orgInput) (any, *apiError) {
	return map[string]any{"Organization": map[string]any{
		"Id": o.ID, "Arn": o.arn("organization", ""), "FeatureSet": "ALL",
		"MasterAccountArn":   fmt.Sprintf("arn:aws:organizations::%s:account/%s/%s", o.Management, o.ID, o.Management),
		"MasterAccountEmail": "admin+" + o.Management + "@example.com", "MasterAccountId": o.Management,
		// Deprecated by AWS in favour of ListRoots, and always empty.
		"AvailablePolicyTypes": []any{},
	}}, nil
}

func (o *Organization) listRoots(_ *request, in *orgInput) (any, *apiError) {
	roots := []any{map[string]any{"Id": o.RootID, "Arn": o.arn("root", o.RootID), "Name": "Root", "PolicyTypes": o.typeSummaries()}}
	return o.page("Roots", roots, in)
}

func (o *Organization) listParents(_ *request, in *orgInput) (any, *apiError) {
	if in.ChildID == "" {
		return nil, invalidInput("ChildId")
	}
	p, ok := o.parent[in.ChildID]
	if !ok {
		return nil, errf(http.StatusBadRequest, "ChildNotFoundException", "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified.")
	}
	typ := "ORGANIZATIONAL_UNIT"
	if p == o.RootID {
		typ = "ROOT"
	}
	return o.page("Parents", []any{map[string]any{"Id": p, "Type": typ}}, in)
}

func (o *Organization) listPoliciesForTarget(_ *request, in *orgInput) (any, *apiError) {
	if in.TargetID == "" {
		return nil, invalidInput("TargetId")
	}
	if in.Filter == "" {
		return nil, invalidInput("Filter")
	}
	if _, ok := o.parent[in.TargetID]; !ok && in.TargetID != o.RootID {
		return nil, errf(http.StatusBadRequest, "TargetNotFoundException", "We can't find a root, OU, account, or policy with the TargetId that you specified.")
	}
	var items []any
	for _, id := range o.attached[in.TargetID] {
		p := o.policies[id]
		if p == nil || p.typ != in.Filter {
			continue
		}
		items = append(items, o.summary(p))
	}
	return o.page("Policies", items, in)
}

func (o *Organization) summary(p *orgPolicy) map[string]any {
	return map[string]any{"Id": p.id, "Arn": o.arn("policy", p.id), "Name": p.name, "Description": "", "Type": p.typ, "AwsManaged": p.awsManaged}
}

func (o *Organization) describePolicy(_ *request, in *orgInput) (any, *apiError) {
	p := o.policies[in.PolicyID]
	if p == nil {
		return nil, errf(http.StatusBadRequest, "PolicyNotFoundException", "We can't find a policy with the PolicyId that you specified.")
	}
	return map[string]any{"Policy": map[string]any{"PolicySummary": o.summary(p), "Content": p.content}}, nil
}

func invalidInput(field string) *apiError {
	return errf(http.StatusBadRequest, "InvalidInputException", "You provided a value that does not match the required pattern: %s", field)
}

// page answers one page of a list call: MaxResults items from NextToken
// (an offset), with NextToken set while more remain.
func (o *Organization) page(name string, items []any, in *orgInput) (any, *apiError) {
	if items == nil {
		items = []any{}
	}
	start := 0
	if in.NextToken != "" {
		n, err := strconv.Atoi(in.NextToken)
		if err != nil || n < 0 || n > len(items) {
			return nil, errf(http.StatusBadRequest, "InvalidInputException", "The NextToken is not valid.")
		}
		start = n
	}
	size := in.MaxResults
	if size <= 0 || size > 20 {
		size = 20
		if o.PageSize > 0 {
			size = o.PageSize
		}
	}
	end := min(start+size, len(items))
	out := map[string]any{name: items[start:end]}
	if end < len(items) {
		out["NextToken"] = strconv.Itoa(end)
	}
	return out, nil
}
