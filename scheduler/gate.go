package scheduler

import (
	"strings"
	"time"
)

// scan decides a gate scan. Order of checks: a repeated scan_id gets its
// first reply; then the request, the ticket's booking, its day and gate,
// what is left of the party, closures, the time against the wave (with
// grace, and a late group moved to the next wave with room), holds; then
// admission up to what is left.
func (s *State) scan(now time.Time, c Scan) (Result, []Effect) {
	// A scan id is unique per device, not across the site: two devices
	// counting "000123" must not get each other's replies.
	key := ""
	if c.ScanID != "" {
		key = c.Gate + "|" + c.Device + "|" + c.ScanID
		if rec, ok := s.scans[key]; ok {
			r := rec.Result
			return Result{Scan: &r}, nil
		}
	}
	res, effects := s.decide(now, c)
	if key != "" {
		rec := &ScanRecord{ScanID: key, Gate: c.Gate, Device: c.Device, Booking: res.Booking, Result: res, At: now}
		s.scans[key] = rec
		effects = append(effects, PutScan{*rec})
	}
	return Result{Scan: &res}, effects
}

func (s *State) decide(now time.Time, c Scan) (ScanResult, []Effect) {
	reject := func(reason string) ScanResult {
		return ScanResult{Decision: DecisionReject, Reason: reason, Booking: c.Ticket.Booking, Gate: c.Gate,
			Message: message(reason, time.Time{}, s.cfg.Location(), Text{})}
	}
	if _, ok := s.cfg.Gate(c.Gate); !ok {
		res := reject(ReasonUnknownGate)
		res.Gate, res.Message = "", UnknownGateMessage(c.Gate)
		return res, nil
	}
	if c.Count < 1 || c.Count > s.cfg.Policy.MaxPartySize {
		return reject(ReasonBadRequest), nil
	}
	b, ok := s.bookings.get(c.Ticket.Booking)
	if !ok {
		return reject(s.missingBookingReason(now, c.Ticket)), nil
	}
	res := func(decision, reason string, retry *time.Time) ScanResult {
		slot := b.Slot
		var when time.Time
		if retry != nil {
			when = *retry
		} else if reason == ReasonOK {
			when = b.Slot
		}
		remaining := b.PartySize - b.Admitted
		if b.Status == StatusCancelled {
			remaining = 0 // a cancelled ticket admits nobody: nothing remains
		}
		return ScanResult{Decision: decision, Reason: reason, Remaining: remaining,
			Booking: b.ID, Slot: &slot, Gate: b.Gate, RetryAt: retry, Operator: b.Operator,
			Language: b.Language, PartySize: b.PartySize,
			Message: message(reason, when, s.cfg.Location(), s.cfg.gateName(b.Gate))}
	}
	r, _ := s.cfg.Route(b.Route)
	closed := s.routeClosed(now, r)
	switch {
	case b.Status == StatusCancelled && closed && strings.HasPrefix(b.Reason, closureReasonPrefix):
		// Cancelled by the closure that is still in force: the visitor
		// needs to hear "closed", not "your booking was cancelled".
		return res(DecisionReject, ReasonClosed, nil), nil
	case b.Status == StatusCancelled:
		return res(DecisionReject, ReasonCancelled, nil), nil
	case b.Date != s.today(now).Format(time.DateOnly):
		return res(DecisionReject, ReasonWrongDay, nil), nil
	case b.Gate != c.Gate:
		return res(DecisionReject, ReasonWrongGate, nil), nil
	case b.Admitted >= b.PartySize:
		return res(DecisionReject, ReasonAlreadyUsed, nil), nil
	}
	if closed {
		return res(DecisionReject, ReasonClosed, nil), nil
	}
	d, _ := s.day(b.Date)
	p := s.cfg.Policy
	opens := b.Slot.Add(-time.Duration(p.EarlyGraceMinutes) * time.Minute)
	late := b.Slot.Add(time.Duration(p.LateGraceMinutes) * time.Minute)
	var effects []Effect
	if now.Before(opens) {
		return res(DecisionReject, ReasonTooEarly, &opens), nil
	}
	if b.Admitted == 0 && now.After(late) && s.meters[b.ID] == nil {
		if !p.RebookLate {
			return res(DecisionReject, ReasonTooLate, nil), nil
		}
		if e, ok := s.move(now, d, b, r, "late arrival"); ok {
			retry := b.Slot
			return res(DecisionReject, ReasonRebooked, &retry), e
		}
		return res(DecisionReject, ReasonTooLate, nil), nil
	}
	if z := s.heldZone(r); z != "" && b.Admitted == 0 {
		// Held groups are moved to the next wave with room, never dropped.
		if e, ok := s.move(now, d, b, r, "hold: "+z); ok {
			retry := b.Slot
			return res(DecisionReject, ReasonHeld, &retry), e
		}
		retry := now.Add(time.Duration(s.cfg.SlotMinutes) * time.Minute).Truncate(time.Minute)
		return res(DecisionReject, ReasonHeld, &retry), nil
	}
	if b.Admitted == 0 {
		// The forecast meters the group: its whole party must fit on its
		// route at the times it would be there (forecast.go).
		if m, ok := s.meterCheck(now, b, r, b.PartySize); !ok {
			if m.RetryAt.IsZero() {
				gone := s.unmeter(b.ID)
				if e, ok := s.move(now, d, b, r, "forecast: "+m.Zone); ok {
					retry := b.Slot
					return res(DecisionReject, ReasonHeld, &retry), append(gone, e...)
				}
				m.RetryAt = now.Add(meterMaxDelay * time.Minute).Truncate(time.Minute)
			}
			// Durable (meter_record.go): its right to enter past its
			// grace outlives a restart.
			s.meters[b.ID] = &m
			retry := m.RetryAt
			return res(DecisionReject, ReasonHeld, &retry), []Effect{PutMeter{m}}
		}
		effects = append(effects, s.unmeter(b.ID)...)
	}
	n := min(c.Count, b.PartySize-b.Admitted)
	s.logAdmission(b, n, now)
	b.Admitted += n
	if b.Admitted == b.PartySize {
		b.Status = StatusCompleted
	}
	b.UpdatedAt = now
	b.Version++
	out := res(DecisionAdmit, ReasonOK, nil)
	out.Admitted = n
	if n < c.Count {
		out.Decision = DecisionPartial
		out.Message = partialMessage(n, c.Count, b.Slot, s.cfg.Location())
	}
	effects = append(effects, PutBooking{*b}, Event{Kind: EventAdmission, At: now, Data: Admission{
		Booking: b.ID, Operator: b.Operator, Gate: c.Gate, Route: b.Route, Slot: b.Slot,
		Admitted: n, Remaining: b.PartySize - b.Admitted, Device: c.Device,
	}})
	return out, effects
}

