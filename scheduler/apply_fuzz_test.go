package scheduler

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"
)

// FuzzApply applies random command sequences, decoded from the fuzz bytes,
// to a State on the Petra configuration (with its planned days) at fixed
// times moving forward. Apply never panics; a refused command has no
// effects; and the records the effects persist rebuild the state in
// memory (what a restart would recover).
func FuzzApply(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17})
	f.Add([]byte{12, 200, 1, 1, 12, 255, 255, 13, 0, 0, 0})
	cfg := plannedPetra(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		applySequence(t, cfg, data)
	})
}

// applySequence is FuzzApply's body.
func applySequence(t *testing.T, cfg *Config, data []byte) {
	src := &byteSource{b: data}
	s := New(cfg)
	now := time.Date(2026, 10, 16, 8, 0, 0, 0, cfg.Location())
	recs := newRecords()
	var cmds []string
	for step := 0; step < 64 && src.i < len(src.b); step++ {
		now = now.Add(time.Duration(src.n(4)*src.next()) * time.Minute)
		c := decodeCommand(src, s, now, step)
		cmds = append(cmds, fmt.Sprintf("%s %T%+v", now.Format("01-02 15:04"), c, c))
		var res Result
		var eff []Effect
		func() {
			defer func() {
				if v := recover(); v != nil {
					t.Fatalf("Apply panicked: %v\ncommands:\n%s", v, joinLines(cmds))
				}
			}()
			res, eff = s.Apply(now, c)
		}()
		if res.Err != nil && len(eff) > 0 {
			t.Fatalf("%T refused (%v) with %d effects\ncommands:\n%s", c, res.Err, len(eff), joinLines(cmds))
		}
		recs.apply(eff)
	}
	restored, err := Restore(cfg, recs.snapshot())
	if err != nil {
		t.Fatalf("the records do not restore: %v\ncommands:\n%s", err, joinLines(cmds))
	}
	if got, want := canonical(t, s.Snapshot()), canonical(t, restored.Snapshot()); got != want {
		t.Fatalf("the state in memory is not what its records rebuild\nmemory:  %s\nrebuilt: %s\ncommands:\n%s", got, want, joinLines(cmds))
	}
}

func joinLines(xs []string) string {
	out := ""
	for _, x := range xs {
		out += "  " + x + "\n"
	}
	return out
}

