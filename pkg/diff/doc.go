// Package diff is the planner: from the state of the documents that decide
// one principal's access to one bucket, it works out which requests the
// principal needs, which of them today's documents refuse and why, and the
// smallest change that allows them, as a Plan of plain data.
//
// It adds or extends only bucketgrant's own statements (recognised by Sid),
// never edits or removes anyone else's, reports explicit denies instead of
// touching them, and checks every merged document with the evaluator before
// proposing it. SCPs and RCPs, when the state holds the organization, are
// evaluated in every decision and block what they deny (org.go); it never
// proposes changes to them. It makes no AWS calls and knows nothing about terminals or
// colour: rendering lives in cmd/bucketgrant, writing in pkg/apply.
package diff
