package scheduler

import (
	"strings"
	"time"
)

// Limits on free-text fields of a booking.
const (
	maxLanguage  = 35
	maxGuide     = 100
	maxReference = 100
)

// validate checks a booking request against the configuration and the date
// range bookable at now.
func (s *State) validate(now time.Time, req BookingRequest) (*Route, *day, *Error) {
	r, ok := s.cfg.Route(req.Route)
	if !ok {
		return nil, nil, errorf(CodeInvalid, "route", "unknown route %q (known: %s)", req.Route, s.cfg.routeList())
	}
	if req.PartySize < 1 || req.PartySize > s.cfg.Policy.MaxPartySize {
		return nil, nil, errorf(CodeInvalid, "party_size", "party_size %d is out of range: a group has 1 to %d visitors", req.PartySize, s.cfg.Policy.MaxPartySize)
	}
	if e := s.validWindow(req.Window); e != nil {
		return nil, nil, e
	}
	if len(req.Language) > maxLanguage || len(req.Guide) > maxGuide || len(req.Reference) > maxReference {
		return nil, nil, errorf(CodeInvalid, "", "language, guide and reference may have at most %d, %d and %d bytes", maxLanguage, maxGuide, maxReference)
	}
	d, e := s.bookableDay(now, req.Date, r)
	if e != nil {
		return nil, nil, e
	}
	return r, d, nil
}

// bookableDay is the rule of which dates take bookings of route r at now:
// a date of the booking period on which the route runs. It returns the
// day's picture (kept in the state).
func (s *State) bookableDay(now time.Time, dateText string, r *Route) (*day, *Error) {
	date, err := time.ParseInLocation(time.DateOnly, dateText, s.cfg.Location())
	if err != nil {
		return nil, errorf(CodeInvalid, "date", "date %q is not a date of the form YYYY-MM-DD", dateText)
	}
	today := s.today(now)
	last := today.AddDate(0, 0, s.cfg.Policy.BookingDaysAhead)
	if date.Before(today) || date.After(last) {
		return nil, errorf(CodeInvalid, "date", "date %s is outside the booking period: from %s to %s",
			dateText, today.Format(time.DateOnly), last.Format(time.DateOnly))
	}
	d, _ := s.day(dateText)
	if len(s.routeSlots(d.base, r)) == 0 {
		if r.Evening {
			return nil, errorf(CodeClosed, "date", "route %q does not run on %s (%s)", r.ID, dateText, s.cfg.eveningText(r.ID))
		}
		return nil, errorf(CodeClosed, "date", "the site is closed on %s", dateText)
	}
	return d, nil
}

// Unbookable says why date takes no first-come booking of route at now,
// by the very rules Book applies: outside the booking period, a day the
// route does not run, a planned day before its allotment. It is nil when
// the date is open to booking, and an error with code CodeInvalid for a
// malformed date or an unknown route.
func (s *State) Unbookable(now time.Time, date, route string) *Error {
	r, ok := s.cfg.Route(route)
	if !ok {
		return errorf(CodeInvalid, "route", "unknown route %q (known: %s)", route, s.cfg.routeList())
	}
	_, known := s.days[date]
	d, e := s.bookableDay(now, date, r)
	if !known {
		delete(s.days, date) // a query does not grow the state
	}
	if e != nil {
		return e
	}
	if cutoff, open := s.windowOpen(d, now); open {
		return s.windowRefusal(d, cutoff)
	}
	return nil
}

func (s *State) validWindow(w Window) *Error {
	if w.From < 0 || w.To > 24*60 || w.From >= w.To {
		return errorf(CodeInvalid, "window", "window %s-%s is not a window: from must be before to, both between 00:00 and 24:00", clock(w.From), clock(w.To))
	}
	return nil
}

// today is local midnight of now's date at the site.
func (s *State) today(now time.Time) time.Time {
	n := now.In(s.cfg.Location())
	return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, s.cfg.Location())
}

