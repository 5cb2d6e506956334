// Package policy owns AWS policy documents and their evaluation.
//
// It parses every document shape AWS returns without losing anything
// (member order, string-versus-array shapes, number text, unknown members),
// edits documents by splicing only the parts that change, matches ARNs,
// actions and principals, and decides whether a request is allowed under
// identity policies, a permissions boundary, one resource policy and the
// organization's SCPs and RCPs that apply (orgeval.go). It
// also decides questions about every string a set of glob patterns can
// match at once (globset.go): which objects of a prefix a statement's
// Resource covers, with a witness for each answer.
//
// It makes no AWS calls and knows nothing about terminals.
package policy
