package scheduler

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Planned days. On the dates a RequestWindow covers, first come first
// served gives the day to the fastest clicker. Instead, until the date's
// cut-off operators submit requests (SubmitRequest), which hold no
// capacity; after the cut-off the day planner places them all at once
// (the owner of the state runs the planner outside its loop and applies
// the result with AllotRequests); only then does the date open to
// first-come bookings for what is left. A request either becomes a booking
// (RequestAllotted, with the booking id it was given at submission) or is
// not placed (RequestNotPlaced, with the reason).

// RequestStatus is where a request of a planned day stands.
type RequestStatus string

const (
	RequestPending   RequestStatus = "pending"    // submitted, waiting for the cut-off
	RequestAllotted  RequestStatus = "allotted"   // placed: Booking is its booking
	RequestNotPlaced RequestStatus = "not_placed" // the planner found no room
	RequestWithdrawn RequestStatus = "withdrawn"  // withdrawn before the cut-off
)

// Request is one group's request for a planned day.
type Request struct {
	ID        string `json:"id"`
	Operator  string `json:"operator"`
	Date      string `json:"date"`
	Route     string `json:"route"`
	PartySize int    `json:"party_size"`
	Window    Window `json:"window"`
	// Preferred is the preferred entry in minutes after midnight; 0 means
	// the window's start.
	Preferred int           `json:"preferred,omitempty"`
	Language  string        `json:"language,omitempty"`
	Guide     string        `json:"guide,omitempty"`
	Reference string        `json:"reference,omitempty"`
	Status    RequestStatus `json:"status"`
	// Booking is the id the booking gets if the request is allotted,
	// chosen at submission.
	Booking   string    `json:"booking"`
	Reason    string    `json:"reason,omitempty"` // why it was not placed
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Version   int       `json:"version"`
}

// SubmitRequest files a request for a planned date before its cut-off. ID
// and BookingID are chosen by the caller (unique). Idempotency works as for
// Book.
type SubmitRequest struct {
	ID             string
	BookingID      string
	Operator       string
	Request        BookingRequest
	Preferred      int // minutes after midnight; 0: the window's start
	IdempotencyKey string
	RequestHash    string
}

// WithdrawRequest withdraws a pending request before the cut-off.
// Operator "" acts as operations.
type WithdrawRequest struct {
	Operator string
	ID       string
}

// AllotRequests allots the pending requests of a planned date whose cut-off
// has passed, as Plan places them (a PlanInstance of RequestInstance). Each
// placement is checked again against the state: one that no longer fits (a
// closure came meanwhile) and every request the plan left out get the
// earliest feasible slot of their window, first come first served, if any.
// Applying it again once the date is allotted changes nothing.
type AllotRequests struct {
	Date string
	Plan PlanResult
}

// Allotment sums up an AllotRequests.
type Allotment struct {
	Date      string `json:"date"`
	Requests  int    `json:"requests"`
	Allotted  int    `json:"allotted"`
	NotPlaced int    `json:"not_placed"`
	Visitors  int    `json:"visitors"`  // placed
	Requested int    `json:"requested"` // asked for
	// Replaced counts the requests placed first come first served because
	// the plan left them out or its placement no longer fitted.
	Replaced int `json:"replaced"`
}

// Planned reports whether date (its civil date at the site) is a planned
// day: a day the request window covers.
func (c *Config) Planned(date time.Time) bool {
	rw := c.Policy.RequestWindow
	if rw == nil {
		return false
	}
	if len(rw.Periods) == 0 {
		return true
	}
	_, m, d := c.civil(date)
	day, _ := dayOfYear(m, d)
	for _, p := range rw.Periods {
		from, ok1 := parseMonthDay(p.From)
		to, ok2 := parseMonthDay(p.To)
		if ok1 && ok2 && inSeason(day, from, to) {
			return true
		}
	}
	return false
}

