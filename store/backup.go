package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/dgraph-io/badger/v4"
)

// Backup writes a consistent full backup (Badger's backup format: every
// live key at one read timestamp, history included) to w. Restore reads it.
func (s *Badger) Backup(w io.Writer) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	if _, err := s.db.Backup(w, 0); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	return nil
}

// Restore restores a backup made by Backup into dir, which must not exist
// or be empty. The backup is loaded into a temporary directory beside dir
// and checked (schema marker, every record decodes) before it is renamed to
// dir, so a failed restore leaves nothing behind.
func Restore(dir string, r io.Reader) error {
	if dir == "" {
		return errors.New("store: restore: no directory given")
	}
	dir = filepath.Clean(dir)
	if err := checkEmptyDir(dir); err != nil {
		return err
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o750); err != nil {
		return fmt.Errorf("store: restore into %q: %w", dir, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".restore-")
	if err != nil {
		return fmt.Errorf("store: restore into %q: %w", dir, err)
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()
	if err := loadBackup(tmp, r); err != nil {
		return fmt.Errorf("store: restore into %q: %w", dir, err)
	}
	// Check that this build can read every record before it replaces
	// anything.
	s, err := Open(tmp, Options{})
	if err != nil {
		return fmt.Errorf("store: restore into %q: %w", dir, err)
	}
	_, err = s.Load()
	if err == nil {
		err = s.checkArchive()
	}
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("store: restore into %q: %w", dir, err)
	}
	if err := os.Remove(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("store: restore into %q: %w", dir, err) // not empty any more
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("store: restore into %q: %w", dir, err)
	}
	done = true
	if err := syncDir(parent); err != nil {
		return fmt.Errorf("store: restore into %q: %w", dir, err)
	}
	return nil
}

// loadBackup loads a backup into a new database in dir and checks that it is
// a tafweej backup.
func loadBackup(dir string, r io.Reader) (err error) {
	db, err := badger.Open(badgerOptions(dir, Options{}.withDefaults()))
	if err != nil {
		return err
	}
	defer func() {
		if cerr := db.Close(); err == nil {
			err = cerr
		}
	}()
	load := func() (err error) {
		// db.Load trusts its input; frameChecker stops the worst (a huge
		// allocation), this the rest.
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("the backup is corrupt: %v", p)
			}
		}()
		return db.Load(&frameChecker{r: r}, 256)
	}
	if err := load(); err != nil {
		return fmt.Errorf("read backup: %w", err)
	}
	return db.View(func(txn *badger.Txn) error {
		item, err := txn.Get([]byte(keySchema))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return fmt.Errorf("the backup has no %q record: it is empty or not a tafweej backup", keySchema)
		}
		if err != nil {
			return err
		}
		return item.Value(checkMarker)
	})
}

// maxBackupFrame bounds one list of a backup. Badger's stream writes lists
// of at most about 100 MB (its soft limit plus one record of at most 1 MB).
const maxBackupFrame = 1 << 30

// frameChecker passes a backup through and fails on a list whose size header
// is over maxBackupFrame: db.Load would allocate whatever a corrupt header
// says. A backup is a sequence of (8-byte little-endian size, protobuf
// KVList of that size).
type frameChecker struct {
	r    io.Reader
	hdr  [8]byte
	nhdr int    // bytes of the current size header seen
	left uint64 // bytes of the current list still to pass
	off  int64  // bytes passed so far
}

func (f *frameChecker) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	for i := 0; i < n; {
		if f.left > 0 {
			k := min(uint64(n-i), f.left)
			i += int(k)
			f.left -= k
			continue
		}
		f.hdr[f.nhdr] = p[i]
		f.nhdr++
		i++
		if f.nhdr == len(f.hdr) {
			f.nhdr = 0
			f.left = binary.LittleEndian.Uint64(f.hdr[:])
			if f.left > maxBackupFrame {
				// Keep this read's bytes from Load: it never sees the
				// whole header.
				return 0, fmt.Errorf("the backup is corrupt or not a backup: a list at byte %d claims %d bytes (at most %d)",
					f.off+int64(i)-8, f.left, maxBackupFrame)
			}
		}
	}
	f.off += int64(n)
	return n, err
}

// checkEmptyDir accepts a directory that does not exist or is empty.
func checkEmptyDir(dir string) error {
	f, err := os.Open(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: restore into %q: %w", dir, err)
	}
	defer f.Close()
	names, err := f.Readdirnames(1)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("store: restore into %q: %w", dir, err)
	}
	if len(names) > 0 {
		return fmt.Errorf("store: restore into %q: the directory is not empty and may hold a database; "+
			"move it away or choose another --data directory", dir)
	}
	return nil
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
