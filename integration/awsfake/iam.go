package awsfake

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
)

// IAM quotas, as GetAccountSummary reports them.
const (
	userInlineQuota   = 2048
	roleInlineQuota   = 10240
	groupInlineQuota  = 5120
	managedPolicySize = 6144
	attachedQuota     = 10
	versionsQuota     = 5
)

type entityKind int

const (
	kindUser entityKind = iota
	kindRole
	kindGroup
)

// kindSpec is what differs between users, roles and groups.
type kindSpec struct {
	name        string // User
	lower       string // user
	idPrefix    string
	inlineQuota int
}

var kinds = [...]kindSpec{
	kindUser:  {"User", "user", "AIDA", userInlineQuota},
	kindRole:  {"Role", "role", "AROA", roleInlineQuota},
	kindGroup: {"Group", "group", "AGPA", groupInlineQuota},
}

func (k entityKind) spec() kindSpec { return kinds[k] }

// entity is an IAM user, role or group.
type entity struct {
	kind        entityKind
	name, path  string
	id, arn     string
	created     time.Time
	inline      map[string]string // policy name → document as written
	attached    []string          // managed policy ARNs, in attach order
	boundary    string            // permissions boundary policy ARN
	trust       string            // role: AssumeRolePolicyDocument
	description string
	groups      []string // user: names of its groups
	tags        []iamTag // users and roles (tags.go)
}

type managedPolicy struct {
	name, path, id, arn string
	description         string
	created, updated    time.Time
	versions            []*policyVersion // oldest first
	defaultVersion      string
	nextVersion         int
}

type policyVersion struct {
	id      string
	doc     string
	created time.Time
}

// account is the per-account state: IAM entities and KMS aliases.
type account struct {
	id       string
	entities [len(kinds)]map[string]*entity
	policies map[string]*managedPolicy // by ARN
	aliases  map[string]map[string]*kmsAlias

	// attachedQuota, when set, is the account's raised quota of managed
	// policies per user, role and group (SetAttachedQuota).
	attachedQuota int
}

func newAccount(id string) *account {
	a := &account{id: id, policies: map[string]*managedPolicy{}, aliases: map[string]map[string]*kmsAlias{}}
	for k := range a.entities {
		a.entities[k] = map[string]*entity{}
	}
	return a
}

func (a *account) users() map[string]*entity { return a.entities[kindUser] }

// attached is the account's quota of managed policies per entity.
func (a *account) attached() int {
	if a.attachedQuota > 0 {
		return a.attachedQuota
	}
	return attachedQuota
}

// entityByARN finds a user, role or group by ARN.
func (a *account) entityByARN(arn string) *entity {
	for _, m := range a.entities {
		for _, e := range m {
			if e.arn == arn {
				return e
			}
		}
	}
	return nil
}

// roleARNByName returns the ARN of the role called name, or "".
func (a *account) roleARNByName(name string) string {
	if r := a.entities[kindRole][name]; r != nil {
		return r.arn
	}
	return ""
}

// entityByUniqueID finds an entity in any account. Caller holds s.mu.
func (s *Server) entityByUniqueID(id string) *entity {
	for _, a := range s.accounts {
		for _, m := range a.entities {
			for _, e := range m {
				if e.id == id {
					return e
				}
			}
		}
	}
	return nil
}

// newEntity builds (but does not store) an entity. Caller holds s.mu.
func (s *Server) newEntity(a *account, k entityKind, name, path string) *entity {
	return &entity{
		kind: k, name: name, path: path,
		id:      k.spec().idPrefix + s.nextID(17),
		arn:     fmt.Sprintf("arn:aws:iam::%s:%s%s%s", a.id, k.spec().lower, path, name),
		created: time.Now().UTC().Truncate(time.Second),
		inline:  map[string]string{},
	}
}

type iamService struct{ s *Server }

type iamHandler func(s *Server, a *account, r *request, f url.Values) (any, *apiError)

// kindHandler is an operation that exists for users, roles and groups.
type kindHandler func(s *Server, a *account, r *request, k entityKind, f url.Values) (any, *apiError)

