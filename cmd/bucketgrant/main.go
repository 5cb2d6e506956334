// Command bucketgrant fixes an IAM principal's access to an S3 bucket that
// is encrypted by default with a KMS key: it reads the key policy, the
// principal's IAM policies and the bucket policy, plans the smallest change
// that grants the access, and writes it after confirmation.
package main

import (
	"context"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
