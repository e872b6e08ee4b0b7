package scheduler

import (
	"fmt"
	"time"
)

// Command is an input to State.Apply.
type Command interface{ isCommand() }

// BookingRequest is what an operator asks for.
type BookingRequest struct {
	Date      string `json:"date"`
	Route     string `json:"route"`
	PartySize int    `json:"party_size"`
	Window    Window `json:"window"`
	Language  string `json:"language,omitempty"`
	Guide     string `json:"guide,omitempty"`
	Reference string `json:"reference,omitempty"`
}

// Book allots a new booking. ID is chosen by the caller (unique). With an
// IdempotencyKey, a repeat with the same RequestHash returns the booking of
// the first request (Result.Replayed) and one with another hash fails with
// CodeIdempotencyMismatch.
type Book struct {
	ID             string
	Operator       string
	Request        BookingRequest
	IdempotencyKey string
	RequestHash    string
}

// Modify changes a booking's party size and/or window; the booking is
// re-allotted if its slot no longer fits. Operator "" acts as operations.
type Modify struct {
	Operator  string
	ID        string
	PartySize *int
	Window    *Window
}

// Cancel cancels a booking. Operator "" acts as operations.
type Cancel struct {
	Operator string
	ID       string
	Reason   string
}

// Ticket is what a verified ticket code claims. The scheduler trusts only
// the booking id from it; the booking's live state decides.
type Ticket struct {
	Booking   string    `json:"booking"`
	Date      string    `json:"date"`
	Slot      time.Time `json:"slot"`
	Gate      string    `json:"gate"`
	PartySize int       `json:"party_size"`
}

// Scan is a gate scan of a ticket whose signature was already verified.
type Scan struct {
	Gate   string
	Ticket Ticket
	Count  int // people passing with this scan, ≥ 1
	ScanID string
	Device string
}

// CounterReading is a people counter's cumulative totals.
type CounterReading struct {
	Sensor string
	Zone   string
	Boot   string
	Seq    uint64
	In     int64
	Out    int64
	At     time.Time
	// Delay is how long ago the message reached the server (JetStream's
	// timestamp), so that a reading applied late, after a restart, is
	// judged against when it was sent (plausible.go's clock rule).
	Delay time.Duration
}

// Close closes zones (the whole site when Zones is empty).
type Close struct {
	ID     string
	Zones  []string
	Reason string
	Source string
	Until  time.Time // zero: until reopened
}

// Reopen lifts a closure.
type Reopen struct{ ID string }

// SetHold sets or clears a manual hold on a zone.
type SetHold struct {
	Zone string
	On   bool
}

// ResetZone declares a zone empty (drift correction).
type ResetZone struct{ Zone string }

// Alert is an alert from outside (e.g. a flood warning). ID names the closure
// it may open.
type Alert struct {
	ID       string
	Kind     string
	Zones    []string
	Severity string
}

// Tick advances time: waves whose slot started are released, expired
// idempotency and scan records are dropped, zones are reset after closing.
type Tick struct{}

func (Book) isCommand()            {}
func (SubmitRequest) isCommand()   {}
func (WithdrawRequest) isCommand() {}
func (AllotRequests) isCommand()   {}
func (Modify) isCommand()          {}
func (Cancel) isCommand()          {}
func (Scan) isCommand()            {}
func (CounterReading) isCommand()  {}
func (Close) isCommand()           {}
func (Reopen) isCommand()          {}
func (SetHold) isCommand()         {}
func (ResetZone) isCommand()       {}
func (Alert) isCommand()           {}
func (Tick) isCommand()            {}

// Result is the decision on one command. Err is a *Error for a refusal; the
// other fields are set according to the command.
type Result struct {
	Err      error
	Booking  *Booking    // Book, Modify, Cancel
	Replayed bool        // Book: an idempotent replay
	Scan     *ScanResult // Scan
	Counter  CounterOutcome
	Closure  *Closure     // Close, Reopen, Alert
	Request  *Request     // SubmitRequest, WithdrawRequest
	Cut      *CapacityCut // CutCapacity, LiftCut
	// Allotted sums up an AllotRequests.
	Allotted *Allotment
	// Replanned sums up a Replan.
	Replanned *Replanned
	// Rule names the plausibility rule a CounterImplausible reading broke
	// and RuleDetail says how. Such a reading is not refused (Err is nil):
	// it is kept as evidence and marks its sensor suspect.
	Rule, RuleDetail string
	// Offline is the reconciliation of an OfflineScans.
	Offline *OfflineReport
	// Archived is what an ArchiveDay took out of the live state.
	Archived *ArchivedDay
}

