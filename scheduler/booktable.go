package scheduler

import (
	"iter"
	"math"
	"slices"
	"time"
)

// The booking table keeps every booking of the state in a compact form: a
// season holds a million of them, and a *Booking is 288 bytes before its
// strings and its map entry. A record (bookRec) is a flat struct in one
// slice, indexed by int32, with every repeated string (operator, date,
// route, gate, status, language, guide, reason) interned once for the
// whole table and the three times as Unix nanoseconds. Bookings are also
// listed by date, so that what concerns one day (its waves, its manifest,
// the bookings a cut meets) never scans every booking ever made.
//
// The scheduler's code works on *Booking as before. A booking taken from
// the table for a command (get, add, all, on) is materialised once and kept
// in hot: every later access in the same command gets the same pointer, so
// the code may change it in place, and Apply writes every hot booking back
// into its record when the command is done (flush). Nothing keeps a
// *Booking across commands. Queries that only read use peek and view,
// which do not keep what they materialise.

// bookRec is one booking in the table. ext holds the whole booking instead
// when one of its fields does not pack (a time outside 1700-2200 or in
// another zone than the site's, UTC or Local; a number over int32), which
// the service never writes but a decoder or a test may.
type bookRec struct {
	id, ref                       string // ref: Reference, unique per booking
	slot, created, updated        int64  // Unix nanoseconds
	ext                           *Booking
	party, admitted, version      int32
	winFrom, winTo                int32
	op, date, route, gate, status uint32 // interned
	lang, guide, reason           uint32 // interned
	zones                         uint8  // zone of slot, created, updated: 2 bits each (tz*)
}

// Zones of a packed time. A zero time is tzZero.
const (
	tzSite = iota
	tzUTC
	tzLocal
	tzZero
)

// bookTable is the state's bookings. Not safe for concurrent use.
type bookTable struct {
	loc    *time.Location
	recs   []bookRec
	free   []int32            // indexes of removed records, reused first
	byID   idIndex            // id → index in recs (bookindex.go)
	byDate map[uint32][]int32 // interned date → indexes, in insertion order
	names  []string           // interned strings; names[0] is ""
	nameIx map[string]uint32
	// hot are the bookings handed out since the last flush, by id.
	hot map[string]*Booking
	// gates are the configured gates' indexes in Config.Gates (opWave).
	gates map[string]uint16
	// lastName is the last string pack interned for each of a record's
	// interned fields: most bookings share their route, status, language,
	// guide and reason, so most are found without a map lookup.
	lastName [8]struct {
		s  string
		ix uint32
	}
}

func newBookTable(cfg *Config) *bookTable {
	t := &bookTable{loc: cfg.Location(), byDate: map[uint32][]int32{},
		names: []string{""}, nameIx: map[string]uint32{"": 0}, hot: map[string]*Booking{},
		gates: make(map[string]uint16, len(cfg.Gates))}
	for i, g := range cfg.Gates {
		t.gates[g.ID] = uint16(i)
	}
	return t
}

// reserve makes room for n more bookings (Restore knows how many).
func (t *bookTable) reserve(n int) {
	t.recs = slices.Grow(t.recs, n)
	t.byID.rehash(t.recs, t.byID.n+n)
}

// grow makes room for n more bookings when there is not: at least half
// as many again as there are, so that bookings added a chunk at a time
// (Restorer) are copied a few times, not at append's 1.25 for large
// slices.
func (t *bookTable) grow(n int) {
	if cap(t.recs)-len(t.recs) >= n {
		return
	}
	t.reserve(max(n, len(t.recs)/2))
}

// trim gives back the room reserved on too high an estimate (Restorer):
// more than an eighth of the records' room or half the index unused.
func (t *bookTable) trim() {
	if n := len(t.recs); cap(t.recs)-n > n/8 {
		t.recs = append(make([]bookRec, 0, n), t.recs...)
	}
	var fit idIndex
	fit.rehash(nil, t.byID.n) // the index's size for its ids (none to place)
	if len(t.byID.slots) > 2*len(fit.slots) {
		t.byID.rehash(t.recs, t.byID.n)
	}
}