// kindOps are the per-kind operations; %s stands for User, Role or Group.
var kindOps = map[string]kindHandler{
	"Create%s":                    (*Server).createEntity,
	"Get%s":                       (*Server).getEntity,
	"Delete%s":                    (*Server).deleteEntity,
	"Put%sPolicy":                 (*Server).putInline,
	"Get%sPolicy":                 (*Server).getInline,
	"Delete%sPolicy":              (*Server).deleteInline,
	"List%sPolicies":              (*Server).listInline,
	"Attach%sPolicy":              (*Server).attach,
	"Detach%sPolicy":              (*Server).detach,
	"ListAttached%sPolicies":      (*Server).listAttached,
	"Put%sPermissionsBoundary":    (*Server).putBoundary,
	"Delete%sPermissionsBoundary": (*Server).deleteBoundary,
}

var iamOps = map[string]iamHandler{
	"AddUserToGroup":      (*Server).addUserToGroup,
	"RemoveUserFromGroup": (*Server).removeUserFromGroup,
	"ListGroupsForUser":   (*Server).listGroupsForUser,
	"CreatePolicy":        (*Server).createPolicy,
	"GetPolicy":           (*Server).getPolicy,
	"DeletePolicy":        (*Server).deletePolicy,
	"CreatePolicyVersion": (*Server).createPolicyVersion,
	"GetPolicyVersion":    (*Server).getPolicyVersion,
	"ListPolicyVersions":  (*Server).listPolicyVersions,
	"DeletePolicyVersion": (*Server).deletePolicyVersion,
	"GetAccountSummary":   (*Server).getAccountSummary,
}

func init() {
	for k := range kinds {
		k := entityKind(k)
		for pattern, fn := range kindOps {
			if k == kindGroup && strings.Contains(pattern, "PermissionsBoundary") {
				continue // groups have no boundary
			}
			iamOps[fmt.Sprintf(pattern, k.spec().name)] = func(s *Server, a *account, r *request, f url.Values) (any, *apiError) {
				return fn(s, a, r, k, f)
			}
		}
	}
}

func (iamService) parse(r *request) *apiError {
	f, e := parseQuery(r)
	if e != nil {
		return e
	}
	if iamOps[r.op] == nil {
		return errf(http.StatusBadRequest, "InvalidAction", "Could not find operation %s for version 2010-05-08", r.op)
	}
	r.svcData = f
	return nil
}

func (v iamService) handle(r *request) (*reply, *apiError) {
	a := v.s.account(r.account())
	result, e := iamOps[r.op](v.s, a, r, r.svcData.(url.Values))
	if e != nil {
		return nil, e
	}
	return queryReply(r, iamNamespace, result)
}

func (iamService) common(kind errKind) *apiError {
	if kind == errInternal { // IAM's modelled 500
		return errf(http.StatusInternalServerError, "ServiceFailure", "The request processing has failed because of an unknown error, exception or failure.")
	}
	return queryCommon(kind)
}

func (iamService) denied(r *request) *apiError { return queryDenied(r, iamResource(r)) }

func (iamService) writeError(w http.ResponseWriter, r *request, e *apiError) {
	writeQueryError(w, r, e)
}

// queryCommon is the IAM and STS spelling of the shared errors.
func queryCommon(kind errKind) *apiError {
	switch kind {
	case errThrottled:
		return errf(http.StatusBadRequest, "Throttling", "Rate exceeded")
	case errUnavailable:
		return errf(http.StatusServiceUnavailable, "ServiceUnavailable", "Service is unavailable")
	case errExpired:
		return errf(http.StatusForbidden, "ExpiredToken", "The security token included in the request is expired")
	case errUnknownKey:
		return errf(http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid.")
	}
	return errf(http.StatusInternalServerError, "InternalFailure", "An internal error occurred")
}

// queryDenied is IAM's and STS's AccessDenied for r on resource.
func queryDenied(r *request, resource string) *apiError {
	caller := "anonymous"
	if r.caller != nil {
		caller = r.caller.arn
	}
	return errf(http.StatusForbidden, "AccessDenied", "User: %s is not authorized to perform: %s:%s on resource: %s",
		caller, r.service, r.op, resource)
}

// iamResource names the ARN an IAM request acts on, for AccessDenied.
func iamResource(r *request) string {
	f, _ := r.svcData.(url.Values)
	acct := r.account()
	for _, k := range kinds {
		if name := f.Get(k.name + "Name"); name != "" {
			return fmt.Sprintf("arn:aws:iam::%s:%s/%s", acct, k.lower, name)
		}
	}
	if arn := f.Get("PolicyArn"); arn != "" {
		return arn
	}
	if f.Get("PolicyName") != "" {
		return fmt.Sprintf("arn:aws:iam::%s:policy/%s", acct, f.Get("PolicyName"))
	}
	return "*"
}

// --- parameters and errors -------------------------------------------------

var iamNameRe = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)

