package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sync against AWS with drop_old_keys: in one account with the grant in the
// key policy, only the old key's own policy still names Jane once the
// bucket moved to a new key, and nothing else sync read pointed to it. It
// was never read, so the statement stayed while sync said the grant was
// fixed. sync now reads the keys the bucket used before for such grants,
// whole or in a shard.
func TestSyncDropsOldKeysOnAWS(t *testing.T) {
	t.Parallel()
	for _, shard := range []string{"", "0/1"} {
		t.Run("shard="+shard, func(t *testing.T) {
			t.Parallel()
			w, oldKey, _ := rekeyedWorld(t)
			grants := filepath.Join(w.dir, "grants.yaml")
			text := "version: 1\ncredentials:\n  accounts:\n    \"" + w.resource + "\": {profile: keyadmin}\n" +
				"grants:\n  - principal: " + jane + "\n    bucket: " + bucket + "\n"
			if err := os.WriteFile(grants, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			args := []string{"sync", "-f", grants, "--yes", "--drop-old-keys"}
			if shard != "" {
				args = append(args, "--shard", shard)
			}
			syncRun := func() string {
				t.Helper()
				out, errOut, code := w.run(args...) // sync's credentials are in the grants file
				if code != 0 {
					t.Fatalf("bucketgrant %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
				}
				return out
			}
			out := syncRun()
			if d, _ := w.srv.KeyPolicy(oldKey); strings.Contains(d, jane) {
				t.Errorf("after sync --drop-old-keys the old key's policy still names Jane:\n%s\nsync said:\n%s", d, out)
			}
			if !strings.Contains(out, "1 fixed") {
				t.Errorf("the grant was not fixed:\n%s", out)
			}
			// And again: nothing left to do.
			if out := syncRun(); !strings.Contains(out, "0 fixed") {
				t.Errorf("a second sync changed something:\n%s", out)
			}
		})
	}
}
