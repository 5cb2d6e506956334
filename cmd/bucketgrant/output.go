package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"

	"golang.org/x/term"
)

// The formats and versions of bucketgrant's JSON outputs. Each is
// documented by a JSON Schema in docs/schemas/, which the tests check real
// outputs against. Fields may be added within a version; a change of
// meaning gets a new version.
const (
	formatCheck          = "bucketgrant.check/1"
	formatResult         = "bucketgrant.apply-result/1"
	formatSnapshotResult = "bucketgrant.snapshot-result/1"
	formatSyncLine       = "bucketgrant.sync-line/1"
)

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// colorFor turns colour on only for a terminal, and never with --no-color,
// NO_COLOR (no-color.org) or TERM=dumb.
func (s *streams) colorFor(w io.Writer) palette {
	if s.noColor || os.Getenv("TERM") == "dumb" {
		return palette{}
	}
	if _, set := os.LookupEnv("NO_COLOR"); set {
		return palette{}
	}
	return palette{on: isTerminal(w)}
}

// writeJSON writes one JSON value to stdout: indented for a person at a
// terminal, one line otherwise, so that a log pipeline gets one record per
// line (gh does the same).
func writeJSON(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if isTerminal(w) {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// checkFormat validates a --format value against what a command offers.
func checkFormat(format string, allowed ...string) error {
	for _, a := range allowed {
		if format == a {
			return nil
		}
	}
	list := allowed[0]
	for i, a := range allowed[1:] {
		if i == len(allowed)-2 {
			list += " or " + a
		} else {
			list += ", " + a
		}
	}
	return usagef("--format %q: use %s", format, list)
}
