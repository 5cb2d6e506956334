package apply_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bucketgrant/bucketgrant/pkg/apply"
	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/snapshot"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// manyUsers writes the same-account example with n users U0…U(n-1) and a
// key policy that also delegates to the account, so that a grant with
// --kms-via identity writes only its user's inline policy and one with
// --kms-via key-policy writes the shared key policy too.
func manyUsers(t *testing.T, n int) string {
	t.Helper()
	st, err := snapshot.Load(filepath.Join("..", "..", "examples", "seed-same-account.json"))
	if err != nil {
		t.Fatal(err)
	}
	var kp map[string]any
	if err := json.Unmarshal(st.Keys[0].Policy.Text, &kp); err != nil {
		t.Fatal(err)
	}
	kp["Statement"] = append(kp["Statement"].([]any), map[string]any{"Sid": "EnableIAMUserPermissions", "Effect": "Allow",
		"Principal": map[string]any{"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"})
	text, _ := json.Marshal(kp)
	st.Keys[0].Policy = state.NewDoc(string(text))
	st.Keys[0].Source = nil
	st.Principals = nil
	for i := range n {
		st.Principals = append(st.Principals, state.Principal{ARN: user(i), ID: fmt.Sprintf("AIDAEXAMPLEUSER%06d", i), Kind: state.KindUser})
	}
	st.Source = nil
	path := filepath.Join(t.TempDir(), "state.json")
	if err := snapshot.Save(path, st); err != nil {
		t.Fatal(err)
	}
	return path
}

func user(i int) string { return fmt.Sprintf("arn:aws:iam::111122223333:user/U%d", i) }

// applyGrant plans one user's grant on the file as it is now and applies
// it; stale plans are planned again, as a person would, up to tries times.
func applyGrant(ctx context.Context, path string, i int, via string, tries int, o apply.Options) error {
	var err error
	for range tries {
		var st *state.State
		if st, err = snapshot.Load(path); err != nil {
			return err
		}
		var p *diff.Plan
		if p, err = diff.Make(st, diff.Options{Principal: user(i), Bucket: bucket, KMSVia: via}); err != nil {
			return err
		}
		if p.Blocked() {
			return fmt.Errorf("blocked: %v", p.Blockers)
		}
		p.Seal()
		store, serr := apply.NewStateStore(path, user(i))
		if serr != nil {
			return serr
		}
		_, err = apply.Apply(ctx, store, p, o)
		var stale *apply.StaleError
		if !errors.As(err, &stale) {
			return err
		}
	}
	return err
}

// missingGrants plans every user's grant on the file: a grant whose plan
// is not empty was lost.
func missingGrants(t *testing.T, path string, n int, via string) []string {
	t.Helper()
	st, err := snapshot.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	for i := range n {
		p, err := diff.Make(st, diff.Options{Principal: user(i), Bucket: bucket, KMSVia: via})
		if err != nil {
			t.Fatal(err)
		}
		if !p.Empty() {
			missing = append(missing, user(i))
		}
	}
	return missing
}

// Issue 14, "two applies on one snapshot file lose an update": writers of
// disjoint documents (each user's own inline policy) all succeed, and every
// grant is in the file at the end. Before the lock, each writer saved a
// copy of the file it had read, and the last save dropped the others.
func TestConcurrentWritersOfOneSnapshotLoseNothing(t *testing.T) {
	for _, tc := range []struct {
		via      string
		n, tries int
	}{
		// Disjoint documents: nothing is stale, every writer succeeds at once.
		{diff.ViaIdentity, 8, 1},
		// Every writer also extends the shared key policy: a writer whose
		// plan predates another's save is refused as stale (and plans
		// again); none is lost.
		{diff.ViaKeyPolicy, 6, 30},
	} {
		n := tc.n
		t.Run(tc.via, func(t *testing.T) {
			path := manyUsers(t, n)
			o := opts(t)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() { errs[i] = applyGrant(context.Background(), path, i, tc.via, tc.tries, o) })
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("writer %d: %v", i, err)
				}
			}
			if missing := missingGrants(t, path, n, tc.via); len(missing) > 0 {
				t.Fatalf("every writer succeeded, but the grants of %v are not in the file", missing)
			}
		})
	}
}

