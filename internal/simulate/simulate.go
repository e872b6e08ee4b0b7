package simulate

import (
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tafweej/tafweej/api"
	"github.com/tafweej/tafweej/internal/subjects"
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/sensors"
)

// Kinds of simulation events.
const (
	evScan = iota
	evWalkIn
	evMove
	evLose
	evReboot
	evAlert
)

// simEvent is something that happens at a simulated time.
type simEvent struct {
	at     time.Time
	seq    int
	kind   int
	group  *simGroup
	count  int // scan: visitors passing; move: people
	zone   string
	in     bool // move: entering (else leaving)
	sensor string
	n      int // lose: messages lost
	// move: the party moving and the index of its stop
	party *party
	stop  int
}

type eventQueue []*simEvent

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(*simEvent)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

// simGroup is one group of the plan.
type simGroup struct {
	index    int
	operator string // scheduler.WalkInOperator for walk-ins
	route    string
	size     int
	desired  int // minute of the day the group wants to enter
	rng      *rand.Rand
	// behaviour, drawn when planned
	noShow  bool
	offset  time.Duration // arrival relative to the slot
	batches int
	extra   int // people more than booked at the last scan
	// from the service
	booking  *api.Booking
	admitted int
	scans    int // scans sent, retries excluded
	rescans  int
	walks    int // parties admitted
	// heldAt is the first answer "held", firstAdmit the first admission.
	heldAt     time.Time
	firstAdmit time.Time
	heldScans  int
}

// Stats are the figures of the run: bookings, scans, counters, alerts.
type Stats struct {
	Groups        int            `json:"groups"`
	Bookings      map[string]int `json:"bookings"`
	Visitors      int            `json:"visitors_booked"`
	Scans         map[string]int `json:"scans"`
	ScanRetries   int            `json:"scan_retries"`
	RetryMismatch int            `json:"scan_retry_mismatches"`
	ScanTimeouts  int            `json:"scan_timeouts"`
	Admitted      int            `json:"admitted_visitors"`
	NoShows       int            `json:"no_show_groups"`
	CounterMsgs   int            `json:"counter_messages"`
	CounterLost   int            `json:"counter_messages_lost"`
	CounterErrors int            `json:"counter_publish_errors"`
	Reboots       int            `json:"counter_reboots"`
	Alerts        map[string]int `json:"alerts"`
	From          time.Time      `json:"from"`
	To            time.Time      `json:"to"`
	Interrupted   bool           `json:"interrupted,omitempty"`
}

// simCounter is one people counter and its publishing state.
type simCounter struct {
	c       *sensors.Counter
	id      string
	dirty   bool
	last    time.Time // last message, sent or lost
	lostMax int       // messages still to lose
}

type simulator struct {
	f     *Options
	cfg   *scheduler.Config
	ops   API
	opCli map[string]API
	devs  *devices // the NATS devices: gates, counters, the alert source
	out   io.Writer
	errw  io.Writer
	tty   bool
	runID string

	day        time.Time // midnight of the day played
	start, end time.Time
	nowNanos   atomic.Int64 // the service's time, for the counters' "at"
	queue      eventQueue
	seq        int
	groups     []*simGroup
	counters   map[string]*simCounter
	byZone     map[string][]string
	st         Stats
	lastLine   time.Time
	warnedRate bool

	// The truth and the service's picture of it (truth.go, report.go).
	truth    *truth
	parties  []*party
	readings []reading
	nextPoll time.Time
	closed   map[string]bool // zones closed, as GET /v1/occupancy says
	// The flood warning: sent by its own goroutine while the gates go on
	// scanning; its answer comes back on alertDone.
	alertRep   *AlertReport
	alertSent  time.Time // real time
	alertDone  chan alertAnswer
	alertZones map[string]bool // zones the alert closed
	postAlert  []admission     // admissions after the alert was sent
	lag        time.Duration   // the most a move was played after its time
	traceFc    []traceForecast // TAFWEEJ_SIM_TRACE (trace.go)
}

// alertAnswer is the service's answer to the flood warning.
type alertAnswer struct {
	result string
	took   time.Duration
}

func (s *simulator) now() time.Time { return time.Unix(0, s.nowNanos.Load()).In(s.cfg.Location()) }

func (s *simulator) push(e *simEvent) {
	s.seq++
	e.seq = s.seq
	heap.Push(&s.queue, e)
}

