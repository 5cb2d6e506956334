// Command k8scheck checks a Kubernetes manifest for running bucketgrant on
// a schedule, offline: every document is decoded strictly into the
// Kubernetes API types (k8s.io/api), every object a CronJob uses must be
// defined in the file, the image must be the one `make image` builds, and
// the container's bucketgrant command line and grants file must be valid.
//
//	go run ./k8scheck ../examples/kubernetes/cronjob.yaml
//
// It is no API server: admission webhooks, quotas and what the cluster
// already holds are not checked.
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: k8scheck MANIFEST.yaml...")
		return 2
	}
	code := 0
	for _, file := range args {
		data, err := os.ReadFile(file)
		if err != nil {
			fmt.Fprintln(stderr, "k8scheck:", err)
			code = 1
			continue
		}
		if _, errs := Check(file, data); len(errs) > 0 {
			for _, err := range errs {
				fmt.Fprintln(stderr, err)
			}
			code = 1
			continue
		}
		fmt.Fprintf(stdout, "%s: ok\n", file)
	}
	return code
}
