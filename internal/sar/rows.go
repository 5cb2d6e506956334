package sar

// The hand table: for each condition key (a name, or a family ending in *)
// and each request it covers, where the value comes from. Every row names its
// source; a key whose origin no source settles has no row, and Origin answers
// Unknown for it. Rows cover only keys the generated catalogue has (a test
// checks), and only requests whose action carries the key.
//
// The sources are AWS's documentation pages:
const (
	srcIAMKeys        = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html"
	srcFAS            = "https://docs.aws.amazon.com/IAM/latest/UserGuide/access_forward_access_sessions.html"
	srcPrincipalTable = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#principaltable"
	srcKMSCond        = "https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html"
	srcS3SSEKMS       = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html"
	srcS3BucketKey    = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html"
	srcS3Keys         = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html"
	srcS3SigV4        = "https://docs.aws.amazon.com/AmazonS3/latest/API/bucket-policy-s3-sigv4-conditions.html"
	srcS3AccessPoints = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-points-policies.html"
	srcSARS3          = "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html"
	srcSARKMS         = "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awskeymanagementservice.html"
)

type reqMask uint16

const (
	s3Own reqMask = 1<<GetObject | 1<<PutObject | 1<<ListBucket | 1<<GetObjectVersion | 1<<PutObjectAcl
	viaS3 reqMask = 1<<KMSDecrypt | 1<<KMSGenerateDataKey
	every         = s3Own | viaS3
)

// Presence by caller: UserKeys, UserSession, RoleSession.
var (
	always       = [3]Presence{Present, Present, Present}
	never        = [3]Presence{Absent, Absent, Absent}
	chosen       = [3]Presence{IfChosen, IfChosen, IfChosen}
	ifFact       = [3]Presence{IfFact, IfFact, IfFact}
	usersOnly    = [3]Presence{Present, Present, Absent}
	sessionsOnly = [3]Presence{Absent, Present, Present}
	roleIfFact   = [3]Presence{Absent, Absent, IfFact}
	mfaAge       = [3]Presence{Absent, IfChosen, IfChosen}
)

type row struct {
	key      string
	reqs     reqMask
	kind     Kind
	presence [3]Presence
	value    Value
	multi    bool
	rule     string
	source   string
}

