//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package apply

import (
	"errors"
	"os"
	"syscall"
)

// flock locks belong to the open file and end with the process, so a
// writer that crashes leaves no lock behind.
const staleLockFiles = false

// tryLock opens (or creates) the lock file and takes its flock without
// waiting. The holder removes the file when it unlocks, so that no file is
// left beside the snapshot; a writer that locked the removed file in the
// meantime sees that the path no longer names what it locked, and tries
// again on the new file.
func tryLock(lockPath string) (*os.File, bool, error) {
	for {
		f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, false, err
		}
		for {
			err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
			if !errors.Is(err, syscall.EINTR) {
				break
			}
		}
		switch {
		case errors.Is(err, syscall.EWOULDBLOCK):
			f.Close()
			return nil, false, nil
		case err != nil:
			f.Close()
			return nil, false, err
		}
		mine, ferr := f.Stat()
		now, perr := os.Stat(lockPath)
		if ferr == nil && perr == nil && os.SameFile(mine, now) {
			return f, true, nil
		}
		f.Close()
		if ferr != nil {
			return nil, false, ferr
		}
		if perr != nil && !errors.Is(perr, os.ErrNotExist) {
			return nil, false, perr
		}
	}
}

func unlock(f *os.File, lockPath string) error {
	// Removed while still locked: see tryLock. Closing releases the flock.
	err := os.Remove(lockPath)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
