package diff

// Where a need's object lives in its request: S3's object requests name it
// as the resource; S3's KMS requests carry it as the encryption context
// (without S3 Bucket Keys); a listing under a prefix carries it as
// s3:prefix. Requests without an object (the bucket, the key with Bucket
// Keys) have one case.
const (
	objectNone = iota
	objectResource
	objectEncryptionContext
	objectPrefix
)

// objectWitnesses lists one object per class of the grant's objects that
// the policies treat alike.
func (p *planner) objectWitnesses(n need, docs docSet) []string {
	if n.objectAt == objectNone {
		return []string{""}
	}
	return []string{n.object}
}
