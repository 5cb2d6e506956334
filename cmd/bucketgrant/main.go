// Command bucketgrant fixes an IAM principal's access to an S3 bucket that
// is encrypted by default with a KMS key: it reads the key policy, the
// principal's IAM policies and the bucket policy, plans the smallest change
// that grants the access, and writes it after confirmation.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/bucketgrant/bucketgrant/pkg/awsstate"
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	// The first SIGINT or SIGTERM cancels the run: a prompt stops at once,
	// reads stop, a write in flight finishes or fails and nothing more is
	// written, and the report says what was written (exit 130). A second
	// one exits at once, as terraform does, for a run that seems stuck.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		cancel()
		<-sigs
		fmt.Fprintln(os.Stderr, "\nbucketgrant: interrupted twice: exiting at once; a write already sent may still be carried out by AWS (run plan to see)")
		os.Exit(exitInterrupted)
	}()
	// One credentials cache for the run: a role is assumed once, however
	// many times the run reads and writes.
	ctx = awsstate.WithSharedCredentials(ctx)
	os.Exit(run(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr))
}