// required returns form value name or a ValidationError.
func required(f url.Values, name string) (string, *apiError) {
	v := f.Get(name)
	if v == "" {
		return "", errf(http.StatusBadRequest, "ValidationError",
			"1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", lowerFirst(name))
	}
	return v, nil
}

// requiredName is required plus IAM's name character rules.
func requiredName(f url.Values, name string) (string, *apiError) {
	v, e := required(f, name)
	if e == nil && !iamNameRe.MatchString(v) {
		e = errf(http.StatusBadRequest, "ValidationError",
			"1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+", v, lowerFirst(name))
	}
	return v, e
}

func lowerFirst(s string) string { return strings.ToLower(s[:1]) + s[1:] }

func pathParam(f url.Values) (string, *apiError) {
	p := f.Get("Path")
	if p == "" {
		return "/", nil
	}
	if !strings.HasPrefix(p, "/") || !strings.HasSuffix(p, "/") || len(p) > 512 {
		return "", errf(http.StatusBadRequest, "ValidationError", "The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.")
	}
	return p, nil
}

func noSuchEntity(format string, args ...any) *apiError {
	return errf(http.StatusNotFound, "NoSuchEntity", format, args...)
}

func malformed(format string, args ...any) *apiError {
	return errf(http.StatusBadRequest, "MalformedPolicyDocument", format, args...)
}

func limitExceeded(format string, args ...any) *apiError {
	return errf(http.StatusConflict, "LimitExceeded", format, args...)
}

func deleteConflict(format string, args ...any) *apiError {
	return errf(http.StatusConflict, "DeleteConflict", format, args...)
}

// lookup returns the entity named by the kind's Name parameter.
func (a *account) lookup(k entityKind, f url.Values) (*entity, *apiError) {
	name, e := requiredName(f, k.spec().name+"Name")
	if e != nil {
		return nil, e
	}
	ent := a.entities[k][name]
	if ent == nil {
		return nil, noSuchEntity("The %s with name %s cannot be found.", k.spec().lower, name)
	}
	return ent, nil
}

// identityPolicy validates an identity-based policy document.
func identityPolicy(doc string) (policyDoc, *apiError) {
	p, err := parsePolicy(doc)
	if err != nil {
		return nil, malformed("Syntax errors in policy. %v", err)
	}
	if p.hasPrincipalElement() {
		return nil, malformed("Policy document should not specify a principal.")
	}
	return p, nil
}

// --- XML shapes --------------------------------------------------------------

type boundaryXML struct {
	PermissionsBoundaryArn  string
	PermissionsBoundaryType string
}

type entityXML struct {
	Path                     string
	UserName                 string `xml:",omitempty"`
	UserID                   string `xml:"UserId,omitempty"`
	RoleName                 string `xml:",omitempty"`
	RoleID                   string `xml:"RoleId,omitempty"`
	GroupName                string `xml:",omitempty"`
	GroupID                  string `xml:"GroupId,omitempty"`
	Arn                      string
	CreateDate               string
	AssumeRolePolicyDocument string       `xml:",omitempty"`
	Description              string       `xml:",omitempty"`
	MaxSessionDuration       int          `xml:",omitempty"`
	PermissionsBoundary      *boundaryXML `xml:",omitempty"`
	// Tags are filled only in the answers about one user or role (Get,
	// Create): as in IAM, ListUsers, ListRoles and GetGroup's member list
	// leave them out (tags.go).
	Tags members[iamTag] `xml:",omitempty"`
}

func (e *entity) xml() entityXML {
	x := entityXML{Path: e.path, Arn: e.arn, CreateDate: isoTime(e.created)}
	switch e.kind {
	case kindUser:
		x.UserName, x.UserID = e.name, e.id
	case kindRole:
		x.RoleName, x.RoleID = e.name, e.id
		x.AssumeRolePolicyDocument = urlEncodeDocument(e.trust)
		x.Description, x.MaxSessionDuration = e.description, 3600
	case kindGroup:
		x.GroupName, x.GroupID = e.name, e.id
	}
	if e.boundary != "" {
		x.PermissionsBoundary = &boundaryXML{e.boundary, "PermissionsBoundaryPolicy"}
	}
	return x
}

