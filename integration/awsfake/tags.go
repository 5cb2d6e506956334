package awsfake

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// IAM tags of users and roles: TagUser, UntagUser, ListUserTags and the
// Role forms, in the query protocol (Tags.member.N.Key/Value in,
// <Tags><member><Key>…</Key><Value>…</Value></member></Tags> out, paginated
// with Marker/MaxItems and IsTruncated). As IAM does, tag keys are unique
// whatever their case (tagging an existing key in another case replaces
// its value and keeps the old spelling), and an entity holds at most 50.
//
// Roles AWS owns: writing the policies of an IAM Identity Center role
// (path /aws-reserved/sso.amazonaws.com/) or a service-linked role (path
// /aws-service-role/) fails with UnmodifiableEntity, as IAM answers.

type iamTag struct {
	Key   string
	Value string
}

const maxTags = 50

func init() {
	for _, k := range []entityKind{kindUser, kindRole} {
		k := k
		name := k.spec().name
		iamOps["Tag"+name] = func(s *Server, a *account, r *request, f url.Values) (any, *apiError) { return s.tagEntity(a, k, f) }
		iamOps["Untag"+name] = func(s *Server, a *account, r *request, f url.Values) (any, *apiError) { return s.untagEntity(a, k, f) }
		iamOps["List"+name+"Tags"] = func(s *Server, a *account, r *request, f url.Values) (any, *apiError) { return s.listTags(a, k, f) }
	}
	// iam.go's init (run before this file's) registers the role
	// operations; those that change a role's permissions refuse AWS's own
	// roles.
	for _, op := range []string{"PutRolePolicy", "DeleteRolePolicy", "AttachRolePolicy", "DetachRolePolicy", "PutRolePermissionsBoundary", "DeleteRolePermissionsBoundary"} {
		next := iamOps[op]
		if next == nil {
			panic("awsfake: " + op + " is not registered before tags.go's init")
		}
		iamOps[op] = func(s *Server, a *account, r *request, f url.Values) (any, *apiError) {
			if ent := a.entities[kindRole][f.Get("RoleName")]; ent != nil && protectedPath(ent.path) {
				return nil, errf(http.StatusBadRequest, "UnmodifiableEntity", "Cannot perform the operation on the protected role '%s' - this role is only modifiable by AWS", ent.name)
			}
			return next(s, a, r, f)
		}
	}
}

func protectedPath(path string) bool {
	return strings.HasPrefix(path, "/aws-reserved/sso.amazonaws.com/") || strings.HasPrefix(path, "/aws-service-role/")
}

func (s *Server) tagEntity(a *account, k entityKind, f url.Values) (any, *apiError) {
	ent, e := a.lookup(k, f)
	if e != nil {
		return nil, e
	}
	for i := 1; ; i++ {
		key, ok := f[fmt.Sprintf("Tags.member.%d.Key", i)]
		if !ok {
			if i == 1 {
				return nil, errf(http.StatusBadRequest, "ValidationError", "1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null")
			}
			break
		}
		if len(key) != 1 || key[0] == "" || len(key[0]) > 128 || strings.HasPrefix(strings.ToLower(key[0]), "aws:") {
			return nil, errf(http.StatusBadRequest, "InvalidInput", "Invalid tag key %q", strings.Join(key, ","))
		}
		val := f.Get(fmt.Sprintf("Tags.member.%d.Value", i))
		replaced := false
		for j := range ent.tags {
			if strings.EqualFold(ent.tags[j].Key, key[0]) {
				ent.tags[j].Value, replaced = val, true
			}
		}
		if !replaced {
			if len(ent.tags) >= maxTags {
				return nil, limitExceeded("The number of tags has reached the maximum limit.")
			}
			ent.tags = append(ent.tags, iamTag{key[0], val})
		}
	}
	return nil, nil
}

func (s *Server) untagEntity(a *account, k entityKind, f url.Values) (any, *apiError) {
	ent, e := a.lookup(k, f)
	if e != nil {
		return nil, e
	}
	for i := 1; ; i++ {
		key, ok := f[fmt.Sprintf("TagKeys.member.%d", i)]
		if !ok {
			break
		}
		kept := ent.tags[:0]
		for _, t := range ent.tags {
			if !strings.EqualFold(t.Key, key[0]) {
				kept = append(kept, t)
			}
		}
		ent.tags = kept
	}
	return nil, nil
}

func (s *Server) listTags(a *account, k entityKind, f url.Values) (any, *apiError) {
	ent, e := a.lookup(k, f)
	if e != nil {
		return nil, e
	}
	page, next, trunc, e := paginate(ent.tags, f.Get("Marker"), f.Get("MaxItems"), 100, 1000)
	if e != nil {
		return nil, e
	}
	return struct {
		Tags        members[iamTag] `xml:"Tags"`
		IsTruncated bool
		Marker      string `xml:",omitempty"`
	}{page, trunc, next}, nil
}
