package apply

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// LockWaitEnv names the environment variable that bounds how long a writer
// waits for another writer's lock on a snapshot file (a Go duration such as
// "30s"; "0" refuses at once).
const LockWaitEnv = "BUCKETGRANT_LOCK_WAIT"

// defaultLockWait is long enough for any one apply or sync on a snapshot
// to finish its read-compare-write, short enough that a writer stuck
// behind a hung one says so within a minute.
const defaultLockWait = 60 * time.Second

// DefaultLockWait is how long a writer waits for a snapshot's lock:
// BUCKETGRANT_LOCK_WAIT when set, else 60 seconds.
func DefaultLockWait() (time.Duration, error) {
	v := os.Getenv(LockWaitEnv)
	if v == "" {
		return defaultLockWait, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s=%q is not a duration such as 30s or 2m", LockWaitEnv, v)
	}
	return d, nil
}

// LockPath is the lock file beside a snapshot file. The snapshot itself
// cannot carry the lock: every save replaces it by a rename, so a lock on
// its inode would guard a file that is no longer there.
func LockPath(path string) string { return path + ".lock" }

// StateLock is an exclusive lock on one snapshot file, held by one writer
// (apply, revoke, rollback or sync) for its read-compare-write, so that two
// writers never both save a copy made from the same file and the later one
// never silently drops the earlier one's changes.
type StateLock struct {
	path string // the snapshot file, cleaned
	mu   sync.Mutex
	file *os.File
}

// ErrLocked is wrapped by the error of a writer that gave up waiting.
var ErrLocked = errors.New("the state file is locked by another writer")

// LockStateFile takes the lock on a snapshot file, waiting up to wait for
// another writer to release it (a negative wait: DefaultLockWait). The
// lock file exists beside the snapshot only while the lock is held.
func LockStateFile(ctx context.Context, path string, wait time.Duration) (*StateLock, error) {
	if wait < 0 {
		var err error
		if wait, err = DefaultLockWait(); err != nil {
			return nil, err
		}
	}
	path = filepath.Clean(path)
	lockPath := LockPath(path)
	deadline := time.Now().Add(wait)
	delay := 5 * time.Millisecond
	for {
		f, held, err := tryLock(lockPath)
		if err != nil {
			return nil, fmt.Errorf("locking the state file %s (lock file %s): %w; nothing was written", path, lockPath, err)
		}
		if held {
			l := &StateLock{path: path, file: f}
			l.stamp()
			return l, nil
		}
		if !time.Now().Before(deadline) {
			return nil, lockedError(path, lockPath, wait)
		}
		t := time.NewTimer(min(delay, time.Until(deadline)))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("waiting for the lock on the state file %s: %w; nothing was written", path, ctx.Err())
		case <-t.C:
		}
		delay = min(delay*2, 100*time.Millisecond)
	}
}

// stamp records who holds the lock, for the message of a writer that
// gives up waiting; the lock does not depend on it.
func (l *StateLock) stamp() {
	if l.file == nil {
		return
	}
	if err := l.file.Truncate(0); err != nil {
		return
	}
	_, _ = l.file.WriteAt([]byte(fmt.Sprintf("pid %d since %s\n", os.Getpid(), time.Now().UTC().Format(time.RFC3339))), 0)
}

// Path is the snapshot file the lock guards.
func (l *StateLock) Path() string { return l.path }

// Unlock releases the lock. It is safe to call more than once, from any
// goroutine.
func (l *StateLock) Unlock() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.file == nil {
		return nil
	}
	err := unlock(l.file, LockPath(l.path))
	l.file = nil
	return err
}

func lockedError(path, lockPath string, wait time.Duration) error {
	holder := ""
	if data, err := os.ReadFile(lockPath); err == nil {
		if s := strings.TrimSpace(string(data)); s != "" {
			holder = " (" + s + ")"
		}
	}
	msg := fmt.Sprintf("another bucketgrant is writing the state file %s%s and did not finish within %s; nothing was written. Run again when it has finished (%s sets how long to wait)",
		path, holder, wait, LockWaitEnv)
	if staleLockFiles {
		msg += fmt.Sprintf("; if no bucketgrant is running, the lock file %s was left by one that crashed: delete it", lockPath)
	}
	return fmt.Errorf("%w: %s", ErrLocked, msg)
}
