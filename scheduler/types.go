package scheduler

import (
	"time"
)

// Status of a booking.
type Status string

const (
	StatusConfirmed   Status = "confirmed"
	StatusCancelled   Status = "cancelled"
	StatusRescheduled Status = "rescheduled" // confirmed, but moved from its first slot
	StatusCompleted   Status = "completed"   // the whole party was admitted
)

// WalkInOperator is the operator id of the ticket office. Its bookings may
// use the walk-in share of every wave and zone.
const WalkInOperator = "ticket-office"

// Window is an acceptable entry window, in minutes after local midnight.
type Window struct {
	From int `json:"from"`
	To   int `json:"to"`
}

// Booking is one group's entry.
type Booking struct {
	ID        string    `json:"id"`
	Operator  string    `json:"operator"`
	Date      string    `json:"date"` // YYYY-MM-DD in the site's zone
	Route     string    `json:"route"`
	PartySize int       `json:"party_size"`
	Window    Window    `json:"window"`
	Language  string    `json:"language,omitempty"`
	Guide     string    `json:"guide,omitempty"`
	Reference string    `json:"reference,omitempty"`
	Slot      time.Time `json:"slot"` // start of the allotted wave
	Gate      string    `json:"gate"`
	Status    Status    `json:"status"`
	Admitted  int       `json:"admitted"`
	// Reason says why the booking was last moved or cancelled by the site
	// (e.g. "closure: flood"), empty for an operator's own change.
	Reason    string    `json:"reason,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Version   int       `json:"version"`
}

// Active reports whether the booking is still to be admitted (in full or
// in part): it can be changed, moved, cancelled or scanned.
func (b *Booking) Active() bool {
	return b.Status == StatusConfirmed || b.Status == StatusRescheduled
}

// Placed reports whether the booking's group is counted on its day's
// timeline: an active booking, or a completed one (its whole party was
// admitted and is on its route).
func (b *Booking) Placed() bool { return b.Active() || b.Status == StatusCompleted }

// Idempotency is the record of a create request made with an
// Idempotency-Key: a retry with the same key and the same request hash gets
// the same booking back; with another hash it is refused.
type Idempotency struct {
	Operator    string  `json:"operator"`
	Key         string  `json:"key"`
	RequestHash string  `json:"request_hash"`
	Booking     Booking `json:"booking"` // as it was created
	// Request is set instead of Booking for a request of a planned day
	// (SubmitRequest), as it was submitted.
	Request   *Request  `json:"request,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// ScanRecord is a processed gate scan, kept so that a retried scan_id gets
// the same reply and admits nobody twice.
type ScanRecord struct {
	ScanID  string     `json:"scan_id"`
	Gate    string     `json:"gate"`
	Device  string     `json:"device,omitempty"`
	Booking string     `json:"booking,omitempty"`
	Result  ScanResult `json:"result"`
	At      time.Time  `json:"at"`
	// Offline is set for an admission made by an offline gate and
	// reconciled later (OfflineScans): the answer a retry gets again.
	Offline *OfflineOutcome `json:"offline,omitempty"`
}

// SensorState is the checkpoint of one people counter: the last applied
// message and the totals of earlier boots folded into a base.
type SensorState struct {
	Sensor  string    `json:"sensor"`
	Zone    string    `json:"zone"`
	Boot    string    `json:"boot"`
	Seq     uint64    `json:"seq"`
	In      int64     `json:"in_total"`
	Out     int64     `json:"out_total"`
	BaseIn  int64     `json:"base_in"`  // totals of earlier boots
	BaseOut int64     `json:"base_out"` // totals of earlier boots
	At      time.Time `json:"at"`
	// Applied is when the scheduler applied the last reading (its clock,
	// not the device's).
	Applied time.Time `json:"applied,omitzero"`
	// PastBoots are the latest earlier boots, so that a late message of an
	// old boot is recognised as stale rather than taken for a new boot.
	PastBoots []string `json:"past_boots,omitempty"`
	// Suspect is set when a reading broke a plausibility rule; its
	// readings that are plausible against the last applied one are still
	// applied. Operations clear it with TrustSensor.
	Suspect      bool      `json:"suspect,omitempty"`
	SuspectRule  string    `json:"suspect_rule,omitempty"`
	SuspectSince time.Time `json:"suspect_since,omitzero"`
	// Pending is the latest implausible reading, which TrustSensor takes
	// as the sensor's new baseline.
	Pending *SensorReading `json:"pending,omitempty"`
}

// SensorReading is one reading's totals.
type SensorReading struct {
	Boot string    `json:"boot"`
	Seq  uint64    `json:"seq"`
	In   int64     `json:"in_total"`
	Out  int64     `json:"out_total"`
	At   time.Time `json:"at"`
}

// ZoneState is the live state of a zone kept across restarts.
type ZoneState struct {
	Zone string `json:"zone"`
	// Offset corrects counter drift: live occupancy is the counters' net
	// count plus Offset, never below zero.
	Offset    int64     `json:"offset"`
	Held      bool      `json:"held"`
	HeldSince time.Time `json:"held_since,omitzero"`
	// ManualHold is a hold set by operations, released only by operations.
	ManualHold bool `json:"manual_hold,omitempty"`
	// LastReset is the date (YYYY-MM-DD) the zone was last declared empty
	// after closing time.
	LastReset string `json:"last_reset,omitempty"`
	// ReleaseBy is the sensor whose reading first took a held zone down to
	// its release threshold; the hold ends when another sensor's reading
	// confirms it (plausible.go).
	ReleaseBy string `json:"release_by,omitempty"`
}

// Closure closes zones (all zones when Zones is empty) from From until
// Until (open-ended when zero) or until it is lifted.
type Closure struct {
	ID     string    `json:"id"`
	Zones  []string  `json:"zones,omitempty"`
	Reason string    `json:"reason"`
	Source string    `json:"source,omitempty"` // "ops", "alert:flood_warning"
	From   time.Time `json:"from"`
	Until  time.Time `json:"until,omitzero"`
	Lifted time.Time `json:"lifted,omitzero"`
	// Applying is set while the closure is in force but the re-plan of the
	// bookings it hits is still being applied in steps (a closure that hits
	// more bookings than one step takes; see stepped.go); false once whole.
	Applying bool `json:"applying,omitempty"`
	// Replanned counts what its re-plan did with the bookings it hit so
	// far (whole once Applying is false).
	Replanned ReplanCounts `json:"replanned"`
}

// Active reports whether the closure is in force at t.
func (c *Closure) Active(t time.Time) bool {
	if !c.Lifted.IsZero() && !t.Before(c.Lifted) {
		return false
	}
	if t.Before(c.From) {
		return false
	}
	return c.Until.IsZero() || t.Before(c.Until)
}

// Covers reports whether the closure closes the zone.
func (c *Closure) Covers(zone string) bool {
	if len(c.Zones) == 0 {
		return true
	}
	for _, z := range c.Zones {
		if z == zone {
			return true
		}
	}
	return false
}

// Snapshot is everything the scheduler needs to rebuild its state; the store
// persists its parts and returns it at start.
type Snapshot struct {
	Bookings    []Booking     `json:"bookings"`
	Idempotency []Idempotency `json:"idempotency"`
	Scans       []ScanRecord  `json:"scans"`
	Sensors     []SensorState `json:"sensors"`
	Zones       []ZoneState   `json:"zones"`
	Closures    []Closure     `json:"closures"`
	Requests    []Request     `json:"requests,omitempty"`
	Cuts        []CapacityCut `json:"cuts,omitempty"`
	// Meters are the groups the forecast holds back (meter_record.go).
	Meters []MeteredGroup `json:"meters,omitempty"`
}

// Effect is something the owner of the state must do after a command: persist
// a record (all Put effects of one command in one synced transaction, before
// anyone is answered) and then publish events.
type Effect interface{ isEffect() }

// PutBooking persists a booking (create or replace).
type PutBooking struct{ Booking Booking }

// PutIdempotency persists an idempotency record.
type PutIdempotency struct{ Record Idempotency }

// DeleteIdempotency removes an expired idempotency record.
type DeleteIdempotency struct{ Operator, Key string }

// PutScan persists a scan record.
type PutScan struct{ Record ScanRecord }

// DeleteScan removes an expired scan record.
type DeleteScan struct{ ScanID string }

// PutSensor persists a counter checkpoint.
type PutSensor struct{ State SensorState }

// PutZone persists a zone's live state.
type PutZone struct{ State ZoneState }

// PutClosure persists a closure.
type PutClosure struct{ Closure Closure }

// PutRequest persists a request of a planned day.
type PutRequest struct{ Request Request }

// Event is published on tafweej.<site>.events.<Kind> after the command's
// records are durable.
type Event struct {
	Kind string    `json:"kind"`
	At   time.Time `json:"at"`
	Data any       `json:"data"`
}

func (PutBooking) isEffect()        {}
func (PutIdempotency) isEffect()    {}
func (DeleteIdempotency) isEffect() {}
func (PutScan) isEffect()           {}
func (DeleteScan) isEffect()        {}
func (PutSensor) isEffect()         {}
func (PutZone) isEffect()           {}
func (PutClosure) isEffect()        {}
func (PutRequest) isEffect()        {}
func (Event) isEffect()             {}

// Event kinds, as in docs/wire-contract.md ("Events").
const (
	EventWaveReleased       = "wave.released"
	EventWaveHeld           = "wave.held"
	EventZoneClosed         = "zone.closed"
	EventZoneReopened       = "zone.reopened"
	EventBookingConfirmed   = "booking.confirmed"
	EventBookingRescheduled = "booking.rescheduled"
	EventBookingCancelled   = "booking.cancelled"
	EventAdmission          = "admission"
	EventRequestsAllotted   = "requests.allotted"
	EventSensorSuspect      = "sensor.suspect"
	EventSensorTrusted      = "sensor.trusted"
	EventCountersDisagree   = "zone.counters_disagree"
	EventCountersAgree      = "zone.counters_agree"
)
