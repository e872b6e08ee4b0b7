package api

import (
	"time"

	"github.com/tafweej/tafweej/scheduler"
)

// The JSON shapes of the API, exported for clients (the command line).
// Times are RFC 3339 in the site's time zone; clock times of day are
// "HH:MM".

// Window is an acceptable entry window, "HH:MM" to "HH:MM" in the site's
// time zone; To may be "24:00".
type Window struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// BookingRequest is the body of POST /v1/bookings.
type BookingRequest struct {
	Date      string `json:"date"`
	Route     string `json:"route"`
	PartySize int    `json:"party_size"`
	Window    Window `json:"window"`
	Language  string `json:"language,omitempty"`
	Guide     string `json:"guide,omitempty"`
	Reference string `json:"reference,omitempty"`
}

// RequestBody is the body of POST /v1/requests: a booking request for a
// planned day, with an optional preferred start ("HH:MM", in the window).
type RequestBody struct {
	BookingRequest
	Preferred string `json:"preferred,omitempty"`
}

// Request is a request of a planned day as the API answers it. Cutoff is
// when requests for its date close; Booking is set once it is allotted.
type Request struct {
	ID        string                  `json:"id"`
	Operator  string                  `json:"operator"`
	Date      string                  `json:"date"`
	Route     string                  `json:"route"`
	PartySize int                     `json:"party_size"`
	Window    Window                  `json:"window"`
	Preferred string                  `json:"preferred,omitempty"`
	Language  string                  `json:"language,omitempty"`
	Guide     string                  `json:"guide,omitempty"`
	Reference string                  `json:"reference,omitempty"`
	Status    scheduler.RequestStatus `json:"status"`
	Reason    string                  `json:"reason,omitempty"`
	Cutoff    time.Time               `json:"cutoff"`
	Booking   *Booking                `json:"booking,omitempty"`
	CreatedAt time.Time               `json:"created_at"`
	UpdatedAt time.Time               `json:"updated_at"`
	Version   int                     `json:"version"`
}

// RequestList is the answer of GET /v1/requests.
type RequestList struct {
	Requests []Request `json:"requests"`
}

// BookingPatch is the body of PATCH /v1/bookings/{id}: the fields to
// change, at least one.
type BookingPatch struct {
	PartySize *int    `json:"party_size,omitempty"`
	Window    *Window `json:"window,omitempty"`
}

// Booking is a booking as the API answers it. Ticket (the signed code for
// the QR) is set in the answers about one booking, for a booking that can
// still admit; TicketURL is the path of its QR code PNG.
type Booking struct {
	ID        string           `json:"id"`
	Operator  string           `json:"operator"`
	Date      string           `json:"date"`
	Route     string           `json:"route"`
	PartySize int              `json:"party_size"`
	Window    Window           `json:"window"`
	Language  string           `json:"language,omitempty"`
	Guide     string           `json:"guide,omitempty"`
	Reference string           `json:"reference,omitempty"`
	Slot      time.Time        `json:"slot"`
	Gate      string           `json:"gate"`
	Status    scheduler.Status `json:"status"`
	Admitted  int              `json:"admitted"`
	Reason    string           `json:"reason,omitempty"`
	CreatedAt time.Time        `json:"created_at"`
	UpdatedAt time.Time        `json:"updated_at"`
	Version   int              `json:"version"`
	Ticket    string           `json:"ticket,omitempty"`
	TicketURL string           `json:"ticket_url,omitempty"`
}

// BookingList is the answer of GET /v1/bookings.
type BookingList struct {
	Bookings []Booking `json:"bookings"`
}

// Availability is the answer of GET /v1/availability.
type Availability struct {
	Date     string               `json:"date"`
	Route    string               `json:"route"`
	Operator string               `json:"operator"`
	Slots    []scheduler.SlotRoom `json:"slots"`
	// Unavailable says why there are no slots: the refusal a booking of
	// that date would get (outside the booking period, closed that day, a
	// planned day before its allotment), or no wave left today.
	Unavailable *Error `json:"unavailable,omitempty"`
}

// Occupancy is the answer of GET /v1/occupancy.
type Occupancy struct {
	At    time.Time                 `json:"at"`
	Zones []scheduler.ZoneOccupancy `json:"zones"`
	// Overbooked are the dates, from today on, with zones or waves over the
	// capacity in force (after the configuration lowered it); each zone's
	// own dates are in its overbooked field.
	Overbooked []scheduler.DateOverage `json:"overbooked"`
}

// Status is the answer of GET /v1/status: the picture of the site now.
type Status struct {
	At         time.Time                 `json:"at"`
	Clock      string                    `json:"clock"`
	SiteClosed bool                      `json:"site_closed"`
	Zones      []scheduler.ZoneOccupancy `json:"zones"`
	// Waves are today's waves with bookings from the current slot to four
	// hours ahead.
	Waves []scheduler.Wave `json:"waves"`
	// Closures are the closures in force.
	Closures []scheduler.Closure `json:"closures"`
	// Cuts are the capacity cuts in force now or later.
	Cuts       []scheduler.CapacityCut `json:"cuts"`
	Evacuation Evacuation              `json:"evacuation"`
	// Overbooked are the dates over the capacity in force, as in
	// GET /v1/occupancy.
	Overbooked []scheduler.DateOverage `json:"overbooked"`
	// Offline is each gate device's state (online, offline since, scans
	// waiting) and the conflicts found reconciling offline scans.
	Offline scheduler.OfflineStatus `json:"offline"`
	// Dwell is each zone's configured and learned stay.
	Dwell []scheduler.ZoneDwell `json:"dwell"`
	// HeldBack are the groups the forecast holds back at their gates, and
	// why.
	HeldBack []scheduler.MeteredGroup `json:"held_back"`
}

