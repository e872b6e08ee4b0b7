package scheduler

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"
)

// OfflineScan is one admission an offline gate made.
type OfflineScan struct {
	ScanID  string
	Booking string // from the verified ticket, or given by the gate
	Count   int
	At      time.Time // when it happened, by the gate's clock
}

// OfflineScans records a batch of admissions a gate made while offline.
// Each is a fact: it is recorded as it happened even where the service
// would have refused it (a booking's Admitted may then exceed its party),
// and what it breaks is reported as a conflict. Idempotent per scan id
// (gate, device, scan id, as for Scan): a retried batch answers the same
// and changes nothing.
type OfflineScans struct {
	Gate   string
	Device string
	Scans  []OfflineScan
}

// GateSeen says a gate device reached the service (e.g. fetched its
// manifest) with Waiting offline scans not yet uploaded.
type GateSeen struct {
	Gate    string
	Device  string
	Waiting int
}

func (OfflineScans) isCommand() {}
func (GateSeen) isCommand()     {}

// Outcomes of one offline scan.
const (
	OfflineRecorded  = "recorded"
	OfflineDuplicate = "duplicate" // the same scan was already counted by an online scan
	OfflineRefused   = "refused"   // not recorded: Reason says why
)

// Conflict kinds.
const (
	ConflictOverAdmission     = "over_admission"
	ConflictCancelledAdmitted = "cancelled_admitted"
	ConflictClosedZoneEntered = "closed_zone_entered"
)

// ConflictKinds lists the kinds, for metrics.
var ConflictKinds = []string{ConflictOverAdmission, ConflictCancelledAdmitted, ConflictClosedZoneEntered}

// Events of offline gates.
const (
	EventGateOffline  = "gate.offline"
	EventGateOnline   = "gate.online"
	EventScanConflict = "scan.conflict"
)

// DeviceSilence is how long a gate device that was seen may stay silent
// before it is reported offline.
const DeviceSilence = 30 * time.Second

// maxOfflineSkew is how far in the future an offline scan's time may be
// (the gate's clock may run a little ahead).
const maxOfflineSkew = 5 * time.Minute

// maxRecentConflicts is how many conflicts OfflineStatus keeps.
const maxRecentConflicts = 100

// Conflict is something an offline admission broke.
type Conflict struct {
	Kind    string    `json:"kind"`
	Booking string    `json:"booking"`
	Gate    string    `json:"gate"`
	Device  string    `json:"device"`
	ScanID  string    `json:"scan_id"`
	At      time.Time `json:"at"`
	// Excess is, for an over-admission, how many this scan admitted
	// beyond the party.
	Excess int `json:"excess,omitempty"`
	// Others are the gates and devices ("gate/device") that also admitted
	// the booking.
	Others  []string `json:"others,omitempty"`
	Message Text     `json:"message"`
}

// OfflineOutcome is what reconciliation made of one offline scan.
type OfflineOutcome struct {
	ScanID    string     `json:"scan_id"`
	Booking   string     `json:"booking,omitempty"`
	Result    string     `json:"result"`
	Reason    string     `json:"reason,omitempty"`
	Admitted  int        `json:"admitted"`
	At        time.Time  `json:"at"`
	Conflicts []Conflict `json:"conflicts,omitempty"`
}

// OfflineReport is the answer to OfflineScans.
type OfflineReport struct {
	Gate       string           `json:"gate"`
	Device     string           `json:"device"`
	Scans      []OfflineOutcome `json:"scans"`
	Recorded   int              `json:"recorded"`
	Admitted   int              `json:"admitted"`
	Duplicates int              `json:"duplicates"`
	Refused    int              `json:"refused"`
	Conflicts  map[string]int   `json:"conflicts"`
}