// decodeCommand draws one command of any kind, mostly about the bookings
// and requests already made.
func decodeCommand(src *byteSource, s *State, now time.Time, step int) Command {
	cfg := s.Config()
	ops := []string{"op-a", "op-b", "op-c", WalkInOperator, ""}
	routes := []string{"main", "monastery", "high-place", "back-trail", "petra-by-night", "nowhere"}
	zones := []string{"siq", "monastery", "high-place", "treasury", "bab-al-siq", "nowhere"}
	gates := []string{"visitor-centre", "little-petra", "umm-sayhoun", "nowhere"}
	dates := []string{"2026-10-16", "2026-10-17", "2026-10-20", "2026-10-21", "2026-12-01", "2025-01-01", "not-a-date"}
	pick := func(xs []string) string { return xs[src.n(len(xs))] }
	window := func() Window {
		from := src.n(24*4) * 15
		return Window{From: from, To: from + src.n(16)*15}
	}
	booking := func() (Booking, bool) {
		bs := s.Bookings("", "")
		if len(bs) == 0 {
			return Booking{}, false
		}
		return bs[src.n(len(bs))], true
	}
	request := func() (Request, bool) {
		qs := s.Requests("", "")
		if len(qs) == 0 {
			return Request{}, false
		}
		return qs[src.n(len(qs))], true
	}
	id := func(prefix string) string { return fmt.Sprintf("%s%d", prefix, src.n(max(step, 1)+1)) }
	size := func() int { return src.n(cfg.Policy.MaxPartySize+3) - 1 }
	at := func() time.Time { return now.Add(time.Duration(src.n(9)-4) * time.Hour) }
	switch src.n(19) {
	case 17:
		return Replan{Date: pick(dates)}
	case 18:
		if src.n(2) == 0 {
			return ApplyStep{Closure: id("cl")}
		}
		return ApplyStep{Cut: id("cut")}
	case 0, 1:
		return Book{ID: id("bk"), Operator: pick(ops), IdempotencyKey: pick([]string{"", "k1", "k2"}), RequestHash: pick([]string{"h1", "h2"}),
			Request: BookingRequest{Date: pick(dates), Route: pick(routes), PartySize: size(), Window: window(),
				Guide: pick([]string{"", "g\x00", "Ali"})}}
	case 2:
		b, _ := booking()
		m := Modify{Operator: pick([]string{b.Operator, "", "op-z"}), ID: b.ID}
		if src.n(2) == 0 {
			n := size()
			m.PartySize = &n
		}
		if src.n(2) == 0 {
			w := window()
			m.Window = &w
		}
		return m
	case 3:
		b, _ := booking()
		return Cancel{Operator: pick([]string{b.Operator, "", "op-z"}), ID: b.ID, Reason: "fuzz"}
	case 4, 5:
		b, _ := booking()
		tk := Ticket{Booking: b.ID, Date: b.Date, Slot: b.Slot, Gate: b.Gate, PartySize: b.PartySize}
		if src.n(4) == 0 {
			tk.Booking = id("bk")
		}
		gate := b.Gate
		if src.n(3) == 0 {
			gate = pick(gates)
		}
		return Scan{Gate: gate, Ticket: tk, Count: src.n(70) - 2, ScanID: id("scan"), Device: "dev"}
	case 6:
		sensor := pick([]string{"siq-n1", "siq-m1", "treasury-1", "ghost"})
		return CounterReading{Sensor: sensor, Zone: pick(zones), Boot: pick([]string{"b1", "b2"}), Seq: uint64(src.n(20)),
			In: int64(src.next()*src.n(8)) - 5, Out: int64(src.next() * src.n(8)), At: at()}
	case 7:
		c := Close{ID: id("cl"), Reason: "fuzz", Source: pick([]string{"", "ops"})}
		for range src.n(3) {
			c.Zones = append(c.Zones, pick(zones))
		}
		if src.n(2) == 0 {
			c.Until = at()
		}
		return c
	case 8:
		return Reopen{ID: id("cl")}
	case 9:
		return SetHold{Zone: pick(zones), On: src.n(2) == 0}
	case 10:
		return ResetZone{Zone: pick(zones)}
	case 11:
		return Alert{ID: id("al"), Kind: pick([]string{"flood_warning", "rockfall", "nothing"}), Zones: []string{pick(zones)},
			Severity: pick([]string{"low", "medium", "high", "extreme", ""})}
	case 12:
		return Tick{}
	case 13:
		return SubmitRequest{ID: id("rq"), BookingID: id("bk"), Operator: pick(ops), Preferred: src.n(24*4) * 15,
			IdempotencyKey: pick([]string{"", "k1"}), RequestHash: "h",
			Request: BookingRequest{Date: pick(dates), Route: pick(routes), PartySize: size(), Window: window()}}
	case 14:
		q, _ := request()
		return WithdrawRequest{Operator: pick([]string{q.Operator, "", "op-z"}), ID: q.ID}
	case 15:
		date := pick(dates)
		c := AllotRequests{Date: date}
		switch src.n(3) {
		case 0: // the planner's plan
			if inst, err := s.RequestInstance(now, date); err == nil {
				if plan, err := PlanInstance(inst, PlanOptions{Iterations: src.n(200) - 1}); err == nil {
					c.Plan = plan
				}
			}
		case 1: // a plan that makes no sense
			for range src.n(6) {
				q, _ := request()
				m := src.n(24*4+4) * 15
				c.Plan.Placed = append(c.Plan.Placed, Placement{ID: q.ID, Gate: pick(gates), Minute: m,
					Slot: now.Truncate(24 * time.Hour).Add(time.Duration(m) * time.Minute)})
			}
		}
		return c
	default:
		if src.n(3) == 0 {
			return LiftCut{ID: id("cut")}
		}
		c := CutCapacity{ID: id("cut"), Capacity: src.n(300) - 5, From: at(), Until: at(), Reason: "fuzz"}
		if src.n(2) == 0 {
			c.Zone = pick(zones)
		} else {
			c.Gate = pick(gates)
		}
		return c
	}
}

