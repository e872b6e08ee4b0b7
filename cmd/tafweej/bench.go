package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/tafweej/tafweej/api"
	"github.com/tafweej/tafweej/engine"
	"github.com/tafweej/tafweej/internal/auth"
	"github.com/tafweej/tafweej/internal/plantest"
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/sensors"
	"github.com/tafweej/tafweej/store"
	"github.com/tafweej/tafweej/tickets"
)

type benchFlags struct {
	config string
	dir    string
	quick  bool
	reps   int
	// cbcSeconds is CBC's time limit per model for the planner's quality;
	// 0 skips it.
	cbcSeconds int
}

// benchSizes are the number of operations of each measurement.
type benchSizes struct {
	Counters       int   `json:"counters"`        // counter messages per repetition
	Scans          []int `json:"scans"`           // scans per repetition at 1, 10, 100 gates
	BookingsSerial int   `json:"bookings_serial"` // HTTP bookings at concurrency 1
	BookingsPar    int   `json:"bookings_par"`    // HTTP bookings at concurrency 64
	RawWrites      int   `json:"raw_writes"`      // raw synced Badger writes
	Stored         int   `json:"stored"`          // bookings stored for the recovery
	Hajj           bool  `json:"hajj"`            // plan the Hajj-sized day
	// HajjQuality compares the Hajj-sized day's plan with CBC too.
	HajjQuality bool `json:"hajj_quality"`
	// CBCSeconds is CBC's time limit per model (CPU seconds; 0: not run).
	CBCSeconds int `json:"cbc_seconds"`
}

func sizesFor(quick bool) benchSizes {
	if quick {
		return benchSizes{Counters: 1000, Scans: []int{100, 300, 600}, BookingsSerial: 100, BookingsPar: 600,
			RawWrites: 200, Stored: 50_000, Hajj: false, HajjQuality: false}
	}
	return benchSizes{Counters: 5000, Scans: []int{500, 900, 900}, BookingsSerial: 500, BookingsPar: 5000,
		RawWrites: 1000, Stored: 1_000_000, Hajj: true, HajjQuality: true}
}

// benchFigure is one measured figure.
type benchFigure struct {
	What  string  `json:"what"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
	N     int     `json:"n"`    // operations per repetition
	Reps  int     `json:"reps"` // repetitions; Value is their median
	P50Ms float64 `json:"p50_ms,omitempty"`
	P99Ms float64 `json:"p99_ms,omitempty"`
}

// benchRow is a line of the report: a figure of Tafweej and, where there
// is one, the limit it is compared with, measured in the same run.
type benchRow struct {
	Name    string             `json:"name"`
	Tafweej benchFigure        `json:"tafweej"`
	Raw     *benchFigure       `json:"raw,omitempty"`
	Ratio   float64            `json:"ratio,omitempty"` // Tafweej.Value / Raw.Value
	Extra   map[string]float64 `json:"extra,omitempty"`
	Note    string             `json:"note,omitempty"`
}

// benchReport is the output of tafweej bench --json.
type benchReport struct {
	Command   string     `json:"command"`
	Quick     bool       `json:"quick"`
	GoVersion string     `json:"go_version"`
	CPUs      int        `json:"cpus"`
	Sizes     benchSizes `json:"sizes"`
	Started   time.Time  `json:"started"`
	Seconds   float64    `json:"seconds"`
	Rows      []benchRow `json:"rows"`
}

func newBenchCmd() *cobra.Command {
	f := &benchFlags{}
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure the service against the limits of this machine",
		Long: `Start the real pieces in this process on loopback, in a temporary directory
(embedded NATS with JetStream syncing every write, Badger with synced writes,
the owner loop, the NATS adapters and the HTTP API without rate limit), and
measure each headline figure next to the raw limit of the same part,
measured in the same run:

  counter messages applied end to end   vs raw JetStream publish+consume
  gate scans over NATS (1, 10, 100 gates) vs raw NATS request/reply
  durable bookings over HTTP (1, 64)      vs raw synced Badger writes
  recovery time and memory with 1M stored bookings (50k with --quick)
  day-planner time for a Petra day and a Hajj-sized day
  day-planner quality: visitors placed vs the optimum's upper bound that
    CBC (Debian's coinor-cbc) proves within --cbc-seconds, for the Petra
    day and the Hajj-sized day; skipped when cbc is not on
    PATH (--quick: the Petra day only, CBC limited to 5 s)

Progress goes to stderr, the table (or --json) to stdout.`,
		Example: `  tafweej bench
  tafweej bench --quick --json > bench.json   # under a minute, for CI`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			asJSON, _ := cmd.Flags().GetBool("json")
			if f.reps < 1 || f.reps > 20 {
				return usagef("e.g. --reps 3", "--reps %d must be between 1 and 20", f.reps)
			}
			if f.cbcSeconds < 0 || f.cbcSeconds > 3600 {
				return usagef("e.g. --cbc-seconds 60", "--cbc-seconds %d must be between 0 (no CBC) and 3600", f.cbcSeconds)
			}
			if f.quick && !cmd.Flags().Changed("cbc-seconds") {
				f.cbcSeconds = quickCBCSeconds
			}
			rep, err := runBench(cmd.Context(), f, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			printBench(cmd.OutOrStdout(), rep)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.config, "config", "configs/petra.yaml", "site configuration file")
	fl.StringVar(&f.dir, "dir", "", "directory for the temporary data (put it on the disk of --data); empty means the system's temporary directory")
	fl.BoolVar(&f.quick, "quick", false, "small sizes, one repetition: under a minute, for CI")
	fl.IntVar(&f.reps, "reps", 3, "repetitions of each throughput figure (the median is reported); --quick uses 1")
	fl.IntVar(&f.cbcSeconds, "cbc-seconds", 60, "CBC's time limit (CPU seconds) per model of the planner's quality; 0 skips it; --quick uses 5 unless set")
	return cmd
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

// benchEnv is the running service.
type benchEnv struct {
	dir    string
	cfg    *scheduler.Config
	clock  *benchClock
	ns     *server.Server
	nc     *nats.Conn // the service's connection
	client *nats.Conn // the devices' connection
	st     *store.Badger
	signer *tickets.Signer
	eng    *engine.Engine
	events *sensors.Events
	svc    *sensors.Service
	hs     *http.Server
	url    string
	stop   func()
}

// benchBase is the first day the benchmark books on: a winter Tuesday.
func benchBase(loc *time.Location) time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, loc) }

