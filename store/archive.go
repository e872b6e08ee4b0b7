package store

import (
	"errors"
	"fmt"
	"slices"

	"github.com/dgraph-io/badger/v4"

	"github.com/tafweej/tafweej/scheduler"
)

// The archive: past days out of the live state (scheduler/archive.go).
//
//	y/<date>           scheduler.ArchivedDay, written by the owner loop's
//	                   Commit (PutArchivedDay) in the turn that took the
//	                   date out of the live state
//	a/<date>/<id>      scheduler.Booking, moved from b/<id>
//	A/<id>             archiveIndex: the date of an archived booking
//
// A date's bookings move from b/ to a/ in batches (MoveToArchive), each
// batch one synced transaction that writes a/<date>/<id> and A/<id> and
// deletes b/<id>: a booking is always under exactly one of the two keys, so
// a crash between batches loses none and duplicates none. Until the last
// batch, y/<date> lists the bookings not yet moved (Pending); Load leaves
// the bookings of such a date out, and a later MoveToArchive finishes the
// move. Load never reads a/, A/ or y/ otherwise: start-up reads only the
// live days. Backup copies every key, the archive included; Restore checks
// the archive's records too.
const (
	prefixArchiveDay   = "y/"
	prefixArchived     = "a/"
	prefixArchiveIndex = "A/"
)

func archiveDayKey(date string) []byte { return []byte(prefixArchiveDay + date) }
func archivedKey(date, id string) []byte {
	return []byte(prefixArchived + date + "/" + id)
}
func archiveIndexKey(id string) []byte { return []byte(prefixArchiveIndex + id) }

// archiveIndex is the value of A/<id>.
type archiveIndex struct {
	Date string `json:"date"`
}

// Archive is the archive of past days; *Badger implements it. Every method
// may return ErrClosed or an I/O error.
type Archive interface {
	// MoveToArchive moves the bookings date's record (y/<date>) still
	// lists as pending from the live keys to the archive, at most batch a
	// transaction (each synced), then clears the list. Bookings already
	// moved are skipped, so it may be called again after a failure or a
	// crash. It returns how many it moved; ErrNotFound if the date has no
	// record.
	MoveToArchive(date string, batch int) (int, error)
	// PendingArchives are the archived dates whose bookings are not all
	// moved yet, oldest first.
	PendingArchives() ([]string, error)
	// ArchivedDays are the records of every archived date, oldest first.
	ArchivedDays() ([]scheduler.ArchivedDay, error)
	// ArchivedBookings returns an archived date's bookings (sorted by id)
	// and true, or false if the date is not archived. Bookings still being
	// moved are included: each is read from where it is.
	ArchivedBookings(date string) ([]scheduler.Booking, bool, error)
	// ArchivedBooking returns an archived booking by id, or false.
	ArchivedBooking(id string) (scheduler.Booking, bool, error)
}

var _ Archive = (*Badger)(nil)

// archiveHook, if set (tests), runs before each batch of MoveToArchive
// with the batch's index; an error stops the move there, as a crash would.
var archiveHook func(batch int) error

func (s *Badger) MoveToArchive(date string, batch int) (int, error) {
	if batch <= 0 {
		batch = 500
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return 0, ErrClosed
	}
	day, ok, err := s.archivedDay(date)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, fmt.Errorf("store: archive date %q: %w", date, ErrNotFound)
	}
	moved, i := 0, 0
	for ids := range slices.Chunk(day.Pending, batch) {
		if archiveHook != nil {
			if err := archiveHook(i); err != nil {
				return moved, err
			}
		}
		n, err := s.moveBatch(date, ids)
		if err != nil {
			return moved, fmt.Errorf("store: archive date %q: %w", date, err)
		}
		moved += n
		i++
	}
	day.Pending = nil
	val, err := encode(&day)
	if err != nil {
		return moved, err
	}
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(archiveDayKey(date), val) }); err != nil {
		return moved, fmt.Errorf("store: archive date %q: %w", date, err)
	}
	return moved, nil
}

