//go:build !(linux || darwin || freebsd || openbsd || netbsd || dragonfly)

package apply

import (
	"errors"
	"io/fs"
	"os"
)

// Without flock (Windows, among others) the lock is the lock file's
// existence: created with O_EXCL, removed on unlock. A writer that crashes
// leaves it behind, and the message says so.
const staleLockFiles = true

func tryLock(lockPath string) (*os.File, bool, error) {
	f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		return f, true, nil
	case errors.Is(err, fs.ErrExist):
		return nil, false, nil
	default:
		return nil, false, err
	}
}

func unlock(f *os.File, lockPath string) error {
	err := f.Close()
	if rerr := os.Remove(lockPath); rerr != nil && err == nil {
		err = rerr
	}
	return err
}
