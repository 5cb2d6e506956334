package sar

// Service is one service's part of the Service Authorization Reference.
type Service struct {
	Prefix        string // "s3", "kms"
	Actions       []Action
	ResourceTypes []ResourceType
	ConditionKeys []ConditionKey
}

// Action is one action's row.
type Action struct {
	Name        string // as AWS spells it: "GetObject"
	AccessLevel string // "Read", "Write", "List", "Permissions management, Write", ...
	Resources   []ActionResource
	// Keys are the condition keys on the action's own row: the request can
	// carry them whatever resource it names.
	Keys []string
}

// ActionResource is a resource type the action names, and the condition keys
// on that resource type's row of the action.
type ActionResource struct {
	Name     string
	Required bool
	Keys     []string
}

// ResourceType is a resource type of the service, with the condition keys the
// resource types table lists for it.
type ResourceType struct {
	Name string
	ARN  string
	Keys []string
}

// ConditionKey is a condition key a service defines and its value type
// (String, ARN, Bool, Numeric, Date, ArrayOfString, ...).
type ConditionKey struct {
	Name string
	Type string
}

// GlobalKey is a cross-service condition key, mostly aws:*.
type GlobalKey struct {
	Name     string
	Category string // principal, session, network, resource, request
	Type     string
}