func (s *State) book(now time.Time, c Book) (Result, []Effect) {
	if c.Operator == "" || c.ID == "" {
		return Result{Err: errorf(CodeInvalid, "", "a booking needs an operator and an id")}, nil
	}
	var ik idemKey
	if c.IdempotencyKey != "" {
		ik = idemKey{c.Operator, c.IdempotencyKey}
		if rec, ok := s.idem[ik]; ok {
			if rec.RequestHash != c.RequestHash || rec.Request != nil {
				return Result{Err: errorf(CodeIdempotencyMismatch, "Idempotency-Key",
					"Idempotency-Key %q was used with a different request; use a new key for a new booking", c.IdempotencyKey)}, nil
			}
			b := rec.Booking
			return Result{Booking: &b, Replayed: true}, nil
		}
	}
	if s.bookings.has(c.ID) {
		return Result{Err: errorf(CodeConflict, "id", "booking id %q exists", c.ID)}, nil
	}
	r, d, e := s.validate(now, c.Request)
	if e != nil {
		return Result{Err: e}, nil
	}
	if cutoff, open := s.windowOpen(d, now); open {
		return Result{Err: s.windowRefusal(d, cutoff)}, nil
	}
	req := c.Request
	cands := s.candidates(d, r, req.Window, now)
	if len(cands) == 0 {
		return Result{Err: errorf(CodeOutsideHours, "window", "window %s-%s on %s has no entry for route %q: %s",
			clock(req.Window.From), clock(req.Window.To), req.Date, r.ID, s.hoursText(d, r))}, nil
	}
	p, ok, why := s.find(d, c.Operator, r, req.PartySize, cands)
	if !ok {
		return Result{Err: s.refusal(d, c.Operator, r, req.PartySize, req.Window, now, why)}, nil
	}
	b := &Booking{
		ID: c.ID, Operator: c.Operator, Date: req.Date, Route: r.ID, PartySize: req.PartySize,
		Window: req.Window, Language: req.Language, Guide: req.Guide, Reference: req.Reference,
		Slot: s.at(d, p.minute), Gate: p.gate, Status: StatusConfirmed,
		CreatedAt: now, UpdatedAt: now, Version: 1,
	}
	s.bookings.add(b)
	s.place(d, b)
	effects := []Effect{PutBooking{*b}}
	if c.IdempotencyKey != "" {
		rec := &Idempotency{Operator: c.Operator, Key: c.IdempotencyKey, RequestHash: c.RequestHash, Booking: *b, CreatedAt: now}
		s.idem[ik] = rec
		effects = append(effects, PutIdempotency{*rec})
	}
	effects = append(effects, Event{Kind: EventBookingConfirmed, At: now, Data: *b})
	out := *b
	return Result{Booking: &out}, effects
}

// lookup finds a booking visible to operator ("" sees every booking). Another
// operator's booking is reported as not found.
func (s *State) lookup(operator, id string) (*Booking, *Error) {
	b, ok := s.bookings.get(id)
	if !ok || operator != "" && b.Operator != operator {
		return nil, errorf(CodeNotFound, "id", "no booking %q", id)
	}
	return b, nil
}

func (s *State) modify(now time.Time, c Modify) (Result, []Effect) {
	b, e := s.lookup(c.Operator, c.ID)
	if e != nil {
		return Result{Err: e}, nil
	}
	if !b.Active() {
		return Result{Err: errorf(CodeConflict, "status", "booking %q is %s and cannot be changed", b.ID, b.Status)}, nil
	}
	size, w := b.PartySize, b.Window
	if c.PartySize != nil {
		size = *c.PartySize
	}
	if c.Window != nil {
		w = *c.Window
	}
	if size < 1 || size > s.cfg.Policy.MaxPartySize {
		return Result{Err: errorf(CodeInvalid, "party_size", "party_size %d is out of range: a group has 1 to %d visitors", size, s.cfg.Policy.MaxPartySize)}, nil
	}
	if size < b.Admitted {
		return Result{Err: errorf(CodeConflict, "party_size", "party_size %d is below the %d visitors already admitted", size, b.Admitted)}, nil
	}
	if e := s.validWindow(w); e != nil {
		return Result{Err: e}, nil
	}
	d, _ := s.day(b.Date)
	r, _ := s.cfg.Route(b.Route)
	cur := s.minuteOf(d, b.Slot)
	if b.Admitted > 0 && (w.From > cur || w.To <= cur) {
		return Result{Err: errorf(CodeConflict, "window", "booking %q has visitors admitted; its window must keep the wave at %s", b.ID, clock(cur))}, nil
	}

	s.unplace(d, b)
	// Keep the current wave if it still fits; otherwise the earliest in the
	// new window.
	p, ok := placement{}, false
	if w.From <= cur && cur < w.To && cur >= s.earliestMinute(d, now) || b.Admitted > 0 {
		g, _ := s.cfg.Gate(b.Gate)
		if size <= b.PartySize {
			// Fewer visitors in the same wave only frees room, even under
			// a capacity cut or a closure that came after the booking.
			p, ok = placement{b.Gate, cur}, true
		} else if got, _ := s.room(d, b.Operator, r, g, cur); got >= size {
			p, ok = placement{b.Gate, cur}, true
		}
	}
	why := limitCapacity
	if !ok && b.Admitted == 0 {
		cands := s.candidates(d, r, w, now)
		if len(cands) == 0 {
			s.place(d, b)
			return Result{Err: errorf(CodeOutsideHours, "window", "window %s-%s on %s has no entry for route %q: %s",
				clock(w.From), clock(w.To), b.Date, r.ID, s.hoursText(d, r))}, nil
		}
		p, ok, why = s.find(d, b.Operator, r, size, cands)
	}
	if !ok {
		e := s.refusal(d, b.Operator, r, size, w, now, why)
		s.place(d, b)
		return Result{Err: e}, nil
	}
	moved := p.gate != b.Gate || p.minute != cur
	b.PartySize, b.Window = size, w
	b.Gate, b.Slot = p.gate, s.at(d, p.minute)
	if moved {
		b.Status = StatusRescheduled
		b.Reason = ""
	}
	b.UpdatedAt = now
	b.Version++
	s.place(d, b)
	kind := EventBookingConfirmed
	if moved {
		kind = EventBookingRescheduled
	}
	out := *b
	return Result{Booking: &out}, []Effect{PutBooking{*b}, Event{Kind: kind, At: now, Data: *b}}
}

