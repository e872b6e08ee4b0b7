package webhooks

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

// Event types, the "type" of a payload.
const (
	TypeBookingMoved     = "booking.moved"
	TypeBookingCancelled = "booking.cancelled"
	TypeBookingAdmitted  = "booking.admitted"
	TypeRequestAllotted  = "request.allotted"
	TypeRequestNotPlaced = "request.not_placed"
	TypeZoneClosed       = "zone.closed"
	TypeZoneReopened     = "zone.reopened"
	maxClosureDates      = 31 // the most dates a closure's event looks at
)

// Payload is the body of every webhook (Standard Webhooks' recommended
// shape): the event's type, when it happened (the scheduler's clock, in
// the site's zone) and its data.
type Payload struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      any       `json:"data"`
}

// Wave is where and when a group enters.
type Wave struct {
	Slot time.Time `json:"slot"`
	Gate string    `json:"gate"`
}

// BookingMoved is the data of booking.moved: the site (a closure, a
// capacity cut, a hold) or the operator (a change of window) moved the
// group to another wave. Reason is empty for the operator's own change.
type BookingMoved struct {
	Booking   string `json:"booking"`
	Operator  string `json:"operator"`
	Reference string `json:"reference,omitempty"`
	Date      string `json:"date"`
	Route     string `json:"route"`
	PartySize int    `json:"party_size"`
	From      *Wave  `json:"from"` // null if the earlier wave is unknown
	To        Wave   `json:"to"`
	Reason    string `json:"reason,omitempty"`
	Version   int    `json:"version"`
}

// BookingCancelled is the data of booking.cancelled. Reason is empty when
// the operator cancelled it.
type BookingCancelled struct {
	Booking   string `json:"booking"`
	Operator  string `json:"operator"`
	Reference string `json:"reference,omitempty"`
	Date      string `json:"date"`
	Route     string `json:"route"`
	PartySize int    `json:"party_size"`
	Wave      Wave   `json:"wave"`
	Reason    string `json:"reason,omitempty"`
	Version   int    `json:"version"`
}

