package awsstate

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Kind classifies an error a person can act on.
type Kind int

// The kinds of Error.
const (
	KindOther Kind = iota
	KindAccessDenied
	KindNoSuchBucket
	KindNoSuchEntity // a user, role, group or managed policy that does not exist
	KindKeyNotFound
	KindExpiredToken
	KindWrongRegion
	KindThrottled
	KindInvalidPrincipal
	KindWrongAccount // credentials for another account than the principal's
	KindNoCredentials
	KindUnavailable // no usable answer on any attempt: timeouts, dropped connections, 5xx
	// KindInvalidCredentials is credentials AWS does not accept: an unknown
	// access key, a wrong secret, a malformed token. It is not access
	// denied: no policy can fix it, and sts:GetCallerIdentity, which needs
	// no permission at all, fails with it too.
	KindInvalidCredentials
)

var kindNames = map[Kind]string{
	KindOther: "aws error", KindAccessDenied: "access denied", KindNoSuchBucket: "no such bucket",
	KindNoSuchEntity: "no such entity", KindKeyNotFound: "key not found", KindExpiredToken: "expired token",
	KindWrongRegion: "wrong region", KindThrottled: "throttled", KindInvalidPrincipal: "invalid principal",
	KindWrongAccount: "wrong account", KindNoCredentials: "no credentials", KindUnavailable: "unavailable",
	KindInvalidCredentials: "invalid credentials",
}

func (k Kind) String() string { return kindNames[k] }

// Error is a failed read, classified. Its message is one lowercase line that
// names the permission (operation) and the resource; Hint says what to do.
// The SDK's own error is kept for --debug (Unwrap, Detail).
type Error struct {
	Kind     Kind
	Op       string // the IAM action of the call, e.g. kms:GetKeyPolicy
	Resource string // the ARN (or name) the call was about
	Identity string // which credentials were used, e.g. profile "prod" (arn:aws:iam::1:user/me)
	Region   string // for KindWrongRegion: the bucket's region, when known
	Hint     string
	// Source is where a "does not exist" was found when it is not AWS: a
	// snapshot file ("the snapshot seed.json"). The message keeps the same
	// shape in both modes.
	Source string
	Err    error
}

func (e *Error) Error() string {
	on := e.Op
	if e.Resource != "" {
		on += " on " + e.Resource
	}
	who := ""
	if e.Identity != "" {
		who = " for " + e.Identity
	}
	in := ""
	if e.Source != "" {
		in = " in " + e.Source
	}
	switch e.Kind {
	case KindAccessDenied:
		if isRead(e.Op) {
			return fmt.Sprintf("%s: access denied%s; bucketgrant cannot plan without reading it", on, who)
		}
		return fmt.Sprintf("%s: access denied%s; bucketgrant cannot write the change without it", on, who)
	case KindNoSuchBucket:
		return fmt.Sprintf("%s: the bucket does not exist%s", on, in)
	case KindNoSuchEntity:
		what := "entity"
		switch e.Op {
		case "iam:GetUser":
			what = "user"
		case "iam:GetRole":
			what = "role"
		case "iam:GetPolicy", "iam:GetPolicyVersion":
			what = "managed policy"
		}
		return fmt.Sprintf("%s: no such %s%s", on, what, in)
	case KindKeyNotFound:
		return fmt.Sprintf("%s: no such kms key%s", on, in)
	case KindExpiredToken:
		return fmt.Sprintf("%s: the credentials%s have expired", on, who)
	case KindWrongRegion:
		if e.Region != "" {
			return fmt.Sprintf("%s: the bucket is in region %s", on, e.Region)
		}
		return fmt.Sprintf("%s: the bucket is in another region", on)
	case KindThrottled:
		return fmt.Sprintf("%s: aws throttled the request beyond the retries", on)
	case KindInvalidPrincipal, KindWrongAccount:
		return e.Op
	case KindNoCredentials:
		return fmt.Sprintf("%s: no aws credentials%s", on, who)
	case KindInvalidCredentials:
		return fmt.Sprintf("%s: aws rejected the credentials%s: %s", on, who, shortAPIError(e.Err))
	case KindUnavailable:
		return fmt.Sprintf("%s: %s", on, unavailable(e.Err))
	}
	return fmt.Sprintf("%s: %s", on, shortAPIError(e.Err))
}

func (e *Error) Unwrap() error { return e.Err }

