package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tafweej/tafweej/engine"
	"github.com/tafweej/tafweej/internal/service"
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
	"github.com/tafweej/tafweej/tickets"
)

// Options are what `tafweej bench` measures.
type Options struct {
	// Config is the site configuration (the Petra one: the bench books its
	// main trail and needs at least one counter); ConfigPath is its file,
	// for messages.
	Config     *scheduler.Config
	ConfigPath string
	// Dir holds the temporary data; empty means the system's temporary
	// directory.
	Dir string
	// Quick: small sizes (SizesFor(true)), one repetition.
	Quick bool
	// Reps is the repetitions of each throughput figure; Quick uses 1.
	Reps int
	// CBCSeconds is CBC's time limit per model for the planner's quality;
	// 0 skips it.
	CBCSeconds int
	// Sizes, when set, replaces SizesFor(Quick) (tests measure less).
	Sizes *Sizes
	// Binary is the tafweej binary: when set, the replicated site's rows
	// (cluster.go) run two 'Binary serve --replicas 3' processes; empty
	// skips them.
	Binary string
	// Pipeline is the replicated instances' --pipeline (zero: their
	// default).
	Pipeline int
}

// Sizes are the number of operations of each measurement.
type Sizes struct {
	Counters       int   `json:"counters"`        // counter messages per repetition
	Scans          []int `json:"scans"`           // scans per repetition at 1, 10, 100 gates
	BookingsSerial int   `json:"bookings_serial"` // HTTP bookings at concurrency 1
	BookingsPar    int   `json:"bookings_par"`    // HTTP bookings at concurrency 64
	Stored         int   `json:"stored"`          // bookings stored for the recovery
	Hajj           bool  `json:"hajj"`            // plan the Hajj-sized day
	// HajjQuality compares the Hajj-sized day's plan with CBC too.
	HajjQuality bool `json:"hajj_quality"`
	// CBCSeconds is CBC's time limit per model (CPU seconds; 0: not run).
	CBCSeconds int `json:"cbc_seconds"`
	// PlanIterations bounds the planner's local search
	// (scheduler.PlanOptions.Iterations); 0, as in every run of the
	// command, means the planner's default, as PlanDay runs it.
	PlanIterations int `json:"plan_iterations,omitempty"`
	// ClusterBookings is the bookings per repetition on the replicated
	// site, and the raw R3 publishes beside them (cluster.go).
	ClusterBookings int `json:"cluster_bookings,omitempty"`
}

func SizesFor(quick bool) Sizes {
	if quick {
		return Sizes{Counters: 1000, Scans: []int{100, 300, 600}, BookingsSerial: 100, BookingsPar: 600,
			Stored: 50_000, Hajj: false, HajjQuality: false, ClusterBookings: 600}
	}
	return Sizes{Counters: 5000, Scans: []int{500, 900, 900}, BookingsSerial: 500, BookingsPar: 5000,
		Stored: 1_000_000, Hajj: true, HajjQuality: true, ClusterBookings: 5000}
}

