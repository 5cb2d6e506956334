package awsfake

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// KMS grants: CreateGrant, ListGrants (paginated with Limit/Marker and
// Truncated, as KMS does: Limit 1 to 100, default 50), RevokeGrant and
// RetireGrant by key and grant ID. A grant is stored as given; like AWS,
// ListGrants and CreateGrant work on another account's key named by its
// ARN. Grants authorise nothing here: the server evaluates no policies.

type kmsGrant struct {
	id, name, grantee, retiring, issuer string
	operations                          []string
	subset, equals                      map[string]string
	created                             time.Time
}

type grantInput struct {
	GrantID           string `json:"GrantId"`
	GranteePrincipal  string
	RetiringPrincipal string
	Name              string
	Operations        []string
	Constraints       *grantConstraints
}

type grantConstraints struct {
	EncryptionContextSubset map[string]string `json:",omitempty"`
	EncryptionContextEquals map[string]string `json:",omitempty"`
}

// kmsGrantOperations are the operations a grant may list (KMS API
// Reference, CreateGrant).
var kmsGrantOperations = []string{
	"Decrypt", "Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "ReEncryptFrom", "ReEncryptTo",
	"Sign", "Verify", "GetPublicKey", "CreateGrant", "RetireGrant", "DescribeKey", "GenerateDataKeyPair",
	"GenerateDataKeyPairWithoutPlaintext", "GenerateMac", "VerifyMac", "DeriveSharedSecret",
}

func init() {
	kmsOps["CreateGrant"] = (*Server).createGrant
	kmsOps["ListGrants"] = (*Server).listGrants
	kmsOps["RevokeGrant"] = (*Server).revokeGrant
	kmsOps["RetireGrant"] = (*Server).retireGrant
}

func kmsValidation(format string, args ...any) *apiError {
	return errf(http.StatusBadRequest, "ValidationException", format, args...)
}

func (s *Server) createGrant(r *request, in *kmsInput) (any, *apiError) {
	k, e := s.resolveKey(r, in.KeyID, false)
	if e != nil {
		return nil, e
	}
	if in.GranteePrincipal == "" {
		return nil, kmsValidation("1 validation error detected: Value null at 'granteePrincipal' failed to satisfy constraint: Member must not be null")
	}
	if !strings.HasPrefix(in.GranteePrincipal, "arn:") && !strings.HasSuffix(in.GranteePrincipal, ".amazonaws.com") {
		return nil, kmsValidation("Invalid principal %s", in.GranteePrincipal)
	}
	if len(in.Operations) == 0 {
		return nil, kmsValidation("1 validation error detected: Value '[]' at 'operations' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	for _, op := range in.Operations {
		valid := false
		for _, o := range kmsGrantOperations {
			valid = valid || o == op
		}
		if !valid {
			return nil, kmsValidation("1 validation error detected: Value '[%s]' at 'operations' failed to satisfy enum value set", op)
		}
	}
	if k.state == "PendingDeletion" {
		return nil, errf(http.StatusBadRequest, "KMSInvalidStateException", "%s is pending deletion.", k.arn)
	}
	sum := sha256.Sum256([]byte(s.nextID(32)))
	g := &kmsGrant{
		id: hex.EncodeToString(sum[:]), name: in.Name, grantee: in.GranteePrincipal, retiring: in.RetiringPrincipal,
		issuer: "arn:aws:iam::" + k.account + ":root", operations: append([]string(nil), in.Operations...),
		created: time.Now().UTC(),
	}
	if c := in.Constraints; c != nil {
		g.subset, g.equals = c.EncryptionContextSubset, c.EncryptionContextEquals
	}
	k.grants = append(k.grants, g)
	return struct {
		GrantID    string `json:"GrantId"`
		GrantToken string
	}{g.id, "token-" + g.id}, nil
}

type grantListEntry struct {
	KeyID             string `json:"KeyId"`
	GrantID           string `json:"GrantId"`
	Name              string
	CreationDate      float64
	GranteePrincipal  string
	RetiringPrincipal string `json:",omitempty"`
	IssuingAccount    string
	Operations        []string
	Constraints       *grantConstraints `json:",omitempty"`
}

func (s *Server) listGrants(r *request, in *kmsInput) (any, *apiError) {
	k, e := s.resolveKey(r, in.KeyID, false)
	if e != nil {
		return nil, e
	}
	var list []grantListEntry
	for _, g := range k.grants {
		if in.GrantID != "" && g.id != in.GrantID || in.GranteePrincipal != "" && g.grantee != in.GranteePrincipal {
			continue
		}
		ent := grantListEntry{KeyID: k.arn, GrantID: g.id, Name: g.name, CreationDate: float64(g.created.Unix()),
			GranteePrincipal: g.grantee, RetiringPrincipal: g.retiring, IssuingAccount: g.issuer, Operations: g.operations}
		if g.subset != nil || g.equals != nil {
			ent.Constraints = &grantConstraints{g.subset, g.equals}
		}
		list = append(list, ent)
	}
	limit := ""
	if in.Limit != 0 {
		limit = strconv.Itoa(in.Limit)
	}
	page, next, trunc, e := paginate(list, in.Marker, limit, 50, 100)
	if e != nil {
		if e.code == "InvalidInput" {
			e.code = "InvalidMarkerException"
		} else {
			e.code = "ValidationException"
		}
		return nil, e
	}
	return struct {
		Grants     []grantListEntry
		NextMarker string `json:",omitempty"`
		Truncated  bool
	}{nonNil(page), next, trunc}, nil
}

func (s *Server) revokeGrant(r *request, in *kmsInput) (any, *apiError) {
	k, e := s.resolveKey(r, in.KeyID, false)
	if e != nil {
		return nil, e
	}
	return nil, k.dropGrant(in.GrantID)
}

func (s *Server) retireGrant(r *request, in *kmsInput) (any, *apiError) {
	k, e := s.resolveKey(r, in.KeyID, false)
	if e != nil {
		return nil, e
	}
	return nil, k.dropGrant(in.GrantID)
}

func (k *kmsKey) dropGrant(id string) *apiError {
	for i, g := range k.grants {
		if g.id == id {
			k.grants = append(k.grants[:i], k.grants[i+1:]...)
			return nil
		}
	}
	return errf(http.StatusBadRequest, "NotFoundException", "Grant ID %s not found", id)
}
