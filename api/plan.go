package api

import (
	"net/http"
	"sort"
	"time"

	"github.com/tafweej/tafweej/scheduler"
)

// PlanPreview is the answer of GET /v1/plan: what a whole-day re-plan by the
// batch planner would do with a date's bookings and, on a planned day, with
// its pending requests (as if they were allotted now). Nothing is changed.
type PlanPreview struct {
	Date string `json:"date"`
	// Groups are the bookings re-planned: every active, not yet admitted
	// booking of the date, and those a closure cancelled.
	Groups int `json:"groups"`
	// Requests are the date's pending requests, planned with the bookings;
	// RequestVisitors are the visitors of those the plan places.
	Requests        int `json:"requests"`
	RequestVisitors int `json:"request_visitors"`
	// Current is the visitors the current allotment places.
	Current int `json:"current"`
	// Restorable are visitors of closure-cancelled groups the plan places.
	Restorable int `json:"restorable"`
	// Moved counts the placed groups whose slot or gate would change.
	Moved   int                  `json:"moved"`
	Plan    scheduler.PlanResult `json:"plan"`
	Took    string               `json:"took"`
	Changes []PlanChange         `json:"changes"`
}

// PlanChange is one group the plan would move, place or leave out: a
// booking, or a pending request of a planned day.
type PlanChange struct {
	Booking  string     `json:"booking,omitempty"`
	Request  string     `json:"request,omitempty"`
	Operator string     `json:"operator"`
	From     *time.Time `json:"from"` // nil: the group is not placed now
	To       *time.Time `json:"to"`   // nil: the plan leaves it out
	Gate     string     `json:"gate,omitempty"`
	Visitors int        `json:"visitors"`
}

// plan previews a re-plan of a day (ops). The instance is built on the
// owner loop; the search, which takes seconds, runs outside it.
func (s *Server) plan(w http.ResponseWriter, r *http.Request, _ *principal) *apiError {
	date := r.URL.Query().Get("date")
	if _, err := time.Parse(time.DateOnly, date); err != nil {
		return badRequest("date", "date %q is not a date of the form YYYY-MM-DD", date)
	}
	var inst scheduler.Instance
	var ierr error
	current := map[string]scheduler.Booking{}
	pending := map[string]scheduler.PlanRequest{}
	var cancelled map[string]bool
	err := s.eng.Read(r.Context(), func(st *scheduler.State, now time.Time) {
		var reqs []scheduler.PlanRequest
		reqs, cancelled = st.ReplanRequests(date)
		for _, q := range reqs {
			current[q.ID], _ = st.Booking("", q.ID)
		}
		for _, q := range st.PendingPlanRequests(date) {
			pending[q.ID] = q
			reqs = append(reqs, q)
		}
		inst, ierr = st.DayInstance(now, date, reqs)
	})
	if err != nil {
		return engineError(err)
	}
	if ierr != nil {
		return fromRefusal(ierr)
	}
	start := time.Now()
	res, err := scheduler.PlanInstance(inst, scheduler.PlanOptions{})
	if err != nil {
		return fromRefusal(err)
	}
	out := PlanPreview{Date: date, Groups: len(current), Requests: len(pending), Plan: res,
		Took: time.Since(start).Round(time.Millisecond).String(), Changes: []PlanChange{}}
	placed := map[string]bool{}
	for _, p := range res.Placed {
		placed[p.ID] = true
		to := p.Slot.In(s.loc)
		if q, ok := pending[p.ID]; ok {
			out.RequestVisitors += q.PartySize
			out.Changes = append(out.Changes, PlanChange{Request: q.ID, Operator: q.Operator, To: &to, Gate: p.Gate, Visitors: q.PartySize})
			continue
		}
		b := current[p.ID]
		if cancelled[p.ID] {
			out.Restorable += b.PartySize
			out.Changes = append(out.Changes, PlanChange{Booking: b.ID, Operator: b.Operator, To: &to, Gate: p.Gate, Visitors: b.PartySize})
			continue
		}
		if !b.Slot.Equal(p.Slot) || b.Gate != p.Gate {
			out.Moved++
			from := b.Slot.In(s.loc)
			out.Changes = append(out.Changes, PlanChange{Booking: b.ID, Operator: b.Operator, From: &from, To: &to, Gate: p.Gate, Visitors: b.PartySize})
		}
	}
	for id, b := range current {
		if !cancelled[id] {
			out.Current += b.PartySize
			if !placed[id] {
				from := b.Slot.In(s.loc)
				out.Changes = append(out.Changes, PlanChange{Booking: b.ID, Operator: b.Operator, From: &from, Visitors: b.PartySize})
			}
		}
	}
	for id, q := range pending {
		if !placed[id] {
			out.Changes = append(out.Changes, PlanChange{Request: q.ID, Operator: q.Operator, Visitors: q.PartySize})
		}
	}
	sort.Slice(out.Changes, func(i, j int) bool {
		a, b := out.Changes[i], out.Changes[j]
		return a.Booking+a.Request < b.Booking+b.Request
	})
	writeJSON(w, http.StatusOK, out)
	return nil
}
