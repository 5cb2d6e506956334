// Command ociimage assembles bucketgrant's container image from scratch:
// static binaries, CA certificates, a non-root user, and nothing else (no
// shell, no package manager, no base image). It writes an OCI image layout
// and, if asked, a tar of it, and pushes it to a registry with -push.
//
// It pulls nothing, so `make image` runs on a machine with neither a
// container daemon nor a registry. The library is go-containerregistry:
// it writes OCI layouts and pushes indexes without a daemon, and the
// layers it is given are plain tar files this program writes itself.
//
//	go run ./ociimage -version v1.2.3 \
//	    -binary linux/amd64=../dist/image/linux-amd64/bucketgrant \
//	    -binary linux/arm64=../dist/image/linux-arm64/bucketgrant \
//	    -out ../dist/image/oci -archive ../dist/image/bucketgrant-oci.tar
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "ociimage:", err)
		}
		os.Exit(1)
	}
}

// binaryFlags collects repeated -binary PLATFORM=PATH.
type binaryFlags map[string]string

func (b binaryFlags) String() string { return fmt.Sprint(map[string]string(b)) }

func (b binaryFlags) Set(v string) error {
	plat, path, ok := strings.Cut(v, "=")
	if !ok || plat == "" || path == "" {
		return fmt.Errorf("%q: write PLATFORM=PATH, for example linux/amd64=dist/bucketgrant", v)
	}
	if _, err := parsePlatform(plat); err != nil {
		return err
	}
	if _, dup := b[plat]; dup {
		return fmt.Errorf("%s is given twice", plat)
	}
	b[plat] = path
	return nil
}

// listFlag collects repeated -push REF.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ociimage", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bins := binaryFlags{}
	var pushes listFlag
	fs.Var(bins, "binary", "PLATFORM=PATH: a static (CGO_ENABLED=0) bucketgrant for that platform; repeat for each")
	version := fs.String("version", "", "the image's tag and version label (required)")
	repo := fs.String("repository", DefaultRepository, "the image's name, without a tag")
	out := fs.String("out", "dist/image/oci", "write the OCI image layout to this directory")
	archive := fs.String("archive", "", "also write the layout as one tar file here (for podman load, docker load, skopeo)")
	caFile := fs.String("ca-bundle", "", "PEM file of CA certificates to ship (default: the NSS roots embedded in golang.org/x/crypto/x509roots/fallback)")
	source := fs.String("source", "https://github.com/bucketgrant/bucketgrant", "repository URL for the org.opencontainers.image.source label")
	fs.Var(&pushes, "push", "also push the image to this reference (registry/repository:tag); repeat for more tags")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: every input is a flag (see -help)", fs.Arg(0))
	}
	created, err := sourceDateEpoch()
	if err != nil {
		return err
	}
	idx, err := Build(Options{Binaries: bins, Version: *version, Repository: *repo, Created: created, CABundle: *caFile, Source: *source})
	if err != nil {
		return err
	}
	digest, err := idx.Digest()
	if err != nil {
		return err
	}
	if err := WriteLayout(*out, idx, *repo, *version); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s:%s %s\nOCI layout: %s\n", *repo, *version, digest, *out)
	if *archive != "" {
		if err := WriteArchive(*out, *archive, created); err != nil {
			return fmt.Errorf("writing %s: %w", *archive, err)
		}
		fmt.Fprintf(stdout, "OCI archive: %s\n", *archive)
	}
	if len(pushes) > 0 {
		if _, err := Push(ctx, idx, pushes); err != nil {
			return err
		}
		for _, p := range pushes {
			fmt.Fprintf(stdout, "pushed %s@%s\n", p, digest)
		}
	}
	return nil
}

// sourceDateEpoch reads SOURCE_DATE_EPOCH (reproducible-builds.org): the
// Makefile sets it to the commit's time, so a rebuild of one commit gives
// the same image digest.
func sourceDateEpoch() (time.Time, error) {
	v := os.Getenv("SOURCE_DATE_EPOCH")
	if v == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	secs, err := strconv.ParseInt(v, 10, 64)
	if err != nil || secs < 0 {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: give seconds since 1970 (git log -1 --format=%%ct)", v)
	}
	return time.Unix(secs, 0).UTC(), nil
}
