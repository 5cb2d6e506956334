package state

// Grant is one KMS grant on a key, as kms:ListGrants reports it. bucketgrant
// only reads grants: it never creates, retires or revokes one, because a
// grant belongs to whoever created it (often an AWS service acting for a
// resource) and nothing in a plan could say what else depends on it.
type Grant struct {
	ID   string
	Name string
	// GranteePrincipal is the ARN of the identity the grant gives its
	// operations to (a user, a role, an assumed-role session, an account
	// root, or a service principal for grants made to an AWS service).
	GranteePrincipal  string
	RetiringPrincipal string
	IssuingAccount    string
	// Operations are KMS operation names without the "kms:" prefix
	// (Decrypt, GenerateDataKey, ...), as the grant lists them.
	Operations []string
	// Constraints, nil where the grant has none: the grant applies only to
	// requests whose encryption context contains every pair of
	// EncryptionContextSubset, or is exactly EncryptionContextEquals.
	Constraints *GrantConstraints

	Source Source
}

// GrantConstraints are a grant's encryption-context constraints (KMS
// GrantConstraints). A nil map means the constraint is not set; an empty
// one is set with no pairs.
type GrantConstraints struct {
	EncryptionContextSubset map[string]string
	EncryptionContextEquals map[string]string
}

// Tag is one IAM tag on a user or role.
type Tag struct {
	Key   string
	Value string
}