// Check fills in the defaults of o (operators and groups by Quick) and
// checks the figures that need neither the configuration nor the service;
// a *UsageError says what is wrong. Run checks again.
func (o *Options) Check() error {
	if o.Speed <= 0 || o.Speed > 10000 {
		return usagef("e.g. --speed 120, the service's --clock-speed", "--speed %v must be above 0 and at most 10000", o.Speed)
	}
	if o.Operators == 0 {
		o.Operators = map[bool]int{true: 3, false: 6}[o.Quick]
	}
	if o.Groups == 0 {
		o.Groups = map[bool]int{true: 36, false: 150}[o.Quick]
	}
	if o.Operators < 1 || o.Operators > 100 {
		return usagef("e.g. --operators 6", "--operators %d must be between 1 and 100", o.Operators)
	}
	if o.Groups < 1 || o.Groups > 5000 {
		return usagef("e.g. --groups 150", "--groups %d must be between 1 and 5000", o.Groups)
	}
	if o.Duration < 0 {
		return usagef("e.g. --duration 3h", "--duration %v must not be negative", o.Duration)
	}
	return o.checkWorld()
}

// Run plays the day against the service behind o.API and o.NATSURL,
// printing progress to errw and the summary (JSON with o.JSON) to out.
// Cancelling ctx ends the play early: the summary says it was
// interrupted and Run returns nil.
func Run(ctx context.Context, o Options, out, errw io.Writer) error {
	if err := o.Check(); err != nil {
		return err
	}
	if o.Config == nil || o.API == nil {
		return errors.New("simulate: Options.Config and Options.API are required")
	}
	f, cfg, c := &o, o.Config, o.API
	s := &simulator{f: f, cfg: cfg, ops: c, opCli: map[string]API{}, out: out, errw: errw,
		tty: simIsTerminal(errw), runID: randomKey()[:8], counters: map[string]*simCounter{}, byZone: map[string][]string{},
		truth: newTruth(), closed: map[string]bool{}}
	s.st.Bookings, s.st.Scans, s.st.Alerts = map[string]int{}, map[string]int{}, map[string]int{}

	var h api.Health
	if err := c.Do(ctx, "GET", "/healthz", nil, &h); err != nil {
		return err
	}
	s.nowNanos.Store(h.Time.UnixNano())
	now := s.now()
	if h.Clock == "wall" && f.Speed != 1 {
		fmt.Fprintf(errw, "warning: the service runs on the wall clock, not at --speed %v; start it with --clock-start and --clock-speed\n", f.Speed)
	}
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, cfg.Location())
	s.day = today
	if f.Date != "" {
		d, err := time.ParseInLocation(time.DateOnly, f.Date, cfg.Location())
		if err != nil {
			return usagef("e.g. --date 2026-12-01", "--date %q is not a date of the form YYYY-MM-DD", f.Date)
		}
		if d.Before(today) {
			return usagef("omit --date to play the service's current day", "--date %s is before the service's day %s", f.Date, today.Format(time.DateOnly))
		}
		s.day = d
	}
	open, lastEntry, closeM, ok := cfg.HoursOn(s.day)
	if !ok {
		return fmt.Errorf("the site is closed on %s: nothing to play\n  hint: pass another --date or start the service on an open day", s.day.Format(time.DateOnly))
	}
	s.start = now
	if s.day.After(now) {
		s.start = s.day.Add(time.Duration(open) * time.Minute)
	}
	switch {
	case f.Duration > 0:
		s.end = s.start.Add(f.Duration)
	case f.Quick:
		s.end = s.start.Add(2 * time.Hour)
	default:
		s.end = s.day.Add(time.Duration(closeM) * time.Minute)
	}
	if !s.end.After(s.start) {
		return fmt.Errorf("the service's time %s is past the site's closing time %s on %s: nothing to play\n  hint: start the service with --clock-start at the morning of a day",
			now.Format("15:04"), scheduler.FormatClock(closeM), s.day.Format(time.DateOnly))
	}
	s.st.From, s.st.To = s.start, s.end

	alertAt, err := s.alertTime(open, closeM)
	if err != nil {
		return err
	}

	// Every gate, counter and the alert source is a device of its own,
	// each with only its own permissions (devices.go).
	s.devs = &devices{}
	defer s.devs.close()
	if err := s.devs.connect(ctx, *f, cfg); err != nil {
		return err
	}

	if err := s.makeOperators(ctx); err != nil {
		return err
	}
	if err := s.makeCounters(); err != nil {
		return err
	}
	s.plan(open, lastEntry, alertAt)
	fmt.Fprintf(errw, "simulating %s %s from %s to %s: %d groups, %d operators, seed %d, speed ×%v\n",
		cfg.Site, s.day.Format(time.DateOnly), s.start.Format("15:04"), s.end.Format("15:04"), f.Groups, f.Operators, f.Seed, f.Speed)
	if err := s.bookAhead(ctx); err != nil {
		return err
	}
	runErr := s.play(ctx)
	if s.tty {
		fmt.Fprintln(errw)
	}
	if errors.Is(runErr, context.Canceled) {
		s.st.Interrupted = true
		runErr = nil
	}
	if err := s.summary(f.JSON); err != nil {
		return err
	}
	return runErr
}

func simIsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// alertTime is when the flood warning comes; zero for none.
func (s *simulator) alertTime(open, closeM int) (time.Time, error) {
	switch {
	case s.f.AlertAt == "none":
		return time.Time{}, nil
	case s.f.AlertAt != "":
		m, err := scheduler.ParseClock(s.f.AlertAt)
		if err != nil {
			return time.Time{}, usagef("e.g. --alert-at 14:30, or none", "--alert-at %q: %v", s.f.AlertAt, err)
		}
		return s.day.Add(time.Duration(m) * time.Minute), nil
	case s.f.Quick:
		return s.start.Add(s.end.Sub(s.start) * 4 / 5), nil
	}
	t := s.day.Add(14*time.Hour + 30*time.Minute)
	if !t.Before(s.day.Add(time.Duration(closeM)*time.Minute)) || t.Before(s.start) {
		t = s.start.Add(s.end.Sub(s.start) * 3 / 4)
	}
	return t, nil
}

// makeOperators creates one operator key per operator with the ops key.
func (s *simulator) makeOperators(ctx context.Context) error {
	for i := 1; i <= s.f.Operators; i++ {
		op := fmt.Sprintf("sim-operator-%d", i)
		var k api.KeyCreated
		body := api.KeyRequest{Role: "operator", Operator: op, Name: "tafweej simulate " + s.runID}
		if err := s.ops.Do(ctx, "POST", "/v1/keys", body, &k); err != nil {
			return fmt.Errorf("create a key for operator %q: %w", op, err)
		}
		s.opCli[op] = s.ops.WithKey(k.Key)
	}
	return nil
}

func (s *simulator) makeCounters() error {
	for _, sc := range s.cfg.Sensors {
		js, err := jetstream.New(s.devs.sensors[sc.ID])
		if err != nil {
			return err
		}
		c := sensors.NewCounter(js, s.cfg.Site, sc.ID, sc.Zone, "sim-"+s.runID+"-1")
		c.Now = s.now
		s.counters[sc.ID] = &simCounter{c: c, id: sc.ID}
		s.byZone[sc.Zone] = append(s.byZone[sc.Zone], sc.ID)
	}
	return nil
}

// routeWeights: most groups walk the main trail.
var routeWeights = []struct {
	route string
	w     float64
}{{"main", 0.55}, {"monastery", 0.25}, {"high-place", 0.12}, {"back-trail", 0.08}}