// records keeps what the effects persist, as the store does: a later
// record with the same key replaces an earlier one.
type records struct {
	bookings    map[string]Booking
	idempotency map[[2]string]Idempotency
	scans       map[string]ScanRecord
	sensors     map[string]SensorState
	zones       map[string]ZoneState
	closures    map[string]Closure
	requests    map[string]Request
	cuts        map[string]CapacityCut
	meters      map[string]MeteredGroup
}

func newRecords() *records {
	return &records{bookings: map[string]Booking{}, idempotency: map[[2]string]Idempotency{}, scans: map[string]ScanRecord{},
		sensors: map[string]SensorState{}, zones: map[string]ZoneState{}, closures: map[string]Closure{},
		requests: map[string]Request{}, cuts: map[string]CapacityCut{}, meters: map[string]MeteredGroup{}}
}

func (r *records) apply(effects []Effect) {
	for _, e := range effects {
		switch e := e.(type) {
		case PutBooking:
			r.bookings[e.Booking.ID] = e.Booking
		case PutIdempotency:
			r.idempotency[[2]string{e.Record.Operator, e.Record.Key}] = e.Record
		case DeleteIdempotency:
			delete(r.idempotency, [2]string{e.Operator, e.Key})
		case PutScan:
			r.scans[e.Record.ScanID] = e.Record
		case DeleteScan:
			delete(r.scans, e.ScanID)
		case PutSensor:
			r.sensors[e.State.Sensor] = e.State
		case PutZone:
			r.zones[e.State.Zone] = e.State
		case PutClosure:
			r.closures[e.Closure.ID] = e.Closure
		case PutRequest:
			r.requests[e.Request.ID] = e.Request
		case PutCut:
			r.cuts[e.Cut.ID] = e.Cut
		case PutMeter:
			r.meters[e.Group.Booking] = e.Group
		case DeleteMeter:
			delete(r.meters, e.Booking)
		}
	}
}

// values lists a map's values (nil for none, as Snapshot has them).
func values[K comparable, V any](m map[K]V) []V {
	var out []V
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func (r *records) snapshot() Snapshot {
	return Snapshot{Bookings: values(r.bookings), Idempotency: values(r.idempotency), Scans: values(r.scans),
		Sensors: values(r.sensors), Zones: values(r.zones), Closures: values(r.closures),
		Requests: values(r.requests), Cuts: values(r.cuts), Meters: values(r.meters)}
}

// canonical is a snapshot as JSON, every list sorted by its key.
func canonical(t *testing.T, s Snapshot) string {
	t.Helper()
	slices.SortFunc(s.Bookings, func(a, b Booking) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(s.Idempotency, func(a, b Idempotency) int {
		return cmp.Or(cmp.Compare(a.Operator, b.Operator), cmp.Compare(a.Key, b.Key))
	})
	slices.SortFunc(s.Scans, func(a, b ScanRecord) int { return cmp.Compare(a.ScanID, b.ScanID) })
	slices.SortFunc(s.Sensors, func(a, b SensorState) int { return cmp.Compare(a.Sensor, b.Sensor) })
	slices.SortFunc(s.Zones, func(a, b ZoneState) int { return cmp.Compare(a.Zone, b.Zone) })
	slices.SortFunc(s.Closures, func(a, b Closure) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(s.Requests, func(a, b Request) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(s.Cuts, func(a, b CapacityCut) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(s.Meters, func(a, b MeteredGroup) int { return cmp.Compare(a.Booking, b.Booking) })
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
