package policy

// Effect is a statement's Effect. AWS accepts exactly "Allow" and "Deny".
type Effect string

const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// Versions a policy document may declare.
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// Strings is a value AWS accepts either as one string or as an array of
// strings (Action, Resource, principal values, condition values). Single
// records that the source gave a bare string, so writing back keeps the shape.
type Strings struct {
	Values []string
	Single bool
}

// Principal is the value of a Principal or NotPrincipal element.
// Star is the bare "*" form; {"AWS":"*"} is kept as AWS holding "*".
// A nil slice means the type was absent; Keys keeps the types in source order.
type Principal struct {
	Star          bool
	AWS           []string
	Service       []string
	Federated     []string
	CanonicalUser []string
}

// Condition is one key under one operator of a Condition block, in document
// order. Values holds each value as text: JSON strings unquoted, booleans and
// numbers as they were written (true, 10, 1.50).
type Condition struct {
	Operator string // as written, e.g. "ForAnyValue:StringLikeIfExists"
	Op       Operator
	Key      string // as written; keys compare case-insensitively
	Values   []string
}

// Statement is the typed, read-only view of one statement. Index is its
// position in the document's Statement list (0 for a single-object
// Statement). Pointers and nil slices mean "absent".
type Statement struct {
	Index        int
	Sid          string
	HasSid       bool
	Effect       Effect
	Principal    *Principal
	NotPrincipal *Principal
	Action       *Strings
	NotAction    *Strings
	Resource     *Strings
	NotResource  *Strings
	Conditions   []Condition
}

// Ref names a statement for people: the document, its index and its Sid.
type Ref struct {
	Document string `json:"document"`
	Index    int    `json:"index"`
	Sid      string `json:"sid,omitempty"`
}