// Detail is the SDK's own error text, for --debug.
func (e *Error) Detail() string {
	if e.Err == nil {
		return ""
	}
	return e.Err.Error()
}

// ExitCode is the exit code the CLI uses for every read error.
func (e *Error) ExitCode() int { return 1 }

// Hint returns the hint of a classified error in err's chain ("" if none).
func Hint(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Hint
	}
	return ""
}

// KindOf returns the kind of a classified error in err's chain.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindOther
}

// Detail returns the underlying SDK error text of a classified error in
// err's chain, for --debug ("" if none).
func Detail(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Detail()
	}
	return ""
}

func shortAPIError(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		msg := ae.ErrorMessage()
		if msg == "" || msg == ae.ErrorCode() {
			return "aws error " + ae.ErrorCode()
		}
		return "aws error " + ae.ErrorCode() + ": " + msg
	}
	if err == nil {
		return "unknown error"
	}
	return err.Error()
}

var (
	accessDeniedCodes = set("AccessDenied", "AccessDeniedException", "Forbidden", "AllAccessDisabled", "UnauthorizedOperation")
	// Credentials AWS does not accept, by service: STS and IAM answer
	// InvalidClientTokenId, KMS UnrecognizedClientException, S3
	// InvalidAccessKeyId; a wrong secret is SignatureDoesNotMatch (S3 and the
	// query services) or InvalidSignatureException (KMS).
	invalidCredentialCodes = set("InvalidClientTokenId", "UnrecognizedClientException", "InvalidAccessKeyId", "SignatureDoesNotMatch",
		"InvalidSignatureException", "IncompleteSignature", "MissingAuthenticationToken", "AuthFailure", "InvalidToken")
	expiredCodes  = set("ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired")
	redirectCodes = set("PermanentRedirect", "MovedPermanently", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException")
)

func set(ss ...string) map[string]bool {
	m := map[string]bool{}
	for _, s := range ss {
		m[s] = true
	}
	return m
}

// Classify turns an SDK error from the call op (an IAM action name, e.g.
// kms:GetKeyPolicy) on resource, made with identity (a description of the
// credentials), into an *Error with a message and a hint. It is the one
// place that knows AWS error codes; readers and writers both use it. An
// error already classified is returned as it is.
func Classify(err error, op, resource, identity string) error {
	if err == nil {
		return nil
	}
	var done *Error
	if errors.As(err, &done) {
		return err
	}
	// An interrupt ends the run. A deadline is not one: bucketgrant sets
	// none on its runs, so it is an attempt that outlasted --timeout on
	// every try, classified below with the other unavailable answers.
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("%s on %s: %w", op, resource, err)
	}
	e := &Error{Op: op, Resource: resource, Identity: identity, Err: err}
	code := ""
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	status, region := 0, ""
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
		if re.Response != nil {
			region = re.Response.Header.Get("x-amz-bucket-region")
		}
	}
	var (
		noBucket  *s3types.NoSuchBucket
		notFound  *s3types.NotFound
		noEntity  *iamtypes.NoSuchEntityException
		noKey     *kmstypes.NotFoundException
		maxTries  *retry.MaxAttemptsError
		sendErr   *smithyhttp.RequestSendError
		throttled = retry.DefaultThrottleErrorCodes
	)
	_, isThrottle := throttled[code]
	switch {
	case errors.As(err, &noBucket) || code == "NoSuchBucket" || (op == "s3:ListBucket" && (errors.As(err, &notFound) || status == 404)):
		e.Kind = KindNoSuchBucket
		e.Hint = "check the bucket name; " + identityHint("resource", identity)
	case errors.As(err, &noEntity) || code == "NoSuchEntity":
		e.Kind = KindNoSuchEntity
		e.Hint = "check the principal arn (names are case-sensitive) and that the principal's credentials (--principal-profile) are for its account"
	case errors.As(err, &noKey) || code == "NotFoundException":
		e.Kind = KindKeyNotFound
		e.Hint = "the bucket's default encryption names a key that does not exist in that account and region; set the bucket's default encryption to an existing key's full arn"
	case invalidCredentialCodes[code]:
		e.Kind = KindInvalidCredentials
		e.Hint = "check the keys or run aws sso login; " + credentialsWhere(identity)
	case expiredCodes[code]:
		e.Kind = KindExpiredToken
		e.Hint = "refresh the credentials (for example aws sso login, or a new session token) and run again"
	case accessDeniedCodes[code] || status == 403 && !redirectCodes[code]:
		e.Kind = KindAccessDenied
		on := op
		if resource != "" {
			on += " on " + resource
		}
		e.Hint = fmt.Sprintf("allow %s for these credentials, or pass credentials that have it (%s)", on, roleFlags(op))
		if strings.HasPrefix(op, "s3:") {
			e.Hint += "; every bucket read expects the bucket to be owned by the resource credentials' account, and a bucket owned by another account answers access denied too"
		}
	case redirectCodes[code] || status == 301:
		e.Kind = KindWrongRegion
		e.Region = region
		e.Hint = "pass --region with the bucket's region"
	case isThrottle || errors.As(err, &maxTries) && isThrottled(maxTries.Err):
		e.Kind = KindThrottled
		e.Hint = "wait a minute and run again; other tools may be using the same account's request rate"
	case isNoCredentials(err):
		e.Kind = KindNoCredentials
		e.Hint = "check the keys or run aws sso login; configure credentials with --profile or AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
	case status >= 500 || errors.As(err, &sendErr) || errors.Is(err, context.DeadlineExceeded):
		e.Kind = KindUnavailable
		e.Hint = "aws or the network failed on every attempt; run again later (a re-run plans only what is still missing), or allow more with --max-attempts and --timeout"
	default:
		e.Kind = KindOther
		e.Hint = "run again with --debug to see the full aws error"
	}
	return e
}

