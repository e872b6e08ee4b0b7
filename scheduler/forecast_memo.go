package scheduler

import "time"

// The metering check's verdicts, kept while nothing they read changes
//
// A group the forecast holds back is scanned again and again while it
// waits: each visitor's ticket, at every gate device that has it, and each
// of those scans asked the metering check again (the route's forecast and
// the spread of its stays, the largest part of a scan's cost in the owner
// loop, most of it for groups it holds back). The check is a function of
// the time it is asked at, the booking's route and party, and the state's
// admission log, dwell factors, closures, capacity cuts and live
// estimates; every one of those changes only by a command (an admission,
// a counter reading, a tick, a closure or cut, a re-plan...) or a Revert.
// So meterGen counts every command but a scan that admitted nobody (such a
// scan changes only scan records, held groups and the booking's place in
// a wave, none of which the check reads), and every Revert; a verdict given
// at the same instant with meterGen unchanged is given again. The engine
// applies a turn's commands at one instant, so the scans of a held group
// in one turn share one check. TestMeterMemoAnswersAsTheCheck compares it
// with the check made afresh over random command sequences.

// meterMemo is the metering verdicts given at one instant and meterGen.
type meterMemo struct {
	at       time.Time
	gen      uint64
	verdicts map[meterKey]meterVerdict
	// The check's buffers, reused from check to check: the spread's
	// figures (newSpreadRoute) and the minutes over threshold.
	spreadBuf []float64
	overBuf   []int32
}

// meterKey is what a verdict is for: a booking's party of n on a route.
type meterKey struct {
	booking, route string
	n              int
}

// meterVerdict is the check's answer, without the fields meterCheck fills
// in from the booking and its hold at each call.
type meterVerdict struct {
	zone     string
	zoneAt   time.Time
	forecast int
	holdAt   int
	retryAt  time.Time
	ok       bool
}

// meterInputs notes that command cmd, with result res, may have changed
// what the metering check reads: every command does but a scan that let
// nobody in.
func (s *State) meterInputs(cmd Command, res Result) {
	if _, ok := cmd.(Scan); ok && (res.Scan == nil || res.Scan.Admitted == 0) {
		return
	}
	s.meterGen++
}

// meterCheck is meterVerdict, given again for the same booking, route and
// party at the same instant while meterGen is unchanged.
func (s *State) meterCheck(now time.Time, b *Booking, r *Route, n int) (MeteredGroup, bool) {
	key := meterKey{booking: b.ID, route: r.ID, n: n}
	if s.memo.gen != s.meterGen || !s.memo.at.Equal(now) || s.memo.verdicts == nil {
		s.memo.at, s.memo.gen = now, s.meterGen
		if s.memo.verdicts == nil {
			s.memo.verdicts = map[meterKey]meterVerdict{}
		}
		clear(s.memo.verdicts)
	} else if v, ok := s.memo.verdicts[key]; ok {
		if v.ok {
			return MeteredGroup{}, true
		}
		m := s.meterRecord(now, b, n)
		m.Zone, m.ZoneAt, m.Forecast, m.HoldAt, m.RetryAt = v.zone, v.zoneAt, v.forecast, v.holdAt, v.retryAt
		return m, false
	}
	m, ok := s.meterVerdict(now, b, r, n)
	s.memo.verdicts[key] = meterVerdict{zone: m.Zone, zoneAt: m.ZoneAt, forecast: m.Forecast, holdAt: m.HoldAt, retryAt: m.RetryAt, ok: ok}
	return m, ok
}

// meterRecord is the record of booking b's party of n held back at now,
// before the check fills in why and until when.
func (s *State) meterRecord(now time.Time, b *Booking, n int) MeteredGroup {
	m := MeteredGroup{Booking: b.ID, Operator: b.Operator, Gate: b.Gate, Slot: b.Slot, Visitors: n, Since: now}
	if prev := s.meters[b.ID]; prev != nil {
		m.Since = prev.Since
	}
	return m
}