func (s *State) cancel(now time.Time, c Cancel) (Result, []Effect) {
	b, e := s.lookup(c.Operator, c.ID)
	if e != nil {
		return Result{Err: e}, nil
	}
	if !b.Active() {
		return Result{Err: errorf(CodeConflict, "status", "booking %q is %s and cannot be cancelled", b.ID, b.Status)}, nil
	}
	if b.Admitted > 0 {
		return Result{Err: errorf(CodeConflict, "status", "booking %q has %d visitors admitted and cannot be cancelled; reduce party_size instead", b.ID, b.Admitted)}, nil
	}
	effects := s.cancelBooking(now, b, c.Reason)
	out := *b
	return Result{Booking: &out}, effects
}

// cancelBooking releases b's capacity and marks it cancelled.
func (s *State) cancelBooking(now time.Time, b *Booking, reason string) []Effect {
	d, _ := s.day(b.Date)
	s.unplace(d, b)
	b.Status = StatusCancelled
	b.Reason = reason
	b.UpdatedAt = now
	b.Version++
	return []Effect{PutBooking{*b}, Event{Kind: EventBookingCancelled, At: now, Data: *b}}
}

// SlotRoom is the room left in one wave for one operator's group.
type SlotRoom struct {
	Slot      time.Time `json:"slot"`
	Gate      string    `json:"gate"`
	Remaining int       `json:"remaining"`
	Capacity  int       `json:"capacity"`
	Booked    int       `json:"booked"`
	Closed    bool      `json:"closed,omitempty"`
	// LimitedBy says what bounds Remaining: the gate's wave, a zone along
	// the route and when, or the operator's share.
	LimitedBy *Limit `json:"limited_by"`
}

// Availability lists the route's waves on date with the room left for
// operator's groups (WalkInOperator for the ticket office). A date that
// Book would refuse (see Unbookable) has none.
func (s *State) Availability(now time.Time, date, route, operator string) ([]SlotRoom, error) {
	r, ok := s.cfg.Route(route)
	if !ok {
		return nil, errorf(CodeInvalid, "route", "unknown route %q (known: %s)", route, s.cfg.routeList())
	}
	if e := s.Unbookable(now, date, route); e != nil {
		if _, err := time.Parse(time.DateOnly, date); err != nil {
			return nil, errorf(CodeInvalid, "date", "%v", err)
		}
		return nil, nil
	}
	d, err := s.existingOrTemp(date)
	if err != nil {
		return nil, errorf(CodeInvalid, "date", "%v", err)
	}
	earliest := s.earliestMinute(d, now)
	var out []SlotRoom
	for _, m := range s.routeSlots(d.base, r) {
		if m < earliest {
			continue
		}
		for _, gid := range r.Gates {
			g, _ := s.cfg.Gate(gid)
			got, why := s.roomBound(d, operator, r, g, m)
			slot := m / s.cfg.SlotMinutes
			ph := d.phantomWave(gid, slot) // a capacity cut in force
			out = append(out, SlotRoom{
				Slot: s.at(d, m), Gate: gid, Remaining: got, Capacity: g.WaveCapacity - ph,
				Booked: int(d.wave[gid][slot]) - ph, Closed: why.why == limitClosed,
				LimitedBy: s.limitOf(d, why),
			})
		}
	}
	return out, nil
}

// existingOrTemp returns the day's picture without keeping a new empty one
// (queries must not grow the state).
func (s *State) existingOrTemp(date string) (*day, error) {
	if d, ok := s.days[date]; ok {
		return d, nil
	}
	d, err := s.day(date)
	if err != nil {
		return nil, err
	}
	delete(s.days, date)
	return d, nil
}

// Booking returns a copy of a booking visible to operator ("" for
// operations).
func (s *State) Booking(operator, id string) (Booking, bool) {
	b, ok := s.bookings.peek(id)
	if !ok || operator != "" && b.Operator != operator {
		return Booking{}, false
	}
	return b, true
}

// Bookings lists operator's bookings ("" for all) on date ("" for every
// date), ordered by slot then id.
func (s *State) Bookings(operator, date string) []Booking {
	var out []Booking
	for b := range s.bookings.view(date, nil) {
		if (operator == "" || b.Operator == operator) && (date == "" || b.Date == date) {
			out = append(out, *b)
		}
	}
	sortBookings(out)
	return out
}

func (c *Config) routeList() string {
	var ids []string
	for _, r := range c.Routes {
		ids = append(ids, r.ID)
	}
	return strings.Join(ids, ", ")
}

func (c *Config) eveningText(route string) string {
	for _, e := range c.Evenings {
		if e.Route == route {
			return "it runs on " + strings.Join(e.Weekdays, ", ")
		}
	}
	return "it has no evenings configured"
}
