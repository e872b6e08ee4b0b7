package scheduler

import (
	"cmp"
	"encoding/binary"
	"hash/fnv"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Offline gates (docs/offline-gates.md). A gate that cannot reach the
// service decides on its own from the day's manifest (Manifest) and its own
// log, by the rules of DecideOffline; the gate console's JavaScript
// (web/assets/offline.js) mirrors those rules and must be changed with them.
// When the gate is back, OfflineScans records what it did as facts.

// ManifestBooking is one booking due at a gate, as an offline gate needs it.
type ManifestBooking struct {
	Booking   string    `json:"booking"`
	PartySize int       `json:"party_size"`
	Wave      time.Time `json:"wave"`
	// GraceFrom and GraceUntil bound the admission: not before GraceFrom;
	// a group none of which was admitted is too late after GraceUntil.
	GraceFrom  time.Time `json:"grace_from"`
	GraceUntil time.Time `json:"grace_until"`
	Admitted   int       `json:"admitted"`
	Cancelled  bool      `json:"cancelled"`
	// Closed: a closure in force when the manifest was made covers a zone
	// of the booking's route.
	Closed bool `json:"closed,omitempty"`
}

// Manifest is what a gate needs to decide on its own for one day.
type Manifest struct {
	Gate string `json:"gate"`
	Date string `json:"date"`
	// DayStart and DayEnd bound the day in the site's zone: a scan outside
	// is for another day.
	DayStart time.Time `json:"day_start"`
	DayEnd   time.Time `json:"day_end"`
	// WaveCapacity is the gate's visitors per wave; MaxCount the most
	// people one scan may pass.
	WaveCapacity int `json:"wave_capacity"`
	MaxCount     int `json:"max_count"`
	// EarlyGraceMinutes and LateGraceMinutes are the grace around a wave,
	// for a ticket whose booking is not in the manifest.
	EarlyGraceMinutes int               `json:"early_grace_minutes"`
	LateGraceMinutes  int               `json:"late_grace_minutes"`
	Bookings          []ManifestBooking `json:"bookings"`
	// Elsewhere are the bookings of the day due at other gates: their
	// tickets are refused here (wrong_gate) even if the ticket names this
	// gate (the booking was moved).
	Elsewhere []string `json:"elsewhere"`
	// Version changes whenever anything above changes.
	Version string `json:"version"`
}

// Manifest returns the manifest of gate for date as the state is at now.
func (s *State) Manifest(now time.Time, gate, date string) (Manifest, error) {
	g, ok := s.cfg.Gate(gate)
	if !ok {
		return Manifest{}, errorf(CodeNotFound, "gate", "unknown gate %q", gate)
	}
	start, err := time.ParseInLocation(time.DateOnly, date, s.cfg.Location())
	if err != nil {
		return Manifest{}, errorf(CodeInvalid, "date", "date %q is not a date of the form YYYY-MM-DD", date)
	}
	p := s.cfg.Policy
	m := Manifest{Gate: gate, Date: date, DayStart: start, DayEnd: start.AddDate(0, 0, 1),
		WaveCapacity: g.WaveCapacity, MaxCount: p.MaxPartySize,
		EarlyGraceMinutes: p.EarlyGraceMinutes, LateGraceMinutes: p.LateGraceMinutes, Bookings: []ManifestBooking{}, Elsewhere: []string{}}
	var day []Booking
	for b := range s.bookings.view(date, nil) {
		day = append(day, *b)
	}
	slices.SortFunc(day, func(a, b Booking) int { return strings.Compare(a.ID, b.ID) })
	for i := range day {
		b := &day[i]
		if b.Date != date {
			continue
		}
		if b.Gate != gate {
			m.Elsewhere = append(m.Elsewhere, b.ID)
			continue
		}
		r, _ := s.cfg.Route(b.Route)
		m.Bookings = append(m.Bookings, ManifestBooking{
			Booking: b.ID, PartySize: b.PartySize, Wave: b.Slot, Admitted: b.Admitted,
			GraceFrom:  b.Slot.Add(-time.Duration(p.EarlyGraceMinutes) * time.Minute),
			GraceUntil: b.Slot.Add(time.Duration(p.LateGraceMinutes) * time.Minute),
			Cancelled:  b.Status == StatusCancelled, Closed: s.routeClosed(now, r),
		})
	}
	m.Version = m.version()
	return m, nil
}

// version hashes the manifest's content (not its Version).
func (m *Manifest) version() string {
	h := fnv.New64a()
	w := func(ss ...string) {
		for _, s := range ss {
			h.Write([]byte(s))
			h.Write([]byte{0})
		}
	}
	num := func(n int64) { h.Write(binary.BigEndian.AppendUint64(nil, uint64(n))) }
	w(m.Gate, m.Date)
	num(int64(m.WaveCapacity))
	num(int64(m.MaxCount))
	num(int64(m.EarlyGraceMinutes))
	num(int64(m.LateGraceMinutes))
	num(m.DayStart.Unix())
	for _, b := range m.Bookings {
		w(b.Booking, strconv.FormatBool(b.Cancelled), strconv.FormatBool(b.Closed))
		num(int64(b.PartySize))
		num(b.Wave.Unix())
		num(b.GraceFrom.Unix())
		num(b.GraceUntil.Unix())
		num(int64(b.Admitted))
	}
	w("elsewhere")
	w(m.Elsewhere...)
	return strconv.FormatUint(h.Sum64(), 36)
}

// OfflineAdmission is one admission an offline gate made, as its own log
// keeps it.
type OfflineAdmission struct {
	Booking string
	Wave    time.Time
	Count   int
}

// ReasonOfflineLimit refuses an offline admission past the gate's offline
// share of a wave: a long outage must not become an unbounded crowd.
const ReasonOfflineLimit = "offline_limit"

// DecideOffline is an offline gate's decision on a scan of a ticket whose
// signature it verified: the same checks as the service's (gate.go), in
// the same order, on what the manifest and the gate's own log prove. A
// booking not in the manifest (booked after it was fetched) is judged on
// the ticket's face. share bounds the gate's offline admissions in each
// wave to share × its wave capacity. Only Decision, Reason, Admitted,
// Remaining, Booking and Slot are set.
//
// The console's JavaScript (web/assets/offline.js, decideOffline) mirrors
// this function: change both together.
func DecideOffline(m *Manifest, log []OfflineAdmission, t Ticket, count int, at time.Time, share float64) ScanResult {
	reject := func(reason string) ScanResult {
		return ScanResult{Decision: DecisionReject, Reason: reason, Booking: t.Booking}
	}
	if count < 1 || count > m.MaxCount {
		return reject(ReasonBadRequest)
	}
	mine := 0
	for _, a := range log {
		if a.Booking == t.Booking {
			mine += a.Count
		}
	}
	var e ManifestBooking
	i, found := slices.BinarySearchFunc(m.Bookings, t.Booking, func(b ManifestBooking, id string) int { return cmp.Compare(b.Booking, id) })
	if found {
		e = m.Bookings[i]
	} else {
		if slices.Contains(m.Elsewhere, t.Booking) {
			return reject(ReasonWrongGate)
		}
		if t.Date != m.Date {
			return reject(ReasonWrongDay)
		}
		if t.Gate != m.Gate {
			return reject(ReasonWrongGate)
		}
		e = ManifestBooking{Booking: t.Booking, PartySize: t.PartySize, Wave: t.Slot,
			GraceFrom:  t.Slot.Add(-time.Duration(m.EarlyGraceMinutes) * time.Minute),
			GraceUntil: t.Slot.Add(time.Duration(m.LateGraceMinutes) * time.Minute)}
	}
	admitted := e.Admitted + mine
	switch {
	case e.Cancelled:
		return reject(ReasonCancelled)
	case at.Before(m.DayStart) || !at.Before(m.DayEnd):
		return reject(ReasonWrongDay)
	case admitted >= e.PartySize:
		return reject(ReasonAlreadyUsed)
	case e.Closed:
		return reject(ReasonClosed)
	case at.Before(e.GraceFrom):
		return reject(ReasonTooEarly)
	case admitted == 0 && at.After(e.GraceUntil):
		return reject(ReasonTooLate)
	}
	wave := 0
	for _, a := range log {
		if a.Wave.Equal(e.Wave) {
			wave += a.Count
		}
	}
	limit := math.MaxInt32
	if f := share * float64(m.WaveCapacity); f < float64(limit) {
		limit = int(max(f, 0)) // NaN: 0
	}
	n := min(count, e.PartySize-admitted, limit-wave)
	if n <= 0 {
		return reject(ReasonOfflineLimit)
	}
	slot := e.Wave
	out := ScanResult{Decision: DecisionAdmit, Reason: ReasonOK, Admitted: n, Remaining: e.PartySize - admitted - n,
		Booking: e.Booking, Slot: &slot}
	if n < count {
		out.Decision = DecisionPartial
	}
	return out
}
