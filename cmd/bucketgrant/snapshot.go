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

func snapshotCommand(s streams) *cli.Command {
	return &cli.Command{
		Name:  "snapshot",
		Usage: "save every document that decides a principal's access to a bucket, for --state",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "principal", Usage: "IAM user or role ARN", Required: true},
			&cli.StringFlag{Name: "bucket", Usage: "bucket name", Required: true},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to this file (mode 0600) instead of standard output"},
		}, awsFlags()...),
		Action: func(c *cli.Context) error {
			debug := c.Bool("debug") || debugEnabled
			if err := state.CheckBucketName(c.String("bucket")); err != nil {
				return usagef("--bucket: %v", err)
			}
			if _, err := parseARNFlag(c.String("principal")); err != nil {
				return err
			}
			st, err := awsstate.Read(c.Context, awsOptions(c, s, debug), c.String("principal"), c.String("bucket"))
			if err != nil {
				return withDebug(debug, err)
			}
			if path := c.String("output"); path != "" {
				if err := snapshot.Save(path, st); err != nil {
					return err
				}
				fmt.Fprintf(s.err, "Wrote the snapshot to %s\n", path)
				return nil
			}
			data, err := snapshot.Marshal(st)
			if err != nil {
				return err
			}
			_, err = s.out.Write(data)
			return err
		},
	}
}