// RequestCutoff is when requests for a planned date close; ok is false if
// the date is not planned.
func (c *Config) RequestCutoff(date time.Time) (cutoff time.Time, ok bool) {
	if !c.Planned(date) {
		return time.Time{}, false
	}
	rw := c.Policy.RequestWindow
	at, _ := ParseClock(rw.CutoffTime)
	y, m, d := c.civil(date)
	return time.Date(y, m, d-rw.CutoffDaysBefore, at/60, at%60, 0, 0, c.loc), true
}

// NextPlannedDay is the first planned day, within a year of now, that the
// site opens on and whose requests are still open at now, with its
// cut-off.
func (c *Config) NextPlannedDay(now time.Time) (date, cutoff time.Time, ok bool) {
	y, m, d := c.civil(now)
	for i := 0; i <= 366; i++ {
		date := time.Date(y, m, d+i, 12, 0, 0, 0, c.loc) // noon: clear of any DST change
		cutoff, planned := c.RequestCutoff(date)
		if !planned || !cutoff.After(now) {
			continue
		}
		if _, _, _, open := c.HoursOn(date); open {
			return time.Date(y, m, d+i, 0, 0, 0, 0, c.loc), cutoff, true
		}
	}
	return time.Time{}, time.Time{}, false
}

// windowOpen reports whether first-come bookings of the day must wait: it
// is planned, and its requests are not yet allotted.
func (s *State) windowOpen(d *day, now time.Time) (cutoff time.Time, open bool) {
	cutoff, planned := s.cfg.RequestCutoff(d.base)
	if !planned {
		return cutoff, false
	}
	return cutoff, now.Before(cutoff) || len(s.pending[d.date]) > 0
}

func (s *State) windowRefusal(d *day, cutoff time.Time) *Error {
	return errorf(CodeRequestWindow, "date",
		"%s is a planned day: until %s operators submit requests (POST /v1/requests) and the day planner allots them all at once; "+
			"first-come bookings open once that is done", d.date, cutoff.Format("2006-01-02 15:04"))
}