// A second writer waits for the lock, bounded, then gives up with a message
// that names the file and the holder and says what to do; nothing is
// written, not even a backup.
func TestLockedSnapshotWaitsThenRefuses(t *testing.T) {
	path := manyUsers(t, 1)
	before, _ := os.ReadFile(path)
	held, err := apply.LockStateFile(context.Background(), path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Unlock()

	st, _ := snapshot.Load(path)
	p, err := diff.Make(st, diff.Options{Principal: user(0), Bucket: bucket})
	if err != nil {
		t.Fatal(err)
	}
	p.Seal()
	o := opts(t)
	store, _ := apply.NewStateStore(path, user(0))
	store.LockWait = 50 * time.Millisecond
	start := time.Now()
	_, err = apply.Apply(context.Background(), store, p, o)
	if !errors.Is(err, apply.ErrLocked) {
		t.Fatalf("got %v, want ErrLocked", err)
	}
	if time.Since(start) < 50*time.Millisecond {
		t.Errorf("gave up before the wait was over")
	}
	for _, want := range []string{path, fmt.Sprintf("pid %d", os.Getpid()), "nothing was written", "Run again", apply.LockWaitEnv} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message does not say %q: %v", want, err)
		}
	}
	if now, _ := os.ReadFile(path); string(now) != string(before) {
		t.Error("the file was written")
	}
	if entries, _ := os.ReadDir(o.BackupDir); len(entries) != 0 {
		t.Errorf("a backup was written: %v", entries)
	}

	// Released while the writer waits: it goes ahead.
	store, _ = apply.NewStateStore(path, user(0))
	store.LockWait = time.Minute
	time.AfterFunc(20*time.Millisecond, func() { held.Unlock() })
	if _, err := apply.Apply(context.Background(), store, p, o); err != nil {
		t.Fatal(err)
	}
	if missing := missingGrants(t, path, 1, ""); len(missing) > 0 {
		t.Fatal("the grant is not in the file")
	}
	if _, err := os.Stat(apply.LockPath(path)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the lock file is left beside the snapshot: %v", err)
	}
}

// The lock excludes: many goroutines (each its own open file, as separate
// processes are) take it in turn, and never two at once, although every
// holder removes the lock file when it unlocks.
func TestLockIsExclusive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	var inside, taken atomic.Int32
	var overlapped atomic.Bool
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 25 {
				l, err := apply.LockStateFile(context.Background(), path, time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				if inside.Add(1) > 1 {
					overlapped.Store(true)
				}
				taken.Add(1)
				time.Sleep(100 * time.Microsecond)
				inside.Add(-1)
				if err := l.Unlock(); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if overlapped.Load() || taken.Load() != 200 {
		t.Fatalf("two holders at once: %v; %d locks taken (want 200)", overlapped.Load(), taken.Load())
	}
}

// A cancelled wait stops at once and says so.
func TestLockWaitIsCancellable(t *testing.T) {
	path := manyUsers(t, 1)
	held, err := apply.LockStateFile(context.Background(), path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	_, err = apply.LockStateFile(ctx, path, time.Hour)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
}

// A store told that its caller holds the lock does not take it again (that
// would wait for itself), and refuses a lock on another file.
func TestUnderLock(t *testing.T) {
	path := manyUsers(t, 1)
	held, err := apply.LockStateFile(context.Background(), path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Unlock()
	st, _ := snapshot.Load(path)
	p, _ := diff.Make(st, diff.Options{Principal: user(0), Bucket: bucket})
	p.Seal()
	store, _ := apply.NewStateStore(path, user(0))
	store.LockWait = 0
	store.UnderLock(held)
	if _, err := apply.Apply(context.Background(), store, p, opts(t)); err != nil {
		t.Fatal(err)
	}
	// The caller's lock is still held.
	if _, err := apply.LockStateFile(context.Background(), path, 0); !errors.Is(err, apply.ErrLocked) {
		t.Fatalf("the store released its caller's lock: %v", err)
	}

	other := manyUsers(t, 1)
	ol, err := apply.LockStateFile(context.Background(), other, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer ol.Unlock()
	st, _ = snapshot.Load(path)
	p, _ = diff.Make(st, diff.Options{Principal: user(0), Bucket: bucket, Access: []diff.Level{diff.List}})
	p.Seal()
	store, _ = apply.NewStateStore(path, user(0))
	store.UnderLock(ol)
	if _, err := apply.Apply(context.Background(), store, p, opts(t)); err == nil || !strings.Contains(err.Error(), "not on "+path) {
		t.Fatalf("got %v", err)
	}
}

func TestLockWaitFromEnvironment(t *testing.T) {
	t.Setenv(apply.LockWaitEnv, "")
	if d, err := apply.DefaultLockWait(); err != nil || d != time.Minute {
		t.Errorf("default: %v %v", d, err)
	}
	t.Setenv(apply.LockWaitEnv, "250ms")
	if d, err := apply.DefaultLockWait(); err != nil || d != 250*time.Millisecond {
		t.Errorf("250ms: %v %v", d, err)
	}
	for _, bad := range []string{"soon", "-1s"} {
		t.Setenv(apply.LockWaitEnv, bad)
		if _, err := apply.DefaultLockWait(); err == nil || !strings.Contains(err.Error(), apply.LockWaitEnv) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