// Figure is one measured figure.
type Figure struct {
	What  string  `json:"what"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
	N     int     `json:"n"`    // operations per repetition
	Reps  int     `json:"reps"` // repetitions; Value is their median
	P50Ms float64 `json:"p50_ms,omitempty"`
	P99Ms float64 `json:"p99_ms,omitempty"`
	// Concurrency is how many clients, devices or writers ran in parallel
	// (every limit states it).
	Concurrency int `json:"concurrency,omitempty"`
	// Durable: every operation of the figure was synced to disk before it
	// was answered (the durable scan limit).
	Durable bool `json:"durable,omitempty"`
}

// Row is a line of the report: a figure of Tafweej and, where there
// is one, the limit it is compared with, measured in the same run.
type Row struct {
	Name    string             `json:"name"`
	Tafweej Figure             `json:"tafweej"`
	Raw     *Figure            `json:"raw,omitempty"`
	RawBare *Figure            `json:"raw_bare,omitempty"` // gate scans: bare NATS request/reply, no write (Raw is the durable limit)
	Ratio   float64            `json:"ratio,omitempty"`    // Tafweej.Value / Raw.Value
	Extra   map[string]float64 `json:"extra,omitempty"`
	Note    string             `json:"note,omitempty"`
}

// Report is the output of tafweej bench --json.
type Report struct {
	Command   string    `json:"command"`
	Quick     bool      `json:"quick"`
	GoVersion string    `json:"go_version"`
	CPUs      int       `json:"cpus"`
	Sizes     Sizes     `json:"sizes"`
	Started   time.Time `json:"started"`
	Seconds   float64   `json:"seconds"`
	Rows      []Row     `json:"rows"`
	// Cluster: the replicated site's rows were measured (cluster.go).
	Cluster bool `json:"cluster,omitempty"`
}

// benchClock is the wall clock shifted to a fixed day, which the benchmark
// moves forward between phases (to book a morning, then scan in it).
type benchClock struct {
	offset atomic.Int64 // nanoseconds added to time.Now
	loc    *time.Location
}

func newBenchClock(start time.Time) *benchClock {
	c := &benchClock{loc: start.Location()}
	c.Set(start)
	return c
}

func (c *benchClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())).In(c.loc) }

// Set moves the clock to t.
func (c *benchClock) Set(t time.Time) { c.offset.Store(int64(time.Until(t))) }

func (c *benchClock) NewTicker(d time.Duration) engine.Ticker { return engine.WallClock{}.NewTicker(d) }
func (c *benchClock) Name() string                            { return "bench (wall clock speed, moved between phases)" }

// benchEnv is the running service and a connection of the devices.
type benchEnv struct {
	dir    string
	cfg    *scheduler.Config
	clock  *benchClock
	svc    *service.Service
	nc     *nats.Conn  // the service's connection
	client *nats.Conn  // the devices' connection, as the service's user
	trust  *benchTrust // non-nil: devices connect as registered devices (trust.go)
	st     *store.Badger
	signer *tickets.Signer
	eng    *engine.Engine
	url    string
	stop   func()
}

// benchBase is the first day the benchmark books on: a winter Tuesday.
func benchBase(loc *time.Location) time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, loc) }

// startBenchEnv starts the service as `tafweej serve` assembles it
// (internal/service) on loopback, with its data in dir, on a bench clock,
// without the API's rate limit, and connects the devices; tune, if any,
// changes the service's options.
func startBenchEnv(ctx context.Context, cfg *scheduler.Config, dir string, tune ...func(*service.Options)) (*benchEnv, error) {
	e := &benchEnv{dir: dir, cfg: cfg}
	e.clock = newBenchClock(benchBase(cfg.Location()).Add(7 * time.Hour))
	opts := service.Options{Config: cfg, Data: dir, HTTPAddr: "127.0.0.1:0", NATSPort: -1,
		Clock: e.clock, RatePerSecond: -1}
	for _, f := range tune {
		f(&opts)
	}
	svc, err := service.New(ctx, opts)
	if err != nil {
		return nil, err
	}
	e.svc, e.nc, e.st, e.signer, e.eng, e.url = svc, svc.Conn(), svc.Store(), svc.Signer(), svc.Engine(), svc.URL()
	rctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(rctx) }()
	e.stop = func() { cancel(); <-done }
	// The devices' connection of the rows without per-device trust: it
	// connects as the service, which may publish anywhere.
	if e.client, err = svc.ServiceConn("tafweej-bench-devices"); err != nil {
		e.stop()
		return nil, err
	}
	stopSvc := e.stop
	e.stop = func() { e.client.Close(); stopSvc() }
	return e, nil
}

// Run measures the service and the machine's limits as Options say,
// writing progress lines to progress, and returns the report.
func Run(ctx context.Context, f Options, progress io.Writer) (*Report, error) {
	cfg := f.Config
	if cfg == nil {
		return nil, errors.New("bench: Options.Config is required")
	}
	if len(cfg.Sensors) == 0 {
		return nil, fmt.Errorf("bench: configuration %q has no sensors: the counter figure needs at least one", f.ConfigPath)
	}
	if _, ok := cfg.Route("main"); !ok {
		return nil, fmt.Errorf("bench: configuration %q has no route %q: the benchmark books the Petra configuration's main trail", f.ConfigPath, "main")
	}
	reps := f.Reps
	if f.Quick {
		reps = 1
	}
	rep := &Report{Command: "tafweej bench", Quick: f.Quick, GoVersion: runtime.Version(), CPUs: runtime.NumCPU(),
		Sizes: SizesFor(f.Quick), Started: time.Now()}
	if f.Sizes != nil {
		rep.Sizes = *f.Sizes
	}
	rep.Sizes.CBCSeconds = f.CBCSeconds
	if f.Quick {
		rep.Command += " --quick"
	}
	sz := rep.Sizes
	logf := func(format string, args ...any) {
		fmt.Fprintf(progress, "bench %6.1fs  "+format+"\n", append([]any{time.Since(rep.Started).Seconds()}, args...)...)
	}
	dir, err := os.MkdirTemp(f.Dir, "tafweej-bench-")
	if err != nil {
		return nil, fmt.Errorf("bench: temporary directory: %w", err)
	}
	defer os.RemoveAll(dir)

	logf("starting NATS (JetStream, sync always), Badger, the owner loop and the HTTP API in %s", dir)
	env, err := startBenchEnv(ctx, cfg, dir)
	if err != nil {
		return nil, err
	}
	stopped := false
	defer func() {
		if !stopped {
			env.stop()
		}
	}()

	row, err := benchCounters(ctx, env, sz.Counters, reps, logf)
	if err != nil {
		return nil, err
	}
	rep.Rows = append(rep.Rows, row)

	for i, gates := range []int{1, 10, 100} {
		row, err := benchScans(ctx, env, gates, sz.Scans[i], reps, i, logf)
		if err != nil {
			return nil, err
		}
		rep.Rows = append(rep.Rows, row)
	}
	trusted, err := benchTrusted(ctx, env, sz, reps, logf)
	if err != nil {
		return nil, err
	}
	rep.Rows = append(rep.Rows, trusted...)

	rows, err := benchBookings(ctx, env, sz, reps, logf)
	if err != nil {
		return nil, err
	}
	rep.Rows = append(rep.Rows, rows...)
	env.stop()
	stopped = true

	row, err = benchRecovery(cfg, dir, sz.Stored, logf)
	if err != nil {
		return nil, err
	}
	rep.Rows = append(rep.Rows, row)

	rows, err = benchReplan(ctx, cfg, sz, dir, logf)
	if err != nil {
		return nil, err
	}
	rep.Rows = append(rep.Rows, rows...)

	rows, err = benchPlanner(ctx, cfg, sz, reps, dir, logf)
	if err != nil {
		return nil, err
	}
	rep.Rows = append(rep.Rows, rows...)
	if f.Binary != "" && sz.ClusterBookings > 0 {
		rows, err = benchCluster(ctx, f, dir, sz.ClusterBookings, reps, logf)
		if err != nil {
			return nil, err
		}
		rep.Rows = append(rep.Rows, rows...)
		rep.Cluster = true
	}
	rep.Seconds = time.Since(rep.Started).Seconds()
	logf("done")
	return rep, nil
}

// median of reps measurements.
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ratioRow(name string, t Figure, raw Figure) Row {
	r := Row{Name: name, Tafweej: t, Raw: &raw}
	if raw.Value > 0 {
		r.Ratio = t.Value / raw.Value
	}
	return r
}
