package api

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/tafweej/tafweej/internal/auth"
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/tickets"
)

// maxIdempotencyKey is the longest Idempotency-Key accepted.
const maxIdempotencyKey = 255

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newID is a random id with a prefix ("bk_", "cl_"): 80 random bits.
func newID(prefix string) string {
	var b [10]byte
	rand.Read(b[:])
	return prefix + idEncoding.EncodeToString(b[:])
}

// bookingOperator is whose name a request books or asks availability in:
// an operator key's own operator; for an ops key the "operator" query
// parameter, or the ticket office (walk-ins) without one.
func bookingOperator(r *http.Request, p *principal) (string, *apiError) {
	q := r.URL.Query().Get("operator")
	if p.Role == auth.RoleOperator {
		if q != "" && q != p.Operator {
			return "", errf(http.StatusForbidden, CodeForbidden, "operator",
				"the operator parameter is for ops keys; this key acts for operator %q only", p.Operator)
		}
		return p.Operator, nil
	}
	if q == "" {
		return scheduler.WalkInOperator, nil
	}
	if !auth.IsOperatorID(q) {
		return "", badRequest("operator", "operator %q is not an operator id: 1 to 64 letters, digits, '.', '_' or '-'", q)
	}
	return q, nil
}

// scope is the operator whose bookings a key sees: its own for an operator
// key, every operator's ("") for ops.
func scope(p *principal) string {
	if p.Role == auth.RoleOperator {
		return p.Operator
	}
	return ""
}

// parseWindow reads an "HH:MM"-"HH:MM" window; To may be "24:00".
func parseWindow(w Window) (scheduler.Window, *apiError) {
	from, err := scheduler.ParseClock(w.From)
	if err != nil {
		return scheduler.Window{}, badRequest("window.from", "window.from: %v", err)
	}
	to := 24 * 60
	if w.To != "24:00" {
		if to, err = scheduler.ParseClock(w.To); err != nil {
			return scheduler.Window{}, badRequest("window.to", "window.to: %v (or \"24:00\")", err)
		}
	}
	if from >= to {
		return scheduler.Window{}, badRequest("window", "window %s-%s is empty: from must be before to", w.From, w.To)
	}
	return scheduler.Window{From: from, To: to}, nil
}

// view is a booking as the API shows it; withTicket adds the ticket code of
// a booking that can still admit.
func (s *Server) view(b scheduler.Booking, withTicket bool) Booking {
	v := Booking{
		ID: b.ID, Operator: b.Operator, Date: b.Date, Route: b.Route, PartySize: b.PartySize,
		Window:   Window{From: scheduler.FormatClock(b.Window.From), To: scheduler.FormatClock(b.Window.To)},
		Language: b.Language, Guide: b.Guide, Reference: b.Reference,
		Slot: b.Slot.In(s.loc), Gate: b.Gate, Status: b.Status, Admitted: b.Admitted, Reason: b.Reason,
		CreatedAt: b.CreatedAt.In(s.loc), UpdatedAt: b.UpdatedAt.In(s.loc), Version: b.Version,
	}
	if b.Active() {
		v.TicketURL = "/v1/bookings/" + b.ID + "/ticket.png"
		if withTicket {
			v.Ticket = s.signer.Code(b)
		}
	}
	return v
}

// requestHash is the SHA-256 of the request's canonical encoding: the same
// booking asked in other words (field order, spacing) hashes the same.
func requestHash(req scheduler.BookingRequest) string {
	data, _ := json.Marshal(req)
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func checkIdempotencyKey(k string) *apiError {
	if len(k) > maxIdempotencyKey {
		return badRequest("Idempotency-Key", "Idempotency-Key has %d bytes; at most %d are accepted", len(k), maxIdempotencyKey)
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return badRequest("Idempotency-Key", "Idempotency-Key %q has a character other than printable ASCII without spaces (e.g. a UUID)", k)
		}
	}
	return nil
}

// request is the scheduler's booking request of a decoded body; present
// names the fields the body had.
func (in BookingRequest) request(present map[string]bool) (scheduler.BookingRequest, *apiError) {
	if !present["window"] {
		return scheduler.BookingRequest{}, badRequest("window", "window is required: {\"from\": \"HH:MM\", \"to\": \"HH:MM\"}, the entry times the group accepts")
	}
	win, e := parseWindow(in.Window)
	if e != nil {
		return scheduler.BookingRequest{}, e
	}
	return scheduler.BookingRequest{Date: in.Date, Route: in.Route, PartySize: in.PartySize, Window: win,
		Language: in.Language, Guide: in.Guide, Reference: in.Reference}, nil
}