// unavailable says why a call got no usable answer, for KindUnavailable.
func unavailable(err error) string {
	attempts := "every attempt"
	var maxTries *retry.MaxAttemptsError
	if errors.As(err, &maxTries) {
		attempts = fmt.Sprintf("all %d attempts", maxTries.Attempt)
	}
	var timeout interface{ Timeout() bool }
	var re *awshttp.ResponseError
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &timeout) && timeout.Timeout():
		return fmt.Sprintf("aws did not answer in time (--timeout) on %s", attempts)
	case errors.As(err, &re) && re.HTTPStatusCode() >= 500:
		return fmt.Sprintf("aws answered a server error (http %d, %s) on %s", re.HTTPStatusCode(), shortAPIError(err), attempts)
	}
	return fmt.Sprintf("the connection to aws failed on %s", attempts)
}

// isRead tells read actions (Get*, List*, Describe*, Head*) from writes.
func isRead(op string) bool {
	action := op[strings.IndexByte(op, ':')+1:]
	for _, p := range []string{"Get", "List", "Describe", "Head"} {
		if strings.HasPrefix(action, p) {
			return true
		}
	}
	return false
}

func isThrottled(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		_, ok := retry.DefaultThrottleErrorCodes[ae.ErrorCode()]
		return ok
	}
	return false
}

func isNoCredentials(err error) bool {
	s := err.Error()
	return strings.Contains(s, "failed to retrieve credentials") || strings.Contains(s, "no EC2 IMDS role found") || strings.Contains(s, "failed to refresh cached credentials")
}

// credentialsWhere says where the credentials came from, for the hint.
func credentialsWhere(identity string) string {
	if identity == "" || identity == "the default credentials" {
		return "the credentials came from the SDK's default chain (AWS_ACCESS_KEY_ID, AWS_PROFILE, ~/.aws, SSO, instance role)"
	}
	return "the credentials came from " + identity
}

func roleFlags(op string) string {
	switch {
	case strings.HasPrefix(op, "iam:"):
		return identityHint("principal", "")
	case strings.HasPrefix(op, "sts:"):
		return "check --profile"
	case strings.HasPrefix(op, "organizations:"):
		return "use --org-profile or --org-role-arn for the organization's management account or a delegated administrator for Organizations policies"
	}
	return identityHint("resource", "")
}

func identityHint(side, _ string) string {
	return "use --" + side + "-profile or --" + side + "-role-arn for the account that owns it"
}

// InvalidPrincipalError reports a principal ARN bucketgrant cannot read.
func invalidPrincipal(arn, why string) error {
	return &Error{
		Kind: KindInvalidPrincipal,
		Op:   fmt.Sprintf("invalid principal arn %q: %s", arn, why),
		Hint: "give an iam user arn (arn:aws:iam::ACCOUNT:user/NAME), a role arn (arn:aws:iam::ACCOUNT:role/NAME) or an assumed-role session arn (arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION)",
	}
}
