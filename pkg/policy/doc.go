// Package policy owns AWS policy documents and their evaluation.
//
// It parses every document shape AWS returns without losing anything
// (member order, string-versus-array shapes, number text, unknown members),
// edits documents by splicing only the parts that change, matches ARNs,
// actions and principals, and decides whether a request is allowed under
// identity policies, a permissions boundary and one resource policy.
//
// It makes no AWS calls and knows nothing about terminals.
package policy
