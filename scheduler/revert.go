package scheduler

import "time"

// Reverting a turn. The owner applies a turn's commands, then writes
// their records in one synced batch. When that write fails, what the
// commands changed in memory must not last: rather than rebuild the whole
// state from the store (seconds at a million bookings), the owner reads
// back the records the failed commands wrote (their Put and Delete
// effects name them), as they are durable, and Revert puts each back in
// memory with everything derived from it: a booking's place on its day's
// timeline, a request's place among the pending ones, a capacity cut's
// phantom load, a closure's or cut's queue of steps. The state then holds
// what a Restore from the store would give.
//
// Every change a command makes to the durable state is in one of its
// effects (that is what makes a Restore after a crash equal to the state
// before it); the one thing a command changes that is not durable is the
// tick's position, which a reverted Tick puts back (TickMark), so that the
// waves it released are released again by the next tick.

// TickMark is the position of the last tick, taken before a turn.
type TickMark struct{ last time.Time }

// TickMark returns the position of the last tick.
func (s *State) TickMark() TickMark { return TickMark{s.lastTick} }

// Revert puts back every record the effects name (events are ignored) as
// durable has it: durable holds the records as stored now, and a record
// absent from it is not stored. tick, if not nil, puts the tick's
// position back (a Tick of the turn was not written). It leaves the state
// as Restore would build it from the store, for those records.
func (s *State) Revert(effects []Effect, durable Snapshot, tick *TickMark) {
	s.bookings.flush()
	s.meterGen++ // forecast_memo.go
	if tick != nil {
		s.lastTick = tick.last
	}
	bookings := map[string]*Booking{}
	for i := range durable.Bookings {
		bookings[durable.Bookings[i].ID] = &durable.Bookings[i]
	}
	idem := map[idemKey]*Idempotency{}
	for i := range durable.Idempotency {
		r := &durable.Idempotency[i]
		idem[idemKey{r.Operator, r.Key}] = r
	}
	scans := map[string]*ScanRecord{}
	for i := range durable.Scans {
		scans[durable.Scans[i].ScanID] = &durable.Scans[i]
	}
	sensors := map[string]*SensorState{}
	for i := range durable.Sensors {
		sensors[durable.Sensors[i].Sensor] = &durable.Sensors[i]
	}
	zones := map[string]*ZoneState{}
	for i := range durable.Zones {
		zones[durable.Zones[i].Zone] = &durable.Zones[i]
	}
	closures := map[string]*Closure{}
	for i := range durable.Closures {
		closures[durable.Closures[i].ID] = &durable.Closures[i]
	}
	requests := map[string]*Request{}
	for i := range durable.Requests {
		requests[durable.Requests[i].ID] = &durable.Requests[i]
	}
	cuts := map[string]*CapacityCut{}
	for i := range durable.Cuts {
		cuts[durable.Cuts[i].ID] = &durable.Cuts[i]
	}
	meters := map[string]*MeteredGroup{}
	for i := range durable.Meters {
		meters[durable.Meters[i].Booking] = &durable.Meters[i]
	}
	done := map[string]bool{} // "kind\x00id" of the records put back
	once := func(kind, id string) bool {
		k := kind + "\x00" + id
		if done[k] {
			return false
		}
		done[k] = true
		return true
	}
	reverted := map[string]bool{} // bookings whose admissions the zone model counts again
	defer func() { s.rebuildAdmitsOf(reverted) }()
	for _, e := range effects {
		switch e := derefEffect(e).(type) {
		case PutBooking:
			if once("b", e.Booking.ID) {
				s.revertBooking(e.Booking.ID, bookings[e.Booking.ID])
				reverted[e.Booking.ID] = true
			}
		case PutIdempotency:
			revertMap(s.idem, idemKey{e.Record.Operator, e.Record.Key}, idem)
		case DeleteIdempotency:
			revertMap(s.idem, idemKey{e.Operator, e.Key}, idem)
		case PutScan:
			revertMap(s.scans, e.Record.ScanID, scans)
		case DeleteScan:
			revertMap(s.scans, e.ScanID, scans)
		case PutSensor:
			revertMap(s.sensors, e.State.Sensor, sensors)
		case PutZone:
			// As Restore: a zone gone from the configuration has no state.
			if _, ok := s.cfg.Zone(e.State.Zone); !ok {
				delete(s.zones, e.State.Zone)
			} else if z, ok := zones[e.State.Zone]; ok {
				c := *z
				s.zones[e.State.Zone] = &c
			} else {
				s.zones[e.State.Zone] = &ZoneState{Zone: e.State.Zone} // as New makes it
			}
		case PutClosure:
			if once("x", e.Closure.ID) {
				revertMap(s.closures, e.Closure.ID, closures)
				delete(s.steps, closureStepKey(e.Closure.ID)) // rebuilt from the bookings
			}
		case PutRequest:
			if once("q", e.Request.ID) {
				s.revertRequest(e.Request.ID, requests[e.Request.ID])
			}
		case PutCut:
			if once("r", e.Cut.ID) {
				s.revertCut(e.Cut.ID, cuts[e.Cut.ID])
			}
		case PutMeter:
			s.revertMeter(e.Group.Booking, meters)
		case DeleteMeter:
			s.revertMeter(e.Booking, meters)
		}
	}
}