// idempotency reads the request's Idempotency-Key and claims it for the
// operator while the request is processed; release (never nil) unclaims it.
func (s *Server) idempotency(r *http.Request, operator string) (key string, release func(), e *apiError) {
	key = r.Header.Get("Idempotency-Key")
	if e := checkIdempotencyKey(key); e != nil {
		return "", nil, e
	}
	if key == "" {
		return "", func() {}, nil
	}
	release, ok := s.claim(operator, key)
	if !ok {
		return "", nil, errf(http.StatusConflict, CodeInFlight, "Idempotency-Key",
			"a request with Idempotency-Key %q is still being processed; retry once it has been answered", key)
	}
	return key, release, nil
}

// createBooking: POST /v1/bookings.
func (s *Server) createBooking(w http.ResponseWriter, r *http.Request, p *principal) *apiError {
	op, e := bookingOperator(r, p)
	if e != nil {
		return e
	}
	var in BookingRequest
	present, e := decode(r, bookingBody, &in)
	if e != nil {
		return e
	}
	req, e := in.request(present)
	if e != nil {
		return e
	}
	key, release, e := s.idempotency(r, op)
	if e != nil {
		return e
	}
	defer release()
	// The ticket is signed and the 201 encoded while the booking is being
	// written (the synced write is most of a booking's time); it is sent
	// only once the booking is durable.
	var ans *answer
	var prepared scheduler.Booking // the booking ans tells
	res, err := s.eng.DoPrepared(r.Context(), scheduler.Book{ID: newID("bk_"), Operator: op, Request: req,
		IdempotencyKey: key, RequestHash: requestHash(req)}, func(res scheduler.Result) {
		if res.Err == nil && res.Booking != nil {
			a := encodeAnswer(http.StatusCreated, s.view(*res.Booking, true))
			ans, prepared = &a, *res.Booking
		}
	})
	if e := fromEngine(res, err); e != nil {
		return e
	}
	if ans == nil || prepared != *res.Booking { // the durable answer came first, or is another
		a := encodeAnswer(http.StatusCreated, s.view(*res.Booking, true))
		ans = &a
	}
	if res.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	w.Header().Set("Location", "/v1/bookings/"+res.Booking.ID)
	ans.write(w)
	return nil
}

// readBooking finds a booking the key may see.
func (s *Server) readBooking(r *http.Request, p *principal) (scheduler.Booking, *apiError) {
	id := r.PathValue("id")
	var b scheduler.Booking
	var ok bool
	err := s.eng.Read(r.Context(), func(st *scheduler.State, _ time.Time) { b, ok = st.Booking(scope(p), id) })
	if err != nil {
		return b, engineError(err)
	}
	if !ok {
		// A booking of a past date may be in the archive.
		if b, ok, err = s.eng.ArchivedBooking(scope(p), id); err != nil {
			return b, engineError(err)
		}
	}
	if !ok {
		return b, errf(http.StatusNotFound, scheduler.CodeNotFound, "id", "no booking %q", id)
	}
	return b, nil
}

// getBooking: GET /v1/bookings/{id}.
func (s *Server) getBooking(w http.ResponseWriter, r *http.Request, p *principal) *apiError {
	b, e := s.readBooking(r, p)
	if e != nil {
		return e
	}
	writeJSON(w, http.StatusOK, s.view(b, true))
	return nil
}

// listFilter reads the date and operator parameters of a list: an
// operator key sees its own records only, an ops key every operator's or
// the one named.
func listFilter(r *http.Request, p *principal, what string) (operator, date string, e *apiError) {
	q := r.URL.Query()
	date = q.Get("date")
	if date != "" {
		if _, err := time.Parse(time.DateOnly, date); err != nil {
			return "", "", badRequest("date", "date %q is not a date of the form YYYY-MM-DD", date)
		}
	}
	operator = scope(p)
	if o := q.Get("operator"); o != "" {
		if p.Role == auth.RoleOperator && o != p.Operator {
			return "", "", errf(http.StatusForbidden, CodeForbidden, "operator",
				"the operator parameter is for ops keys; this key sees operator %q's %s only", p.Operator, what)
		}
		operator = o
	}
	return operator, date, nil
}

