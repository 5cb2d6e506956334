package plangen

// The universe every scenario is drawn from. Names differ by more than case
// (the oracle compares some of them case-insensitively).
const (
	AccountP = "111122223333" // the principal's account (both seeds)
	AccountB = "123456789098" // the bucket's account in the cross-account seed
	AccountK = "444455556666" // a third account that may own the key
	AccountO = "777788889999" // never calls, never owns: only named in policies

	Region      = "us-east-1"
	Bucket      = "DOC-EXAMPLE-BUCKET"
	OtherBucket = "other-example-bucket"
	keyID       = "111aa2bb-333c-4d44-5555-a111bb2c33dd"
	otherKeyID  = "99999999-8888-7777-6666-555544443333"
	Alias       = "alias/doc-example-bucket"

	JaneID   = "AIDAEXAMPLEJANE000001"
	ReaderID = "AROAEXAMPLEREADER0001"
	// Orphans are unique IDs of deleted principals, as AWS shows them in a
	// resource policy once the user or role is gone.
	OrphanUser = "AIDAORPHANEDUSER00001"
	OrphanRole = "AROAORPHANEDROLE00002"

	SessionName = "s1"
)

// Now is the time every scenario is planned at (aws:CurrentTime).
const Now = "2026-11-28T12:00:00Z"

func iam(acct, res string) string { return "arn:aws:iam::" + acct + ":" + res }
func rootOf(acct string) string   { return iam(acct, "root") }

// BucketARN is the bucket's ARN.
func BucketARN() string { return "arn:aws:s3:::" + Bucket }

// KeyARN is the bucket's key in account acct.
func KeyARN(acct string) string { return "arn:aws:kms:" + Region + ":" + acct + ":key/" + keyID }

// OtherKeyARN is another key of account acct.
func OtherKeyARN(acct string) string {
	return "arn:aws:kms:" + Region + ":" + acct + ":key/" + otherKeyID
}

// Principals other than the grant's that policies name; each is probed by
// the suite to show that nothing new reaches it.
var (
	Bob   = iam(AccountP, "user/Bob")
	Admin = iam(AccountB, "role/Admin")
	Ops   = iam(AccountO, "user/Ops")
)

// Object keys (relative to the bucket) that the patterns below tell apart:
// with and without a slash, under and outside each prefix, ending in .txt
// or not, one character long, and the planner's own probe name.
var objectKeys = []string{
	"top.txt", "x", "a/b/c", "reports/q1.csv", "reports/b1", "reports/sub/deep.txt",
	"home/Jane/notes.txt", "home/Bob/x", "bucketgrant-probe/any-object",
}

// Prefixes a grant may name.
var prefixes = []string{"", "", "", "reports/", "home/Jane/"}