// ForecastAnswer is the answer of GET /v1/forecast: every zone's forecast
// occupancy minute by minute for the next hour against its capacity, the
// groups held back at their gates by it and why, and each zone's
// configured and learned dwell.
type ForecastAnswer struct {
	scheduler.Forecast
	Dwell []scheduler.ZoneDwell `json:"dwell"`
}

// Evacuation is how many people are in the reserve now, by the counters
// (live) and by the admissions placed along their routes (inside).
type Evacuation struct {
	Live   int              `json:"live"`
	Inside int              `json:"inside"`
	Zones  []EvacuationZone `json:"zones"`
}

// EvacuationZone is one zone's share of the evacuation view.
type EvacuationZone struct {
	Zone   string `json:"zone"`
	Live   int    `json:"live"`
	Inside int    `json:"inside"`
	Closed bool   `json:"closed"`
}

// ClosureRequest is the body of POST /v1/closures: the zones to close, or
// All to close the whole site. The whole site is closed only by All: a null
// or empty Zones is refused. Until (RFC 3339) is optional.
type ClosureRequest struct {
	Zones  []string `json:"zones,omitempty"`
	All    bool     `json:"all,omitempty"`
	Reason string   `json:"reason"`
	Until  string   `json:"until,omitempty"`
}

// CutRequest is the body of POST /v1/cuts: exactly one of Zone and Gate;
// From (default now) and Until are RFC 3339.
type CutRequest struct {
	Zone     string `json:"zone,omitempty"`
	Gate     string `json:"gate,omitempty"`
	Capacity int    `json:"capacity"`
	From     string `json:"from,omitempty"`
	Until    string `json:"until"`
	Reason   string `json:"reason"`
}

// ReplanRequest is the body of POST /v1/replan.
type ReplanRequest struct {
	Date string `json:"date"`
}

// CutList is the answer of GET /v1/cuts.
type CutList struct {
	Cuts []scheduler.CapacityCut `json:"cuts"`
}

// ClosureList is the answer of GET /v1/closures.
type ClosureList struct {
	Closures []scheduler.Closure `json:"closures"`
}

// HoldRequest is the body of POST /v1/holds.
type HoldRequest struct {
	Zone string `json:"zone"`
	On   *bool  `json:"on"`
}

// KeyRequest is the body of POST /v1/keys.
type KeyRequest struct {
	Role     string   `json:"role"`
	Operator string   `json:"operator,omitempty"`
	Gates    []string `json:"gates,omitempty"`
	Name     string   `json:"name,omitempty"`
}

// KeyCreated is the answer of POST /v1/keys. Key is the secret, shown this
// once: the server keeps only its hash.
type KeyCreated struct {
	Key       string    `json:"key"`
	ID        string    `json:"id"`
	Prefix    string    `json:"prefix"`
	Role      string    `json:"role"`
	Operator  string    `json:"operator,omitempty"`
	Gates     []string  `json:"gates,omitempty"`
	Name      string    `json:"name,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// ScanBody is the body of POST /v1/scans: a scan and the gate it was made
// at.
type ScanBody struct {
	Gate string `json:"gate"`
	scheduler.ScanRequest
}

// Health is the answer of GET /healthz.
type Health struct {
	Status string    `json:"status"`
	Clock  string    `json:"clock"`
	Time   time.Time `json:"time"`
}

// ErrorResponse is the body of every error answer.
type ErrorResponse struct {
	Error Error `json:"error"`
}

// Error is an error answer: Code is the scheduler's refusal code or one of
// the API's (unauthorized, forbidden, not_found, method_not_allowed,
// idempotency_key_in_flight, request_too_large, unsupported_media_type,
// rate_limited, not_ready, unavailable, insufficient_storage, internal);
// Field names the offending request field or header.
type Error struct {
	Code         string                  `json:"code"`
	Message      string                  `json:"message"`
	Field        string                  `json:"field,omitempty"`
	Alternatives []scheduler.Alternative `json:"alternatives,omitempty"`
	// ID names an internal error in the service's log.
	ID string `json:"id,omitempty"`
}

// KeyInfo is an API key as GET /v1/keys lists it: never its secret or hash.
type KeyInfo struct {
	ID        string    `json:"id"`
	Role      string    `json:"role"`
	Operator  string    `json:"operator,omitempty"`
	Gates     []string  `json:"gates,omitempty"`
	Name      string    `json:"name,omitempty"`
	Prefix    string    `json:"prefix"`
	CreatedAt time.Time `json:"created_at"`
	// OpsFile marks the ops key whose secret is in the data directory's
	// ops.key.
	OpsFile bool `json:"ops_file,omitempty"`
}

// KeyList is the answer of GET /v1/keys.
type KeyList struct {
	Keys []KeyInfo `json:"keys"`
}

// KeyRotated is the answer of POST /v1/keys/rotate-ops: the new ops key
// (its secret shown this once, and written to File) and the keys revoked.
type KeyRotated struct {
	KeyCreated
	File    string    `json:"file"`
	Revoked []KeyInfo `json:"revoked"`
}