// GateDevice is a gate device's state as the service sees it.
type GateDevice struct {
	Gate         string    `json:"gate"`
	Device       string    `json:"device"`
	State        string    `json:"state"` // online, offline
	LastSeen     time.Time `json:"last_seen"`
	OfflineSince time.Time `json:"offline_since,omitzero"`
	// Waiting is the offline scans the device last said it had not yet
	// uploaded.
	Waiting int `json:"waiting"`
	// Uploaded counts the offline scans it uploaded that were recorded.
	Uploaded int `json:"uploaded"`
}

// Gate device states.
const (
	DeviceOnline  = "online"
	DeviceOffline = "offline"
)

// OfflineStatus is the control room's picture of offline gates.
type OfflineStatus struct {
	Devices []GateDevice `json:"devices"`
	// Scans is the offline scans recorded, Conflicts the conflicts by
	// kind, since the service started.
	Scans     int            `json:"scans"`
	Conflicts map[string]int `json:"conflicts"`
	// Recent are the latest conflicts, newest first.
	Recent []Conflict `json:"recent"`
}

// offlineState is the live (not persisted) picture of gate devices and
// reconciliation.
type offlineState struct {
	devices   map[string]*GateDevice // gate|device
	scans     int
	conflicts map[string]int
	recent    []Conflict
}

func (s *State) offline() *offlineState {
	if s.off == nil {
		s.off = &offlineState{devices: map[string]*GateDevice{}, conflicts: map[string]int{}}
	}
	return s.off
}

// OfflineStatus returns the gate devices and the conflicts found.
func (s *State) OfflineStatus() OfflineStatus {
	o := s.offline()
	out := OfflineStatus{Devices: []GateDevice{}, Scans: o.scans, Conflicts: map[string]int{}, Recent: []Conflict{}}
	for _, k := range slices.Sorted(maps.Keys(o.devices)) {
		out.Devices = append(out.Devices, *o.devices[k])
	}
	for _, k := range ConflictKinds {
		out.Conflicts[k] = o.conflicts[k]
	}
	for i := len(o.recent) - 1; i >= 0; i-- {
		out.Recent = append(out.Recent, o.recent[i])
	}
	return out
}

// device returns the state of a gate device, creating it online.
func (o *offlineState) device(now time.Time, gate, device string) (*GateDevice, bool) {
	k := gate + "|" + device
	d, ok := o.devices[k]
	if !ok {
		d = &GateDevice{Gate: gate, Device: device, State: DeviceOnline, LastSeen: now}
		o.devices[k] = d
	}
	return d, ok
}

func (s *State) gateSeen(now time.Time, c GateSeen) (Result, []Effect) {
	if _, ok := s.cfg.Gate(c.Gate); !ok || c.Device == "" || c.Waiting < 0 {
		return Result{Err: errorf(CodeInvalid, "device", "a gate device needs a known gate, a device id and waiting ≥ 0")}, nil
	}
	d, _ := s.offline().device(now, c.Gate, c.Device)
	var effects []Effect
	if d.State == DeviceOffline {
		effects = append(effects, Event{Kind: EventGateOnline, At: now, Data: *d})
		d.State, d.OfflineSince = DeviceOnline, time.Time{}
	}
	d.LastSeen, d.Waiting = now, c.Waiting
	return Result{}, effects
}

// offlineTick reports the devices silent for longer than DeviceSilence as
// offline and forgets those silent for a day.
func (s *State) offlineTick(now time.Time) []Effect {
	o := s.offline()
	var effects []Effect
	for _, k := range slices.Sorted(maps.Keys(o.devices)) {
		d := o.devices[k]
		switch silent := now.Sub(d.LastSeen); {
		case silent > 24*time.Hour:
			delete(o.devices, k)
		case silent > DeviceSilence && d.State == DeviceOnline:
			d.State, d.OfflineSince = DeviceOffline, d.LastSeen
			effects = append(effects, Event{Kind: EventGateOffline, At: now, Data: *d})
		}
	}
	return effects
}