func (s *State) submit(now time.Time, c SubmitRequest) (Result, []Effect) {
	if c.Operator == "" || c.ID == "" || c.BookingID == "" {
		return Result{Err: errorf(CodeInvalid, "", "a request needs an operator, an id and a booking id")}, nil
	}
	var ik idemKey
	if c.IdempotencyKey != "" {
		ik = idemKey{c.Operator, c.IdempotencyKey}
		if rec, ok := s.idem[ik]; ok {
			if rec.RequestHash != c.RequestHash || rec.Request == nil {
				return Result{Err: errorf(CodeIdempotencyMismatch, "Idempotency-Key",
					"Idempotency-Key %q was used with a different request; use a new key for a new request", c.IdempotencyKey)}, nil
			}
			q := *rec.Request
			return Result{Request: &q, Replayed: true}, nil
		}
	}
	if _, dup := s.requests[c.ID]; dup {
		return Result{Err: errorf(CodeConflict, "id", "request id %q exists", c.ID)}, nil
	}
	if s.bookings.has(c.BookingID) {
		return Result{Err: errorf(CodeConflict, "booking", "booking id %q exists", c.BookingID)}, nil
	}
	if c.Operator == WalkInOperator {
		return Result{Err: errorf(CodeInvalid, "operator", "the ticket office sells walk-ins on the day; requests of a planned day are for operators' groups")}, nil
	}
	r, d, e := s.validate(now, c.Request)
	if e != nil {
		return Result{Err: e}, nil
	}
	req := c.Request
	cutoff, planned := s.cfg.RequestCutoff(d.base)
	switch {
	case !planned:
		return Result{Err: errorf(CodeInvalid, "date", "%s is not a planned day: book it first come first served (POST /v1/bookings)%s", req.Date, s.plannedText())}, nil
	case !now.Before(cutoff):
		return Result{Err: errorf(CodeCutoff, "date", "requests for %s closed at %s; once they are allotted, book what is left first come first served (POST /v1/bookings)",
			req.Date, cutoff.Format("2006-01-02 15:04"))}, nil
	}
	if c.Preferred != 0 && (c.Preferred < req.Window.From || c.Preferred >= req.Window.To) {
		return Result{Err: errorf(CodeInvalid, "preferred", "preferred start %s is outside the window %s-%s (accepted: a time in the window, or none for its start)",
			clock(c.Preferred), clock(req.Window.From), clock(req.Window.To))}, nil
	}
	if len(s.candidates(d, r, req.Window, now)) == 0 {
		return Result{Err: errorf(CodeOutsideHours, "window", "window %s-%s on %s has no entry for route %q: %s",
			clock(req.Window.From), clock(req.Window.To), req.Date, r.ID, s.hoursText(d, r))}, nil
	}
	// Requests hold no capacity, but an operator cannot be given more than
	// its day share: asking for more only burdens the planner.
	limit := floorShare(d.entries, s.cfg.Policy.OperatorDayShare)
	asked := req.PartySize
	for _, q := range s.pending[req.Date] {
		if q.Operator == c.Operator {
			asked += q.PartySize
		}
	}
	if asked > limit {
		return Result{Err: errorf(CodeOverShare, "party_size", "operator %q would request %d visitors on %s; one operator may be given at most %d that day (operator_day_share)",
			c.Operator, asked, req.Date, limit)}, nil
	}
	q := &Request{
		ID: c.ID, Operator: c.Operator, Date: req.Date, Route: r.ID, PartySize: req.PartySize, Window: req.Window,
		Preferred: c.Preferred, Language: req.Language, Guide: req.Guide, Reference: req.Reference,
		Status: RequestPending, Booking: c.BookingID, CreatedAt: now, UpdatedAt: now, Version: 1,
	}
	s.requests[q.ID] = q
	s.addPending(q)
	effects := []Effect{PutRequest{*q}}
	if c.IdempotencyKey != "" {
		snap := *q
		rec := &Idempotency{Operator: c.Operator, Key: c.IdempotencyKey, RequestHash: c.RequestHash, Request: &snap, CreatedAt: now}
		s.idem[ik] = rec
		effects = append(effects, PutIdempotency{*rec})
	}
	out := *q
	return Result{Request: &out}, effects
}

func (s *State) plannedText() string {
	rw := s.cfg.Policy.RequestWindow
	if rw == nil {
		return "; this site has no planned days"
	}
	var spans []string
	for _, p := range rw.Periods {
		spans = append(spans, p.From+".."+p.To)
	}
	return fmt.Sprintf("; planned days are %v", spans)
}

func (s *State) addPending(q *Request) {
	m := s.pending[q.Date]
	if m == nil {
		m = map[string]*Request{}
		s.pending[q.Date] = m
	}
	m[q.ID] = q
}

func (s *State) dropPending(q *Request) {
	delete(s.pending[q.Date], q.ID)
	if len(s.pending[q.Date]) == 0 {
		delete(s.pending, q.Date)
	}
}

// lookupRequest finds a request visible to operator ("" sees all).
func (s *State) lookupRequest(operator, id string) (*Request, *Error) {
	q, ok := s.requests[id]
	if !ok || operator != "" && q.Operator != operator {
		return nil, errorf(CodeNotFound, "id", "no request %q", id)
	}
	return q, nil
}

func (s *State) withdraw(now time.Time, c WithdrawRequest) (Result, []Effect) {
	q, e := s.lookupRequest(c.Operator, c.ID)
	if e != nil {
		return Result{Err: e}, nil
	}
	if q.Status != RequestPending {
		return Result{Err: errorf(CodeConflict, "status", "request %q is %s and cannot be withdrawn", q.ID, q.Status)}, nil
	}
	d, err := s.day(q.Date)
	if err != nil {
		return Result{Err: errorf(CodeInvalid, "date", "%v", err)}, nil
	}
	cutoff, planned := s.cfg.RequestCutoff(d.base)
	switch {
	case !planned:
		return Result{Err: errorf(CodeCutoff, "id", "%s is no longer a planned day; its requests are being allotted: cancel the booking once it is made", q.Date)}, nil
	case !now.Before(cutoff):
		return Result{Err: errorf(CodeCutoff, "id", "requests for %s closed at %s and are being allotted; cancel the booking once it is made",
			q.Date, cutoff.Format("2006-01-02 15:04"))}, nil
	}
	s.dropPending(q)
	q.Status = RequestWithdrawn
	q.UpdatedAt = now
	q.Version++
	out := *q
	return Result{Request: &out}, []Effect{PutRequest{*q}}
}