// len is the number of bookings.
func (t *bookTable) len() int { return t.byID.n }

// has reports whether a booking with that id exists.
func (t *bookTable) has(id string) bool {
	if _, ok := t.byID.find(t.recs, id); ok {
		return true
	}
	_, ok := t.hot[id]
	return ok
}

// get returns the booking for a command to read or change in place (kept
// until the next flush).
func (t *bookTable) get(id string) (*Booking, bool) {
	if b, ok := t.hot[id]; ok {
		return b, true
	}
	i, ok := t.byID.find(t.recs, id)
	if !ok {
		return nil, false
	}
	b := new(Booking)
	t.unpack(&t.recs[i], b)
	t.hot[id] = b
	return b, true
}

// hold is get for a booking view yielded: the booking for a command.
func (t *bookTable) hold(b *Booking) *Booking {
	h, _ := t.get(b.ID)
	return h
}

// peek returns a copy of the booking, for a query.
func (t *bookTable) peek(id string) (Booking, bool) {
	if b, ok := t.hot[id]; ok {
		return *b, true
	}
	i, ok := t.byID.find(t.recs, id)
	if !ok {
		return Booking{}, false
	}
	var b Booking
	t.unpack(&t.recs[i], &b)
	return b, true
}

// add stores a new booking; b is hot until the next flush. The id must be
// new.
func (t *bookTable) add(b *Booking) {
	t.store(b)
	t.hot[b.ID] = b
}

// load stores a booking as restored (not hot). The id must be new.
func (t *bookTable) load(b *Booking) { t.store(b) }

func (t *bookTable) store(b *Booking) {
	var i int32
	if n := len(t.free); n > 0 {
		i, t.free = t.free[n-1], t.free[:n-1]
	} else {
		i = int32(len(t.recs))
		t.recs = append(t.recs, bookRec{})
	}
	t.pack(b, &t.recs[i])
	t.byID.add(t.recs, i)
	d := t.recs[i].date
	if t.recs[i].ext != nil {
		d = t.intern(b.Date)
	}
	t.byDate[d] = append(t.byDate[d], i)
}

// remove drops a booking (a rollback of its creation).
func (t *bookTable) remove(id string) {
	delete(t.hot, id)
	i, ok := t.byID.find(t.recs, id)
	if !ok {
		return
	}
	r := &t.recs[i]
	d := t.dateOf(r)
	list := t.byDate[d]
	if k := slices.Index(list, i); k >= 0 {
		list = slices.Delete(list, k, k+1)
	}
	if len(list) == 0 {
		delete(t.byDate, d)
	} else {
		t.byDate[d] = list
	}
	t.byID.remove(t.recs, id)
	*r = bookRec{}
	t.free = append(t.free, i)
}

// flush writes every hot booking back into its record.
func (t *bookTable) flush() {
	for id, b := range t.hot {
		i, ok := t.byID.find(t.recs, id)
		if !ok {
			continue // removed
		}
		r := &t.recs[i]
		var cur Booking
		t.unpack(r, &cur)
		if cur == *b {
			continue
		}
		oldDate := t.dateOf(r)
		t.pack(b, r)
		if nd := t.dateOf(r); nd != oldDate {
			list := t.byDate[oldDate]
			if k := slices.Index(list, i); k >= 0 {
				t.byDate[oldDate] = slices.Delete(list, k, k+1)
			}
			t.byDate[nd] = append(t.byDate[nd], i)
		}
	}
	if len(t.hot) > 4096 {
		t.hot = map[string]*Booking{} // a big re-plan's: let its table go
	} else {
		clear(t.hot)
	}
}

func (t *bookTable) dateOf(r *bookRec) uint32 {
	if r.ext != nil {
		return t.intern(r.ext.Date)
	}
	return r.date
}

// all yields every booking for a command (kept until the next flush), in
// no particular order. keep, if not nil, skips the records it refuses
// before they are materialised; it must be conservative (the caller checks
// each booking it gets), as it sees a changed booking's record as of the
// last flush.
func (t *bookTable) all(keep func(*bookRec) bool) iter.Seq[*Booking] {
	return t.each(-1, keep, true)
}

