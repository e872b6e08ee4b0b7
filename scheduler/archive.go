package scheduler

import (
	"maps"
	"slices"
	"time"
)

// Archiving past days.
//
// The live state keeps only a horizon of days: a date that ended long
// enough ago leaves it with ArchiveDay. The command takes the date's
// bookings and its capacity picture out of the state and records the fact
// (PutArchivedDay, an ArchivedDay with the ids still to move); the store
// then moves the bookings' records from the live keys to its archive, off
// the owner loop, and clears Pending once they are all moved. From the
// moment the record is durable, the date is the archive's: the store's
// Load leaves the date's bookings out, so a crash before or during the
// move brings none of them back into the state, and a later archive pass
// moves what is left. See store/archive.go and engine/archive.go.

// MinArchiveDays is the youngest a day may be archived: a date is
// archivable once it is more than this many days before today, so every
// scan record of its bookings (kept 48 hours) has expired and no offline
// scan (accepted up to 48 hours late) can still reach it.
const MinArchiveDays = 2

// ArchiveDay takes a past date out of the live state: its bookings, of any
// status, and its capacity picture. The date must be before
// ArchiveCutoff(now, MinArchiveDays). Result.Archived says what left, with
// the bookings' ids in Pending; the effect is a PutArchivedDay.
type ArchiveDay struct {
	Date string
}

func (ArchiveDay) isCommand() {}

// ArchivedDay is the record of an archived date.
type ArchivedDay struct {
	Date     string    `json:"date"`
	Bookings int       `json:"bookings"` // bookings of any status
	Visitors int       `json:"visitors"` // their party sizes
	At       time.Time `json:"at"`       // when the date left the live state
	// Pending are the ids of the bookings whose records are still under
	// the live keys, sorted; empty once the store has moved them all.
	Pending []string `json:"pending,omitempty"`
}

// PutArchivedDay persists an archived date's record.
type PutArchivedDay struct{ Day ArchivedDay }

func (PutArchivedDay) isEffect() {}

// ArchiveCutoff is the first date kept live when days are archived after
// afterDays: every date before it may be archived.
func (s *State) ArchiveCutoff(now time.Time, afterDays int) string {
	return s.today(now).AddDate(0, 0, -afterDays).Format(time.DateOnly)
}

// ArchivableDates are the dates of the live state (bookings or capacity
// pictures) before ArchiveCutoff(now, afterDays), oldest first. afterDays
// below MinArchiveDays counts as MinArchiveDays.
func (s *State) ArchivableDates(now time.Time, afterDays int) []string {
	cutoff := s.ArchiveCutoff(now, max(afterDays, MinArchiveDays))
	set := map[string]bool{}
	for date := range s.days {
		if date < cutoff {
			set[date] = true
		}
	}
	for _, date := range s.bookings.dates() {
		if date < cutoff {
			set[date] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

func (s *State) archiveDay(now time.Time, c ArchiveDay) (Result, []Effect) {
	if _, err := time.ParseInLocation(time.DateOnly, c.Date, s.cfg.Location()); err != nil {
		return Result{Err: errorf(CodeInvalid, "date", "date %q is not a date of the form YYYY-MM-DD", c.Date)}, nil
	}
	if cutoff := s.ArchiveCutoff(now, MinArchiveDays); c.Date >= cutoff {
		return Result{Err: errorf(CodeInvalid, "date", "date %q is too recent to archive: only dates before %s (%d days before today) are accepted",
			c.Date, cutoff, MinArchiveDays)}, nil
	}
	a := ArchivedDay{Date: c.Date, At: now}
	for b := range s.bookings.view(c.Date, nil) {
		a.Pending = append(a.Pending, b.ID)
		a.Bookings++
		a.Visitors += b.PartySize
	}
	slices.Sort(a.Pending)
	for _, id := range a.Pending {
		s.bookings.remove(id)
	}
	delete(s.days, c.Date)
	res := a
	res.Pending = slices.Clone(a.Pending)
	return Result{Archived: &res}, []Effect{PutArchivedDay{Day: a}}
}

// missingBookingReason is why a scan of a verified ticket whose booking the
// live state does not hold is refused: a ticket of a past date is for
// another day (its date may have been archived), any other is unknown.
func (s *State) missingBookingReason(now time.Time, t Ticket) string {
	if t.Date != "" && t.Date < s.today(now).Format(time.DateOnly) {
		return ReasonWrongDay
	}
	return ReasonUnknownTicket
}

// SortBookings orders bookings as State.Bookings lists them: by slot, then
// id (for lists read from the archive).
func SortBookings(bs []Booking) { sortBookings(bs) }
