package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"time"

	"github.com/tafweej/tafweej/scheduler"
)

// Requests of planned days: POST /v1/requests until the date's cut-off,
// then the day planner allots them all at once; GET /v1/requests/{id}
// shows the outcome (with the booking and its ticket once allotted).

// createRequest: POST /v1/requests.
func (s *Server) createRequest(w http.ResponseWriter, r *http.Request, p *principal) *apiError {
	op, e := bookingOperator(r, p)
	if e != nil {
		return e
	}
	var in RequestBody
	present, e := decode(r, requestBody, &in)
	if e != nil {
		return e
	}
	req, e := in.request(present)
	if e != nil {
		return e
	}
	preferred := 0
	if in.Preferred != "" {
		m, err := scheduler.ParseClock(in.Preferred)
		if err != nil {
			return badRequest("preferred", "preferred: %v; or leave it out for the window's start", err)
		}
		preferred = m
	}
	key, release, e := s.idempotency(r, op)
	if e != nil {
		return e
	}
	defer release()
	id := newID("rq_")
	res, err := s.eng.Do(r.Context(), scheduler.SubmitRequest{ID: id, BookingID: "bk_" + id[len("rq_"):], Operator: op,
		Request: req, Preferred: preferred, IdempotencyKey: key, RequestHash: planRequestHash(req, preferred)})
	if e := fromEngine(res, err); e != nil {
		return e
	}
	if res.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	w.Header().Set("Location", "/v1/requests/"+res.Request.ID)
	writeJSON(w, http.StatusCreated, s.requestView(*res.Request, nil))
	return nil
}

// planRequestHash keeps requests and bookings apart: the same body sent
// as a booking and as a request with one Idempotency-Key is a reuse.
func planRequestHash(req scheduler.BookingRequest, preferred int) string {
	data, _ := json.Marshal(struct {
		Kind      string                   `json:"kind"`
		Request   scheduler.BookingRequest `json:"request"`
		Preferred int                      `json:"preferred"`
	}{"request", req, preferred})
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// requestView is a request as the API shows it, with its booking if one
// was made.
func (s *Server) requestView(q scheduler.Request, b *scheduler.Booking) Request {
	v := Request{
		ID: q.ID, Operator: q.Operator, Date: q.Date, Route: q.Route, PartySize: q.PartySize,
		Window:   Window{From: scheduler.FormatClock(q.Window.From), To: scheduler.FormatClock(q.Window.To)},
		Language: q.Language, Guide: q.Guide, Reference: q.Reference,
		Status: q.Status, Reason: q.Reason,
		CreatedAt: q.CreatedAt.In(s.loc), UpdatedAt: q.UpdatedAt.In(s.loc), Version: q.Version,
	}
	if q.Preferred != 0 {
		v.Preferred = scheduler.FormatClock(q.Preferred)
	}
	if date, err := time.ParseInLocation(time.DateOnly, q.Date, s.loc); err == nil {
		if cutoff, ok := s.cfg.RequestCutoff(date); ok {
			v.Cutoff = cutoff
		}
	}
	if b != nil {
		bv := s.view(*b, true)
		v.Booking = &bv
	}
	return v
}

// getRequest: GET /v1/requests/{id}.
func (s *Server) getRequest(w http.ResponseWriter, r *http.Request, p *principal) *apiError {
	id := r.PathValue("id")
	var (
		q  scheduler.Request
		b  scheduler.Booking
		ok bool
		hb bool
	)
	err := s.eng.Read(r.Context(), func(st *scheduler.State, _ time.Time) {
		if q, ok = st.Request(scope(p), id); ok && q.Status == scheduler.RequestAllotted {
			b, hb = st.Booking(scope(p), q.Booking)
		}
	})
	if err != nil {
		return engineError(err)
	}
	if !ok {
		return errf(http.StatusNotFound, scheduler.CodeNotFound, "id", "no request %q", id)
	}
	if q.Status == scheduler.RequestAllotted && !hb {
		// The request's date may have been archived: its booking with it.
		if b, hb, err = s.eng.ArchivedBooking(scope(p), q.Booking); err != nil {
			return engineError(err)
		}
	}
	var bp *scheduler.Booking
	if hb {
		bp = &b
	}
	writeJSON(w, http.StatusOK, s.requestView(q, bp))
	return nil
}

// listRequests: GET /v1/requests?date=&operator=.
func (s *Server) listRequests(w http.ResponseWriter, r *http.Request, p *principal) *apiError {
	op, date, e := listFilter(r, p, "requests")
	if e != nil {
		return e
	}
	var qs []scheduler.Request
	if err := s.eng.Read(r.Context(), func(st *scheduler.State, _ time.Time) { qs = st.Requests(op, date) }); err != nil {
		return engineError(err)
	}
	out := RequestList{Requests: make([]Request, 0, len(qs))}
	for _, q := range qs {
		out.Requests = append(out.Requests, s.requestView(q, nil))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// withdrawRequest: DELETE /v1/requests/{id}, before the cut-off.
func (s *Server) withdrawRequest(w http.ResponseWriter, r *http.Request, p *principal) *apiError {
	res, err := s.eng.Do(r.Context(), scheduler.WithdrawRequest{Operator: scope(p), ID: r.PathValue("id")})
	if e := fromEngine(res, err); e != nil {
		return e
	}
	writeJSON(w, http.StatusOK, s.requestView(*res.Request, nil))
	return nil
}