// moveBatch moves one batch in one synced transaction.
func (s *Badger) moveBatch(date string, ids []string) (int, error) {
	idx, err := encode(archiveIndex{Date: date})
	if err != nil {
		return 0, err
	}
	n := 0
	err = s.db.Update(func(txn *badger.Txn) error {
		n = 0
		for _, id := range ids {
			item, err := txn.Get(bookingKey(id))
			if errors.Is(err, badger.ErrKeyNotFound) {
				continue // moved by an earlier call
			}
			if err != nil {
				return err
			}
			val, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			var b scheduler.Booking
			if err := decode(item.Key(), val, &b); err != nil {
				return err
			}
			if b.Date != date {
				return fmt.Errorf("booking %q is of %s, not of the archived date", id, b.Date)
			}
			if err := txn.Set(archivedKey(date, id), val); err != nil {
				return err
			}
			if err := txn.Set(archiveIndexKey(id), idx); err != nil {
				return err
			}
			if err := txn.Delete(bookingKey(id)); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

func (s *Badger) archivedDay(date string) (day scheduler.ArchivedDay, ok bool, err error) {
	err = s.db.View(func(txn *badger.Txn) error {
		day, ok, err = findOne[scheduler.ArchivedDay](txn, archiveDayKey(date))
		return err
	})
	return day, ok, err
}

func (s *Badger) ArchivedDays() ([]scheduler.ArchivedDay, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	var days []scheduler.ArchivedDay
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		days, err = loadPrefix[scheduler.ArchivedDay](txn, prefixArchiveDay, 1)
		return err
	})
	return days, err
}

func (s *Badger) PendingArchives() ([]string, error) {
	days, err := s.ArchivedDays()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, d := range days {
		if len(d.Pending) > 0 {
			out = append(out, d.Date)
		}
	}
	return out, nil
}

func (s *Badger) ArchivedBookings(date string) ([]scheduler.Booking, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, false, ErrClosed
	}
	var (
		out []scheduler.Booking
		ok  bool
	)
	err := s.db.View(func(txn *badger.Txn) error {
		day, found, err := findOne[scheduler.ArchivedDay](txn, archiveDayKey(date))
		if err != nil || !found {
			return err
		}
		ok = true
		if out, err = loadPrefix[scheduler.Booking](txn, prefixArchived+date+"/", 1); err != nil {
			return err
		}
		// Bookings not moved yet are still live keys: the same read
		// transaction sees each under one key only.
		for _, id := range day.Pending {
			b, found, err := findOne[scheduler.Booking](txn, bookingKey(id))
			if err != nil {
				return err
			}
			if found {
				out = append(out, b)
			}
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("store: archived bookings of %q: %w", date, err)
	}
	slices.SortFunc(out, func(a, b scheduler.Booking) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return out, ok, nil
}

func (s *Badger) ArchivedBooking(id string) (scheduler.Booking, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return scheduler.Booking{}, false, ErrClosed
	}
	var (
		b  scheduler.Booking
		ok bool
	)
	err := s.db.View(func(txn *badger.Txn) error {
		idx, moved, err := findOne[archiveIndex](txn, archiveIndexKey(id))
		if err != nil {
			return err
		}
		if moved {
			b, ok, err = findOne[scheduler.Booking](txn, archivedKey(idx.Date, id))
			return err
		}
		// Not moved yet: a live key of an archived date.
		live, found, err := findOne[scheduler.Booking](txn, bookingKey(id))
		if err != nil || !found {
			return err
		}
		day, archived, err := findOne[scheduler.ArchivedDay](txn, archiveDayKey(live.Date))
		if _, pending := slices.BinarySearch(day.Pending, id); archived && pending {
			b, ok = live, true
		}
		return err
	})
	if err != nil {
		return scheduler.Booking{}, false, fmt.Errorf("store: archived booking %q: %w", id, err)
	}
	return b, ok, nil
}

// dropArchived removes from bookings (sorted by id, as Load reads them)
// those an archived date's record lists as not yet moved: they left the
// live state when the record was written.
func dropArchived(txn *badger.Txn, bookings []scheduler.Booking) ([]scheduler.Booking, error) {
	pending, err := pendingArchived(txn)
	if err != nil {
		return nil, err
	}
	if len(pending) == 0 {
		return bookings, nil
	}
	return slices.DeleteFunc(bookings, func(b scheduler.Booking) bool {
		date, ok := pending[b.ID]
		return ok && date == b.Date
	}), nil
}

// checkArchive decodes every record of the archive (Restore's check).
func (s *Badger) checkArchive() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	return s.db.View(func(txn *badger.Txn) error {
		if _, err := loadPrefix[scheduler.ArchivedDay](txn, prefixArchiveDay, s.loadWorkers); err != nil {
			return err
		}
		if _, err := loadPrefix[archiveIndex](txn, prefixArchiveIndex, s.loadWorkers); err != nil {
			return err
		}
		_, err := loadPrefix[scheduler.Booking](txn, prefixArchived, s.loadWorkers)
		return err
	})
}
