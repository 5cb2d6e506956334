package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is stamped at build time: go build -ldflags "-X main.version=v1.2.3"
// (make build and the release builds do). Empty means "ask the build info".
var version string

// versionString is the version bucketgrant reports and writes into plans.
// Stamped builds say what they were stamped with; `go install
// …/cmd/bucketgrant@v1.2.3` gets the module version from the build info; a
// build from a checkout says which commit it is, and "-dirty" when the tree
// had uncommitted changes, so a plan made by a hand-built binary still names
// the exact source.
func versionString() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	return versionFromBuildInfo(bi)
}

func versionFromBuildInfo(bi *debug.BuildInfo) string {
	var rev string
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	// A checkout's build carries VCS settings; since Go 1.24 it also gets a
	// pseudo-version as Main.Version, which names no tag a person made, so
	// the revision wins. A module installed from the proxy has no VCS
	// settings and a real version.
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if dirty {
			rev += "-dirty"
		}
		return rev
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	return "(devel)"
}

// versionLine is what `bucketgrant version` and `--version` print.
func versionLine() string {
	return fmt.Sprintf("bucketgrant %s (%s, %s/%s)", versionString(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