func (s *State) offlineScans(now time.Time, c OfflineScans) (Result, []Effect) {
	if _, ok := s.cfg.Gate(c.Gate); !ok {
		return Result{Err: errorf(CodeInvalid, "gate", "unknown gate %q", c.Gate)}, nil
	}
	if c.Device == "" {
		return Result{Err: errorf(CodeInvalid, "device", "device is required: the id of the gate device that made the scans")}, nil
	}
	rep := &OfflineReport{Gate: c.Gate, Device: c.Device, Scans: []OfflineOutcome{}, Conflicts: map[string]int{}}
	for _, k := range ConflictKinds {
		rep.Conflicts[k] = 0
	}
	var effects []Effect
	first := time.Time{}
	for _, sc := range c.Scans {
		out, eff := s.offlineScan(now, c, sc)
		effects = append(effects, eff...)
		switch out.Result {
		case OfflineRecorded:
			rep.Recorded++
			rep.Admitted += out.Admitted
			if len(eff) > 0 && (first.IsZero() || out.At.Before(first)) {
				first = out.At
			}
		case OfflineDuplicate:
			rep.Duplicates++
		default:
			rep.Refused++
		}
		for _, cf := range out.Conflicts {
			rep.Conflicts[cf.Kind]++
		}
		rep.Scans = append(rep.Scans, out)
	}
	// The device is back: it was offline since its first offline scan (or
	// since the service last heard from it), and is online now.
	o := s.offline()
	d, _ := o.device(now, c.Gate, c.Device)
	if d.State == DeviceOnline && !first.IsZero() {
		d.State, d.OfflineSince = DeviceOffline, first
		effects = append(effects, Event{Kind: EventGateOffline, At: first, Data: *d})
	}
	d.Uploaded += countNew(effects)
	if d.State == DeviceOffline {
		effects = append(effects, Event{Kind: EventGateOnline, At: now, Data: *d})
	}
	d.State, d.OfflineSince, d.LastSeen = DeviceOnline, time.Time{}, now
	return Result{Offline: rep}, effects
}

// countNew counts the offline scan records among effects.
func countNew(effects []Effect) int {
	n := 0
	for _, e := range effects {
		if p, ok := e.(PutScan); ok && p.Record.Offline != nil {
			n++
		}
	}
	return n
}

