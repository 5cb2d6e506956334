package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/bucketgrant/bucketgrant/pkg/awsstate"
	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/snapshot"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// Flags shared by the commands that read state.
func awsFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "profile", Usage: "AWS profile for both accounts", EnvVars: []string{"AWS_PROFILE"}},
		&cli.StringFlag{Name: "principal-profile", Usage: "AWS profile for the principal's account (IAM)"},
		&cli.StringFlag{Name: "resource-profile", Usage: "AWS profile for the bucket's and key's account (S3, KMS)"},
		&cli.StringFlag{Name: "principal-role-arn", Usage: "role to assume in the principal's account"},
		&cli.StringFlag{Name: "resource-role-arn", Usage: "role to assume in the bucket's account"},
		&cli.StringFlag{Name: "region", Usage: "region for IAM, STS and the first S3 call (the bucket's own region is found)", EnvVars: []string{"AWS_REGION"}},
		&cli.StringFlag{Name: "endpoint-url", Usage: "send every AWS call to this compatible endpoint", EnvVars: []string{"AWS_ENDPOINT_URL"}},
		&cli.BoolFlag{Name: "debug", Usage: "log every AWS call (operation, resource, attempt, duration, result) and AWS's own error messages on stderr", EnvVars: []string{"BUCKETGRANT_DEBUG"}},
		&cli.IntFlag{Name: "max-attempts", Usage: "tries of each AWS call, retries of throttling, 5xx, dropped connections and timeouts included", DefaultText: "the profile's max_attempts or AWS_MAX_ATTEMPTS, else 3"},
		&cli.DurationFlag{Name: "retry-max-backoff", Usage: "longest wait between two tries of an AWS call", DefaultText: "20s"},
		&cli.DurationFlag{Name: "timeout", Value: awsstate.DefaultTimeout, Usage: "time each try of an AWS call may take before it is abandoned (and retried)"},
	}
}

// awsFlagsWithOrg are awsFlags and the organization's credentials (org.go).
func awsFlagsWithOrg() []cli.Flag { return append(awsFlags(), orgFlags()...) }

func selectionFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "principal", Usage: "the IAM user or role ARN to grant to (an assumed-role session ARN resolves to its role)"},
		&cli.StringFlag{Name: "bucket", Usage: "the bucket's name"},
		&cli.StringFlag{Name: "access", Usage: "access levels: read, write, list, versions, acl (default: read,write; across accounts all, acl only where ACLs are enabled)"},
		&cli.StringFlag{Name: "prefix", Usage: "grant only objects whose keys start with this prefix"},
		&cli.StringFlag{Name: "kms-via", Value: diff.ViaAuto, Usage: "where a same-account KMS grant goes: auto, key-policy or identity"},
		&cli.BoolFlag{Name: "kms-through-s3", Usage: "limit KMS grants to use by S3 for this bucket (kms:ViaService, encryption context)"},
		&cli.BoolFlag{Name: "remove-orphaned-principals", Usage: "remove unique IDs of deleted principals from documents the plan writes"},
		&cli.StringFlag{Name: "from-error", Usage: "take principal, bucket and key from an AWS access-denied message"},
		&cli.StringFlag{Name: "state", Usage: "read the state from this snapshot file instead of AWS"},
	}
}

// dropOldKeysFlag is plan's and apply's --drop-old-keys.
func dropOldKeysFlag() cli.Flag {
	return &cli.BoolFlag{Name: "drop-old-keys", Usage: "after the bucket's default key changed: stop granting the keys it used before (objects written under them can then no longer be read)"}
}

// selection is what a plan is about.
type selection struct {
	diff.Options
	statePath string
	aws       awsstate.Options
	debug     bool
}