// RequestsDue lists the planned dates whose cut-off has passed at now and
// whose requests wait to be allotted, earliest first.
func (s *State) RequestsDue(now time.Time) []string {
	var out []string
	for date := range s.pending {
		base, err := time.ParseInLocation(time.DateOnly, date, s.cfg.Location())
		if err != nil {
			continue
		}
		if cutoff, ok := s.cfg.RequestCutoff(base); !ok || !now.Before(cutoff) {
			out = append(out, date)
		}
	}
	slices.Sort(out)
	return out
}

// PendingRequests is the number of requests waiting for their cut-off and
// the planner, over every planned day.
func (s *State) PendingRequests() int {
	n := 0
	for _, m := range s.pending {
		n += len(m)
	}
	return n
}

// RequestInstance is the planning instance of date's pending requests on
// the day's remaining capacity at now; PlanInstance on it gives the plan
// AllotRequests applies. Like DayInstance, it shares nothing with the
// state.
func (s *State) RequestInstance(now time.Time, date string) (Instance, error) {
	return s.DayInstance(now, date, s.PendingPlanRequests(date))
}

// unplaceable says why a pending request can no longer be placed at all
// (the configuration changed since it was submitted), or "".
func (s *State) unplaceable(q *Request) string {
	if _, ok := s.cfg.Route(q.Route); !ok {
		return fmt.Sprintf("route %q is no longer in the site's configuration", q.Route)
	}
	if q.PartySize > s.cfg.Policy.MaxPartySize {
		return fmt.Sprintf("party_size %d is above the largest group the site now accepts (%d)", q.PartySize, s.cfg.Policy.MaxPartySize)
	}
	if e := s.validWindow(q.Window); e != nil {
		return e.Message
	}
	return ""
}

// PendingPlanRequests are date's pending requests as the planner takes
// them, by id.
func (s *State) PendingPlanRequests(date string) []PlanRequest {
	ids := slices.Sorted(maps.Keys(s.pending[date]))
	reqs := make([]PlanRequest, 0, len(ids))
	for _, id := range ids {
		q := s.pending[date][id]
		if s.unplaceable(q) != "" {
			continue // not placed at the allotment, with the reason
		}
		reqs = append(reqs, PlanRequest{ID: q.ID, Operator: q.Operator, Route: q.Route, PartySize: q.PartySize,
			Window: q.Window, Preferred: q.Preferred})
	}
	return reqs
}

