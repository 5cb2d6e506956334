package main
import (
 _ "github.com/aws/aws-sdk-go-v2/aws/arn"
 _ "github.com/aws/aws-sdk-go-v2/config"
 _ "github.com/aws/aws-sdk-go-v2/service/kms"
 _ "github.com/aws/aws-sdk-go-v2/service/s3"
 _ "github.com/aws/aws-sdk-go-v2/service/iam"
 _ "github.com/aws/aws-sdk-go-v2/service/sts"
 _ "github.com/aws/aws-sdk-go-v2/credentials"
 _ "github.com/aws/smithy-go"
 _ "github.com/urfave/cli/v2"
 _ "github.com/google/go-cmp/cmp"
)
func main(){}
