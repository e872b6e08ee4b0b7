package scheduler

import (
	"iter"
	"math"
	"slices"
	"strings"
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

// bookRec is one booking in the table. It holds no pointer, so that the
// garbage collector never scans the table: the id and the reference (unique
// to each booking) are in the table's text (bookText), the other strings
// interned. The table's ext holds the whole booking instead when one of
// its fields does not pack (a time outside 1700-2200 or in another zone
// than the site's, UTC or Local; a number over int32; an id or reference
// over 64 KiB), which the service never writes but a decoder or a test may.
type bookRec struct {
	slot, created, updated        int64  // Unix nanoseconds
	text                          uint32 // the id then the reference in the table's text
	idLen, refLen                 uint16
	party, admitted, version      int32
	winFrom, winTo                int32
	op, date, route, gate, status uint32 // interned
	lang, guide, reason           uint32 // interned
	zones                         uint8  // zone of slot, created, updated: 2 bits each (tz*)
	flags                         uint8  // recUsed, recExt
}

// bookRec flags. A removed record (on the free list) has none.
const (
	recUsed = 1 << iota // holds a booking
	recExt              // the booking is the table's ext[index]
)

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
	// ext are the bookings that do not pack, by record (bookRec).
	ext map[int32]*Booking
	// text holds the records' ids and references.
	text bookText
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
		gates: make(map[string]uint16, len(cfg.Gates)), ext: map[int32]*Booking{}}
	for i, g := range cfg.Gates {
		t.gates[g.ID] = uint16(i)
	}
	return t
}

// reserve makes room for n more bookings (Restore knows how many).
func (t *bookTable) reserve(n int) {
	if cap(t.recs)-len(t.recs) < n {
		// make, not slices.Grow: append's growth clears the new room in
		// one call the runtime cannot preempt, which a collection waiting
		// to stop this goroutine turns into a second of spinning on both
		// cores at a restart; make clears a large slice preemptibly.
		recs := make([]bookRec, len(t.recs), len(t.recs)+n)
		copy(recs, t.recs)
		t.recs = recs
	}
	t.byID.rehash(t, t.byID.n+n)
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
	if len(t.byID.slots) > 2*indexSize(t.byID.n) {
		t.byID.rehash(t, t.byID.n)
	}
}

// len is the number of bookings.
func (t *bookTable) len() int { return t.byID.n }