// routeClosed reports whether a closure in force covers a zone of route r.
func (s *State) routeClosed(now time.Time, r *Route) bool {
	for _, cl := range s.closures {
		if !cl.Active(now) {
			continue
		}
		for _, st := range r.Stops {
			if cl.Covers(st.Zone) {
				return true
			}
		}
	}
	return false
}

// Admission is the data of an admission event.
type Admission struct {
	Booking   string    `json:"booking"`
	Operator  string    `json:"operator"`
	Gate      string    `json:"gate"`
	Route     string    `json:"route"`
	Slot      time.Time `json:"slot"`
	Admitted  int       `json:"admitted"`
	Remaining int       `json:"remaining"`
	Device    string    `json:"device,omitempty"`
	// Offline: the admission was made by an offline gate and reconciled
	// later (the event's time is when it happened).
	Offline bool `json:"offline,omitempty"`
}

// heldZone is the first zone of route r that is held and that the route
// reaches within the hold horizon, or "".
func (s *State) heldZone(r *Route) string {
	for _, st := range r.Stops {
		if st.Arrive > s.cfg.Policy.HoldHorizonMinutes {
			break
		}
		if z := s.zones[st.Zone]; z != nil && z.Held {
			return st.Zone
		}
	}
	return ""
}

// move re-allots booking b to the earliest wave with room from now on, at
// any of its route's gates (its window no longer binds: the site moved it).
func (s *State) move(now time.Time, d *day, b *Booking, r *Route, reason string) ([]Effect, bool) {
	s.unplace(d, b)
	from := s.earliestMinute(d, now) + s.cfg.SlotMinutes
	cands := s.candidates(d, r, Window{From: from, To: dayMinutes}, now)
	p, ok, _ := s.find(d, b.Operator, r, b.PartySize, cands)
	if !ok {
		s.place(d, b)
		return nil, false
	}
	b.Gate, b.Slot = p.gate, s.at(d, p.minute)
	b.Status = StatusRescheduled
	b.Reason = reason
	b.UpdatedAt = now
	b.Version++
	s.place(d, b)
	return []Effect{PutBooking{*b}, Event{Kind: EventBookingRescheduled, At: now, Data: *b}}, true
}