// view yields the bookings of date ("" for every date) for a query: the
// *Booking is valid only until the loop goes on (copy what you keep).
func (t *bookTable) view(date string, keep func(*bookRec) bool) iter.Seq[*Booking] {
	if date == "" {
		return t.each(-1, keep, false)
	}
	d, ok := t.nameIx[date]
	if !ok {
		return func(func(*Booking) bool) {}
	}
	return t.each(int64(d), keep, false)
}

// each walks the records of date (interned; -1 for all). hold keeps what it
// materialises in hot.
func (t *bookTable) each(date int64, keep func(*bookRec) bool, hold bool) iter.Seq[*Booking] {
	return func(yield func(*Booking) bool) {
		var scratch Booking
		visit := func(i int32) bool {
			r := &t.recs[i]
			if r.id == "" {
				return true // removed
			}
			if b, ok := t.hot[r.id]; ok {
				return yield(b)
			}
			if keep != nil && r.ext == nil && !keep(r) {
				return true
			}
			if !hold {
				t.unpack(r, &scratch)
				return yield(&scratch)
			}
			b := new(Booking)
			t.unpack(r, b)
			t.hot[r.id] = b
			return yield(b)
		}
		if date >= 0 {
			// Indexes are copied: a hot booking's date may change in the loop.
			for _, i := range slices.Clone(t.byDate[uint32(date)]) {
				if !visit(i) {
					return
				}
			}
			return
		}
		for i := range t.recs {
			if !visit(int32(i)) {
				return
			}
		}
	}
}

// dates lists the dates that have bookings.
func (t *bookTable) dates() []string {
	out := make([]string, 0, len(t.byDate))
	for d := range t.byDate {
		out = append(out, t.names[d])
	}
	return out
}

func (t *bookTable) intern(s string) uint32 {
	if i, ok := t.nameIx[s]; ok {
		return i
	}
	i := uint32(len(t.names))
	t.names = append(t.names, s)
	t.nameIx[s] = i
	return i
}

// Record filters for all and on (conservative: see all).
func (t *bookTable) recActive(r *bookRec) bool {
	st := Status(t.names[r.status])
	return st == StatusConfirmed || st == StatusRescheduled
}

func (t *bookTable) recPlaced(r *bookRec) bool {
	return t.recActive(r) || Status(t.names[r.status]) == StatusCompleted
}

// pack writes b into r.
func (t *bookTable) pack(b *Booking, r *bookRec) {
	*r = bookRec{id: b.ID}
	slot, zs, ok1 := t.packTime(b.Slot)
	created, zc, ok2 := t.packTime(b.CreatedAt)
	updated, zu, ok3 := t.packTime(b.UpdatedAt)
	if !ok1 || !ok2 || !ok3 || !fits32(b.PartySize, b.Admitted, b.Version, b.Window.From, b.Window.To) {
		ext := *b
		r.ext = &ext
		return
	}
	r.ref = b.Reference
	r.slot, r.created, r.updated = slot, created, updated
	r.zones = zs | zc<<2 | zu<<4
	r.party, r.admitted, r.version = int32(b.PartySize), int32(b.Admitted), int32(b.Version)
	r.winFrom, r.winTo = int32(b.Window.From), int32(b.Window.To)
	r.op, r.date, r.route, r.gate = t.internField(0, b.Operator), t.internField(1, b.Date), t.internField(2, b.Route), t.internField(3, b.Gate)
	r.status, r.lang, r.guide, r.reason = t.internField(4, string(b.Status)), t.internField(5, b.Language), t.internField(6, b.Guide), t.internField(7, b.Reason)
}

// internField is intern for pack's field k (lastName).
func (t *bookTable) internField(k int, s string) uint32 {
	if l := &t.lastName[k]; l.s == s { // "" at first: names[0]
		return l.ix
	}
	ix := t.intern(s)
	t.lastName[k].s, t.lastName[k].ix = s, ix
	return ix
}

