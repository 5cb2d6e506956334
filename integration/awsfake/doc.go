// Package awsfake is a local AWS-compatible test server for bucketgrant's
// integration tests. It speaks the wire protocols the AWS SDK for Go v2
// uses, so the SDK's own serialization, pagination and error mapping run in
// tests:
//
//   - STS and IAM: the AWS query protocol (form-encoded POST with Action=,
//     XML <OpResponse><OpResult>…, errors as <ErrorResponse>);
//   - KMS: JSON 1.1 (X-Amz-Target: TrentService.Op, errors as
//     {"__type":…,"message":…});
//   - S3: REST-XML, path-style bucket operations, errors as <Error>;
//   - Organizations: JSON 1.1 (X-Amz-Target: AWSOrganizationsV20161128.Op),
//     the read calls only, on organizations seeded with AddOrganization
//     (organizations.go).
//
// One endpoint serves all services. A request is routed by the credential
// scope of its SigV4 Authorization header
// (Credential=AKID/date/REGION/SERVICE/aws4_request); the access key ID
// decides the caller's account and identity, the scope's region is the
// request's region. Signatures are not verified.
//
// # Starting a server
//
//	srv := awsfake.Start(t)                  // 127.0.0.1, random port, closed by t.Cleanup
//	creds := srv.AddAccount("111122223333")  // account + IAM user "admin" + its access key
//	cfg, _ := srv.AWSConfig(ctx, creds, "us-east-1")
//	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
//
// A built binary is pointed at srv.URL with AWS_ENDPOINT_URL and the
// credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and
// AWS_SESSION_TOKEN for assumed roles). Because the endpoint is an IP
// address the SDK addresses S3 path-style by itself. AWSConfig limits the
// SDK to one attempt so that faults are seen directly.
//
// Other identities: NewCredentials(account, arn) issues a key for any user,
// role session or root ARN; sts:AssumeRole issues session credentials
// (ASIA…) for a role whose trust policy names the caller, its account root
// or ID, or "*".
//
// # State
//
// State lives in memory and is set up through the SDK like real AWS
// (CreateUser, CreateRole, CreateGroup, AddUserToGroup, Put*Policy,
// Attach*Policy, Put*PermissionsBoundary, CreatePolicy, CreateKey,
// CreateAlias, DisableKey, EnableKey, ScheduleKeyDeletion, CreateBucket,
// PutBucketEncryption, PutBucketOwnershipControls, PutBucketPolicy, and the
// matching deletes). The Go API in seed.go covers what the SDK cannot:
// CreateAWSManagedKey, AddAWSManagedPolicy, Set*Raw (store a document
// without any check, e.g. to plant an orphaned AIDA… principal),
// SetLegacyS3Defaults, SetAttachedQuota (a raised quota of attached
// managed policies, which AttachUserPolicy and GetAccountSummary follow),
// and getters for assertions (BucketPolicy, KeyPolicy, InlinePolicy,
// UniqueID, KeyARNs, BypassLockoutCount).
//
// Unique IDs (AIDA…, AROA…, AGPA…, ANPA…, key IDs) come from a counter, so
// a test that makes the same calls in the same order gets the same IDs.
//
// # Checks on writes
//
// As AWS does: policy documents must be JSON objects with a Statement and
// no duplicate member names (MalformedPolicyDocument / …Exception /
// MalformedPolicy); size limits (key policy 32,768 bytes, bucket policy
// 20 KB, managed policy 6,144 and inline aggregates 2,048 / 10,240 / 5,120
// non-white-space characters per user / role / group); principals in key
// and bucket policies must exist when their account is known to the server
// (bare unique IDs must match a live entity); PutKeyPolicy and CreateKey
// apply the lockout safety check unless BypassPolicyLockoutSafetyCheck is
// set. Deleting a user or role rewrites its ARN to its unique ID where it is
// a principal in key, bucket and trust policies, as AWS displays them.
//
// # Faults and accounting (faults.go)
//
// Operation names are "service:Operation" (e.g. "kms:GetKeyPolicy"); AnyOp
// ("*") matches all. SetLatency, Throttle, FailInternal, DropConnections,
// Deny/Allow, Before/After hooks, ExpireCredentials, ClearFaults, and the
// call counters Calls, AccountCalls, CallCounts, ResetCalls. Counts include
// calls answered by a fault. net/http resends an idempotent request (GET,
// HEAD) once by itself when a reused keep-alive connection is closed
// without an answer, so a dropped S3 GET may be retried transparently;
// disable keep-alives in the test's HTTP client to observe every drop.
//
// # Deliberately not emulated
//
//   - Signature verification, IAM policy evaluation for the caller (every
//     known key may call every operation unless Deny says otherwise), SCPs,
//     and eventual consistency.
//   - Object operations (GetObject, PutObject, …) and S3 bucket
//     subresources other than policy, encryption, ownershipControls and
//     location: they answer 501 NotImplemented. Virtual-hosted-style S3
//     addressing.
//   - KMS cryptographic operations, key tags, rotation, multi-Region
//     replicas (a multi-Region key is a primary key with an mrk- ID).
//     Grants are stored and listed (CreateGrant, ListGrants, RevokeGrant,
//     RetireGrant; grants.go) but authorise nothing.
//   - IAM listing of all users/roles/policies, access keys, instance
//     profiles, tags of anything but users and roles (TagUser, ListUserTags,
//     TagRole, ListRoleTags, …; tags.go; GetUser and GetRole return every
//     tag, as IAM does), and path-prefix filters on lists.
//     Writes to the policies of Identity Center and service-linked roles
//     fail with UnmodifiableEntity, as in IAM.
//   - S3 answers 301 PermanentRedirect (with x-amz-bucket-region) when the
//     request is signed for another region than the bucket's, except
//     GetBucketLocation, which answers from any region as AWS does.
//   - A non-owner account never gets bucket configuration (403 AccessDenied)
//     even if the bucket policy would allow it; HeadBucket and
//     GetBucketLocation always answer. AWS answers 405 to a non-owner's
//     PutBucketPolicy that the policy allows; this server answers 403.
//   - The lockout check ignores policy conditions, as a simulation would.
package awsfake