// has reports whether a booking with that id exists.
func (t *bookTable) has(id string) bool {
	if _, ok := t.byID.find(t, id); ok {
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
	i, ok := t.byID.find(t, id)
	if !ok {
		return nil, false
	}
	b := new(Booking)
	t.unpack(i, b)
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
	i, ok := t.byID.find(t, id)
	if !ok {
		return Booking{}, false
	}
	var b Booking
	t.unpack(i, &b)
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

// loadUnindexed is load for the Restorer, without indexing the id or
// listing the record under its date: the records from a first one on are
// indexed and listed together by settle, before anything looks an id up
// or reads a date's list (the id must be new, also among them).
func (t *bookTable) loadUnindexed(b *Booking) {
	i := int32(len(t.recs)) // a restored table has no removed records to reuse
	t.recs = append(t.recs, bookRec{})
	t.pack(b, i)
}

// settle indexes the ids of the records from from on (loadUnindexed's)
// and lists them under their dates, a run of records of the same date
// with one lookup.
func (t *bookTable) settle(from int32) {
	to := int32(len(t.recs))
	t.byID.addRun(t, from, to)
	for i := from; i < to; {
		d := t.dateOf(i)
		j := i + 1
		for j < to && t.dateOf(j) == d {
			j++
		}
		list := t.byDate[d]
		for k := i; k < j; k++ {
			list = append(list, k)
		}
		t.byDate[d] = list
		i = j
	}
}

func (t *bookTable) store(b *Booking) {
	var i int32
	if n := len(t.free); n > 0 {
		i, t.free = t.free[n-1], t.free[:n-1]
	} else {
		i = int32(len(t.recs))
		t.recs = append(t.recs, bookRec{})
	}
	t.pack(b, i)
	t.byID.add(t, i)
	d := t.dateOf(i)
	t.byDate[d] = append(t.byDate[d], i)
}

// remove drops a booking (a rollback of its creation).
func (t *bookTable) remove(id string) {
	delete(t.hot, id)
	i, ok := t.byID.find(t, id)
	if !ok {
		return
	}
	d := t.dateOf(i)
	list := t.byDate[d]
	if k := slices.Index(list, i); k >= 0 {
		list = slices.Delete(list, k, k+1)
	}
	if len(list) == 0 {
		delete(t.byDate, d)
	} else {
		t.byDate[d] = list
	}
	t.byID.remove(t, id)
	t.recs[i] = bookRec{} // its text stays unused: a removal is a rollback, rare
	delete(t.ext, i)
	t.free = append(t.free, i)
}

// flush writes every hot booking back into its record.
func (t *bookTable) flush() {
	for id, b := range t.hot {
		i, ok := t.byID.find(t, id)
		if !ok {
			continue // removed
		}
		var cur Booking
		t.unpack(i, &cur)
		if cur == *b {
			continue
		}
		oldDate := t.dateOf(i)
		t.pack(b, i)
		if nd := t.dateOf(i); nd != oldDate {
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

func (t *bookTable) dateOf(i int32) uint32 {
	if r := &t.recs[i]; r.flags&recExt == 0 {
		return r.date
	}
	return t.intern(t.ext[i].Date)
}

// idAt is record i's booking id (idSource).
func (t *bookTable) idAt(i int32) string {
	r := &t.recs[i]
	switch {
	case r.flags&recExt != 0:
		return t.ext[i].ID
	case r.flags&recUsed == 0:
		return ""
	}
	return t.text.get(r.text, int(r.idLen))
}

// bookText holds the ids and references of the table's records, in chunks
// that are written once and never moved: each is a strings.Builder grown
// to its size at first, whose String() gives a view of what is written
// without a copy (a string of an id or reference is a slice of it). The
// first chunk is small (a state of a few bookings), each next one twice
// the last, up to 1 MiB; a place in the text is the chunk's index (12
// bits) and the offset in it (20 bits).
type bookText struct {
	chunks []*strings.Builder
}

const (
	textFirst = 4 << 10
	textMax   = 1 << 20 // also the most a chunk's offset can address
	textBits  = 20
	maxChunks = 1 << (32 - textBits)
)

// fits reports whether n more bytes fit in the text.
func (x *bookText) fits(n int) bool {
	last := len(x.chunks) - 1
	return n <= textMax && (len(x.chunks) < maxChunks || x.chunks[last].Len()+n <= chunkCap(x.chunks[last]))
}

// chunkCap is what a chunk holds (within what an offset addresses).
func chunkCap(b *strings.Builder) int { return min(b.Cap(), textMax) }

// add appends s then more (they must fit) and returns where they start.
func (x *bookText) add(s, more string) uint32 {
	n := len(s) + len(more)
	last := len(x.chunks) - 1
	if last < 0 || x.chunks[last].Len()+n > chunkCap(x.chunks[last]) {
		size := textFirst
		if last >= 0 {
			size = min(2*chunkCap(x.chunks[last]), textMax)
		}
		b := new(strings.Builder)
		b.Grow(max(size, n))
		x.chunks = append(x.chunks, b)
		last++
	}
	b := x.chunks[last]
	at := uint32(last)<<textBits | uint32(b.Len())
	b.WriteString(s)
	b.WriteString(more)
	return at
}

// get is the n bytes at at.
func (x *bookText) get(at uint32, n int) string {
	off := int(at & (textMax - 1))
	return x.chunks[at>>textBits].String()[off : off+n]
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
			if r.flags&recUsed == 0 {
				return true // removed
			}
			id := t.idAt(i)
			if b, ok := t.hot[id]; ok {
				return yield(b)
			}
			if keep != nil && r.flags&recExt == 0 && !keep(r) {
				return true
			}
			if !hold {
				t.unpack(i, &scratch)
				return yield(&scratch)
			}
			b := new(Booking)
			t.unpack(i, b)
			t.hot[id] = b
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

// pack writes b into record i.
func (t *bookTable) pack(b *Booking, i int32) {
	r := &t.recs[i]
	old := *r
	*r = bookRec{flags: recUsed}
	slot, zs, ok1 := t.packTime(b.Slot)
	created, zc, ok2 := t.packTime(b.CreatedAt)
	updated, zu, ok3 := t.packTime(b.UpdatedAt)
	if !ok1 || !ok2 || !ok3 || !fits32(b.PartySize, b.Admitted, b.Version, b.Window.From, b.Window.To) ||
		len(b.ID) > math.MaxUint16 || len(b.Reference) > math.MaxUint16 || !t.text.fits(len(b.ID)+len(b.Reference)) {
		ext := *b
		r.flags |= recExt
		t.ext[i] = &ext
		return
	}
	delete(t.ext, i)
	// A changed booking keeps its text when its id and reference are the
	// same (the text only grows).
	if old.flags&(recUsed|recExt) == recUsed && int(old.idLen) == len(b.ID) && int(old.refLen) == len(b.Reference) &&
		t.text.get(old.text, len(b.ID)) == b.ID && t.text.get(old.text+uint32(old.idLen), len(b.Reference)) == b.Reference {
		r.text = old.text
	} else {
		r.text = t.text.add(b.ID, b.Reference)
	}
	r.idLen, r.refLen = uint16(len(b.ID)), uint16(len(b.Reference))
	r.slot, r.created, r.updated = slot, created, updated
	r.zones = zs | zc<<2 | zu<<4
	r.party, r.admitted, r.version = int32(b.PartySize), int32(b.Admitted), int32(b.Version)
	r.winFrom, r.winTo = int32(b.Window.From), int32(b.Window.To)
	r.op, r.date, r.route, r.gate = t.internField(0, b.Operator), t.internField(1, b.Date), t.internField(2, b.Route), t.internField(3, b.Gate)
	r.status, r.lang, r.guide, r.reason = t.internField(4, string(b.Status)), t.internField(5, b.Language), t.internField(6, b.Guide), t.internField(7, b.Reason)
}

// internField is intern for pack's field k (lastName): 0 operator, 1
// date, 2 route, 3 gate, 4 status, 5 language, 6 guide, 7 reason
// (addEntry interns the operator as field 0 too, just before pack).
func (t *bookTable) internField(k int, s string) uint32 {
	if l := &t.lastName[k]; l.s == s { // "" at first: names[0]
		return l.ix
	}
	ix := t.intern(s)
	t.lastName[k].s, t.lastName[k].ix = s, ix
	return ix
}

// unpack writes record i's booking into b.
func (t *bookTable) unpack(i int32, b *Booking) {
	r := &t.recs[i]
	if r.flags&recExt != 0 {
		*b = *t.ext[i]
		return
	}
	text := t.text.get(r.text, int(r.idLen)+int(r.refLen))
	*b = Booking{
		ID: text[:r.idLen], Operator: t.names[r.op], Date: t.names[r.date], Route: t.names[r.route],
		PartySize: int(r.party), Window: Window{From: int(r.winFrom), To: int(r.winTo)},
		Language: t.names[r.lang], Guide: t.names[r.guide], Reference: text[r.idLen:],
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