func startBenchEnv(ctx context.Context, cfg *scheduler.Config, dir string) (*benchEnv, error) {
	e := &benchEnv{dir: dir, cfg: cfg}
	var undo []func()
	e.stop = func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	fail := func(err error) (*benchEnv, error) { e.stop(); return nil, err }
	log := slog.New(slog.DiscardHandler)
	e.clock = newBenchClock(benchBase(cfg.Location()).Add(7 * time.Hour))
	var err error
	e.ns, err = sensors.StartEmbedded(sensors.EmbeddedOptions{Port: -1, StoreDir: filepath.Join(dir, "jetstream"), NoLog: true})
	if err != nil {
		return fail(err)
	}
	undo = append(undo, e.ns.Shutdown)
	if e.nc, err = sensors.Connect(e.ns.ClientURL(), sensors.ConnectOptions{Name: "tafweej-bench"}); err != nil {
		return fail(err)
	}
	undo = append(undo, e.nc.Close)
	if e.client, err = nats.Connect(e.ns.ClientURL(), nats.Name("tafweej-bench-devices")); err != nil {
		return fail(err)
	}
	undo = append(undo, e.client.Close)
	if e.st, err = store.Open(filepath.Join(dir, "badger"), store.Options{Logger: log}); err != nil {
		return fail(err)
	}
	undo = append(undo, func() { e.st.Close() })
	key, _, err := tickets.LoadOrCreateKey(filepath.Join(dir, "ticket.key"))
	if err != nil {
		return fail(err)
	}
	e.signer = tickets.NewSigner(key)
	e.events = sensors.NewEvents(e.nc, cfg.Site, log)
	undo = append(undo, e.events.Close)
	reg := prometheus.NewRegistry()
	if e.eng, err = engine.New(engine.Options{Config: cfg, Store: e.st, Clock: e.clock, Publish: e.events.Publish, Logger: log, Registerer: reg}); err != nil {
		return fail(err)
	}
	ectx, ecancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); e.eng.Run(ectx) }()
	undo = append(undo, func() { ecancel(); <-done })
	if e.svc, err = sensors.Start(ctx, sensors.Options{Conn: e.nc, Site: cfg.Site, Engine: e.eng, Public: e.signer.Public(), Store: e.st, Logger: log, Registerer: reg}); err != nil {
		return fail(err)
	}
	undo = append(undo, e.svc.Stop)
	srv, err := api.New(api.Options{Engine: e.eng, Store: e.st, Signer: e.signer,
		Gate: sensors.NewGate(e.eng, e.signer.Public()), Logger: log, Registerer: reg, RatePerSecond: -1})
	if err != nil {
		return fail(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	e.url = "http://" + ln.Addr().String()
	e.hs = &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go e.hs.Serve(ln)
	undo = append(undo, func() {
		sctx, c := context.WithTimeout(context.Background(), 5*time.Second)
		defer c()
		e.hs.Shutdown(sctx)
	})
	return e, nil
}

func runBench(ctx context.Context, f *benchFlags, progress io.Writer) (*benchReport, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	cfg, err := loadConfig(f.config)
	if err != nil {
		return nil, err
	}
	if len(cfg.Sensors) == 0 {
		return nil, fmt.Errorf("bench: configuration %q has no sensors: the counter figure needs at least one", f.config)
	}
	if _, ok := cfg.Route("main"); !ok {
		return nil, fmt.Errorf("bench: configuration %q has no route %q: the benchmark books the Petra configuration's main trail", f.config, "main")
	}
	reps := f.reps
	if f.quick {
		reps = 1
	}
	rep := &benchReport{Command: "tafweej bench", Quick: f.quick, GoVersion: runtime.Version(), CPUs: runtime.NumCPU(),
		Sizes: sizesFor(f.quick), Started: time.Now()}
	rep.Sizes.CBCSeconds = f.cbcSeconds
	if f.quick {
		rep.Command += " --quick"
	}
	sz := rep.Sizes
	logf := func(format string, args ...any) {
		fmt.Fprintf(progress, "bench %6.1fs  "+format+"\n", append([]any{time.Since(rep.Started).Seconds()}, args...)...)
	}
	dir, err := os.MkdirTemp(f.dir, "tafweej-bench-")
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

	rows, err = benchPlanner(ctx, cfg, sz, reps, dir, logf)
	if err != nil {
		return nil, err
	}
	rep.Rows = append(rep.Rows, rows...)
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

func ratioRow(name string, t benchFigure, raw benchFigure) benchRow {
	r := benchRow{Name: name, Tafweej: t, Raw: &raw}
	if raw.Value > 0 {
		r.Ratio = t.Value / raw.Value
	}
	return r
}

// ---- counters ----

func benchCounters(ctx context.Context, env *benchEnv, n, reps int, logf func(string, ...any)) (benchRow, error) {
	js, err := jetstream.New(env.client)
	if err != nil {
		return benchRow{}, err
	}
	var counters []*sensors.Counter
	for _, s := range env.cfg.Sensors {
		c := sensors.NewCounter(js, env.cfg.Site, s.ID, s.Zone, "bench")
		c.Now = env.clock.Now
		counters = append(counters, c)
	}
	// Raw: a stream of its own on the same server, a durable pull consumer
	// acking every message.
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "BENCH_RAW", Subjects: []string{"bench.raw.>"},
		Storage: jetstream.FileStorage, Duplicates: 2 * time.Minute}); err != nil {
		return benchRow{}, fmt.Errorf("bench: raw stream: %w", err)
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, "BENCH_RAW", jetstream.ConsumerConfig{Durable: "bench",
		AckPolicy: jetstream.AckExplicitPolicy, MaxAckPending: 4096})
	if err != nil {
		return benchRow{}, fmt.Errorf("bench: raw consumer: %w", err)
	}
	body := []byte(`{"sensor":"siq-n1","zone":"siq","boot":"bench","seq":1,"in_total":18342,"out_total":17790,"at":"2026-12-01T07:00:00+03:00"}`)
	var tf, raw []float64
	for r := range reps {
		runTafweej := func() error {
			// Tafweej: every sensor publishes its next reading when the last
			// is acknowledged, as a device does; the figure runs from the
			// first publish until the owner loop has applied (and
			// checkpointed) the last reading of every sensor.
			start := time.Now()
			if err := publishSpread(len(counters), n, func(g int) error {
				c := counters[g]
				c.Add(1, 1) // as many out as in: live occupancy stays put and no wave is held
				return c.Publish(ctx)
			}); err != nil {
				return err
			}
			if err := waitFor(2*time.Minute, "counter readings applied", func() (bool, error) {
				done := true
				err := env.eng.Read(ctx, func(s *scheduler.State, _ time.Time) {
					seq := map[string]uint64{}
					for _, st := range s.Sensors() {
						seq[st.Sensor] = st.Seq
					}
					for i, c := range counters {
						if seq[env.cfg.Sensors[i].ID] != c.Seq() {
							done = false
						}
					}
				})
				return done, err
			}); err != nil {
				return err
			}
			tf = append(tf, float64(n)/time.Since(start).Seconds())
			return nil
		}
		runRaw := func() error {
			// Raw: the same number of publishers, the same sizes.
			start := time.Now()
			var end time.Time
			got := make(chan error, 1)
			go func() {
				k := 0
				deadline := time.Now().Add(2 * time.Minute)
				for k < n {
					if time.Now().After(deadline) {
						got <- fmt.Errorf("bench: raw JetStream: %d of %d messages consumed in 2 minutes", k, n)
						return
					}
					batch, err := cons.Fetch(256, jetstream.FetchMaxWait(time.Second))
					if err != nil {
						continue
					}
					// Read the batch to its end (the pull request expires
					// after its wait) so that no pull request outlives the
					// repetition and swallows the next one's messages.
					for m := range batch.Messages() {
						_ = m.Ack()
						if k++; k == n {
							end = time.Now()
						}
					}
				}
				got <- nil
			}()
			var seq atomic.Int64
			if err := publishSpread(len(counters), n, func(g int) error {
				i := seq.Add(1)
				m := &nats.Msg{Subject: "bench.raw." + strconv.Itoa(g), Data: body, Header: nats.Header{}}
				m.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("raw-%d-%d", r, i))
				_, err := js.PublishMsg(ctx, m)
				return err
			}); err != nil {
				return err
			}
			if err := <-got; err != nil {
				return err
			}
			raw = append(raw, float64(n)/end.Sub(start).Seconds())
			return nil
		}
		// Alternate which goes first, so that neither always runs on a
		// warmer (or fuller) server.
		first, second := runTafweej, runRaw
		if r%2 == 1 {
			first, second = runRaw, runTafweej
		}
		if err := first(); err != nil {
			return benchRow{}, err
		}
		if err := second(); err != nil {
			return benchRow{}, err
		}
		logf("counters rep %d/%d: %.0f msgs/s end to end, raw JetStream %.0f msgs/s", r+1, reps, tf[r], raw[r])
	}
	return ratioRow("counter messages",
		benchFigure{What: fmt.Sprintf("counter readings applied/s end to end: %d sensors publish (sync ack) to JetStream, consumer, owner loop, Badger checkpoint", len(counters)),
			Value: median(tf), Unit: "msgs/s", N: n, Reps: reps},
		benchFigure{What: fmt.Sprintf("raw JetStream publish (sync ack, %d publishers) + pull consume with ack, separate stream, same server", len(counters)),
			Value: median(raw), Unit: "msgs/s", N: n, Reps: reps}), nil
}

