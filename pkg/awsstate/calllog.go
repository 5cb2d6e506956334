package awsstate

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// debugLogging routes the SDK's logger to logf (--debug) or silences it,
// and with logf adds the call log: one line per attempt of every AWS call,
// with the operation, the resource, the attempt, the duration and the
// result. The line holds identifiers only (bucket, key, user, role and
// policy names or ARNs), never a document, a header or a credential.
func debugLogging(cfg *aws.Config, logf func(format string, args ...any)) {
	if logf == nil {
		cfg.Logger = logging.Nop{}
		return
	}
	cfg.Logger = logging.LoggerFunc(func(class logging.Classification, format string, v ...any) {
		logf("aws sdk %s: %s", strings.ToLower(string(class)), fmt.Sprintf(format, v...))
	})
	cfg.APIOptions = append(cfg.APIOptions, func(stack *middleware.Stack) error {
		return addCallLog(stack, logf)
	})
}

type callKey struct{}

type callInfo struct {
	resource string
	attempt  int
}

func addCallLog(stack *middleware.Stack, logf func(format string, args ...any)) error {
	start := middleware.InitializeMiddlewareFunc("bucketgrantCallStart", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		ctx = middleware.WithStackValue(ctx, callKey{}, &callInfo{resource: resourceOf(in.Parameters)})
		return next.HandleInitialize(ctx, in)
	})
	if err := stack.Initialize.Add(start, middleware.Before); err != nil {
		return err
	}
	// Added after the retry middleware of the finalize step, so it runs
	// once per attempt.
	attempt := middleware.FinalizeMiddlewareFunc("bucketgrantCallLog", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
		ci, _ := middleware.GetStackValue(ctx, callKey{}).(*callInfo)
		if ci == nil {
			ci = &callInfo{}
		}
		ci.attempt++
		t := time.Now()
		out, md, err := next.HandleFinalize(ctx, in)
		op := strings.ToLower(awsmiddleware.GetServiceID(ctx)) + ":" + awsmiddleware.GetOperationName(ctx)
		res := ci.resource
		if res == "" {
			res = "-"
		}
		logf("aws call %s %s attempt %d %s %s", op, res, ci.attempt, time.Since(t).Round(time.Millisecond), callResult(md, err))
		return out, md, err
	})
	return stack.Finalize.Add(attempt, middleware.After)
}

// callResult is "ok (http 200)" or what went wrong, in a few words.
func callResult(md middleware.Metadata, err error) string {
	status := 0
	if r, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response); ok && r != nil {
		status = r.StatusCode
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	var ae smithy.APIError
	switch {
	case err == nil && status != 0:
		return fmt.Sprintf("ok (http %d)", status)
	case err == nil:
		return "ok"
	case errors.As(err, &ae) && status != 0:
		return fmt.Sprintf("failed: %s (http %d)", ae.ErrorCode(), status)
	case errors.As(err, &ae):
		return "failed: " + ae.ErrorCode()
	case errors.Is(err, context.Canceled):
		return "interrupted"
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	}
	var se *smithyhttp.RequestSendError
	if errors.As(err, &se) {
		return "failed: no answer (connection)"
	}
	return "failed"
}

// resourceFields are the input fields that name what a call is about.
// Nothing else of an input is logged: documents and tokens stay out.
var resourceFields = []string{"Bucket", "KeyId", "UserName", "RoleName", "GroupName", "PolicyArn", "PolicyName", "RoleArn", "AliasName"}

func resourceOf(params any) string {
	v := reflect.ValueOf(params)
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return ""
	}
	var parts []string
	for _, name := range resourceFields {
		f := v.FieldByName(name)
		if !f.IsValid() || f.Kind() != reflect.Pointer || f.IsNil() || f.Elem().Kind() != reflect.String {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s=%s", strings.ToLower(name[:1])+name[1:], f.Elem().String()))
	}
	return strings.Join(parts, " ")
}