// entityNames sets the UserName/RoleName/GroupName member of a result.
type entityNames struct {
	UserName  string `xml:",omitempty"`
	RoleName  string `xml:",omitempty"`
	GroupName string `xml:",omitempty"`
}

func namesOf(e *entity) entityNames {
	var n entityNames
	switch e.kind {
	case kindUser:
		n.UserName = e.name
	case kindRole:
		n.RoleName = e.name
	case kindGroup:
		n.GroupName = e.name
	}
	return n
}

// singleEntity marshals as <User>, <Role> or <Group>. A user's or role's
// answer carries its tags, every one of them (at most 50, unpaginated), as
// GetUser and GetRole do.
func singleEntity(e *entity) any {
	x := e.xml()
	switch e.kind {
	case kindUser:
		x.Tags = e.tags
		return struct{ User entityXML }{x}
	case kindRole:
		x.Tags = e.tags
		return struct{ Role entityXML }{x}
	}
	return struct{ Group entityXML }{e.xml()}
}

// --- users, roles, groups ----------------------------------------------------

func (s *Server) createEntity(a *account, _ *request, k entityKind, f url.Values) (any, *apiError) {
	name, e := requiredName(f, k.spec().name+"Name")
	if e != nil {
		return nil, e
	}
	path, e := pathParam(f)
	if e != nil {
		return nil, e
	}
	if a.entities[k][name] != nil {
		return nil, errf(http.StatusConflict, "EntityAlreadyExists", "%s with name %s already exists.", k.spec().name, name)
	}
	ent := s.newEntity(a, k, name, path)
	if k == kindRole {
		trust, e := required(f, "AssumeRolePolicyDocument")
		if e != nil {
			return nil, e
		}
		if _, err := parsePolicy(trust); err != nil {
			return nil, malformed("Syntax errors in policy. %v", err)
		}
		ent.trust, ent.description = trust, f.Get("Description")
	}
	if b := f.Get("PermissionsBoundary"); b != "" && k != kindGroup {
		if _, e := s.policyByARN(a, b); e != nil {
			return nil, e
		}
		ent.boundary = b
	}
	a.entities[k][name] = ent
	return singleEntity(ent), nil
}

func (s *Server) getEntity(a *account, r *request, k entityKind, f url.Values) (any, *apiError) {
	if k == kindUser && f.Get("UserName") == "" {
		u := a.entityByARN(r.caller.arn)
		if u == nil || u.kind != kindUser {
			return nil, errf(http.StatusBadRequest, "ValidationError", "Must specify userName when calling with non-User credentials")
		}
		return singleEntity(u), nil
	}
	ent, e := a.lookup(k, f)
	if e != nil {
		return nil, e
	}
	if k != kindGroup {
		return singleEntity(ent), nil
	}
	// GetGroup also lists the members.
	var users []entityXML
	for _, u := range sortedEntities(a.users()) {
		if slices.Contains(u.groups, ent.name) {
			users = append(users, u.xml())
		}
	}
	return struct {
		Group       entityXML
		Users       members[entityXML] `xml:"Users"`
		IsTruncated bool
	}{ent.xml(), users, false}, nil
}