// CounterOutcome says what happened to a counter reading.
type CounterOutcome string

const (
	CounterApplied   CounterOutcome = "applied"
	CounterDuplicate CounterOutcome = "duplicate" // seq at or below the checkpoint
	CounterInvalid   CounterOutcome = "invalid"
	// CounterImplausible: a reading no crowd can produce (Result.Rule); not
	// applied, and the sensor is marked suspect.
	CounterImplausible CounterOutcome = "implausible"
)

// ScanRequest is a gate scan as a device sends it (docs/wire-contract.md,
// "Gate scan"): the NATS request on tafweej.<site>.gate.<gate>.scan, and
// the body of POST /v1/scans with the gate beside it. Count 0 (absent)
// means 1; At, the device's time, is RFC 3339 and informational: the owner
// loop's clock decides. The adapters check it and turn it into a Scan.
type ScanRequest struct {
	Ticket string `json:"ticket"`
	Count  int    `json:"count"`
	ScanID string `json:"scan_id"`
	Device string `json:"device"`
	At     string `json:"at"`
}

// ScanResult is the reply to a gate scan (docs/wire-contract.md, "Gate scan").
type ScanResult struct {
	Decision  string     `json:"decision"` // admit, partial, reject
	Reason    string     `json:"reason"`
	Admitted  int        `json:"admitted"`
	Remaining int        `json:"remaining"`
	Booking   string     `json:"booking,omitempty"`
	Slot      *time.Time `json:"slot"`
	Gate      string     `json:"gate,omitempty"`
	RetryAt   *time.Time `json:"retry_at"`
	Message   Text       `json:"message"`
	Operator  string     `json:"operator,omitempty"`
	Language  string     `json:"language,omitempty"`
	PartySize int        `json:"party_size,omitempty"`
}

// Scan decisions and reasons.
const (
	DecisionAdmit   = "admit"
	DecisionPartial = "partial"
	DecisionReject  = "reject"

	ReasonOK               = "ok"
	ReasonTooEarly         = "too_early"
	ReasonTooLate          = "too_late"
	ReasonRebooked         = "rebooked"
	ReasonAlreadyUsed      = "already_used"
	ReasonUnknownTicket    = "unknown_ticket"
	ReasonInvalidSignature = "invalid_signature"
	ReasonWrongGate        = "wrong_gate"
	ReasonWrongDay         = "wrong_day"
	ReasonCancelled        = "cancelled"
	ReasonHeld             = "held"
	ReasonClosed           = "closed"
	ReasonBadRequest       = "bad_request"
	// ReasonInsufficientStorage: the service's disk is nearly full and the
	// scan was not recorded (decided by the owner loop, not the core).
	ReasonInsufficientStorage = "insufficient_storage"
	// ReasonUnknownGate: the scan names no gate of the site (a device set
	// up with a wrong gate id); the message names the id it sent.
	ReasonUnknownGate = "unknown_gate"
)

// Error codes of refusals.
const (
	CodeInvalid             = "invalid_request"
	CodeNotFound            = "not_found"
	CodeNoCapacity          = "no_capacity"
	CodeClosed              = "closed"
	CodeOutsideHours        = "outside_opening_hours"
	CodeOverShare           = "operator_share_exceeded"
	CodeIdempotencyMismatch = "idempotency_key_reused"
	CodeConflict            = "conflict"
	// CodeRequestWindow refuses a first-come booking of a planned day
	// whose requests are not yet allotted.
	CodeRequestWindow = "request_window_open"
	// CodeCutoff refuses a request (or its withdrawal) after the cut-off.
	CodeCutoff = "request_cutoff_passed"
)

// Error is a refusal: the command changed nothing.
type Error struct {
	Code    string
	Message string
	// Field names the offending request field, if one.
	Field        string
	Alternatives []Alternative
}

func (e *Error) Error() string { return fmt.Sprintf("scheduler: %s: %s", e.Code, e.Message) }

// Alternative is a feasible slot offered instead of a refused request.
type Alternative struct {
	Slot      time.Time `json:"slot"`
	Gate      string    `json:"gate"`
	Remaining int       `json:"remaining"`
}

func errorf(code, field, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}