func readSelection(c *cli.Context, s *streams) (*selection, error) {
	sel := &selection{statePath: c.String("state"), debug: c.Bool("debug") || debugEnabled}
	sel.Principal, sel.Bucket, sel.Prefix = c.String("principal"), c.String("bucket"), c.String("prefix")
	sel.KMSVia, sel.KMSThroughS3 = c.String("kms-via"), c.Bool("kms-through-s3")
	sel.RemoveOrphanedPrincipals = c.Bool("remove-orphaned-principals")
	sel.DropOldKeys = c.Bool("drop-old-keys")
	sel.ToolVersion = versionString()
	if text := c.String("from-error"); text != "" {
		if err := fromError(sel, text, s); err != nil {
			return nil, err
		}
	}
	if c.IsSet("access") {
		levels, err := diff.ParseLevels(c.String("access"))
		if err != nil {
			return nil, usagef("--access: %v", err)
		}
		sel.Access = levels
	}
	if sel.Principal == "" || sel.Bucket == "" {
		return nil, usagef("%s needs --principal ARN and --bucket NAME (or --from-error)", c.Command.Name)
	}
	if err := checkPrincipal(sel.Principal); err != nil {
		return nil, err
	}
	if err := state.CheckBucketName(sel.Bucket); err != nil {
		return nil, usagef("--bucket: %v", err)
	}
	sel.aws = awsOptions(c, s, sel.debug)
	// Revoke and --drop-old-keys remove the grant's statements from keys
	// the bucket used before: those keys must be read too.
	sel.aws.OldKeys = sel.DropOldKeys || c.Command.Name == "revoke"
	orgOptions(c, &sel.aws)
	if err := checkOrgFlags(sel); err != nil {
		return nil, err
	}
	return sel, nil
}

func awsOptions(c *cli.Context, s *streams, debug bool) awsstate.Options {
	o := awsstate.Options{
		PrincipalProfile: first(c.String("principal-profile"), c.String("profile")),
		ResourceProfile:  first(c.String("resource-profile"), c.String("profile")),
		PrincipalRoleARN: c.String("principal-role-arn"),
		ResourceRoleARN:  c.String("resource-role-arn"),
		EndpointURL:      c.String("endpoint-url"),
		Region:           c.String("region"),
		MaxAttempts:      c.Int("max-attempts"),
		MaxBackoff:       c.Duration("retry-max-backoff"),
		Timeout:          c.Duration("timeout"),
	}
	if debug {
		o.Logf = func(format string, args ...any) { fmt.Fprintf(s.err, "debug: "+format+"\n", args...) }
	}
	return o
}

func first(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// loadState reads the state from the snapshot or from AWS, and refuses
// what AWS would never hold before anything is planned. grant is set for
// plan, check and apply, which need the principal and the key to exist
// (revoke does not: it removes what is left of a deleted principal).
func loadState(ctx context.Context, sel *selection, grant bool) (*state.State, error) {
	if sel.statePath != "" {
		st, err := snapshot.Load(sel.statePath)
		if err != nil {
			return nil, err
		}
		if err := checkSizes(st, filepath.Base(sel.statePath)); err != nil {
			return nil, err
		}
		if err := checkOrgDocs(st, sel.statePath); err != nil {
			return nil, err
		}
		// The partition first: a principal of another partition is "not
		// found" too, but that would hide the real mistake.
		if err := checkPartition(st, sel.Principal, sel.Bucket); err != nil {
			return nil, err
		}
		return st, checkSnapshot(st, sel.statePath, sel.Principal, sel.Bucket, grant)
	}
	st, err := awsstate.Read(ctx, sel.aws, sel.Principal, sel.Bucket)
	if err != nil {
		return nil, err
	}
	if err := readOrg(ctx, sel.aws, st, sel.Principal, sel.Bucket); err != nil {
		return nil, err
	}
	return st, checkPartition(st, sel.Principal, sel.Bucket)
}

// describeError is an error's message for people, with the hint where one
// exists and AWS's own words with --debug.
func describeError(err error) string {
	msg := err.Error()
	if h := awsstate.Hint(err); h != "" {
		msg += "\nhint: " + h
	}
	var d *debugError
	if errors.As(err, &d) || debugEnabled {
		if detail := awsstate.Detail(err); detail != "" {
			msg += "\naws said: " + detail
		}
	}
	return msg
}

// debugError marks an error of a command run with --debug, so that its
// report carries AWS's own words.
type debugError struct{ err error }

func (e *debugError) Error() string { return e.err.Error() }
func (e *debugError) Unwrap() error { return e.err }

// withDebug wraps err for the report when debug is on.
func withDebug(debug bool, err error) error {
	if err == nil || !debug {
		return err
	}
	return &debugError{err}
}

func writeFile(path string, data []byte) error {
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return err
	}
	return os.Chmod(path, 0o600) // WriteFile keeps an existing file's mode
}