func (s *State) allot(now time.Time, c AllotRequests) (Result, []Effect) {
	sum := &Allotment{Date: c.Date}
	pend := s.pending[c.Date]
	if len(pend) == 0 {
		return Result{Allotted: sum}, nil
	}
	d, err := s.day(c.Date)
	if err != nil {
		return Result{Err: errorf(CodeInvalid, "date", "%v", err)}, nil
	}
	if cutoff, ok := s.cfg.RequestCutoff(d.base); ok && now.Before(cutoff) {
		return Result{Err: errorf(CodeConflict, "date", "requests for %s are open until %s; they are allotted after the cut-off",
			c.Date, cutoff.Format("2006-01-02 15:04"))}, nil
	}
	var effects []Effect
	sum.Requests = len(pend)
	for _, q := range pend {
		sum.Requested += q.PartySize
	}
	for _, p := range c.Plan.Placed {
		q, ok := pend[p.ID]
		if !ok {
			continue
		}
		r, _ := s.cfg.Route(q.Route)
		g, gok := s.cfg.Gate(p.Gate)
		m := p.Minute
		if !gok || !slices.Contains(r.Gates, p.Gate) || !slices.Contains(s.candidates(d, r, q.Window, now), m) {
			continue
		}
		if got, _ := s.room(d, q.Operator, r, g, m); got < q.PartySize {
			continue
		}
		effects = append(effects, s.allotOne(now, d, q, placement{p.Gate, m}, sum)...)
	}
	// What the plan left out, or placed where it no longer fits: first
	// come first served, in the order the requests were made.
	rest := slices.Collect(maps.Values(pend))
	slices.SortFunc(rest, func(a, b *Request) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	for _, q := range rest {
		if why := s.unplaceable(q); why != "" {
			s.dropPending(q)
			q.Status, q.Reason = RequestNotPlaced, why
			q.UpdatedAt = now
			q.Version++
			sum.NotPlaced++
			effects = append(effects, PutRequest{*q})
			continue
		}
		r, _ := s.cfg.Route(q.Route)
		if p, ok, _ := s.find(d, q.Operator, r, q.PartySize, s.candidates(d, r, q.Window, now)); ok {
			sum.Replaced++
			effects = append(effects, s.allotOne(now, d, q, p, sum)...)
			continue
		}
		s.dropPending(q)
		q.Status = RequestNotPlaced
		q.Reason = fmt.Sprintf("no room for %d visitors on route %q in the window %s-%s on %s once the day was planned",
			q.PartySize, q.Route, clock(q.Window.From), clock(q.Window.To), q.Date)
		if len(s.candidates(d, r, q.Window, now)) == 0 {
			q.Reason = fmt.Sprintf("the window %s-%s on %s had no entry left when the requests were allotted (closed, or already over)",
				clock(q.Window.From), clock(q.Window.To), q.Date)
		}
		q.UpdatedAt = now
		q.Version++
		sum.NotPlaced++
		effects = append(effects, PutRequest{*q})
	}
	effects = append(effects, Event{Kind: EventRequestsAllotted, At: now, Data: *sum})
	return Result{Allotted: sum}, effects
}

// allotOne turns a pending request into its booking at p.
func (s *State) allotOne(now time.Time, d *day, q *Request, p placement, sum *Allotment) []Effect {
	s.dropPending(q)
	q.UpdatedAt = now
	q.Version++
	if s.bookings.has(q.Booking) {
		q.Status, q.Reason = RequestNotPlaced, fmt.Sprintf("booking id %q exists", q.Booking)
		sum.NotPlaced++
		return []Effect{PutRequest{*q}}
	}
	b := &Booking{
		ID: q.Booking, Operator: q.Operator, Date: q.Date, Route: q.Route, PartySize: q.PartySize,
		Window: q.Window, Language: q.Language, Guide: q.Guide, Reference: q.Reference,
		Slot: s.at(d, p.minute), Gate: p.gate, Status: StatusConfirmed,
		CreatedAt: now, UpdatedAt: now, Version: 1,
	}
	s.bookings.add(b)
	s.place(d, b)
	q.Status = RequestAllotted
	sum.Allotted++
	sum.Visitors += q.PartySize
	return []Effect{PutRequest{*q}, PutBooking{*b}, Event{Kind: EventBookingConfirmed, At: now, Data: *b}}
}

// Request returns a request visible to operator ("" for operations).
func (s *State) Request(operator, id string) (Request, bool) {
	q, e := s.lookupRequest(operator, id)
	if e != nil {
		return Request{}, false
	}
	return *q, true
}

// Requests lists operator's requests ("" for all) on date ("" for every
// date), by date, then creation, then id.
func (s *State) Requests(operator, date string) []Request {
	var out []Request
	for _, q := range s.requests {
		if (operator == "" || q.Operator == operator) && (date == "" || q.Date == date) {
			out = append(out, *q)
		}
	}
	slices.SortFunc(out, func(a, b Request) int {
		return cmp.Or(cmp.Compare(a.Date, b.Date), a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out
}