// plan draws the day's groups and the counters' mishaps from the seed.
func (s *simulator) plan(open, lastEntry int, alertAt time.Time) {
	rng := rand.New(rand.NewPCG(s.f.Seed, 0x7afeef))
	first := max(open, simMinute(s.start, s.day))
	if first%s.cfg.SlotMinutes != 0 {
		first += s.cfg.SlotMinutes - first%s.cfg.SlotMinutes
	}
	if s.day.After(s.start) {
		first = open
	}
	last := lastEntry
	if s.f.Quick || s.f.Duration > 0 {
		last = min(last, simMinute(s.end, s.day)-30)
	}
	if last <= first {
		last = first + s.cfg.SlotMinutes
	}
	routes := []string{}
	weights := []float64{}
	for _, rw := range routeWeights {
		if _, ok := s.cfg.Route(rw.route); ok {
			routes, weights = append(routes, rw.route), append(weights, rw.w)
		}
	}
	if len(routes) == 0 {
		for _, r := range s.cfg.Routes {
			if !r.Evening {
				routes, weights = append(routes, r.ID), append(weights, 1)
			}
		}
	}
	ops := make([]string, 0, len(s.opCli))
	for op := range s.opCli {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	for i := range s.f.Groups {
		gr := &simGroup{index: i, rng: rand.New(rand.NewPCG(s.f.Seed, uint64(i)+1))}
		gr.route = simPick(rng, routes, weights)
		// Entry wanted: in a quick run spread over the first hour; in a
		// day 70% in 08:00-11:00, peaking 09:00-10:00 with the coaches.
		var m int
		switch {
		case s.f.Quick:
			m = first + rng.IntN(max(1, min(60, last-first)))
		case rng.Float64() < 0.7:
			m = 8*60 + int(simTriangular(rng)*180)
		default:
			m = first + rng.IntN(max(1, last-first))
		}
		gr.desired = min(max(m, first), last)
		if rng.Float64() < 0.15 {
			gr.operator = scheduler.WalkInOperator
			gr.size = 1 + rng.IntN(12)
		} else {
			gr.operator = ops[rng.IntN(len(ops))]
			gr.size = 10 + rng.IntN(51)
		}
		if gr.route == "back-trail" {
			gr.size = min(gr.size, 30) // the Little Petra waves are small
		}
		// 5% never come, 7% come too early, the late share late within
		// their grace, 8% too late; the rest on time.
		u, late := rng.Float64(), s.f.lateShare()
		switch {
		case u < 0.05:
			gr.noShow = true
		case u < 0.12:
			gr.offset = -time.Duration(20+rng.IntN(11)) * time.Minute // too early
		case u < 0.92-late:
			gr.offset = time.Duration(-10+rng.IntN(25)) * time.Minute
		case u < 0.92:
			gr.offset = time.Duration(15+rng.IntN(30)) * time.Minute // late, within grace
		default:
			gr.offset = time.Duration(50+rng.IntN(31)) * time.Minute // very late
		}
		gr.batches = 1
		if rng.Float64() < 0.15 {
			gr.batches = 2 + rng.IntN(2)
		}
		if rng.Float64() < 0.05 {
			gr.extra = 1 + rng.IntN(3) // a partial admission
		}
		s.groups = append(s.groups, gr)
		if gr.operator == scheduler.WalkInOperator {
			// Walk-ins buy their tickets when they arrive.
			at := simLater(s.day.Add(time.Duration(gr.desired)*time.Minute+time.Duration(rng.IntN(15))*time.Minute), s.start)
			s.push(&simEvent{at: at, kind: evWalkIn, group: gr})
		}
	}
	s.st.Groups = len(s.groups)
	// One burst of lost messages and one reboot, on busy counters.
	span := s.end.Sub(s.start)
	mid := func(frac float64, fixed time.Duration) time.Time {
		if !s.f.Quick {
			if t := s.day.Add(fixed); t.After(s.start) && t.Before(s.end) {
				return t
			}
		}
		return s.start.Add(time.Duration(float64(span) * frac))
	}
	if id := s.sensorOf("siq", rng); id != "" && s.f.lostBurst() > 0 {
		s.push(&simEvent{at: mid(0.35, 10*time.Hour+30*time.Minute), kind: evLose, sensor: id, n: s.f.lostBurst()})
	}
	if id := s.sensorOf("treasury", rng); id != "" && !s.f.NoReboot {
		s.push(&simEvent{at: mid(0.5, 12*time.Hour), kind: evReboot, sensor: id})
	}
	if !alertAt.IsZero() && alertAt.Before(s.end) {
		s.push(&simEvent{at: simLater(alertAt, s.start), kind: evAlert})
	}
}

// sensorOf picks a counter of zone, or of any zone when it has none.
func (s *simulator) sensorOf(zone string, rng *rand.Rand) string {
	ids := s.byZone[zone]
	if len(ids) == 0 {
		for _, sc := range s.cfg.Sensors {
			ids = append(ids, sc.ID)
		}
	}
	if len(ids) == 0 {
		return ""
	}
	return ids[rng.IntN(len(ids))]
}

// simLater is the later of two times.
func simLater(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func simMinute(t, day time.Time) int { return int(t.Sub(day) / time.Minute) }

// triangular is in [0, 1) with its mode at 0.5.
func simTriangular(rng *rand.Rand) float64 { return (rng.Float64() + rng.Float64()) / 2 }

func simPick(rng *rand.Rand, items []string, weights []float64) string {
	var sum float64
	for _, w := range weights {
		sum += w
	}
	u := rng.Float64() * sum
	for i, w := range weights {
		if u < w {
			return items[i]
		}
		u -= w
	}
	return items[len(items)-1]
}

// window is the group's acceptable entry window around m, within the day.
func (s *simulator) window(from, to int) api.Window {
	from = max(from, 0)
	to = min(max(to, from+s.cfg.SlotMinutes), 24*60)
	w := api.Window{From: scheduler.FormatClock(from), To: scheduler.FormatClock(to)}
	if to == 24*60 {
		w.To = "24:00"
	}
	return w
}

// bookAhead books the operators' groups before the day's play.
func (s *simulator) bookAhead(ctx context.Context) error {
	for _, gr := range s.groups {
		if gr.operator == scheduler.WalkInOperator {
			continue
		}
		if err := s.book(ctx, gr, s.window(gr.desired-15, gr.desired+45)); err != nil {
			return err
		}
		s.progress(false)
	}
	return nil
}

// book books a group; a refusal with alternatives is tried once more at
// the nearest one. Only failures to talk to the service are errors.
func (s *simulator) book(ctx context.Context, gr *simGroup, w api.Window) error {
	c, path := s.opCli[gr.operator], "/v1/bookings"
	if gr.operator == scheduler.WalkInOperator {
		c = s.ops
	}
	req := api.BookingRequest{Date: s.day.Format(time.DateOnly), Route: gr.route, PartySize: gr.size, Window: w,
		Language: []string{"en", "ar", "fr", "de", "it", "es", "zh"}[gr.index%7], Reference: fmt.Sprintf("sim-%d", gr.index)}
	for attempt := 0; attempt < 2; attempt++ {
		var b api.Booking
		err := s.doRetry(ctx, c, "POST", path, req, &b, "Idempotency-Key", fmt.Sprintf("sim-%s-%d-%d", s.runID, gr.index, attempt))
		var ae APIError
		switch {
		case err == nil:
			gr.booking = &b
			key := "created"
			if gr.operator == scheduler.WalkInOperator {
				key = "created for walk-ins"
			}
			if attempt > 0 {
				key = "created at an alternative"
			}
			s.st.Bookings[key]++
			s.st.Visitors += gr.size
			s.scheduleArrival(gr)
			return nil
		case errors.As(err, &ae) && ae.HTTPStatus() < 500:
			if attempt == 0 && len(ae.AlternativeSlots()) > 0 {
				a := ae.AlternativeSlots()[0].In(s.cfg.Location())
				m := a.Hour()*60 + a.Minute()
				req.Window = s.window(m, m+s.cfg.SlotMinutes)
				continue
			}
			s.st.Bookings["refused: "+ae.ErrorCode()]++
			return nil
		default:
			return fmt.Errorf("book group %d: %w", gr.index, err)
		}
	}
	return nil
}

// doRetry is API.Do retrying rate-limited requests.
func (s *simulator) doRetry(ctx context.Context, c API, method, path string, body, out any, hdr ...string) error {
	for i := 0; ; i++ {
		err := c.Do(ctx, method, path, body, out, hdr...)
		var ae APIError
		if i < 50 && errors.As(err, &ae) && (ae.HTTPStatus() == 429 || ae.ErrorCode() == "idempotency_key_in_flight") {
			if err := simSleep(ctx, 100*time.Millisecond); err != nil {
				return err
			}
			continue
		}
		return err
	}
}

func simSleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// scheduleArrival puts the group's first scan on the queue.
func (s *simulator) scheduleArrival(gr *simGroup) {
	if gr.noShow {
		s.st.NoShows++
		return
	}
	slot := gr.booking.Slot
	at := slot.Add(gr.offset)
	if gr.operator == scheduler.WalkInOperator {
		at = simLater(slot.Add(time.Duration(gr.rng.IntN(10))*time.Minute), s.now())
	}
	s.push(&simEvent{at: at, kind: evScan, group: gr, count: s.batch(gr)})
}

// batch is how many of the group pass with the next scan.
func (s *simulator) batch(gr *simGroup) int {
	left := gr.size - gr.admitted
	if gr.batches <= 1 || left <= 1 {
		return left + gr.extra
	}
	n := max(1, left/gr.batches)
	gr.batches--
	return n
}

// play runs the event loop as the service's clock advances.
func (s *simulator) play(ctx context.Context) error {
	realStart, simStart := time.Now(), s.now()
	for {
		var h api.Health
		if err := s.ops.Do(ctx, "GET", "/healthz", nil, &h); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		if h.Time.UnixNano() > s.nowNanos.Load() {
			s.nowNanos.Store(h.Time.UnixNano())
		}
		now := s.now()
		s.checkRate(realStart, simStart, now)
		s.alertAnswered(ctx, false)
		if err := s.poll(ctx, now, false); err != nil { // closures first
			return err
		}
		for s.queue.Len() > 0 && !s.queue[0].at.After(now) && now.Before(s.end) {
			e := heap.Pop(&s.queue).(*simEvent)
			if err := s.handle(ctx, e); err != nil {
				return err
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
		s.publishCounters(ctx, now)
		// Read the service's picture only now: the moves due by now are in
		// the truth and the counters have sent them. Read before them, the
		// report charged the estimate with every move of the turn
		// (TestAnExactEstimateIsReportedExact; docs/closed-loop.md, round
		// three).
		if err := s.poll(ctx, now, true); err != nil {
			return err
		}
		s.progress(false)
		if !now.Before(s.end) {
			s.publishCounters(ctx, now.Add(time.Hour)) // the last totals
			s.alertAnswered(ctx, true)
			s.progress(true)
			return nil
		}
		wait := 250 * time.Millisecond
		if d := time.Duration(float64(s.nextPoll.Sub(now)) / s.f.Speed); d < wait {
			wait = max(d, 10*time.Millisecond)
		}
		if s.queue.Len() > 0 {
			if d := time.Duration(float64(s.queue[0].at.Sub(now)) / s.f.Speed); d < wait {
				wait = max(d, 10*time.Millisecond)
			}
		}
		if err := simSleep(ctx, wait); err != nil {
			return err
		}
	}
}

// checkRate warns once when the service's clock does not run at --speed.
func (s *simulator) checkRate(realStart, simStart, now time.Time) {
	el := time.Since(realStart)
	if s.warnedRate || el < 3*time.Second {
		return
	}
	rate := float64(now.Sub(simStart)) / float64(el)
	if rate < s.f.Speed*0.75 || rate > s.f.Speed*1.33 {
		s.warnedRate = true
		s.clearLine()
		fmt.Fprintf(s.errw, "warning: the service's clock runs at ×%.0f, not at --speed %v; pass the service's --clock-speed\n", rate, s.f.Speed)
	}
}

func (s *simulator) handle(ctx context.Context, e *simEvent) error {
	switch e.kind {
	case evWalkIn:
		m := simMinute(s.now(), s.day)
		m -= m % s.cfg.SlotMinutes
		return s.book(ctx, e.group, s.window(m, m+60))
	case evScan:
		return s.scan(ctx, e)
	case evMove:
		if !s.move(e) {
			return nil
		}
		ids := s.byZone[e.zone]
		if len(ids) == 0 {
			return nil
		}
		// Each person passes one of the zone's counters; now and then
		// one is missed or counted twice.
		for i := 0; i < e.count; {
			rng := e.group.rng
			sc := s.counters[ids[rng.IntN(len(ids))]]
			n := 1 + rng.IntN(e.count-i)
			i += n
			switch r, noise := rng.Float64(), s.f.counterNoise(); {
			case r < noise/2:
				n--
			case r < noise:
				n++
			}
			if e.in {
				sc.c.Add(n, 0)
			} else {
				sc.c.Add(0, n)
			}
			sc.dirty = true
		}
	case evLose:
		if sc := s.counters[e.sensor]; sc != nil {
			sc.lostMax = e.n
		}
	case evReboot:
		if sc := s.counters[e.sensor]; sc != nil {
			// Its last totals go out, then it restarts from zero.
			if err := sc.c.Publish(ctx); err == nil {
				s.st.CounterMsgs++
			} else {
				s.st.CounterErrors++
			}
			sc.c.Reboot("sim-" + s.runID + "-2")
			sc.dirty, sc.last = true, s.now()
			s.st.Reboots++
		}
	case evAlert:
		s.sendAlert(ctx)
	}
	return nil
}

// scan sends one scan over NATS request/reply and plays the answer.
func (s *simulator) scan(ctx context.Context, e *simEvent) error {
	gr := e.group
	b := gr.booking
	gr.scans++
	req := scheduler.ScanRequest{Ticket: b.Ticket, Count: e.count, ScanID: fmt.Sprintf("sim-%s-%d-%d", s.runID, gr.index, gr.scans),
		Device: "sim-" + b.Gate + "-" + strconv.Itoa(gr.index%4+1), At: s.now().Format(time.RFC3339)}
	data, _ := json.Marshal(req)
	subject := subjects.For(s.cfg.Site).GateScan(b.Gate)
	res, raw, err := s.request(ctx, subject, data)
	if err != nil {
		return err
	}
	if gr.rng.Float64() < 0.1 {
		// The device missed the reply and sends the same scan again: the
		// answer must be the same, and nobody is admitted twice.
		s.st.ScanRetries++
		_, raw2, err := s.request(ctx, subject, data)
		if err != nil {
			return err
		}
		if string(raw2) != string(raw) {
			s.st.RetryMismatch++
		}
	}
	s.st.Scans[res.Decision+" / "+res.Reason]++
	now := s.now()
	s.scanned(gr, res, now)
	if res.Admitted > 0 {
		gr.admitted += res.Admitted
		s.st.Admitted += res.Admitted
		s.walk(gr, res.Admitted, now)
		if left := gr.size - gr.admitted; left > 0 && res.Remaining > 0 {
			s.push(&simEvent{at: now.Add(time.Duration(2+gr.rng.IntN(6)) * time.Minute), kind: evScan, group: gr, count: s.batch(gr)})
		}
		return nil
	}
	if gr.rescans >= 3 {
		return nil
	}
	gr.rescans++
	var again time.Time
	switch res.Reason {
	case scheduler.ReasonTooEarly, scheduler.ReasonHeld:
		again = now.Add(15 * time.Minute)
		if res.RetryAt != nil {
			again = res.RetryAt.Add(time.Duration(gr.rng.IntN(5)) * time.Minute)
		}
	case scheduler.ReasonRebooked:
		if res.Slot != nil {
			b.Slot = *res.Slot
			again = res.Slot.Add(time.Duration(gr.rng.IntN(10)) * time.Minute)
		}
	}
	if !again.IsZero() {
		s.push(&simEvent{at: simLater(again, now), kind: evScan, group: gr, count: e.count})
	}
	return nil
}

// request sends a NATS request and retries once on a timeout, as a gate
// device does (with the same scan_id).
func (s *simulator) request(ctx context.Context, subject string, data []byte) (scheduler.ScanResult, []byte, error) {
	var res scheduler.ScanResult
	for attempt := 0; ; attempt++ {
		rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		msg, err := s.devs.gateFor(s.cfg.Site, subject).RequestWithContext(rctx, subject, data)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return res, nil, ctx.Err()
			}
			s.st.ScanTimeouts++
			if attempt < 2 {
				continue
			}
			return res, nil, fmt.Errorf("no answer to a scan on %s: %w\n  hint: is the service connected to --nats %s?", subject, err, s.f.NATSURL)
		}
		if err := json.Unmarshal(msg.Data, &res); err != nil {
			return res, nil, fmt.Errorf("decode the scan reply on %s: %w", subject, err)
		}
		return res, msg.Data, nil
	}
}

// walk puts n admitted visitors on the group's route as a party: they
// enter and leave each zone in turn, staying the dwell factor times the
// configured time with spread (truth.go). The walk is drawn from the seed,
// the group and its admission, not from the service's answers.
func (s *simulator) walk(gr *simGroup, n int, at time.Time) {
	r, ok := s.cfg.Route(gr.route)
	if !ok {
		return
	}
	gr.walks++
	rng := rand.New(rand.NewPCG(s.f.Seed^0x5eed, uint64(gr.index)<<8|uint64(gr.walks)))
	p := &party{gr: gr, n: n, stops: planWalk(r, n, at, s.f.dwellFactor(), rng)}
	s.parties = append(s.parties, p)
	for i, st := range p.stops {
		s.push(&simEvent{at: st.in, kind: evMove, group: gr, zone: st.zone, in: true, count: n, party: p, stop: i})
		s.push(&simEvent{at: st.out, kind: evMove, group: gr, zone: st.zone, count: n, party: p, stop: i})
	}
}

// publishCounters sends the totals of the counters due: each counter sends
// at most once a simulated minute when it counted someone, and at least
// every five minutes.
func (s *simulator) publishCounters(ctx context.Context, now time.Time) {
	var due []*simCounter
	for _, id := range slices.Sorted(maps.Keys(s.counters)) {
		sc := s.counters[id]
		if now.Sub(sc.last) < time.Minute || (!sc.dirty && now.Sub(sc.last) < 5*time.Minute) {
			continue
		}
		sc.last, sc.dirty = now, false
		if sc.lostMax > 0 {
			sc.c.Lose()
			sc.lostMax--
			s.st.CounterLost++
			continue
		}
		due = append(due, sc)
	}
	var wg sync.WaitGroup
	var sent, failed atomic.Int64
	for _, sc := range due {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			if err := sc.c.Publish(pctx); err != nil {
				failed.Add(1)
				return
			}
			sent.Add(1)
		}()
	}
	wg.Wait()
	s.st.CounterMsgs += int(sent.Load())
	s.st.CounterErrors += int(failed.Load())
}

func (s *simulator) clearLine() {
	if s.tty {
		fmt.Fprint(s.errw, "\r\033[K")
	}
}

// progress shows one updating line on a terminal, a line every few
// seconds otherwise.
func (s *simulator) progress(final bool) {
	if !final && time.Since(s.lastLine) < map[bool]time.Duration{true: 200 * time.Millisecond, false: 5 * time.Second}[s.tty] {
		return
	}
	s.lastLine = time.Now()
	var admit, partial, reject int
	for k, n := range s.st.Scans {
		switch {
		case strings.HasPrefix(k, scheduler.DecisionAdmit):
			admit += n
		case strings.HasPrefix(k, scheduler.DecisionPartial):
			partial += n
		default:
			reject += n
		}
	}
	booked := 0
	for k, n := range s.st.Bookings {
		if strings.HasPrefix(k, "created") {
			booked += n
		}
	}
	done := 0.0
	if span := s.end.Sub(s.start); span > 0 {
		done = min(1, max(0, float64(s.now().Sub(s.start))/float64(span)))
	}
	line := fmt.Sprintf("%s [%-20s] %3.0f%%  booked %d/%d  scans: admit %d, partial %d, reject %d  inside %d  counter msgs %d",
		s.now().Format("15:04"), strings.Repeat("=", int(done*20)), done*100, booked, s.st.Groups, admit, partial, reject, s.st.Admitted, s.st.CounterMsgs)
	if s.tty {
		fmt.Fprint(s.errw, "\r\033[K"+line)
	} else {
		fmt.Fprintln(s.errw, line)
	}
}

// summary prints the figures of the run.
func (s *simulator) summary(asJSON bool) error {
	r := s.buildReport()
	s.writeTrace()
	if asJSON {
		return printJSON(s.out, r)
	}
	w := s.out
	title := fmt.Sprintf("Simulated %s %s, %s to %s", s.cfg.Site, s.day.Format(time.DateOnly), s.st.From.Format("15:04"), s.st.To.Format("15:04"))
	if s.st.Interrupted {
		title += " (interrupted)"
	}
	fmt.Fprintln(w, title)
	fmt.Fprintln(w)
	rows := func(m map[string]int) [][]string {
		var out [][]string
		for _, k := range slices.Sorted(maps.Keys(m)) {
			out = append(out, []string{k, strconv.Itoa(m[k])})
		}
		return out
	}
	table(w, "BOOKINGS\tGROUPS", append(rows(s.st.Bookings),
		[]string{"visitors booked", strconv.Itoa(s.st.Visitors)}, []string{"groups that never came", strconv.Itoa(s.st.NoShows)}))
	fmt.Fprintln(w)
	table(w, "SCANS (DECISION / REASON)\tSCANS", append(rows(s.st.Scans),
		[]string{"retries with the same scan_id", strconv.Itoa(s.st.ScanRetries)},
		[]string{"retries answered differently", strconv.Itoa(s.st.RetryMismatch)},
		[]string{"requests timed out", strconv.Itoa(s.st.ScanTimeouts)}))
	fmt.Fprintln(w)
	table(w, "VISITORS AND COUNTERS\tCOUNT", [][]string{
		{"admitted visitors", strconv.Itoa(s.st.Admitted)},
		{"counter messages published", strconv.Itoa(s.st.CounterMsgs)},
		{"counter messages lost", strconv.Itoa(s.st.CounterLost)},
		{"counter publish errors", strconv.Itoa(s.st.CounterErrors)},
		{"counter reboots", strconv.Itoa(s.st.Reboots)},
	})
	fmt.Fprintln(w)
	alerts := rows(s.st.Alerts)
	if len(alerts) == 0 {
		alerts = [][]string{{"none", "0"}}
	}
	table(w, "ALERTS\tCOUNT", alerts)
	fmt.Fprintln(w)
	printZones(w, r)
	return nil
}
