package sar

import (
	"strconv"
	"strings"
	"time"
)

// Facts are what bucketgrant knows about one request, from which Values
// computes the keys AWS sets (Kind Fact).
type Facts struct {
	Now       time.Time
	Partition string // aws, aws-cn, aws-us-gov; "" means aws
	Region    string // the bucket's region, which is the key's

	BucketName       string
	BucketAccount    string
	ObjectKey        string // the object the request names; "" for a listing
	BucketKeyEnabled bool   // S3 Bucket Keys on the bucket's default encryption

	KeyAccount      string
	KeyAliases      []string // "alias/name", as the key's state lists them
	KeyMultiRegion  bool
	EncryptionAlias string // "alias/name" when the bucket's default encryption names the key by alias

	Caller           Caller
	PrincipalARN     string // the user's or the role's ARN
	PrincipalAccount string
	UniqueID         string // AIDA… for a user, AROA… for a role
	SessionName      string // a role session's name
}

// Values computes a Fact key's values for the request and the caller in f.
// present is false when the key is absent from that request; ok is false when
// the key is not a Fact or f lacks what the value needs (the caller then
// treats the key as unknown).
func (f Facts) Values(k KeyInfo) (values []string, present, ok bool) {
	if k.Kind != Fact {
		return nil, false, false
	}
	switch k.Presence(f.Caller) {
	case Absent:
		return nil, false, true
	case Present, IfFact:
	default:
		return nil, false, false
	}
	one := func(v string) ([]string, bool, bool) {
		if v == "" {
			return nil, false, false
		}
		return []string{v}, true, true
	}
	partition := f.Partition
	if partition == "" {
		partition = "aws"
	}
	switch k.Value {
	case ValueCurrentTime:
		if f.Now.IsZero() {
			return nil, false, false
		}
		return one(f.Now.UTC().Format(time.RFC3339))
	case ValueEpochTime:
		if f.Now.IsZero() {
			return nil, false, false
		}
		return one(strconv.FormatInt(f.Now.Unix(), 10))
	case ValueRegion:
		return one(f.Region)
	case ValueResourceAccount:
		if k.Request.ViaS3() {
			return one(f.KeyAccount)
		}
		return one(f.BucketAccount)
	case ValuePrincipalARN:
		return one(f.PrincipalARN)
	case ValuePrincipalAccount:
		return one(f.PrincipalAccount)
	case ValuePrincipalType:
		if f.Caller == RoleSession {
			return one("AssumedRole")
		}
		return one("User")
	case ValueUserID:
		if f.UniqueID == "" {
			return nil, false, false
		}
		if f.Caller == RoleSession {
			if f.SessionName == "" {
				return nil, false, false
			}
			return one(f.UniqueID + ":" + f.SessionName)
		}
		return one(f.UniqueID)
	case ValueUsername:
		if f.Caller == RoleSession {
			return nil, false, true
		}
		return one(f.PrincipalARN[strings.LastIndexByte(f.PrincipalARN, '/')+1:])
	case ValueFalse:
		return one("false")
	case ValueTrue:
		return one("true")
	case ValueS3Principal:
		return one("s3.amazonaws.com")
	case ValueS3ViaService:
		if f.Region == "" {
			return nil, false, false
		}
		suffix := ".amazonaws.com"
		if partition == "aws-cn" {
			suffix = ".amazonaws.com.cn"
		}
		return one("s3." + f.Region + suffix)
	case ValueS3ContextARN:
		if f.BucketName == "" {
			return nil, false, false
		}
		arn := "arn:" + partition + ":s3:::" + f.BucketName
		if !f.BucketKeyEnabled {
			if f.ObjectKey == "" {
				return nil, false, false
			}
			arn += "/" + f.ObjectKey
		}
		return one(arn)
	case ValueS3ContextKeys:
		return one("aws:s3:arn")
	case ValueSymmetricDefault:
		return one("SYMMETRIC_DEFAULT")
	case ValueRequestAlias:
		if f.EncryptionAlias == "" {
			return nil, false, true
		}
		return one(f.EncryptionAlias)
	case ValueKeyAliases:
		if len(f.KeyAliases) == 0 {
			return nil, false, true
		}
		return append([]string(nil), f.KeyAliases...), true, true
	case ValueKeyMultiRegion:
		return one(strconv.FormatBool(f.KeyMultiRegion))
	}
	return nil, false, false
}