// listBookings: GET /v1/bookings?date=&operator=.
func (s *Server) listBookings(w http.ResponseWriter, r *http.Request, p *principal) *apiError {
	op, date, e := listFilter(r, p, "bookings")
	if e != nil {
		return e
	}
	var bs []scheduler.Booking
	if err := s.eng.Read(r.Context(), func(st *scheduler.State, _ time.Time) { bs = st.Bookings(op, date) }); err != nil {
		return engineError(err)
	}
	if len(bs) == 0 && date != "" {
		// A past date may have left the live state for the archive.
		var err error
		if bs, _, err = s.eng.ArchivedBookings(op, date); err != nil {
			return engineError(err)
		}
	}
	out := BookingList{Bookings: make([]Booking, 0, len(bs))}
	for _, b := range bs {
		out.Bookings = append(out.Bookings, s.view(b, false))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// patchBooking: PATCH /v1/bookings/{id}.
func (s *Server) patchBooking(w http.ResponseWriter, r *http.Request, p *principal) *apiError {
	var in BookingPatch
	if _, e := decode(r, patchBody, &in); e != nil {
		return e
	}
	cmd := scheduler.Modify{Operator: scope(p), ID: r.PathValue("id"), PartySize: in.PartySize}
	if in.PartySize == nil && in.Window == nil {
		return badRequest("", "nothing to change: give party_size and/or window")
	}
	if in.Window != nil {
		win, e := parseWindow(*in.Window)
		if e != nil {
			return e
		}
		cmd.Window = &win
	}
	res, err := s.eng.Do(r.Context(), cmd)
	if e := fromEngine(res, err); e != nil {
		return e
	}
	writeJSON(w, http.StatusOK, s.view(*res.Booking, true))
	return nil
}

// cancelBooking: DELETE /v1/bookings/{id}. Operations may give a reason.
func (s *Server) cancelBooking(w http.ResponseWriter, r *http.Request, p *principal) *apiError {
	cmd := scheduler.Cancel{Operator: scope(p), ID: r.PathValue("id")}
	if p.Role == auth.RoleOps {
		cmd.Reason = strings.TrimSpace(r.URL.Query().Get("reason"))
		if cmd.Reason == "" {
			cmd.Reason = "cancelled by operations"
		}
		if len(cmd.Reason) > 200 {
			return badRequest("reason", "reason has %d bytes; at most 200 are accepted", len(cmd.Reason))
		}
	}
	res, err := s.eng.Do(r.Context(), cmd)
	if e := fromEngine(res, err); e != nil {
		return e
	}
	writeJSON(w, http.StatusOK, s.view(*res.Booking, false))
	return nil
}

// ticketPNG: GET /v1/bookings/{id}/ticket.png.
func (s *Server) ticketPNG(w http.ResponseWriter, r *http.Request, p *principal) *apiError {
	b, e := s.readBooking(r, p)
	if e != nil {
		return e
	}
	if !b.Active() {
		return errf(http.StatusConflict, scheduler.CodeConflict, "status", "booking %q is %s: its ticket admits nobody", b.ID, b.Status)
	}
	png, err := tickets.QR(s.signer.Code(b))
	if err != nil {
		return errf(http.StatusInternalServerError, CodeInternal, "", "the QR code could not be made: %v", err)
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", fmt.Sprintf("inline; filename=%q", b.ID+".png"))
	w.Write(png)
	return nil
}

// availability: GET /v1/availability?date=&route=&operator=.
func (s *Server) availability(w http.ResponseWriter, r *http.Request, p *principal) *apiError {
	op, e := bookingOperator(r, p)
	if e != nil {
		return e
	}
	q := r.URL.Query()
	date, route := q.Get("date"), q.Get("route")
	if date == "" {
		return badRequest("date", "the date parameter is required: ?date=YYYY-MM-DD&route=ROUTE")
	}
	if route == "" {
		return badRequest("route", "the route parameter is required: ?date=YYYY-MM-DD&route=ROUTE")
	}
	var slots []scheduler.SlotRoom
	var aerr error
	var why *scheduler.Error
	err := s.eng.Read(r.Context(), func(st *scheduler.State, now time.Time) {
		slots, aerr = st.Availability(now, date, route, op)
		if aerr == nil && len(slots) == 0 {
			why = st.Unbookable(now, date, route)
		}
	})
	if err != nil {
		return engineError(err)
	}
	if aerr != nil {
		return fromRefusal(aerr)
	}
	for i := range slots {
		slots[i].Slot = slots[i].Slot.In(s.loc)
	}
	out := Availability{Date: date, Route: route, Operator: op, Slots: slots}
	if len(slots) == 0 {
		out.Slots = []scheduler.SlotRoom{}
		out.Unavailable = &Error{Code: scheduler.CodeOutsideHours, Message: fmt.Sprintf("no wave of route %q is left to book on %s", route, date)}
		if why != nil {
			out.Unavailable = &Error{Code: why.Code, Field: why.Field, Message: why.Message}
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
