package awsfake

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"time"
)

type stsService struct{ s *Server }

func (stsService) parse(r *request) *apiError {
	f, e := parseQuery(r)
	if e != nil {
		return e
	}
	if r.op != "GetCallerIdentity" && r.op != "AssumeRole" {
		return errf(http.StatusBadRequest, "InvalidAction", "Could not find operation %s for version 2011-06-15", r.op)
	}
	r.svcData = f
	return nil
}

func (v stsService) handle(r *request) (*reply, *apiError) {
	var result any
	var e *apiError
	switch r.op {
	case "GetCallerIdentity":
		result = struct {
			Account string
			Arn     string
			UserID  string `xml:"UserId"`
		}{r.caller.account, r.caller.arn, r.caller.userID}
	case "AssumeRole":
		result, e = v.s.assumeRole(r, r.svcData.(url.Values))
	}
	if e != nil {
		return nil, e
	}
	return queryReply(r, stsNamespace, result)
}

func (stsService) common(kind errKind) *apiError { return queryCommon(kind) }

func (stsService) denied(r *request) *apiError {
	f, _ := r.svcData.(url.Values)
	res := f.Get("RoleArn")
	if res == "" {
		res = "*"
	}
	return queryDenied(r, res)
}

func (stsService) writeError(w http.ResponseWriter, r *request, e *apiError) {
	writeQueryError(w, r, e)
}

var roleARNRe = regexp.MustCompile(`^arn:aws:iam::([0-9]{12}):role(/.*/|/)([\w+=,.@-]+)$`)

// assumeRole issues session credentials for a role whose trust policy lets
// the caller (by ARN, its role, its account root or ID, or "*") assume it.
func (s *Server) assumeRole(r *request, f url.Values) (any, *apiError) {
	roleARN, e := required(f, "RoleArn")
	if e != nil {
		return nil, e
	}
	session, e := requiredName(f, "RoleSessionName")
	if e != nil {
		return nil, e
	}
	duration := 3600
	if d := f.Get("DurationSeconds"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || n < 900 || n > 43200 {
			return nil, errf(http.StatusBadRequest, "ValidationError", "1 validation error detected: Value '%s' at 'durationSeconds' failed to satisfy constraint", d)
		}
		duration = n
	}
	m := roleARNRe.FindStringSubmatch(roleARN)
	if m == nil {
		return nil, errf(http.StatusBadRequest, "ValidationError", "%s is invalid", roleARN)
	}
	a := s.accounts[m[1]]
	var role *entity
	if a != nil {
		role = a.entityByARN(roleARN)
	}
	if role == nil || !s.trusts(role, r.caller) {
		return nil, queryDenied(r, roleARN)
	}
	sessionARN := "arn:aws:sts::" + a.id + ":assumed-role/" + role.name + "/" + session
	id := &identity{account: a.id, arn: sessionARN, userID: role.id + ":" + session, roleARN: role.arn}
	c := s.issueKey(id, "ASIA", true)
	type credsXML struct {
		AccessKeyID     string `xml:"AccessKeyId"`
		SecretAccessKey string
		SessionToken    string
		Expiration      string
	}
	type userXML struct {
		AssumedRoleID string `xml:"AssumedRoleId"`
		Arn           string
	}
	return struct {
		Credentials      credsXML
		AssumedRoleUser  userXML
		PackedPolicySize int
	}{
		credsXML{c.AccessKeyID, c.SecretAccessKey, c.SessionToken,
			isoTime(time.Now().Add(time.Duration(duration) * time.Second))},
		userXML{id.userID, sessionARN}, 0,
	}, nil
}

// trusts reports whether role's trust policy allows caller to assume it.
func (s *Server) trusts(role *entity, caller *identity) bool {
	p, err := parsePolicy(role.trust)
	return err == nil && p.allows("sts:AssumeRole", caller.principalNames())
}

// principalNames are the strings a policy may use to name the identity.
func (id *identity) principalNames() []string {
	names := []string{id.arn, id.account, "arn:aws:iam::" + id.account + ":root"}
	if id.roleARN != "" {
		names = append(names, id.roleARN)
	}
	return names
}