var rows = []row{
	// The principal: FAS requests pass the principal's identity, permissions
	// and session attributes (srcFAS), so these hold for S3's KMS requests too.
	{key: "aws:PrincipalArn", reqs: every, kind: Fact, presence: always, value: ValuePrincipalARN,
		rule: "the user's ARN, or the role's ARN for a role session", source: srcIAMKeys + "#condition-keys-principalarn ; " + srcFAS},
	{key: "aws:PrincipalAccount", reqs: every, kind: Fact, presence: always, value: ValuePrincipalAccount,
		rule: "the principal's account", source: srcIAMKeys + "#condition-keys-principalaccount ; " + srcFAS},
	{key: "aws:PrincipalType", reqs: every, kind: Fact, presence: always, value: ValuePrincipalType,
		rule: "User for a user, AssumedRole for a role session", source: srcIAMKeys + "#condition-keys-principaltype ; " + srcPrincipalTable},
	{key: "aws:userid", reqs: every, kind: Fact, presence: always, value: ValueUserID,
		rule: "the user's unique ID, or ROLEID:session-name for a role session", source: srcIAMKeys + "#condition-keys-userid ; " + srcPrincipalTable},
	{key: "aws:username", reqs: every, kind: Fact, presence: usersOnly, value: ValueUsername,
		rule: "the user's name; role sessions do not carry it", source: srcIAMKeys + "#condition-keys-username"},
	{key: "aws:PrincipalIsAWSService", reqs: every, kind: Fact, presence: always, value: ValueFalse,
		rule: "false: an IAM principal's request, and a service's request made with the principal's credentials", source: srcIAMKeys + "#condition-keys-principalisawsservice"},
	{key: "aws:PrincipalServiceName", reqs: every, kind: ServiceOnly, presence: never,
		rule: "only on calls an AWS service principal makes; not on a principal's call nor on a service's call with its credentials", source: srcIAMKeys + "#condition-keys-principalservicename"},
	{key: "aws:PrincipalServiceNamesList", reqs: every, kind: ServiceOnly, presence: never, multi: true,
		rule: "only on calls an AWS service principal makes", source: srcIAMKeys + "#condition-keys-principalservicenameslist"},
	{key: "aws:PrincipalOrgID", reqs: every, kind: Unread, presence: ifFact,
		rule: "present only if the principal's account is in an organization; bucketgrant does not read the organization", source: srcIAMKeys + "#condition-keys-principalorgid"},
	{key: "aws:PrincipalOrgPaths", reqs: every, kind: Unread, presence: ifFact, multi: true,
		rule: "present only if the principal's account is in an organization; bucketgrant does not read the organization", source: srcIAMKeys + "#condition-keys-principalorgpaths"},
	{key: "aws:PrincipalTag/*", reqs: every, kind: Unread, presence: ifFact,
		rule: "present only if the user or role carries the tag (a role session also its session tags)", source: srcIAMKeys + "#condition-keys-principaltag ; " + srcFAS},

	// The session.
	{key: "aws:MultiFactorAuthPresent", reqs: s3Own, kind: Client, presence: sessionsOnly,
		rule: "only with temporary credentials: a user's long-term access keys carry no MFA key; a session carries true only if MFA was used when it was created", source: srcIAMKeys + "#condition-keys-multifactorauthpresent"},
	{key: "aws:MultiFactorAuthPresent", reqs: viaS3, kind: Client, presence: always,
		rule: "a service calling on with a user's long-term keys uses temporary credentials, so the key is present and false; for a session, true only if MFA was used", source: srcIAMKeys + "#condition-keys-multifactorauthpresent"},
	{key: "aws:MultiFactorAuthAge", reqs: every, kind: Client, presence: mfaAge,
		rule: "only if the credentials were authenticated with MFA: seconds since then", source: srcIAMKeys + "#condition-keys-multifactorauthage"},
	{key: "aws:TokenIssueTime", reqs: s3Own, kind: Client, presence: sessionsOnly,
		rule: "only with temporary credentials: when they were issued", source: srcIAMKeys + "#condition-keys-tokenissuetime"},
	{key: "aws:FederatedProvider", reqs: every, kind: Unread, presence: roleIfFact,
		rule: "only for a role session issued through a third-party identity provider", source: srcIAMKeys + "#condition-keys-federatedprovider ; " + srcFAS},
	{key: "aws:SourceIdentity", reqs: every, kind: Unread, presence: roleIfFact,
		rule: "only for a role session whose source identity was set when the role was assumed", source: srcIAMKeys + "#condition-keys-sourceidentity ; " + srcFAS},

	// The network path.
	{key: "aws:SourceIp", reqs: s3Own, kind: Network, presence: ifFact,
		rule: "the caller's public address; absent when the request comes through a VPC endpoint", source: srcIAMKeys + "#condition-keys-sourceip"},
	{key: "aws:SourceIp", reqs: viaS3, kind: Network, presence: ifFact,
		rule: "S3's KMS request keeps the address of the caller's request to S3's public endpoint; what it carries after a request through a VPC endpoint is not documented", source: srcFAS},
	{key: "aws:SourceVpc", reqs: s3Own, kind: Network, presence: ifFact,
		rule: "present only when the request comes through a VPC endpoint", source: srcIAMKeys + "#condition-keys-sourcevpc"},
	{key: "aws:SourceVpce", reqs: s3Own, kind: Network, presence: ifFact,
		rule: "present only when the request comes through a VPC endpoint", source: srcIAMKeys + "#condition-keys-sourcevpce"},
	{key: "aws:VpcSourceIp", reqs: s3Own, kind: Network, presence: ifFact,
		rule: "present only when the request comes through a VPC endpoint", source: srcIAMKeys + "#condition-keys-vpcsourceip"},
	{key: "aws:SourceVpc", reqs: viaS3, kind: Network, presence: never,
		rule: "S3's KMS request does not carry the VPC keys of the caller's request", source: srcFAS},
	{key: "aws:SourceVpce", reqs: viaS3, kind: Network, presence: never,
		rule: "S3's KMS request does not carry the VPC keys of the caller's request", source: srcFAS},
	{key: "aws:VpcSourceIp", reqs: viaS3, kind: Network, presence: never,
		rule: "S3's KMS request does not carry the VPC keys of the caller's request", source: srcFAS},

	// The request.
	{key: "aws:CurrentTime", reqs: every, kind: Fact, presence: always, value: ValueCurrentTime,
		rule: "the time of the request", source: srcIAMKeys + "#condition-keys-currenttime"},
	{key: "aws:EpochTime", reqs: every, kind: Fact, presence: always, value: ValueEpochTime,
		rule: "the time of the request in seconds since 1970", source: srcIAMKeys + "#condition-keys-epochtime"},
	{key: "aws:RequestedRegion", reqs: every, kind: Fact, presence: always, value: ValueRegion,
		rule: "the region the request is sent to: the bucket's, and for S3's KMS request the key's (the same region)", source: srcIAMKeys + "#condition-keys-requestedregion ; " + srcS3SSEKMS},
	{key: "aws:ViaAWSService", reqs: s3Own, kind: Fact, presence: always, value: ValueFalse,
		rule: "false on the principal's own call", source: srcIAMKeys + "#condition-keys-viaawsservice"},
	{key: "aws:ViaAWSService", reqs: viaS3, kind: Fact, presence: always, value: ValueTrue,
		rule: "true on a service's request made with the principal's credentials", source: srcIAMKeys + "#condition-keys-viaawsservice ; " + srcFAS},
	{key: "aws:CalledVia", reqs: s3Own, kind: Fact, presence: never, multi: true,
		rule: "not present when the principal makes the call directly", source: srcIAMKeys + "#condition-keys-calledvia"},
	{key: "aws:CalledViaFirst", reqs: s3Own, kind: Fact, presence: never,
		rule: "not present when the principal makes the call directly", source: srcIAMKeys + "#condition-keys-calledviafirst"},
	{key: "aws:CalledViaLast", reqs: s3Own, kind: Fact, presence: never,
		rule: "not present when the principal makes the call directly", source: srcIAMKeys + "#condition-keys-calledvialast"},
	// On S3's KMS request the sources disagree: the FAS page says the
	// CalledVia keys hold the calling service's principal on every FAS
	// request, the condition-keys page lists only Athena, CloudFormation,
	// DynamoDB and KMS as services that set them. Unknown until settled.
	{key: "aws:CalledVia", reqs: viaS3, kind: Unknown, presence: ifFact, value: ValueS3Principal, multi: true,
		rule: "s3.amazonaws.com if S3 sets the CalledVia keys on its KMS requests; AWS's pages disagree on whether it does", source: srcFAS + " ; " + srcIAMKeys + "#calledvia-services"},
	{key: "aws:CalledViaFirst", reqs: viaS3, kind: Unknown, presence: ifFact, value: ValueS3Principal,
		rule: "s3.amazonaws.com if S3 sets the CalledVia keys on its KMS requests; AWS's pages disagree on whether it does", source: srcFAS + " ; " + srcIAMKeys + "#calledvia-services"},
	{key: "aws:CalledViaLast", reqs: viaS3, kind: Unknown, presence: ifFact, value: ValueS3Principal,
		rule: "s3.amazonaws.com if S3 sets the CalledVia keys on its KMS requests; AWS's pages disagree on whether it does", source: srcFAS + " ; " + srcIAMKeys + "#calledvia-services"},
	{key: "aws:SecureTransport", reqs: s3Own, kind: Client, presence: always,
		rule: "true when the client uses HTTPS (SSE-KMS requests must)", source: srcIAMKeys + "#condition-keys-securetransport ; " + srcS3SSEKMS},
	{key: "aws:UserAgent", reqs: s3Own, kind: Client, presence: always,
		rule: "the client's User-Agent header", source: srcIAMKeys + "#condition-keys-useragent"},
	{key: "aws:referer", reqs: s3Own, kind: Client, presence: chosen,
		rule: "only when a browser follows a link; programmatic requests do not carry it", source: srcIAMKeys + "#condition-keys-referer"},
	{key: "aws:SourceArn", reqs: every, kind: ServiceOnly, presence: never,
		rule: "only when a service calls another on behalf of a resource owner", source: srcIAMKeys + "#condition-keys-sourcearn"},
	{key: "aws:SourceAccount", reqs: every, kind: ServiceOnly, presence: never,
		rule: "only when a service calls another on behalf of a resource owner", source: srcIAMKeys + "#condition-keys-sourceaccount"},

	// The resource.
	{key: "aws:ResourceAccount", reqs: every, kind: Fact, presence: always, value: ValueResourceAccount,
		rule: "the account that owns the bucket, or for S3's KMS request the key", source: srcIAMKeys + "#condition-keys-resourceaccount"},
	{key: "aws:ResourceOrgID", reqs: every, kind: Unread, presence: ifFact,
		rule: "present only if the resource's account is in an organization; bucketgrant does not read the organization", source: srcIAMKeys + "#condition-keys-resourceorgid"},
	{key: "aws:ResourceOrgPaths", reqs: every, kind: Unread, presence: ifFact, multi: true,
		rule: "present only if the resource's account is in an organization; bucketgrant does not read the organization", source: srcIAMKeys + "#condition-keys-resourceorgpaths"},
	{key: "aws:ResourceTag/*", reqs: every, kind: Unread, presence: ifFact,
		rule: "present only if the resource carries the tag; bucketgrant does not read tags", source: srcIAMKeys + "#condition-keys-resourcetag"},

	// S3's keys on the principal's own requests. Request headers and
	// parameters are the client's: the catalogue's descriptions name the
	// header each key reads.
	{key: "s3:x-amz-server-side-encryption", reqs: s3Own, kind: Client, presence: chosen,
		rule: "the x-amz-server-side-encryption header, when the client sends it", source: srcS3SSEKMS + " ; " + srcSARS3},
	{key: "s3:x-amz-server-side-encryption-aws-kms-key-id", reqs: s3Own, kind: Client, presence: chosen,
		rule: "the x-amz-server-side-encryption-aws-kms-key-id header, when the client sends it", source: srcS3SSEKMS + " ; " + srcSARS3},
	{key: "s3:x-amz-server-side-encryption-customer-algorithm", reqs: s3Own, kind: Client, presence: chosen,
		rule: "the SSE-C algorithm header, when the client sends it", source: srcSARS3},
	{key: "s3:x-amz-acl", reqs: s3Own, kind: Client, presence: chosen,
		rule: "the x-amz-acl header, when the client sends it", source: srcS3Keys + " ; " + srcSARS3},
	{key: "s3:x-amz-grant-*", reqs: s3Own, kind: Client, presence: chosen,
		rule: "the x-amz-grant-... header, when the client sends it", source: srcS3Keys + " ; " + srcSARS3},
	{key: "s3:x-amz-storage-class", reqs: s3Own, kind: Client, presence: chosen,
		rule: "the x-amz-storage-class header, when the client sends it", source: srcSARS3},
	{key: "s3:x-amz-website-redirect-location", reqs: s3Own, kind: Client, presence: chosen,
		rule: "the x-amz-website-redirect-location header, when the client sends it", source: srcSARS3},
	{key: "s3:x-amz-copy-source", reqs: s3Own, kind: Client, presence: chosen,
		rule: "the x-amz-copy-source header, sent only by a copy", source: srcS3Keys + " ; " + srcSARS3},
	{key: "s3:x-amz-metadata-directive", reqs: s3Own, kind: Client, presence: chosen,
		rule: "the x-amz-metadata-directive header, sent only by a copy", source: srcS3Keys + " ; " + srcSARS3},
	{key: "s3:x-amz-object-annotation-directive", reqs: s3Own, kind: Client, presence: chosen,
		rule: "the annotation copy directive a copy request sends", source: srcSARS3},
	{key: "s3:if-match", reqs: s3Own, kind: Client, presence: chosen,
		rule: "the If-Match header, when the client sends it", source: srcSARS3},
	{key: "s3:if-none-match", reqs: s3Own, kind: Client, presence: chosen,
		rule: "the If-None-Match header, when the client sends it", source: srcSARS3},
	{key: "s3:object-lock-*", reqs: s3Own, kind: Client, presence: chosen,
		rule: "the x-amz-object-lock-... headers, when the client sends them", source: srcS3Keys + " ; " + srcSARS3},
	{key: "s3:RequestObjectTag/*", reqs: s3Own, kind: Client, presence: chosen,
		rule: "a tag the upload's x-amz-tagging header sets", source: srcS3Keys + " ; " + srcSARS3},
	{key: "s3:RequestObjectTagKeys", reqs: s3Own, kind: Client, presence: chosen, multi: true,
		rule: "the tag keys the upload's x-amz-tagging header sets", source: srcS3Keys + " ; " + srcSARS3},
	{key: "s3:x-amz-content-sha256", reqs: s3Own, kind: Client, presence: chosen,
		rule: "the payload hash header of a Signature Version 4 request (UNSIGNED-PAYLOAD or the hash)", source: srcS3SigV4},
	{key: "s3:signatureversion", reqs: s3Own, kind: Client, presence: always,
		rule: "how the client signs: AWS (version 2) or AWS4-HMAC-SHA256 (version 4)", source: srcS3SigV4},
	{key: "s3:authType", reqs: s3Own, kind: Client, presence: always,
		rule: "where the signature is: REST-HEADER, REST-QUERY-STRING (presigned URL) or POST", source: srcS3SigV4},
	{key: "s3:signatureAge", reqs: s3Own, kind: Client, presence: chosen,
		rule: "milliseconds since the request was signed (a presigned URL ages until it is used)", source: srcS3SigV4},
	{key: "s3:TlsVersion", reqs: s3Own, kind: Client, presence: chosen,
		rule: "the TLS version of the client's connection", source: srcS3Keys + " ; " + srcSARS3},
	{key: "s3:prefix", reqs: 1 << ListBucket, kind: Client, presence: chosen,
		rule: "the listing's prefix parameter (a grant limited to a prefix names it)", source: srcS3Keys},
	{key: "s3:delimiter", reqs: 1 << ListBucket, kind: Client, presence: chosen,
		rule: "the listing's delimiter parameter", source: srcS3Keys},
	{key: "s3:max-keys", reqs: 1 << ListBucket, kind: Client, presence: chosen,
		rule: "the listing's max-keys parameter", source: srcS3Keys},
	{key: "s3:versionid", reqs: 1 << GetObjectVersion, kind: Client, presence: always,
		rule: "the version ID the request names", source: srcS3Keys},
	{key: "s3:ResourceAccount", reqs: s3Own, kind: Fact, presence: always, value: ValueResourceAccount,
		rule: "the account that owns the bucket", source: srcS3Keys + " ; " + srcSARS3},
	{key: "s3:DataAccessPointArn", reqs: s3Own, kind: Client, presence: chosen,
		rule: "only on requests made through an access point; bucketgrant's requests name the bucket", source: srcS3AccessPoints},
	{key: "s3:DataAccessPointAccount", reqs: s3Own, kind: Client, presence: chosen,
		rule: "only on requests made through an access point; bucketgrant's requests name the bucket", source: srcS3AccessPoints},
	{key: "s3:AccessPointNetworkOrigin", reqs: s3Own, kind: Client, presence: chosen,
		rule: "only on requests made through an access point; bucketgrant's requests name the bucket", source: srcS3AccessPoints},
	{key: "s3:ExistingObjectTag/*", reqs: s3Own, kind: Unread, presence: ifFact,
		rule: "present only if the object carries the tag; bucketgrant does not read object tags", source: srcS3Keys + " ; " + srcSARS3},
	{key: "s3:BucketTag/*", reqs: s3Own, kind: Unread, presence: ifFact,
		rule: "present only if the bucket carries the tag; bucketgrant does not read bucket tags", source: srcSARS3},

	// KMS's keys on the requests S3 makes for the principal.
	{key: "kms:CallerAccount", reqs: viaS3, kind: Fact, presence: always, value: ValuePrincipalAccount,
		rule: "the principal's account", source: srcKMSCond + "#conditions-kms-caller-account"},
	{key: "kms:ViaService", reqs: viaS3, kind: Fact, presence: always, value: ValueS3ViaService,
		rule: "s3.REGION.amazonaws.com: S3 makes the request for the principal", source: srcKMSCond + "#conditions-kms-via-service ; " + srcS3SSEKMS},
	{key: "kms:EncryptionContext:aws:s3:arn", reqs: viaS3, kind: Fact, presence: always, value: ValueS3ContextARN,
		rule: "the object's ARN, or the bucket's ARN when S3 Bucket Keys are on", source: srcS3SSEKMS + " ; " + srcS3BucketKey},
	{key: "kms:EncryptionContext:*", reqs: 1 << KMSGenerateDataKey, kind: Client, presence: chosen,
		rule: "a pair the upload adds with the x-amz-server-side-encryption-context header", source: srcS3SSEKMS + " ; " + srcKMSCond + "#conditions-kms-encryption-context"},
	{key: "kms:EncryptionContext:*", reqs: 1 << KMSDecrypt, kind: Unread, presence: ifFact,
		rule: "a pair stored with the object when it was uploaded", source: srcS3SSEKMS + " ; " + srcKMSCond + "#conditions-kms-encryption-context"},
	{key: "kms:EncryptionContextKeys", reqs: viaS3, kind: Fact, presence: always, value: ValueS3ContextKeys, multi: true,
		rule: "aws:s3:arn, and any key an upload added to the encryption context", source: srcS3SSEKMS + " ; " + srcKMSCond + "#conditions-kms-encryption-context-keys"},
	{key: "kms:EncryptionAlgorithm", reqs: viaS3, kind: Fact, presence: always, value: ValueSymmetricDefault,
		rule: "SYMMETRIC_DEFAULT: SSE-KMS uses symmetric encryption keys, and the key applies to the algorithm used even when the request names none", source: srcKMSCond + "#conditions-kms-encryption-algorithm ; " + srcS3SSEKMS},
	{key: "kms:RequestAlias", reqs: 1 << KMSGenerateDataKey, kind: Fact, presence: ifFact, value: ValueRequestAlias,
		rule: "present only when the request names the key by alias: the bucket's default encryption, or the upload's key-id header", source: srcKMSCond + "#conditions-kms-request-alias ; " + srcS3SSEKMS},
	{key: "kms:RequestAlias", reqs: 1 << KMSDecrypt, kind: Fact, presence: never,
		rule: "decrypting uses the key recorded with the object, not an alias", source: srcKMSCond + "#conditions-kms-request-alias ; " + srcS3SSEKMS},
	{key: "kms:ResourceAliases", reqs: viaS3, kind: Fact, presence: ifFact, value: ValueKeyAliases, multi: true,
		rule: "the key's aliases, present only if it has any (AWS honours this key in IAM policies only)", source: srcKMSCond + "#conditions-kms-resource-aliases"},
	{key: "kms:MultiRegion", reqs: viaS3, kind: Fact, presence: always, value: ValueKeyMultiRegion,
		rule: "whether the key is a multi-Region key", source: srcKMSCond + "#conditions-kms-multiregion"},
	{key: "kms:KeyOrigin", reqs: viaS3, kind: Unread, presence: always,
		rule: "the key's origin (AWS_KMS, EXTERNAL, ...); bucketgrant does not keep it", source: srcKMSCond + "#conditions-kms-key-origin"},
	{key: "kms:KeySpec", reqs: viaS3, kind: Unread, presence: always,
		rule: "the key's spec; bucketgrant does not keep it", source: srcKMSCond + "#conditions-kms-key-spec"},
	{key: "kms:KeyUsage", reqs: viaS3, kind: Unread, presence: always,
		rule: "the key's usage; bucketgrant does not keep it", source: srcKMSCond + "#conditions-kms-key-usage"},
	{key: "kms:MultiRegionKeyType", reqs: viaS3, kind: Unread, presence: ifFact,
		rule: "PRIMARY or REPLICA for a multi-Region key; bucketgrant does not keep it", source: srcKMSCond + "#conditions-kms-multiregion"},
}
