package integration

import (
	"strings"
	"testing"
)

// Issue 7: the retry knobs. --max-attempts sets the tries of each call
// and wins over the profile's max_attempts; a connection that fails on
// every try gets its own message.
func TestRetryKnobs(t *testing.T) {
	const op = "kms:GetKeyPolicy"
	plan := func(w *world, extra ...string) (string, int, int) {
		t.Helper()
		before := w.srv.Calls(op)
		out, stderr, code := w.aws(append(append([]string{"plan", "--retry-max-backoff", "10ms"}, grantArgs()...), extra...)...)
		if code == 1 {
			noRawErrors(t, stderr)
		}
		return out + stderr, code, w.srv.Calls(op) - before
	}
	w := faultWorld(t)

	w.srv.Throttle(op, 4)
	if out, code, calls := plan(w); code != 1 || calls != 3 || !strings.Contains(out, "throttled") {
		t.Errorf("default: exit %d after %d calls, want exit 1 after 3\n%s", code, calls, out)
	}
	w.srv.ClearFaults()
	w.srv.Throttle(op, 4)
	if out, code, calls := plan(w, "--max-attempts", "5"); code != 0 || calls != 5 {
		t.Errorf("--max-attempts 5: exit %d after %d calls, want exit 0 after 5\n%s", code, calls, out)
	}
	w.srv.ClearFaults()

	w.srv.DropConnections(op, 50)
	out, code, calls := plan(w, "--max-attempts", "2")
	if code != 1 || calls != 2 || !strings.Contains(out, op+" on "+w.keyARN+": the connection to aws failed on all 2 attempts") {
		t.Errorf("dropped connections: exit %d after %d calls\n%s", code, calls, out)
	}
	w.srv.ClearFaults()

	// The profile says 2 attempts; the flag says 3.
	w.writeAWSConfig("us-east-1", []string{"max_attempts = 2"})
	w.srv.Throttle(op, 2)
	if out, code, calls := plan(w); code != 1 || calls != 2 {
		t.Errorf("max_attempts = 2: exit %d after %d calls, want exit 1 after 2\n%s", code, calls, out)
	}
	w.srv.ClearFaults()
	w.srv.Throttle(op, 2)
	if out, code, calls := plan(w, "--max-attempts", "3"); code != 0 || calls != 3 {
		t.Errorf("max_attempts = 2 and --max-attempts 3: exit %d after %d calls, want exit 0 after 3\n%s", code, calls, out)
	}
}
