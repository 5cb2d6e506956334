// Package awsstate reads, through the AWS SDK, the documents that decide one
// IAM principal's access to one S3 bucket (the bucket's settings and policy,
// the KMS key of its default encryption and that key's policy, and every
// identity policy of the principal) into a state.State, and, with
// organization credentials, the SCPs and RCPs above those accounts
// (org.go).
//
// It only reads: it never writes to AWS and never calls anything with a side
// effect (DescribeKey on a predefined alias/aws/* alias creates the AWS
// managed key, so those aliases are resolved through ListAliases). Each
// consumer of the SDK declares the narrow interface it calls, with the SDK's
// own method signatures, so *s3.Client, *kms.Client, *iam.Client and
// *sts.Client satisfy them and tests use small fakes. AWS errors are
// classified in one place (errors.go) into errors a person can act on.
package awsstate