// publishSpread runs n calls of do spread over g goroutines, each call
// after the previous one of its goroutine returned.
func publishSpread(g, n int, do func(g int) error) error {
	var wg sync.WaitGroup
	errs := make([]error, g)
	for w := range g {
		k := n / g
		if w < n%g {
			k++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range k {
				if err := do(w); err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// waitFor polls cond every 2ms until it holds or the timeout.
func waitFor(timeout time.Duration, what string, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("bench: %s: not within %v", what, timeout)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// ---- gate scans ----

// benchScans books a morning of groups on a day of its own, moves the
// clock into it and sends scans of one visitor each over NATS from gates
// devices at once, each device sending its next scan when the last is
// answered.
func benchScans(ctx context.Context, env *benchEnv, gates, n, reps, level int, logf func(string, ...any)) (benchRow, error) {
	var tf, raw []float64
	var tlat, rlat []time.Duration
	decisions := map[string]int{}
	var mu sync.Mutex // guards decisions
	booked := 0
	for r := range reps {
		// Each repetition on a day of its own, so that every scan can admit.
		codes, err := bookMorning(ctx, env, benchBase(env.cfg.Location()).AddDate(0, 0, 1+level*reps+r), fmt.Sprintf("%d_%d", level, r))
		if err != nil {
			return benchRow{}, err
		}
		booked += len(codes)
		logf("scans at %d gate(s) rep %d/%d: %d visitors booked, %d scans", gates, r+1, reps, len(codes), n)
		reqs := make([][]byte, n)
		for i := range reqs {
			reqs[i], _ = json.Marshal(scheduler.ScanRequest{Ticket: codes[i%len(codes)], Count: 1,
				ScanID: fmt.Sprintf("bench-%d-%d-%d", level, r, i), Device: fmt.Sprintf("dev-%d", i%gates)})
		}
		subject := "tafweej." + env.cfg.Site + ".gate.visitor-centre.scan"
		perSec, lat, err := requestBench(gates, reqs, func(data []byte) error {
			m, err := env.client.Request(subject, data, 10*time.Second)
			if err != nil {
				return err
			}
			var res scheduler.ScanResult
			if err := json.Unmarshal(m.Data, &res); err != nil || res.Decision == "" {
				return fmt.Errorf("bench: scan reply %s (%v)", m.Data, err)
			}
			mu.Lock()
			decisions[string(res.Decision)+"/"+res.Reason]++
			mu.Unlock()
			return nil
		})
		if err != nil {
			return benchRow{}, err
		}
		tf = append(tf, perSec)
		tlat = append(tlat, lat...)

		// Raw: a responder answering at once with a reply of the same
		// size, on the same server.
		reply := []byte(`{"decision":"admit","reason":"ok","admitted":1,"remaining":59,"booking":"bk_x","slot":"2026-12-01T08:00:00+03:00","gate":"visitor-centre","retry_at":null,"message":{"en":"Welcome — wave 08:00","ar":"أهلاً وسهلاً — فوج ٠٨:٠٠"}}`)
		sub, err := env.nc.QueueSubscribe("bench.gate.*.scan", "bench", func(m *nats.Msg) { _ = m.Respond(reply) })
		if err != nil {
			return benchRow{}, err
		}
		if err := env.nc.Flush(); err != nil {
			return benchRow{}, err
		}
		perSec, lat, err = requestBench(gates, reqs, func(data []byte) error {
			_, err := env.client.Request("bench.gate.visitor-centre.scan", data, 10*time.Second)
			return err
		})
		sub.Unsubscribe()
		if err != nil {
			return benchRow{}, err
		}
		raw = append(raw, perSec)
		rlat = append(rlat, lat...)
		logf("scans at %d gate(s) rep %d/%d: %.0f decisions/s, raw request/reply %.0f/s", gates, r+1, reps, tf[r], raw[r])
	}
	admitted := decisions["admit/ok"]
	row := ratioRow(fmt.Sprintf("gate scans, %d gate(s)", gates),
		benchFigure{What: fmt.Sprintf("scan decisions/s over NATS request/reply, %d device(s) in parallel, real signed tickets, each decision a synced commit", gates),
			Value: median(tf), Unit: "scans/s", N: n, Reps: reps, P50Ms: quantileMs(tlat, 0.5), P99Ms: quantileMs(tlat, 0.99)},
		benchFigure{What: "raw NATS request/reply to a responder answering at once, same server, same requests",
			Value: median(raw), Unit: "req/s", N: n, Reps: reps, P50Ms: quantileMs(rlat, 0.5), P99Ms: quantileMs(rlat, 0.99)})
	total := 0
	for _, v := range decisions {
		total += v
	}
	row.Extra = map[string]float64{"visitors_booked": float64(booked), "admitted": float64(admitted), "decisions": float64(total)}
	if admitted < total {
		var other []string
		for _, k := range slices.Sorted(mapsKeys(decisions)) {
			if k != "admit/ok" {
				other = append(other, fmt.Sprintf("%s %d", k, decisions[k]))
			}
		}
		row.Note = fmt.Sprintf("%d of %d scans admitted; the others: %s", admitted, total, strings.Join(other, ", "))
	} else {
		row.Note = fmt.Sprintf("all %d scans admitted a visitor", total)
	}
	return row, nil
}

// bookMorning moves the clock to 07:00 on day, books groups of 60
// entering 07:30-08:15 from 10 operators until the morning is full, moves
// the clock to 08:05, when all of them may enter, and returns one ticket
// code per visitor.
func bookMorning(ctx context.Context, env *benchEnv, day time.Time, tag string) ([]string, error) {
	date := day.Format(time.DateOnly)
	env.clock.Set(day.Add(7 * time.Hour))
	var codes []string
	for i, refused := 0, 0; refused < 20; i++ {
		res, err := env.eng.Do(ctx, scheduler.Book{ID: fmt.Sprintf("bk_scan%s_%04d", tag, i), Operator: fmt.Sprintf("op-%02d", i%10),
			Request: scheduler.BookingRequest{Date: date, Route: "main", PartySize: 60, Window: scheduler.Window{From: 7*60 + 30, To: 8*60 + 30}}})
		if err != nil {
			return nil, err
		}
		if res.Err != nil || res.Booking == nil {
			refused++
			continue
		}
		code := env.signer.Code(*res.Booking)
		for range res.Booking.PartySize {
			codes = append(codes, code)
		}
	}
	if len(codes) == 0 {
		return nil, fmt.Errorf("bench: no group could be booked on %s for the scans", date)
	}
	env.clock.Set(day.Add(8*time.Hour + 5*time.Minute))
	return codes, nil
}

func mapsKeys(m map[string]int) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// requestBench sends reqs from workers goroutines, each sending its next
// request when the last is answered; it returns the requests per second
// and every latency.
func requestBench(workers int, reqs [][]byte, do func([]byte) error) (float64, []time.Duration, error) {
	lat := make([][]time.Duration, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(reqs); i += workers {
				t0 := time.Now()
				if err := do(reqs[i]); err != nil {
					errs[w] = err
					return
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return 0, nil, err
	}
	return float64(len(reqs)) / el.Seconds(), slices.Concat(lat...), nil
}

func quantileMs(d []time.Duration, q float64) float64 {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return float64(s[int(q*float64(len(s)-1))]) / float64(time.Millisecond)
}

// ---- bookings over HTTP ----

func benchBookings(ctx context.Context, env *benchEnv, sz benchSizes, reps int, logf func(string, ...any)) ([]benchRow, error) {
	const operators = 100
	keys := make([]string, operators)
	for i := range keys {
		secret, _, err := auth.CreateKey(env.st, auth.RoleOperator, fmt.Sprintf("op-%03d", i), nil, "bench", env.eng.Now())
		if err != nil {
			return nil, err
		}
		keys[i] = secret
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128}, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	// Single visitors, 1,000 a day from day 20 on (after the scan days), over the whole day:
	// capacity never refuses, so every request makes a booking.
	first := benchBase(env.cfg.Location()).AddDate(0, 0, 20)
	var seq atomic.Int64
	book := func(_ []byte) error {
		i := seq.Add(1)
		date := first.AddDate(0, 0, int(i/1000)).Format(time.DateOnly)
		body, _ := json.Marshal(api.BookingRequest{Date: date, Route: "main", PartySize: 1, Window: api.Window{From: "06:00", To: "15:00"}})
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, env.url+"/v1/bookings", bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+keys[i%operators])
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", fmt.Sprintf("bench-%d", i))
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("bench: booking %d on %s: %d %s", i, date, resp.StatusCode, b)
		}
		return nil
	}
	var raw []float64
	for r := range reps {
		perSec, err := store.RawSyncedWrites(env.dir, sz.RawWrites)
		if err != nil {
			return nil, err
		}
		raw = append(raw, perSec)
		logf("raw synced Badger writes rep %d/%d: %.0f/s", r+1, reps, perSec)
	}
	rawFig := benchFigure{What: "raw Badger: one 256-byte record per synced transaction, one after the other, same disk (store.RawSyncedWrites)",
		Value: median(raw), Unit: "writes/s", N: sz.RawWrites, Reps: reps}
	var rows []benchRow
	for _, c := range []struct{ conc, n int }{{1, sz.BookingsSerial}, {64, sz.BookingsPar}} {
		var tf []float64
		var lat []time.Duration
		for r := range reps {
			perSec, l, err := requestBench(c.conc, make([][]byte, c.n), book)
			if err != nil {
				return nil, err
			}
			tf = append(tf, perSec)
			lat = append(lat, l...)
			logf("bookings over HTTP, %d client(s), rep %d/%d: %.0f/s", c.conc, r+1, reps, perSec)
		}
		rows = append(rows, ratioRow(fmt.Sprintf("bookings, %d client(s)", c.conc),
			benchFigure{What: fmt.Sprintf("POST /v1/bookings answered 201 (durable: synced before the answer), %d client(s) in parallel, 100 operators, Idempotency-Key", c.conc),
				Value: median(tf), Unit: "bookings/s", N: c.n, Reps: reps, P50Ms: quantileMs(lat, 0.5), P99Ms: quantileMs(lat, 0.99)},
			rawFig))
	}
	return rows, nil
}

// ---- recovery ----

// benchRecovery stores n valid bookings (single visitors and small groups
// allotted by the scheduler itself, 1,000 a day over many days, 100
// operators) in a new Badger in batches, closes it, and measures the
// restart: opening the store and rebuilding the owner loop's state.
func benchRecovery(cfg *scheduler.Config, dir string, n int, logf func(string, ...any)) (benchRow, error) {
	path := filepath.Join(dir, "recovery")
	st, err := store.Open(path, store.Options{})
	if err != nil {
		return benchRow{}, err
	}
	logf("recovery: storing %d bookings", n)
	t0 := time.Now()
	if err := storeBookings(cfg, st, n, logf); err != nil {
		st.Close()
		return benchRow{}, err
	}
	if err := st.Close(); err != nil {
		return benchRow{}, err
	}
	logf("recovery: %d bookings stored in %.1fs; restarting", n, time.Since(t0).Seconds())
	runtime.GC()
	debug.FreeOSMemory()
	rss0, _ := vmRSS()
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)
	start := time.Now()
	st, err = store.Open(path, store.Options{})
	if err != nil {
		return benchRow{}, err
	}
	defer st.Close()
	eng, err := engine.New(engine.Options{Config: cfg, Store: st, Clock: newBenchClock(benchBase(cfg.Location()))})
	if err != nil {
		return benchRow{}, err
	}
	took := time.Since(start)
	var count int
	if err := readState(eng, func(s *scheduler.State) { count = s.BookingCount() }); err != nil {
		return benchRow{}, err
	}
	if count != n {
		return benchRow{}, fmt.Errorf("bench: recovery restored %d bookings, want %d", count, n)
	}
	runtime.GC()
	rss1, _ := vmRSS()
	var m1 runtime.MemStats
	runtime.ReadMemStats(&m1)
	runtime.KeepAlive(eng)
	row := benchRow{Name: fmt.Sprintf("recovery, %d bookings", n),
		Tafweej: benchFigure{What: "restart: open Badger and rebuild the scheduler state from every stored booking (engine.New)",
			Value: took.Seconds(), Unit: "s", N: n, Reps: 1},
		Extra: map[string]float64{
			"rss_delta_mb":   float64(rss1-rss0) / (1 << 20),
			"heap_mb":        float64(m1.HeapAlloc) / (1 << 20),
			"heap_delta_mb":  (float64(m1.HeapAlloc) - float64(m0.HeapAlloc)) / (1 << 20),
			"rss_mb":         float64(rss1) / (1 << 20),
			"bytes_per_book": (float64(m1.HeapAlloc) - float64(m0.HeapAlloc)) / float64(n),
		},
		Note: "memory after the restart and a GC: RSS from /proc/self/status VmRSS, heap from runtime.MemStats.HeapAlloc, deltas from just before the restart",
	}
	logf("recovery: %.2fs, RSS +%.0f MB, heap +%.0f MB", took.Seconds(), row.Extra["rss_delta_mb"], row.Extra["heap_delta_mb"])
	return row, nil
}

// readState reads the state of an engine whose loop is not running.
func readState(eng *engine.Engine, f func(*scheduler.State)) error {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); eng.Run(ctx) }()
	err := eng.Read(ctx, func(s *scheduler.State, _ time.Time) { f(s) })
	cancel()
	<-done
	return err
}

// storeBookings books n single visitors and groups of up to 4, 1,000 a
// day, through the scheduler itself (so every booking is valid), and
// commits their records in batches.
func storeBookings(cfg *scheduler.Config, st store.Store, n int, logf func(string, ...any)) error {
	const perDay, batch = 1000, 5000
	base := benchBase(cfg.Location())
	var s *scheduler.State
	var effects []scheduler.Effect
	commit := func() error {
		if len(effects) == 0 {
			return nil
		}
		err := st.Commit(effects)
		effects = effects[:0]
		return err
	}
	made := 0
	for day := 0; made < n; day++ {
		if day%30 == 0 {
			s = scheduler.New(cfg) // days are independent: keep the generator small
		}
		d := base.AddDate(0, 0, day)
		date := d.Format(time.DateOnly)
		now := d.Add(-12 * time.Hour)
		for i := 0; i < perDay && made < n; i++ {
			res, eff := s.Apply(now, scheduler.Book{ID: fmt.Sprintf("bk_r%08d", made), Operator: fmt.Sprintf("op-%03d", made%100),
				Request: scheduler.BookingRequest{Date: date, Route: "main", PartySize: 1 + made%4, Window: scheduler.Window{From: 6 * 60, To: 15 * 60}}})
			if res.Err != nil {
				break // the day is full (or closed): the next day
			}
			for _, e := range eff {
				if _, ok := e.(scheduler.Event); !ok {
					effects = append(effects, e)
				}
			}
			made++
			if len(effects) >= batch {
				if err := commit(); err != nil {
					return fmt.Errorf("bench: store bookings: %w", err)
				}
			}
		}
		if made%100_000 < perDay && made >= 100_000 {
			logf("recovery: %d bookings stored", made)
		}
		if day > 20*n/perDay+400 {
			return fmt.Errorf("bench: store bookings: only %d of %d bookings fit", made, n)
		}
	}
	if err := commit(); err != nil {
		return fmt.Errorf("bench: store bookings: %w", err)
	}
	return nil
}

// vmRSS is the resident set size from /proc/self/status.
func vmRSS() (uint64, error) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("bench: no VmRSS in /proc/self/status")
}

// ---- planner ----

// quickCBCSeconds is CBC's time limit under --quick: enough for the root
// bound of a Petra day, short enough for CI.
const quickCBCSeconds = 5

func benchPlanner(ctx context.Context, cfg *scheduler.Config, sz benchSizes, planReps int, dir string, logf func(string, ...any)) ([]benchRow, error) {
	var rows []benchRow
	// The Petra day of the planner's quality tests (internal/plantest).
	pd := plantest.PetraDay(cfg, 105, plantest.DayKind{Groups: 300})
	reqs, ps, pnow, pdate := pd.Requests, pd.State, pd.Now, pd.Date
	row, res, err := planRow("day planner, Petra day", "PlanDay of a Petra winter day (plantest.PetraDay, seed 105): 300 groups of 10-60 from 7 operators and walk-ins, windows of 1-3 h, the day routes",
		ps, pnow, pdate, reqs, planReps)
	if err != nil {
		return nil, err
	}
	logf("planner, Petra day: %.3fs, %.0f of %.0f visitors placed", row.Tafweej.Value, row.Extra["placed"], row.Extra["requested"])
	rows = append(rows, row)
	inst, err := ps.DayInstance(pnow, pdate, reqs)
	if err != nil {
		return nil, fmt.Errorf("bench: Petra day: %w", err)
	}
	row, err = qualityRow(ctx, "planner quality, Petra day", "visitors placed by PlanDay on the Petra day above", inst, res, sz.CBCSeconds, dir, logf)
	if err != nil {
		return nil, err
	}
	rows = append(rows, row)
	if !sz.Hajj {
		return rows, nil
	}
	hcfg := plantest.HajjConfig()
	hday := time.Date(2027, 5, 16, 0, 0, 0, 0, hcfg.Location())
	hnow, hdate := hday.Add(-12*time.Hour), hday.Format(time.DateOnly)
	hreqs := plantest.HajjRequests(hcfg, 1_000_000)
	logf("planner, Hajj-sized day: %d groups, 1,000,000 people", len(hreqs))
	hs := scheduler.New(hcfg)
	row, res, err = planRow("day planner, Hajj-sized day", fmt.Sprintf("PlanDay of 1,000,000 people in %d groups of 20-250, 12 gates, 96 slots, 30 zones, 60 establishments", len(hreqs)),
		hs, hnow, hdate, hreqs, 1)
	if err != nil {
		return nil, err
	}
	logf("planner, Hajj-sized day: %.1fs, %.0f of %.0f visitors placed", row.Tafweej.Value, row.Extra["placed"], row.Extra["requested"])
	rows = append(rows, row)
	if !sz.HajjQuality {
		return rows, nil
	}
	// Some 60,000 options and 11,000 rows: CBC proves its root bound in
	// about 40 s of CPU on this machine.
	inst, err = hs.DayInstance(hnow, hdate, hreqs)
	if err != nil {
		return nil, fmt.Errorf("bench: Hajj-sized day: %w", err)
	}
	row, err = qualityRow(ctx, "planner quality, Hajj-sized day", "visitors placed by PlanDay on the Hajj-sized day above", inst, res, sz.CBCSeconds, dir, logf)
	if err != nil {
		return nil, err
	}
	return append(rows, row), nil
}

func planRow(name, what string, s *scheduler.State, now time.Time, date string, reqs []scheduler.PlanRequest, reps int) (benchRow, scheduler.PlanResult, error) {
	var times []float64
	var res scheduler.PlanResult
	var heap, alloc float64
	for range reps {
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		start := time.Now()
		var err error
		res, err = s.PlanDay(now, date, reqs)
		if err != nil {
			return benchRow{}, res, fmt.Errorf("bench: %s: %w", name, err)
		}
		times = append(times, time.Since(start).Seconds())
		runtime.ReadMemStats(&m1)
		heap = max(heap, float64(m1.HeapInuse)-float64(m0.HeapInuse))
		alloc = float64(m1.TotalAlloc-m0.TotalAlloc) / (1 << 20)
	}
	return benchRow{Name: name,
		Tafweej: benchFigure{What: what, Value: median(times), Unit: "s", N: len(reqs), Reps: reps},
		Extra: map[string]float64{
			"groups":              float64(len(reqs)),
			"requested":           float64(res.Requested),
			"placed":              float64(res.Visitors),
			"placed_pct":          100 * float64(res.Visitors) / float64(max(res.Requested, 1)),
			"greedy_placed":       float64(res.Stats.GreedyVisitors),
			"first_come_placed":   float64(res.Stats.FirstComeVisitors),
			"iterations":          float64(res.Stats.Iterations),
			"min_operator_share":  res.Stats.MinShare,
			"max_operator_share":  res.Stats.MaxShare,
			"heap_growth_mb":      heap / (1 << 20),
			"allocated_mb":        alloc,
			"mean_deviation_mins": res.Stats.MeanDeviationMinutes,
		},
		Note: "the planner's quality against CBC's bound is the next row",
	}, res, nil
}

// qualityRow compares a plan with the upper bound on the optimum that CBC
// proves within its time limit: the instance is written as a 0-1 program
// (plantest.WriteLP) in dir and solved by the cbc command. Without cbc on
// PATH, or with a limit of 0, the row says so and has no limit.
func qualityRow(ctx context.Context, name, what string, inst scheduler.Instance, res scheduler.PlanResult, limit int, dir string, logf func(string, ...any)) (benchRow, error) {
	row := benchRow{Name: name,
		Tafweej: benchFigure{What: what, Value: float64(res.Visitors), Unit: "visitors", N: len(inst.Requests), Reps: 1},
		Extra:   map[string]float64{"requested": float64(res.Requested)}}
	// The plan must be a solution of the model it is compared with.
	if v, err := plantest.LPValue(inst, res); err != nil || v != res.Visitors {
		return row, fmt.Errorf("bench: %s: the plan is not a solution of its 0-1 model (%v) or is worth %d, not %d visitors", name, err, v, res.Visitors)
	}
	cbc, err := exec.LookPath("cbc")
	switch {
	case limit == 0:
		row.Note = "not compared with an exact solver: --cbc-seconds 0"
		return row, nil
	case err != nil:
		row.Note = "not compared with an exact solver: cbc is not on PATH (Debian: apt-get install coinor-cbc)"
		logf("%s: cbc is not on PATH, no bound", name)
		return row, nil
	}
	var lp bytes.Buffer
	if err := plantest.WriteLP(&lp, inst); err != nil {
		return row, fmt.Errorf("bench: %s: %w", name, err)
	}
	file := filepath.Join(dir, strings.NewReplacer(" ", "-", ",", "").Replace(name)+".lp")
	if err := os.WriteFile(file, lp.Bytes(), 0o644); err != nil {
		return row, fmt.Errorf("bench: %s: %w", name, err)
	}
	logf("%s: CBC on the 0-1 model (%d KB), limit %d s of CPU", name, lp.Len()>>10, limit)
	// The limit is CPU time; the wall clock may run longer on a busy machine.
	cctx, cancel := context.WithTimeout(ctx, 4*time.Duration(limit)*time.Second+2*time.Minute)
	defer cancel()
	start := time.Now()
	out, err := exec.CommandContext(cctx, cbc, file, "sec", strconv.Itoa(limit), "solve").CombinedOutput()
	secs := time.Since(start).Seconds()
	if err != nil {
		row.Note = fmt.Sprintf("cbc failed after %.1f s: %v", secs, err)
		logf("%s: %s", name, row.Note)
		return row, nil
	}
	r, err := plantest.ParseCBC(string(out))
	if err != nil {
		row.Note = fmt.Sprintf("cbc's answer is unreadable: %v", err)
		logf("%s: %s", name, row.Note)
		return row, nil
	}
	if float64(res.Visitors) > r.Bound+0.5 {
		return row, fmt.Errorf("bench: %s: the plan's %d visitors exceed CBC's bound %.1f: the model and the planner disagree", name, res.Visitors, r.Bound)
	}
	raw := benchFigure{What: fmt.Sprintf("CBC's proven upper bound on the optimum (coinor-cbc, %d s CPU limit)", limit),
		Value: r.Bound, Unit: "visitors", N: len(inst.Requests), Reps: 1}
	row.Raw = &raw
	if r.Bound > 0 {
		row.Ratio = row.Tafweej.Value / raw.Value
	}
	optimal := 0.0
	if r.Optimal {
		optimal = 1
	}
	row.Extra["cbc_best"] = r.Objective
	row.Extra["cbc_seconds"] = secs
	row.Extra["cbc_optimal"] = optimal
	row.Note = fmt.Sprintf("ratio = planner visitors / CBC's bound; CBC: %s, best integer solution %.0f", r.Status, r.Objective)
	logf("%s: planner %d, CBC bound %.1f (best %.0f, %s, %.1f s): %.2f%%", name, res.Visitors, r.Bound, r.Objective, r.Status, secs, 100*row.Ratio)
	return row, nil
}

// ---- output ----

func printBench(w io.Writer, rep *benchReport) {
	fmt.Fprintf(w, "%s  (%s, %d CPUs, %.0fs)\n\n", rep.Command, rep.GoVersion, rep.CPUs, rep.Seconds)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FIGURE\tTAFWEEJ\tP50/P99 MS\tRAW LIMIT\tP50/P99 MS\tRATIO\tN × REPS")
	lat := func(f benchFigure) string {
		if f.P50Ms == 0 && f.P99Ms == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f/%.2f", f.P50Ms, f.P99Ms)
	}
	for _, r := range rep.Rows {
		raw, rlat, ratio := "-", "-", "-"
		if r.Raw != nil {
			raw, rlat = fmt.Sprintf("%s %s", num(r.Raw.Value), r.Raw.Unit), lat(*r.Raw)
			ratio = fmt.Sprintf("%.1f%%", 100*r.Ratio)
			if r.Tafweej.Unit == "visitors" { // a share of an optimum's bound: two decimals
				ratio = fmt.Sprintf("%.2f%%", 100*r.Ratio)
			}
		}
		fmt.Fprintf(tw, "%s\t%s %s\t%s\t%s\t%s\t%s\t%d × %d\n", r.Name, num(r.Tafweej.Value), r.Tafweej.Unit, lat(r.Tafweej), raw, rlat, ratio, r.Tafweej.N, r.Tafweej.Reps)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nWhat each figure measured:")
	for _, r := range rep.Rows {
		fmt.Fprintf(w, "  %s: %s", r.Name, r.Tafweej.What)
		if r.Raw != nil {
			fmt.Fprintf(w, "; limit: %s (N %d × %d)", r.Raw.What, r.Raw.N, r.Raw.Reps)
		}
		fmt.Fprintln(w)
		if len(r.Extra) > 0 {
			var parts []string
			for _, k := range slices.Sorted(extraKeys(r.Extra)) {
				parts = append(parts, fmt.Sprintf("%s=%s", k, num(r.Extra[k])))
			}
			fmt.Fprintf(w, "    %s\n", strings.Join(parts, " "))
		}
		if r.Note != "" {
			fmt.Fprintf(w, "    %s\n", r.Note)
		}
	}
}

func extraKeys(m map[string]float64) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func num(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
}