// offlineScan reconciles one offline scan.
func (s *State) offlineScan(now time.Time, c OfflineScans, sc OfflineScan) (OfflineOutcome, []Effect) {
	out := OfflineOutcome{ScanID: sc.ScanID, Booking: sc.Booking, At: sc.At}
	refuse := func(reason string) (OfflineOutcome, []Effect) {
		out.Result, out.Reason = OfflineRefused, reason
		return out, nil
	}
	if sc.ScanID == "" || sc.Count < 1 || sc.Count > s.cfg.Policy.MaxPartySize || sc.At.IsZero() ||
		sc.At.After(now.Add(maxOfflineSkew)) || now.Sub(sc.At) > scanTTL {
		return refuse(ReasonBadRequest)
	}
	key := c.Gate + "|" + c.Device + "|" + sc.ScanID
	if rec, ok := s.scans[key]; ok {
		if rec.Offline != nil {
			return *rec.Offline, nil // a retry: the same answer, no change
		}
		if rec.Result.Admitted > 0 {
			// The gate timed out waiting for an online answer that did
			// come: those people are already counted.
			out.Result, out.Reason = OfflineDuplicate, "counted_online"
			return out, nil
		}
	}
	b, ok := s.bookings.get(sc.Booking)
	if !ok {
		return refuse(ReasonUnknownTicket)
	}
	at := sc.At.In(s.cfg.Location())
	out.At = at
	r, _ := s.cfg.Route(b.Route)
	before := b.Admitted
	s.logAdmission(b, sc.Count, at)
	b.Admitted += sc.Count
	if b.Active() && b.Admitted >= b.PartySize {
		b.Status = StatusCompleted
	}
	b.UpdatedAt = now
	b.Version++
	out.Result, out.Admitted = OfflineRecorded, sc.Count
	conflict := func(kind string, excess int) {
		cf := Conflict{Kind: kind, Booking: b.ID, Gate: c.Gate, Device: c.Device, ScanID: sc.ScanID, At: at, Excess: excess}
		if kind == ConflictOverAdmission {
			cf.Others = s.admittedBy(b.ID, c.Gate+"/"+c.Device)
		}
		cf.Message = conflictMessage(cf, b)
		out.Conflicts = append(out.Conflicts, cf)
	}
	if b.Admitted > b.PartySize {
		conflict(ConflictOverAdmission, b.Admitted-max(before, b.PartySize))
	}
	if b.Status == StatusCancelled {
		conflict(ConflictCancelledAdmitted, 0)
	}
	if s.routeClosed(at, r) {
		conflict(ConflictClosedZoneEntered, 0)
	}
	slot := b.Slot
	rec := ScanRecord{ScanID: key, Gate: c.Gate, Device: c.Device, Booking: b.ID, At: now, Offline: &out,
		Result: ScanResult{Decision: DecisionAdmit, Reason: ReasonOK, Admitted: sc.Count, Remaining: max(b.PartySize-b.Admitted, 0),
			Booking: b.ID, Slot: &slot, Gate: b.Gate}}
	s.scans[key] = &rec
	o := s.offline()
	o.scans++
	effects := []Effect{PutBooking{*b}, PutScan{rec}, Event{Kind: EventAdmission, At: at, Data: Admission{
		Booking: b.ID, Operator: b.Operator, Gate: c.Gate, Route: b.Route, Slot: b.Slot,
		Admitted: sc.Count, Remaining: max(b.PartySize-b.Admitted, 0), Device: c.Device, Offline: true,
	}}}
	for _, cf := range out.Conflicts {
		o.conflicts[cf.Kind]++
		o.recent = append(o.recent, cf)
		if len(o.recent) > maxRecentConflicts {
			o.recent = o.recent[len(o.recent)-maxRecentConflicts:]
		}
		effects = append(effects, Event{Kind: EventScanConflict, At: now, Data: cf})
	}
	return out, effects
}

// admittedBy lists the gates and devices ("gate/device") other than self
// whose recorded scans admitted booking id.
func (s *State) admittedBy(id, self string) []string {
	seen := map[string]bool{}
	for _, rec := range s.scans {
		if rec.Booking != id || rec.Result.Admitted == 0 {
			continue
		}
		if who := rec.Gate + "/" + rec.Device; who != self {
			seen[who] = true
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

func conflictMessage(cf Conflict, b *Booking) Text {
	switch cf.Kind {
	case ConflictOverAdmission:
		others := "another gate"
		if len(cf.Others) > 0 {
			others = fmt.Sprint(cf.Others)
		}
		return Text{
			EN: fmt.Sprintf("%d visitors of %s beyond its party of %d were admitted at %s while offline; also admitted by %s",
				cf.Excess, b.ID, b.PartySize, cf.Gate, others),
			AR: fmt.Sprintf("دخل %s زائراً من %s فوق عدد المجموعة (%d) عند %s أثناء الانقطاع؛ وأدخلهم أيضاً %s",
				strconv.Itoa(cf.Excess), b.ID, b.PartySize, cf.Gate, others),
		}
	case ConflictCancelledAdmitted:
		return Text{
			EN: fmt.Sprintf("cancelled booking %s was admitted at %s while offline", b.ID, cf.Gate),
			AR: fmt.Sprintf("أُدخل الحجز الملغى %s عند %s أثناء الانقطاع", b.ID, cf.Gate)}
	default:
		return Text{
			EN: fmt.Sprintf("booking %s entered a closed zone through %s while offline", b.ID, cf.Gate),
			AR: fmt.Sprintf("دخل الحجز %s منطقة مغلقة عبر %s أثناء الانقطاع", b.ID, cf.Gate)}
	}
}
