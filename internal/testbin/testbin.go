// Package testbin builds the bucketgrant binary that the tests of
// cmd/bucketgrant, integration, integration/moto and examples run, or takes
// the one make test built for all of them.
//
// Linking the 20 MB binary costs a few seconds of CPU each time, and go
// build does not cache a binary written to a new path; make test builds it
// once (make test-binary) and names it in BUCKETGRANT_TEST_BINARY. Run on
// their own (go test ./...), the packages build it themselves.
package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/bucketgrant/bucketgrant/internal/testrace"
)

// Version is what the tests' binary prints for --version: it is stamped
// the way make build and the release builds stamp theirs. The Makefile's
// TEST_BINARY_VERSION must be the same string (cmd/bucketgrant's version
// test fails otherwise).
const Version = "v0.0.0-clitest"

// Env names a binary built beforehand from this checkout with Version
// stamped (make test sets it).
const Env = "BUCKETGRANT_TEST_BINARY"

// Build returns the path of a bucketgrant built from the module at root
// into dir: the one Env names when the tests want a plain binary, else a
// fresh build, race-built when testrace.Binary says so.
func Build(root, dir string) (string, error) {
	if shared := os.Getenv(Env); shared != "" && !testrace.Binary() {
		if !filepath.IsAbs(shared) {
			return "", fmt.Errorf("%s=%q: give an absolute path", Env, shared)
		}
		if _, err := os.Stat(shared); err != nil {
			return "", fmt.Errorf("%s names no binary: %w (unset it, or run make test-binary)", Env, err)
		}
		return shared, nil
	}
	binary := filepath.Join(dir, "bucketgrant")
	args := []string{"build", "-o", binary, "-ldflags", "-X main.version=" + Version}
	if testrace.Binary() {
		// Reuses the race-compiled packages of the test binary itself.
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, "./cmd/bucketgrant")...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building bucketgrant: %w\n%s", err, out)
	}
	return binary, nil
}