// Revertible reports whether Revert can put back every record effects
// name. An archived day cannot be: its bookings left memory with it, and
// only a reload from the store brings them back.
func Revertible(effects []Effect) bool {
	for _, e := range effects {
		if _, ok := derefEffect(e).(PutArchivedDay); ok {
			return false
		}
	}
	return true
}

// derefEffect accepts pointers to effects too, as the store does.
func derefEffect(e Effect) Effect {
	switch p := e.(type) {
	case *PutBooking:
		return *p
	case *PutIdempotency:
		return *p
	case *DeleteIdempotency:
		return *p
	case *PutScan:
		return *p
	case *DeleteScan:
		return *p
	case *PutSensor:
		return *p
	case *PutZone:
		return *p
	case *PutClosure:
		return *p
	case *PutRequest:
		return *p
	case *PutCut:
		return *p
	case *PutMeter:
		return *p
	case *DeleteMeter:
		return *p
	}
	return e
}

// revertMap sets m[id] to a copy of the durable record, or deletes it.
func revertMap[K comparable, T any](m map[K]*T, id K, durable map[K]*T) {
	if r, ok := durable[id]; ok {
		c := *r
		m[id] = &c
	} else {
		delete(m, id)
	}
}

// revertBooking takes the booking off its day as memory has it and puts
// the durable one (if any) back, as Restore places it.
func (s *State) revertBooking(id string, durable *Booking) {
	if cur, ok := s.bookings.peek(id); ok {
		if cur.Placed() {
			if d, err := s.day(cur.Date); err == nil {
				s.unplace(d, &cur)
			}
		}
		s.bookings.remove(id)
	}
	if durable == nil {
		return
	}
	b := restoredBooking(*durable, s.cfg.Location())
	if b.Placed() {
		if d, err := s.day(b.Date); err == nil {
			s.place(d, &b)
		}
	}
	s.bookings.load(&b)
}

func (s *State) revertRequest(id string, durable *Request) {
	if cur, ok := s.requests[id]; ok {
		s.dropPending(cur)
		delete(s.requests, id)
	}
	if durable == nil {
		return
	}
	q := *durable
	s.requests[id] = &q
	if q.Status == RequestPending {
		s.addPending(&q)
	}
}

// revertCut puts a cut back and refreshes the phantom load of the days it
// spanned in memory and of those it spans now.
func (s *State) revertCut(id string, durable *CapacityCut) {
	cur, had := s.cuts[id]
	delete(s.cuts, id)
	delete(s.steps, cutStepKey(id)) // rebuilt from the bookings
	if durable != nil {
		_, zok := s.cfg.Zone(durable.Zone)
		_, gok := s.cfg.Gate(durable.Gate)
		if zok || gok { // as Restore: a cut of a zone or gate gone lowers nothing
			c := *durable
			s.cuts[id] = &c
			s.refreshCuts(&c)
		}
	}
	if had {
		s.refreshCuts(cur)
	}
}
