package main

import (
	"bytes"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/bucketgrant/bucketgrant/pkg/awsstate"
	"github.com/bucketgrant/bucketgrant/pkg/snapshot"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// jsonBuffer collects output to be written to a file.
type jsonBuffer = bytes.Buffer

func snapshotCommand(s *streams) *command {
	return &command{
		Command: &cli.Command{
			Name:  "snapshot",
			Usage: "save every document that decides a principal's access to a bucket, for --state",
			Description: "Reads the bucket's encryption, ownership and policy, its key's policy, and the principal's user or\n" +
				"role, groups, inline, managed and boundary policies, and writes them as one snapshot file\n" +
				"(docs/snapshot.md). plan, check, apply and revoke then run on it with --state FILE, without AWS.\n" +
				"The snapshot itself is JSON whatever --format says; with -o, --format json prints a summary.",
			Flags: append([]cli.Flag{
				&cli.StringFlag{Name: "principal", Usage: "the IAM user or role ARN"},
				&cli.StringFlag{Name: "bucket", Usage: "the bucket's name"},
				&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to this file (mode 0600) instead of standard output"},
				&cli.StringFlag{Name: "format", Value: "text", Usage: "with -o: text (a line on stderr) or json (a summary on stdout)"},
			}, awsFlagsWithOrg()...),
			Action: func(c *cli.Context) error {
				if err := noArgs(c); err != nil {
					return err
				}
				debug := c.Bool("debug") || debugEnabled
				principal, bucket, format := c.String("principal"), c.String("bucket"), c.String("format")
				if principal == "" || bucket == "" {
					return usagef("snapshot needs --principal ARN and --bucket NAME")
				}
				if err := checkPrincipal(principal); err != nil {
					return err
				}
				if err := state.CheckBucketName(bucket); err != nil {
					return usagef("--bucket: %v", err)
				}
				if err := checkFormat(format, "text", "json"); err != nil {
					return err
				}
				opts := awsOptions(c, s, debug)
				orgOptions(c, &opts)
				st, err := awsstate.Read(c.Context, opts, principal, bucket)
				if err != nil {
					return withDebug(debug, err)
				}
				if err := readOrg(c.Context, opts, st, principal, bucket); err != nil {
					return withDebug(debug, err)
				}
				path := c.String("output")
				if path == "" {
					data, err := snapshot.Marshal(st)
					if err != nil {
						return err
					}
					_, err = s.out.Write(data)
					return err
				}
				if err := snapshot.Save(path, st); err != nil {
					return err
				}
				if format == "json" {
					return writeJSON(s.out, snapshotResult{Format: formatSnapshotResult, ToolVersion: versionString(), File: path,
						Principals: len(st.Principals), Buckets: len(st.Buckets), Keys: len(st.Keys)})
				}
				fmt.Fprintf(s.err, "Wrote the snapshot to %s\n", path)
				return nil
			},
		},
		synopsis: []string{"bucketgrant snapshot --principal ARN --bucket NAME [-o FILE] [--format text|json]"},
		required: []string{"principal", "bucket"},
		examples: []usageExample{
			{"Save the state of Jane's access, then plan on it offline", "bucketgrant snapshot --principal " + exampleJane + " --bucket my-bucket -o state.json\n  bucketgrant plan --state state.json --principal " + exampleJane + " --bucket my-bucket"},
			{"Across accounts: one profile per account", "bucketgrant snapshot --principal-profile dev --resource-profile data --principal " + exampleJane + " --bucket my-bucket -o state.json"},
		},
		exits: []exitDoc{
			{exitOK, "written"},
			{exitError, "error: bad input, an AWS error, a principal, bucket or key that does not exist"},
			{exitInterrupted, "interrupted; no file was written"},
		},
	}
}

// snapshotResult is snapshot -o FILE --format json's output.
type snapshotResult struct {
	Format      string `json:"format"`
	ToolVersion string `json:"tool_version"`
	File        string `json:"file"`
	Principals  int    `json:"principals"`
	Buckets     int    `json:"buckets"`
	Keys        int    `json:"keys"`
}
