// Package plangen generates random planning scenarios for the generated plan
// suite of pkg/diff: states built around the seed snapshots
// (examples/seed-*.json) whose bucket policies, key policies, identity
// policies and permissions boundaries mix the rule families bucketgrant must
// decide exactly (resource patterns with wildcards anywhere, conditions over
// every kind of condition key and operator, S3's KMS requests, keys in a
// third account, statements carrying bucketgrant's Sids, orphaned principal
// IDs), together with the grant to plan.
//
// It also holds the suite's own model of the requests a grant needs: the
// values AWS sets from facts and the values the client, the network path or
// facts bucketgrant cannot read may give each condition key (Scenario.Facts,
// Scenario.Free). The model is written from AWS's documentation
// independently of pkg/diff, so the suite can judge the contexts a plan names
// and search for changes a blocked plan says do not exist.
//
// Generation is seeded and reproducible: scenario i of seed s is the same on
// every run and machine. Every document stays inside the forms the oracle
// (internal/oracle) evaluates like AWS; the exclusions are listed at
// Gen.Scenario. It uses only pkg/diff's public names (the options, the
// levels and their defaults from the design, bucketgrant's Sids), never its
// reasoning.
package plangen