// RequestOutcome is the data of request.allotted (with the booking and its
// wave) and request.not_placed (with the reason).
type RequestOutcome struct {
	Request   string `json:"request"`
	Operator  string `json:"operator"`
	Reference string `json:"reference,omitempty"`
	Date      string `json:"date"`
	Route     string `json:"route"`
	PartySize int    `json:"party_size"`
	Status    string `json:"status"`
	Booking   string `json:"booking,omitempty"`
	Wave      *Wave  `json:"wave,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// ZoneChange is the data of zone.closed and zone.reopened, sent to each
// operator with bookings the closure touches: Bookings are that operator's
// bookings on the closure's dates whose route passes through a closed zone.
// Zones empty means the whole site.
type ZoneChange struct {
	Closure  string    `json:"closure"`
	Zones    []string  `json:"zones"`
	Reason   string    `json:"reason"`
	From     time.Time `json:"from"`
	Until    time.Time `json:"until,omitzero"`
	Lifted   time.Time `json:"lifted,omitzero"`
	Dates    []string  `json:"dates"`
	Bookings []string  `json:"bookings"`
}

// message is one event for one operator.
type message struct {
	operator string
	payload  Payload
}

// Stage turns a turn's events into deliveries, one per event and endpoint
// of the operator it concerns (engine.Outbox). It runs on the owner
// goroutine, before the turn is written: st is read only.
func (s *Service) Stage(st *scheduler.State, records []scheduler.Effect, events []scheduler.Event) []store.WebhookDelivery {
	if len(events) == 0 {
		// Nothing to tell (a planned day's allotment, the one change told
		// from its records, always comes with its requests.allotted event).
		return nil
	}
	s.mu.Lock()
	byOp := map[string][]string{}
	for _, ep := range s.endpoints {
		byOp[ep.Operator] = append(byOp[ep.Operator], ep.ID)
	}
	s.mu.Unlock()
	if len(byOp) == 0 {
		return nil
	}
	loc := s.cfg.Location()
	var msgs []message
	add := func(op, typ string, at time.Time, data any) {
		if len(byOp[op]) > 0 {
			msgs = append(msgs, message{op, Payload{Type: typ, Timestamp: at.In(loc), Data: data}})
		}
	}
	// seen is each booking as this turn's earlier events left it: the wave
	// a booking moved twice in one turn comes from.
	seen := map[string]scheduler.Booking{}
	for _, ev := range events {
		switch d := ev.Data.(type) {
		case scheduler.Booking:
			switch ev.Kind {
			case scheduler.EventBookingRescheduled:
				if len(byOp[d.Operator]) > 0 {
					m := BookingMoved{Booking: d.ID, Operator: d.Operator, Reference: d.Reference, Date: d.Date, Route: d.Route,
						PartySize: d.PartySize, To: Wave{d.Slot.In(loc), d.Gate}, Reason: d.Reason, Version: d.Version}
					if prev, ok := s.previous(seen, d.ID); ok {
						m.From = &Wave{prev.Slot.In(loc), prev.Gate}
					}
					add(d.Operator, TypeBookingMoved, ev.At, m)
				}
			case scheduler.EventBookingCancelled:
				add(d.Operator, TypeBookingCancelled, ev.At, BookingCancelled{Booking: d.ID, Operator: d.Operator,
					Reference: d.Reference, Date: d.Date, Route: d.Route, PartySize: d.PartySize,
					Wave: Wave{d.Slot.In(loc), d.Gate}, Reason: d.Reason, Version: d.Version})
			}
			seen[d.ID] = d
		case scheduler.Admission:
			if ev.Kind == scheduler.EventAdmission {
				d.Slot = d.Slot.In(loc)
				add(d.Operator, TypeBookingAdmitted, ev.At, d)
			}
		case scheduler.Closure:
			typ := TypeZoneClosed
			if ev.Kind == scheduler.EventZoneReopened {
				typ = TypeZoneReopened
			} else if ev.Kind != scheduler.EventZoneClosed {
				continue
			}
			for _, oc := range s.closureOperators(st, d, ev.At, byOp) {
				add(oc.operator, typ, ev.At, oc.change)
			}
		}
	}
	// A planned day's allotment: each request's outcome.
	booked := map[string]scheduler.Booking{}
	for _, r := range records {
		if pb, ok := r.(scheduler.PutBooking); ok {
			booked[pb.Booking.ID] = pb.Booking
		}
	}
	for _, r := range records {
		pr, ok := r.(scheduler.PutRequest)
		if !ok {
			continue
		}
		q := pr.Request
		o := RequestOutcome{Request: q.ID, Operator: q.Operator, Reference: q.Reference, Date: q.Date, Route: q.Route,
			PartySize: q.PartySize, Status: string(q.Status)}
		switch q.Status {
		case scheduler.RequestAllotted:
			o.Booking = q.Booking
			if b, ok := booked[q.Booking]; ok {
				o.Wave = &Wave{b.Slot.In(loc), b.Gate}
			}
			add(q.Operator, TypeRequestAllotted, q.UpdatedAt, o)
		case scheduler.RequestNotPlaced:
			o.Reason = q.Reason
			add(q.Operator, TypeRequestNotPlaced, q.UpdatedAt, o)
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	now := s.now().UTC()
	var out []store.WebhookDelivery
	for _, m := range msgs {
		body, err := json.Marshal(m.payload)
		if err != nil {
			s.log.Error("webhooks: encode an event", "type", m.payload.Type, "err", err)
			continue
		}
		for _, ep := range byOp[m.operator] {
			out = append(out, store.WebhookDelivery{ID: newDeliveryID(now), Endpoint: ep, Operator: m.operator,
				Type: m.payload.Type, Payload: body, Status: store.DeliveryPending, NextAttempt: now, CreatedAt: now})
		}
	}
	return out
}

// previous is booking id as it was before the current event: as an earlier
// event of this turn left it, or as it is stored (the turn is not written
// yet).
func (s *Service) previous(seen map[string]scheduler.Booking, id string) (scheduler.Booking, bool) {
	if b, ok := seen[id]; ok {
		return b, true
	}
	b, err := s.st.Booking(id)
	return b, err == nil
}

type operatorChange struct {
	operator string
	change   ZoneChange
}

// closureOperators are the operators (with endpoints) a closure's event
// goes to: those with a booking the closure concerns
// (scheduler.State.ClosureBookings: on a date it spans, whose route passes
// through a closed zone, placed when the event happened).
func (s *Service) closureOperators(st *scheduler.State, cl scheduler.Closure, at time.Time, byOp map[string][]string) []operatorChange {
	loc := s.cfg.Location()
	changes := map[string]*ZoneChange{}
	var order []string
	for _, b := range st.ClosureBookings(cl, at, maxClosureDates) {
		if len(byOp[b.Operator]) == 0 {
			continue
		}
		c := changes[b.Operator]
		if c == nil {
			c = &ZoneChange{Closure: cl.ID, Zones: slices.Clone(cl.Zones), Reason: cl.Reason, From: cl.From.In(loc),
				Dates: []string{}, Bookings: []string{}}
			if c.Zones == nil {
				c.Zones = []string{}
			}
			if !cl.Until.IsZero() {
				c.Until = cl.Until.In(loc)
			}
			if !cl.Lifted.IsZero() {
				c.Lifted = cl.Lifted.In(loc)
			}
			changes[b.Operator] = c
			order = append(order, b.Operator)
		}
		if len(c.Dates) == 0 || c.Dates[len(c.Dates)-1] != b.Date {
			c.Dates = append(c.Dates, b.Date)
		}
		c.Bookings = append(c.Bookings, b.ID)
	}
	slices.Sort(order)
	out := make([]operatorChange, 0, len(order))
	for _, op := range order {
		out = append(out, operatorChange{op, *changes[op]})
	}
	return out
}