func sortedEntities(m map[string]*entity) []*entity {
	out := make([]*entity, 0, len(m))
	for _, e := range m {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

func (s *Server) deleteEntity(a *account, _ *request, k entityKind, f url.Values) (any, *apiError) {
	ent, e := a.lookup(k, f)
	if e != nil {
		return nil, e
	}
	switch {
	case len(ent.inline) > 0 || len(ent.attached) > 0:
		return nil, deleteConflict("Cannot delete entity, must delete policies first.")
	case len(ent.groups) > 0:
		return nil, deleteConflict("Cannot delete entity, must remove users from group first.")
	}
	if k == kindGroup {
		for _, u := range a.users() {
			if slices.Contains(u.groups, ent.name) {
				return nil, deleteConflict("Cannot delete entity, must remove users from group first.")
			}
		}
	}
	delete(a.entities[k], ent.name)
	if k != kindGroup {
		s.orphan(ent)
	}
	return nil, nil
}

// orphan replaces the ARN of a deleted user or role by its unique ID
// wherever a resource policy names it as a principal (key policies, bucket
// policies, trust policies), as AWS shows such policies afterwards.
func (s *Server) orphan(ent *entity) {
	replace := func(p string) (string, bool) { return ent.id, p == ent.arn }
	for _, k := range s.keys {
		k.policy = rewritePrincipals(k.policy, replace)
	}
	for _, b := range s.buckets {
		if b.policy != nil {
			doc := rewritePrincipals(*b.policy, replace)
			b.policy = &doc
		}
	}
	for _, a := range s.accounts {
		for _, r := range a.entities[kindRole] {
			r.trust = rewritePrincipals(r.trust, replace)
		}
	}
}

func (s *Server) deleteBoundary(a *account, _ *request, k entityKind, f url.Values) (any, *apiError) {
	ent, e := a.lookup(k, f)
	if e != nil {
		return nil, e
	}
	ent.boundary = ""
	return nil, nil
}

func (s *Server) putBoundary(a *account, _ *request, k entityKind, f url.Values) (any, *apiError) {
	ent, e := a.lookup(k, f)
	if e != nil {
		return nil, e
	}
	arn, e := required(f, "PermissionsBoundary")
	if e != nil {
		return nil, e
	}
	if _, e := s.policyByARN(a, arn); e != nil {
		return nil, e
	}
	ent.boundary = arn
	return nil, nil
}

func (s *Server) addUserToGroup(a *account, r *request, f url.Values) (any, *apiError) {
	g, e := a.lookup(kindGroup, f)
	if e != nil {
		return nil, e
	}
	u, e := a.lookup(kindUser, f)
	if e != nil {
		return nil, e
	}
	if !slices.Contains(u.groups, g.name) {
		u.groups = append(u.groups, g.name)
	}
	return nil, nil
}

func (s *Server) removeUserFromGroup(a *account, r *request, f url.Values) (any, *apiError) {
	g, e := a.lookup(kindGroup, f)
	if e != nil {
		return nil, e
	}
	u, e := a.lookup(kindUser, f)
	if e != nil {
		return nil, e
	}
	i := slices.Index(u.groups, g.name)
	if i < 0 {
		return nil, noSuchEntity("User %s is not in group %s.", u.name, g.name)
	}
	u.groups = slices.Delete(u.groups, i, i+1)
	return nil, nil
}

func (s *Server) listGroupsForUser(a *account, r *request, f url.Values) (any, *apiError) {
	u, e := a.lookup(kindUser, f)
	if e != nil {
		return nil, e
	}
	var groups []entityXML
	for _, name := range slices.Sorted(slices.Values(u.groups)) {
		if g := a.entities[kindGroup][name]; g != nil {
			groups = append(groups, g.xml())
		}
	}
	page, next, trunc, e := paginate(groups, f.Get("Marker"), f.Get("MaxItems"), 100, 1000)
	if e != nil {
		return nil, e
	}
	return struct {
		Groups      members[entityXML] `xml:"Groups"`
		IsTruncated bool
		Marker      string `xml:",omitempty"`
	}{page, trunc, next}, nil
}

// --- inline policies -------------------------------------------------------

func (s *Server) putInline(a *account, _ *request, k entityKind, f url.Values) (any, *apiError) {
	ent, e := a.lookup(k, f)
	if e != nil {
		return nil, e
	}
	name, e := requiredName(f, "PolicyName")
	if e != nil {
		return nil, e
	}
	doc, e := required(f, "PolicyDocument")
	if e != nil {
		return nil, e
	}
	if _, e := identityPolicy(doc); e != nil {
		return nil, e
	}
	total := nonSpaceLen(doc)
	for n, d := range ent.inline {
		if n != name {
			total += nonSpaceLen(d)
		}
	}
	if quota := k.spec().inlineQuota; total > quota {
		return nil, limitExceeded("Maximum policy size of %d bytes exceeded for %s %s", quota, k.spec().lower, ent.name)
	}
	ent.inline[name] = doc
	return nil, nil
}

func (s *Server) getInline(a *account, _ *request, k entityKind, f url.Values) (any, *apiError) {
	ent, e := a.lookup(k, f)
	if e != nil {
		return nil, e
	}
	name, e := required(f, "PolicyName")
	if e != nil {
		return nil, e
	}
	doc, ok := ent.inline[name]
	if !ok {
		return nil, noSuchEntity("The %s policy with name %s cannot be found.", k.spec().lower, name)
	}
	return struct {
		entityNames
		PolicyName     string
		PolicyDocument string
	}{namesOf(ent), name, urlEncodeDocument(doc)}, nil
}

func (s *Server) deleteInline(a *account, _ *request, k entityKind, f url.Values) (any, *apiError) {
	ent, e := a.lookup(k, f)
	if e != nil {
		return nil, e
	}
	name, e := required(f, "PolicyName")
	if e != nil {
		return nil, e
	}
	if _, ok := ent.inline[name]; !ok {
		return nil, noSuchEntity("The %s policy with name %s cannot be found.", k.spec().lower, name)
	}
	delete(ent.inline, name)
	return nil, nil
}

func (s *Server) listInline(a *account, _ *request, k entityKind, f url.Values) (any, *apiError) {
	ent, e := a.lookup(k, f)
	if e != nil {
		return nil, e
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range ent.inline {
			if !yield(n) {
				return
			}
		}
	})
	page, next, trunc, e := paginate(names, f.Get("Marker"), f.Get("MaxItems"), 100, 1000)
	if e != nil {
		return nil, e
	}
	return struct {
		PolicyNames members[string] `xml:"PolicyNames"`
		IsTruncated bool
		Marker      string `xml:",omitempty"`
	}{page, trunc, next}, nil
}

// --- attached managed policies ---------------------------------------------

type attachedXML struct {
	PolicyName string
	PolicyArn  string
}

func (s *Server) attach(a *account, _ *request, k entityKind, f url.Values) (any, *apiError) {
	ent, e := a.lookup(k, f)
	if e != nil {
		return nil, e
	}
	arn, e := required(f, "PolicyArn")
	if e != nil {
		return nil, e
	}
	if _, e := s.policyByARN(a, arn); e != nil {
		return nil, e
	}
	if slices.Contains(ent.attached, arn) {
		return nil, nil
	}
	if len(ent.attached) >= a.attached() {
		return nil, limitExceeded("Cannot exceed quota for PoliciesPer%s: %d", k.spec().name, a.attached())
	}
	ent.attached = append(ent.attached, arn)
	return nil, nil
}

func (s *Server) detach(a *account, _ *request, k entityKind, f url.Values) (any, *apiError) {
	ent, e := a.lookup(k, f)
	if e != nil {
		return nil, e
	}
	arn, e := required(f, "PolicyArn")
	if e != nil {
		return nil, e
	}
	i := slices.Index(ent.attached, arn)
	if i < 0 {
		return nil, noSuchEntity("Policy %s was not found.", arn)
	}
	ent.attached = slices.Delete(ent.attached, i, i+1)
	return nil, nil
}

func (s *Server) listAttached(a *account, _ *request, k entityKind, f url.Values) (any, *apiError) {
	ent, e := a.lookup(k, f)
	if e != nil {
		return nil, e
	}
	var list []attachedXML
	for _, arn := range ent.attached {
		if p, _ := s.policyByARN(a, arn); p != nil {
			list = append(list, attachedXML{p.name, p.arn})
		}
	}
	page, next, trunc, e := paginate(list, f.Get("Marker"), f.Get("MaxItems"), 100, 1000)
	if e != nil {
		return nil, e
	}
	return struct {
		AttachedPolicies members[attachedXML] `xml:"AttachedPolicies"`
		IsTruncated      bool
		Marker           string `xml:",omitempty"`
	}{page, trunc, next}, nil
}

// --- managed policies ------------------------------------------------------

// policyByARN finds a managed policy of account a or an AWS managed policy.
func (s *Server) policyByARN(a *account, arn string) (*managedPolicy, *apiError) {
	p := a.policies[arn]
	if p == nil {
		p = s.awsPols[arn]
	}
	if p == nil {
		return nil, noSuchEntity("Policy %s does not exist or is not attachable.", arn)
	}
	return p, nil
}

func (p *managedPolicy) version(id string) *policyVersion {
	for _, v := range p.versions {
		if v.id == id {
			return v
		}
	}
	return nil
}

// managedDocument validates a managed policy document and its size.
func managedDocument(doc string) *apiError {
	if _, e := identityPolicy(doc); e != nil {
		return e
	}
	if nonSpaceLen(doc) > managedPolicySize {
		return limitExceeded("Cannot exceed quota for PolicySize: %d", managedPolicySize)
	}
	return nil
}

type policyXML struct {
	PolicyName                    string
	PolicyID                      string `xml:"PolicyId"`
	Arn                           string
	Path                          string
	DefaultVersionID              string `xml:"DefaultVersionId"`
	AttachmentCount               int
	PermissionsBoundaryUsageCount int
	IsAttachable                  bool
	Description                   string `xml:",omitempty"`
	CreateDate                    string
	UpdateDate                    string
}

// policyXML describes p; attachments are counted over all accounts.
func (s *Server) policyXML(p *managedPolicy) policyXML {
	x := policyXML{PolicyName: p.name, PolicyID: p.id, Arn: p.arn, Path: p.path,
		DefaultVersionID: p.defaultVersion, IsAttachable: true, Description: p.description,
		CreateDate: isoTime(p.created), UpdateDate: isoTime(p.updated)}
	for _, a := range s.accounts {
		for _, m := range a.entities {
			for _, e := range m {
				if slices.Contains(e.attached, p.arn) {
					x.AttachmentCount++
				}
				if e.boundary == p.arn {
					x.PermissionsBoundaryUsageCount++
				}
			}
		}
	}
	return x
}

type versionXML struct {
	Document         string `xml:",omitempty"`
	VersionID        string `xml:"VersionId"`
	IsDefaultVersion bool
	CreateDate       string
}

func (p *managedPolicy) versionXML(v *policyVersion, withDoc bool) versionXML {
	x := versionXML{VersionID: v.id, IsDefaultVersion: v.id == p.defaultVersion, CreateDate: isoTime(v.created)}
	if withDoc {
		x.Document = urlEncodeDocument(v.doc)
	}
	return x
}

// newManagedPolicy builds a policy with version v1. Caller holds s.mu.
func (s *Server) newManagedPolicy(owner, name, path, doc string) *managedPolicy {
	now := time.Now().UTC().Truncate(time.Second)
	return &managedPolicy{
		name: name, path: path, id: "ANPA" + s.nextID(17),
		arn:     fmt.Sprintf("arn:aws:iam::%s:policy%s%s", owner, path, name),
		created: now, updated: now, nextVersion: 2, defaultVersion: "v1",
		versions: []*policyVersion{{id: "v1", doc: doc, created: now}},
	}
}

func (s *Server) createPolicy(a *account, r *request, f url.Values) (any, *apiError) {
	name, e := requiredName(f, "PolicyName")
	if e != nil {
		return nil, e
	}
	path, e := pathParam(f)
	if e != nil {
		return nil, e
	}
	doc, e := required(f, "PolicyDocument")
	if e != nil {
		return nil, e
	}
	if e := managedDocument(doc); e != nil {
		return nil, e
	}
	p := s.newManagedPolicy(a.id, name, path, doc)
	if a.policies[p.arn] != nil {
		return nil, errf(http.StatusConflict, "EntityAlreadyExists", "A policy called %s already exists. Duplicate names are not allowed.", name)
	}
	p.description = f.Get("Description")
	a.policies[p.arn] = p
	return struct{ Policy policyXML }{s.policyXML(p)}, nil
}

// ownPolicy finds a policy by PolicyArn; write is true for changes, which
// only the owner account may make.
func (s *Server) ownPolicy(a *account, f url.Values, write bool) (*managedPolicy, *apiError) {
	arn, e := required(f, "PolicyArn")
	if e != nil {
		return nil, e
	}
	p, e := s.policyByARN(a, arn)
	if e != nil {
		return nil, e
	}
	if write && a.policies[arn] == nil {
		return nil, errf(http.StatusForbidden, "AccessDenied", "You cannot modify the AWS managed policy %s.", arn)
	}
	return p, nil
}

func (s *Server) getPolicy(a *account, r *request, f url.Values) (any, *apiError) {
	p, e := s.ownPolicy(a, f, false)
	if e != nil {
		return nil, e
	}
	return struct{ Policy policyXML }{s.policyXML(p)}, nil
}

func (s *Server) deletePolicy(a *account, r *request, f url.Values) (any, *apiError) {
	p, e := s.ownPolicy(a, f, true)
	if e != nil {
		return nil, e
	}
	x := s.policyXML(p)
	switch {
	case x.AttachmentCount > 0 || x.PermissionsBoundaryUsageCount > 0:
		return nil, deleteConflict("Cannot delete a policy attached to entities.")
	case len(p.versions) > 1:
		return nil, deleteConflict("This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.")
	}
	delete(a.policies, p.arn)
	return nil, nil
}

func (s *Server) createPolicyVersion(a *account, r *request, f url.Values) (any, *apiError) {
	p, e := s.ownPolicy(a, f, true)
	if e != nil {
		return nil, e
	}
	doc, e := required(f, "PolicyDocument")
	if e != nil {
		return nil, e
	}
	if e := managedDocument(doc); e != nil {
		return nil, e
	}
	if len(p.versions) >= versionsQuota {
		return nil, limitExceeded("A managed policy can have up to %d versions. Before you create a new version, you must delete an existing version.", versionsQuota)
	}
	now := time.Now().UTC().Truncate(time.Second)
	v := &policyVersion{id: fmt.Sprintf("v%d", p.nextVersion), doc: doc, created: now}
	p.nextVersion++
	p.versions = append(p.versions, v)
	if f.Get("SetAsDefault") == "true" {
		p.defaultVersion, p.updated = v.id, now
	}
	return struct{ PolicyVersion versionXML }{p.versionXML(v, false)}, nil
}

func (s *Server) getPolicyVersion(a *account, r *request, f url.Values) (any, *apiError) {
	p, e := s.ownPolicy(a, f, false)
	if e != nil {
		return nil, e
	}
	id, e := required(f, "VersionId")
	if e != nil {
		return nil, e
	}
	v := p.version(id)
	if v == nil {
		return nil, noSuchEntity("Policy %s version %s does not exist or is not attachable.", p.arn, id)
	}
	return struct{ PolicyVersion versionXML }{p.versionXML(v, true)}, nil
}

func (s *Server) listPolicyVersions(a *account, r *request, f url.Values) (any, *apiError) {
	p, e := s.ownPolicy(a, f, false)
	if e != nil {
		return nil, e
	}
	var list []versionXML
	for i := len(p.versions) - 1; i >= 0; i-- { // newest first
		list = append(list, p.versionXML(p.versions[i], false))
	}
	page, next, trunc, e := paginate(list, f.Get("Marker"), f.Get("MaxItems"), 100, 1000)
	if e != nil {
		return nil, e
	}
	return struct {
		Versions    members[versionXML] `xml:"Versions"`
		IsTruncated bool
		Marker      string `xml:",omitempty"`
	}{page, trunc, next}, nil
}

func (s *Server) deletePolicyVersion(a *account, r *request, f url.Values) (any, *apiError) {
	p, e := s.ownPolicy(a, f, true)
	if e != nil {
		return nil, e
	}
	id, e := required(f, "VersionId")
	if e != nil {
		return nil, e
	}
	i := slices.IndexFunc(p.versions, func(v *policyVersion) bool { return v.id == id })
	switch {
	case i < 0:
		return nil, noSuchEntity("Policy %s version %s does not exist.", p.arn, id)
	case id == p.defaultVersion:
		return nil, deleteConflict("Cannot delete the default version of a policy.")
	}
	p.versions = slices.Delete(p.versions, i, i+1)
	return nil, nil
}

func (s *Server) getAccountSummary(a *account, r *request, f url.Values) (any, *apiError) {
	type entry struct {
		Key   string `xml:"key"`
		Value int    `xml:"value"`
	}
	versions := 0
	for _, p := range a.policies {
		versions += len(p.versions)
	}
	summary := []entry{
		{"Users", len(a.entities[kindUser])}, {"UsersQuota", 5000},
		{"Groups", len(a.entities[kindGroup])}, {"GroupsQuota", 300},
		{"Roles", len(a.entities[kindRole])}, {"RolesQuota", 1000},
		{"Policies", len(a.policies)}, {"PoliciesQuota", 1500},
		{"PolicyVersionsInUse", versions}, {"PolicyVersionsInUseQuota", 10000},
		{"UserPolicySizeQuota", userInlineQuota},
		{"RolePolicySizeQuota", roleInlineQuota},
		{"GroupPolicySizeQuota", groupInlineQuota},
		{"PolicySizeQuota", managedPolicySize},
		{"AttachedPoliciesPerUserQuota", a.attached()},
		{"AttachedPoliciesPerRoleQuota", a.attached()},
		{"AttachedPoliciesPerGroupQuota", a.attached()},
		{"VersionsPerPolicyQuota", versionsQuota},
		{"GroupsPerUserQuota", 10},
		{"AccessKeysPerUserQuota", 2},
		{"AssumeRolePolicySizeQuota", 2048},
		{"InstanceProfilesQuota", 1000},
		{"ServerCertificatesQuota", 20},
		{"MFADevicesInUse", 0}, {"MFADevices", 0},
		{"AccountMFAEnabled", 0},
	}
	return struct {
		SummaryMap []entry `xml:"SummaryMap>entry"`
	}{summary}, nil
}
