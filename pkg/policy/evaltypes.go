package policy

// Decision is the outcome of evaluating one request.
type Decision string

const (
	Allowed          Decision = "Allowed"
	ImplicitlyDenied Decision = "ImplicitlyDenied"
	ExplicitlyDenied Decision = "ExplicitlyDenied"
)

// ResourceType says which service owns the resource policy, because the
// services differ in how identity and resource policies combine: a KMS key
// policy is authoritative (identity policies count only for what it
// delegates to the principal's account); S3 combines the two.
type ResourceType int

const (
	ResourceS3 ResourceType = iota
	ResourceKMSKey
)

// Named is a parsed document and the name people know it by, such as an ARN,
// "inline policy bucketgrant-x of user/Jane", or "key policy of arn:…".
type Named struct {
	Name string
	Doc  *Document
	// Ignore, when set, marks statements (by index) that evaluation
	// leaves out, as if the document did not hold them, while Refs keep
	// the document's own indexes. Only Allow statements should be left
	// out: a planner uses it to ask what access stands without another
	// grant's statements.
	Ignore []bool
}

// Policies are the documents that decide one request.
type Policies struct {
	Identity     []Named // inline, attached and group policies of the principal
	Boundary     *Named  // the principal's permissions boundary, nil if none
	Resource     *Named  // the bucket policy or key policy, nil if none
	ResourceType ResourceType
	// Grants are the KMS grants of the key (ResourceKMSKey only; see
	// Grant for how they combine with the policies).
	Grants []Grant
	// SCP and RCP are the organization levels whose service and resource
	// control policies apply to the request (orgeval.go), from the root
	// down; nil where none apply.
	SCP, RCP []OrgLevel
}

// Caller is the principal making a request. ARN is a user or role ARN, or an
// assumed-role session ARN (arn:aws:sts::A:assumed-role/Role/Session);
// UniqueID is the user's or role's unique ID (AIDA…/AROA…), "" if unknown.
type Caller struct {
	ARN      string
	Account  string
	UniqueID string
}

// Request is one API request to decide. Context holds the condition keys the
// caller supplied, by name (compared case-insensitively); a key not in
// Context is absent from the request. Values of single-valued keys are
// one-element slices.
type Request struct {
	Principal       Caller
	Action          string
	Resource        string
	ResourceAccount string
	Context         map[string][]string
}

// Result is a decision and why. Allows lists the statements whose Allow took
// effect, Denies the explicit denies that matched; MissingKeys lists the
// condition keys (canonical lower case) that statements matching in
// principal, action and resource referenced but the request did not supply,
// so callers can say "allowed only if …".
type Result struct {
	Decision    Decision
	Allows      []Ref
	Denies      []Ref
	MissingKeys []string
	// Limit, on an implicit deny, is the organization level that allows
	// nothing for the request (orgeval.go); nil otherwise.
	Limit *Limit
}