// unpack writes r's booking into b.
func (t *bookTable) unpack(r *bookRec, b *Booking) {
	if r.ext != nil {
		*b = *r.ext
		return
	}
	*b = Booking{
		ID: r.id, Operator: t.names[r.op], Date: t.names[r.date], Route: t.names[r.route],
		PartySize: int(r.party), Window: Window{From: int(r.winFrom), To: int(r.winTo)},
		Language: t.names[r.lang], Guide: t.names[r.guide], Reference: r.ref,
		Slot: t.unpackTime(r.slot, r.zones&3), Gate: t.names[r.gate], Status: Status(t.names[r.status]),
		Admitted: int(r.admitted), Reason: t.names[r.reason],
		CreatedAt: t.unpackTime(r.created, r.zones>>2&3), UpdatedAt: t.unpackTime(r.updated, r.zones>>4&3),
		Version: int(r.version),
	}
}

func fits32(ns ...int) bool {
	for _, n := range ns {
		if n < math.MinInt32 || n > math.MaxInt32 {
			return false
		}
	}
	return true
}

// Packed times lie in 1700-2200 (Unix nanoseconds reach 1678-2262).
const (
	minPackedUnix = -8_520_336_000 // 1700-01-01 UTC
	maxPackedUnix = 7_258_118_400  // 2200-01-01 UTC
)

// packTime is t as Unix nanoseconds and its zone; the monotonic clock
// reading, if any, is dropped.
func (t *bookTable) packTime(tm time.Time) (int64, uint8, bool) {
	if tm.IsZero() {
		return 0, tzZero, tm == time.Time{}
	}
	if sec := tm.Unix(); sec < minPackedUnix || sec > maxPackedUnix {
		return 0, 0, false
	}
	var z uint8
	switch tm.Location() {
	case t.loc:
		z = tzSite
	case time.UTC:
		z = tzUTC
	case time.Local:
		z = tzLocal
	default:
		return 0, 0, false
	}
	return tm.UnixNano(), z, true
}

func (t *bookTable) unpackTime(ns int64, z uint8) time.Time {
	switch z {
	case tzZero:
		return time.Time{}
	case tzUTC:
		return time.Unix(0, ns).UTC()
	case tzLocal:
		return time.Unix(0, ns)
	}
	return time.Unix(0, ns).In(t.loc)
}

// recUnadmitted: active, nobody admitted yet (what a re-plan may move).
func (t *bookTable) recUnadmitted(r *bookRec) bool { return r.admitted == 0 && t.recActive(r) }

// between yields, for a query, the placed bookings whose slot lies in
// [from, to): those of the dates from the day before from's (a slot may
// fall after midnight) to to's, not every booking.
func (t *bookTable) between(from, to time.Time) iter.Seq[*Booking] {
	lo := from.In(t.loc).AddDate(0, 0, -1).Format(time.DateOnly)
	hi := to.In(t.loc).Format(time.DateOnly)
	f, u := clampNano(from), clampNano(to)
	keep := func(r *bookRec) bool { return r.slot >= f && r.slot < u && t.recPlaced(r) }
	return func(yield func(*Booking) bool) {
		for d := range t.byDate {
			if date := t.names[d]; date < lo || date > hi {
				continue
			}
			for b := range t.each(int64(d), keep, false) {
				if !yield(b) {
					return
				}
			}
		}
	}
}

// clampNano is t in Unix nanoseconds, clamped to the range of packed times.
func clampNano(t time.Time) int64 {
	switch sec := t.Unix(); {
	case sec < minPackedUnix:
		return math.MinInt64
	case sec > maxPackedUnix:
		return math.MaxInt64
	}
	return t.UnixNano()
}

// opWaveLoad is the visitors of operator's groups in a wave of day d.
func (s *State) opWaveLoad(d *day, operator, gate string, slot int) int {
	op, ok1 := s.bookings.nameIx[operator]
	g, ok2 := s.bookings.gates[gate]
	if !ok1 || !ok2 {
		return 0
	}
	return int(d.opWave[opWave{op, g, uint16(slot)}])
}
