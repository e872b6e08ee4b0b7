package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tafweej/tafweej/internal/plantest"
	"github.com/tafweej/tafweej/internal/service"
	"github.com/tafweej/tafweej/internal/subjects"
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

// The re-plans of closures and cuts: gate scans answered while a 7-day
// cut of the Siq re-plans full days (off the owner loop, and in the loop
// as before, in the same run), and the re-plan of a closure of a main
// zone on the Hajj-sized day.

// cutScanDevices is how many gate devices scan at once during the cut.
const cutScanDevices = 10

func benchReplan(ctx context.Context, cfg *scheduler.Config, sz Sizes, dir string, logf func(string, ...any)) ([]Row, error) {
	row, err := benchCutScans(ctx, cfg, dir, logf)
	if err != nil {
		return nil, err
	}
	rows := []Row{row}
	if !sz.Hajj {
		return rows, nil
	}
	row, err = benchHajjClosure(logf)
	if err != nil {
		return nil, err
	}
	return append(rows, row), nil
}

// cutScans is what one run of the cut measured.
type cutScans struct {
	bookings   int
	idlePerSec float64 // scans/s with no re-plan running
	idleLat    []time.Duration
	perSec     float64 // scans/s while the cut re-planned
	lat        []time.Duration
	cutSeconds float64
	replanned  scheduler.ReplanCounts
}

func benchCutScans(ctx context.Context, cfg *scheduler.Config, dir string, logf func(string, ...any)) (Row, error) {
	// The cut re-planned in the loop, as before, then off it: same seed,
	// same service, same devices.
	in, err := cutScanRun(ctx, cfg, filepath.Join(dir, "cut-in-loop"), -1, logf)
	if err != nil {
		return Row{}, err
	}
	off, err := cutScanRun(ctx, cfg, filepath.Join(dir, "cut-off-loop"), 0, logf)
	if err != nil {
		return Row{}, err
	}
	row := ratioRow("scans during a 7-day cut",
		Figure{What: fmt.Sprintf("gate scans over NATS request/reply from %d devices in parallel while a cut of the Siq to half its capacity over 7 full days (%d bookings) re-plans off the owner loop; scans sent from the cut's command to its answer", cutScanDevices, off.bookings),
			Value: off.perSec, Unit: "scans/s", N: len(off.lat), Reps: 1, Concurrency: cutScanDevices, P50Ms: quantileMs(off.lat, 0.5), P99Ms: quantileMs(off.lat, 0.99)},
		Figure{What: fmt.Sprintf("as many scans from the same %d devices in parallel, same service, once the cut is whole (no re-plan running)", cutScanDevices),
			Value: off.idlePerSec, Unit: "scans/s", N: len(off.lat), Reps: 1, Concurrency: cutScanDevices, P50Ms: quantileMs(off.idleLat, 0.5), P99Ms: quantileMs(off.idleLat, 0.99)})
	row.Extra = map[string]float64{
		"devices":             cutScanDevices,
		"bookings":            float64(off.bookings),
		"cut_seconds":         off.cutSeconds,
		"moved":               float64(off.replanned.Moved),
		"out_of_window":       float64(off.replanned.OutOfWindow),
		"cancelled":           float64(off.replanned.Cancelled),
		"max_ms":              quantileMs(off.lat, 1),
		"in_loop_p50_ms":      quantileMs(in.lat, 0.5),
		"in_loop_p99_ms":      quantileMs(in.lat, 0.99),
		"in_loop_max_ms":      quantileMs(in.lat, 1),
		"in_loop_scans":       float64(len(in.lat)),
		"in_loop_cut_seconds": in.cutSeconds,
		"in_loop_moved":       float64(in.replanned.Moved),
		"in_loop_cancelled":   float64(in.replanned.Cancelled),
	}
	row.Note = fmt.Sprintf("ratio = scans/s during the cut / scans/s without; scan p99 during the cut %.1f ms (goal ≤ 100); the same cut re-planned in the owner loop (steps of %d bookings, as before) in the same run: p99 %.1f ms, max %.1f ms, %d scans in %.2f s",
		row.Tafweej.P99Ms, scheduler.DefaultReplanStep, row.Extra["in_loop_p99_ms"], row.Extra["in_loop_max_ms"], len(in.lat), in.cutSeconds)
	return row, nil
}

// cutScanRun seeds seven full days from tomorrow in a new store in dir,
// starts the service on it (budget: its ReplanBudget), books this morning
// for the scans, measures scans with nothing else running, then the scans
// sent while the cut applies.
func cutScanRun(ctx context.Context, cfg *scheduler.Config, dir string, budget int, logf func(string, ...any)) (cutScans, error) {
	var out cutScans
	how := "off the owner loop"
	if budget < 0 {
		how = "in the owner loop"
	}
	base := benchBase(cfg.Location())
	first := base.AddDate(0, 0, 1)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return out, fmt.Errorf("bench: %w", err)
	}
	st, err := store.Open(filepath.Join(dir, "badger"), store.Options{})
	if err != nil {
		return out, fmt.Errorf("bench: seed store: %w", err)
	}
	recs := plantest.FullDays(cfg, base.Add(7*time.Hour), first, 7, 7)
	for i := 0; i < len(recs); i += 500 {
		if err := st.Commit(recs[i:min(i+500, len(recs))]); err != nil {
			st.Close()
			return out, fmt.Errorf("bench: seed store: %w", err)
		}
	}
	if err := st.Close(); err != nil {
		return out, fmt.Errorf("bench: seed store: %w", err)
	}
	out.bookings = len(recs)
	env, err := startBenchEnv(ctx, cfg, dir, func(o *service.Options) { o.ReplanBudget = budget })
	if err != nil {
		return out, err
	}
	defer env.stop()
	codes, err := bookMorning(ctx, env, base, "cut")
	if err != nil {
		return out, err
	}
	subject := subjects.For(env.cfg.Site).GateScan("visitor-centre")
	var seq atomic.Int64
	var decisions sync.Map // decision/reason → *atomic.Int64
	scan := func(w int) error {
		i := seq.Add(1)
		data, _ := json.Marshal(scheduler.ScanRequest{Ticket: codes[int(i)%len(codes)], Count: 1,
			ScanID: fmt.Sprintf("bench-cut-%d", i), Device: fmt.Sprintf("dev-%d", w)})
		m, err := env.scanConn(w).Request(subject, data, 30*time.Second)
		if err != nil {
			return err
		}
		var res scheduler.ScanResult
		if err := json.Unmarshal(m.Data, &res); err != nil || res.Decision == "" {
			return fmt.Errorf("bench: scan reply %s (%v)", m.Data, err)
		}
		n, _ := decisions.LoadOrStore(string(res.Decision)+"/"+res.Reason, new(atomic.Int64))
		n.(*atomic.Int64).Add(1)
		return nil
	}
	// Scans sent without pause while the cut applies; those sent between
	// the cut's command and its answer are counted.
	var (
		mu       sync.Mutex // guards lat
		lat      []time.Duration
		from, to atomic.Int64 // unix nanoseconds of the cut's command and answer (0: not yet)
		stop     atomic.Bool
		wg       sync.WaitGroup
		errs     = make([]error, cutScanDevices)
	)
	for w := range cutScanDevices {
		wg.Go(func() {
			for !stop.Load() {
				t0 := time.Now()
				if err := scan(w); err != nil {
					errs[w] = err
					return
				}
				if f := from.Load(); f != 0 && t0.UnixNano() >= f && (to.Load() == 0 || t0.UnixNano() < to.Load()) {
					mu.Lock()
					lat = append(lat, time.Since(t0))
					mu.Unlock()
				}
			}
		})
	}
	time.Sleep(300 * time.Millisecond) // the scans under way first
	start := time.Now()
	from.Store(start.UnixNano())
	res, err := env.eng.Do(ctx, scheduler.CutCapacity{ID: "bench-rain", Zone: "siq", Capacity: 600, From: first,
		Until: first.AddDate(0, 0, 7), Reason: "rain: slippery path", Source: "tafweej bench"})
	took := time.Since(start)
	to.Store(time.Now().UnixNano())
	stop.Store(true)
	wg.Wait()
	if err != nil || res.Err != nil {
		return out, fmt.Errorf("bench: the 7-day cut (%s): %v %v", how, err, res.Err)
	}
	for _, err := range errs {
		if err != nil {
			return out, err
		}
	}
	if len(lat) == 0 {
		return out, fmt.Errorf("bench: no scan was sent while the 7-day cut applied (%s, %v)", how, took)
	}
	out.lat, out.cutSeconds, out.replanned = lat, took.Seconds(), res.Cut.Replanned
	out.perSec = float64(len(lat)) / took.Seconds()
	var ds []string
	decisions.Range(func(k, v any) bool {
		ds = append(ds, fmt.Sprintf("%s %d", k, v.(*atomic.Int64).Load()))
		return true
	})
	// Then as many scans with nothing else running: the figure to compare
	// with.
	idle := make([][]byte, max(len(lat), 100))
	out.idlePerSec, out.idleLat, err = requestBenchW(cutScanDevices, idle, func(w int, _ []byte) error { return scan(w) })
	if err != nil {
		return out, err
	}
	logf("scans during a 7-day cut (%s): cut answered in %.2fs (moved %d, cancelled %d) on %d bookings; %d scans meanwhile, p50 %.1f ms, p99 %.1f ms, max %.1f ms; %.0f scans/s without a cut (decisions: %s)",
		how, out.cutSeconds, out.replanned.Moved, out.replanned.Cancelled, out.bookings, len(lat), quantileMs(lat, 0.5), quantileMs(lat, 0.99), quantileMs(lat, 1), out.idlePerSec, strings.Join(ds, ", "))
	return out, nil
}

// benchHajjClosure books the Hajj-sized day first come, closes level 1 of
// the bridge from 06:00 to 20:00, and re-plans the groups it hits as the
// engine does (ReplanJobs, the planner, ApplyReplan); then the same with
// first come alone, on the same state.
func benchHajjClosure(logf func(string, ...any)) (Row, error) {
	cfg := plantest.HajjConfig()
	hday := time.Date(2027, 5, 16, 0, 0, 0, 0, cfg.Location())
	date := hday.Format(time.DateOnly)
	s := scheduler.New(cfg)
	booked := 0
	for _, q := range plantest.HajjRequests(cfg, 1_000_000) {
		res, _ := s.Apply(hday.Add(-12*time.Hour), scheduler.Book{ID: q.ID, Operator: q.Operator, Request: scheduler.BookingRequest{
			Date: date, Route: q.Route, PartySize: q.PartySize, Window: q.Window}})
		if res.Err == nil {
			booked++
		}
	}
	snap := s.Snapshot()
	at, until := hday.Add(6*time.Hour), hday.Add(20*time.Hour)
	const reason = "crowd density on level 1"
	type outcome struct {
		secs, planSecs, applySecs float64
		groups, hit, kept         int
		iterations                int
	}
	run := func(planned bool) (outcome, error) {
		var o outcome
		st, err := scheduler.Restore(cfg, snap)
		if err != nil {
			return o, err
		}
		st.SetReplanOffLoop(true)
		start := time.Now()
		res, _ := st.Apply(at, scheduler.Close{ID: "level-1", Zones: []string{"level-1"}, Reason: reason, Until: until})
		if res.Err != nil {
			return o, res.Err
		}
		step := scheduler.ApplyStep{Closure: "level-1"}
		jobs, err := st.ReplanJobs(at, step, 0)
		if err != nil {
			return o, err
		}
		for _, j := range jobs {
			var plan *scheduler.PlanResult
			if planned && j.Err == nil {
				t0 := time.Now()
				p, err := scheduler.PlanInstance(j.Instance, j.Options)
				if err != nil {
					return o, err
				}
				o.planSecs += time.Since(t0).Seconds()
				plan = &p
				o.iterations += j.Options.Iterations
			}
			o.groups += j.Groups
			t0 := time.Now()
			if res, _ := st.Apply(at, scheduler.ApplyReplan{Step: step, Date: j.Date, Plan: plan}); res.Err != nil {
				return o, res.Err
			}
			o.applySecs += time.Since(t0).Seconds()
		}
		o.secs = time.Since(start).Seconds()
		for _, b := range st.Bookings("", date) {
			if b.Reason == "closure: "+reason {
				o.hit += b.PartySize
				if b.Active() {
					o.kept += b.PartySize
				}
			}
		}
		return o, nil
	}
	pl, err := run(true)
	if err != nil {
		return Row{}, fmt.Errorf("bench: Hajj-sized closure: %w", err)
	}
	fc, err := run(false)
	if err != nil {
		return Row{}, fmt.Errorf("bench: Hajj-sized closure, first come: %w", err)
	}
	logf("re-plan after a closure, Hajj-sized day: %d groups hit (%d visitors), %.2fs (planner %.2fs, in the loop %.2fs): %d visitors kept, first come %d",
		pl.groups, pl.hit, pl.secs, pl.planSecs, pl.applySecs, pl.kept, fc.kept)
	row := Row{Name: "re-plan after a closure, Hajj-sized day",
		Tafweej: Figure{What: fmt.Sprintf("a closure of level 1 of the bridge, 06:00-20:00, on the Hajj-sized day booked first come (%d groups): its %d hit groups re-planned as the engine does (jobs, planner off the loop, plan applied and checked)", booked, pl.groups),
			Value: pl.secs, Unit: "s", N: pl.groups, Reps: 1},
		Extra: map[string]float64{
			"hit_groups":               float64(pl.groups),
			"hit_visitors":             float64(pl.hit),
			"visitors_kept":            float64(pl.kept),
			"first_come_visitors_kept": float64(fc.kept),
			"kept_vs_first_come":       float64(pl.kept) / float64(max(fc.kept, 1)),
			"planner_seconds":          pl.planSecs,
			"in_loop_seconds":          pl.applySecs,
			"first_come_seconds":       fc.secs,
			"iterations":               float64(pl.iterations),
		},
		Note: fmt.Sprintf("goal ≤ 2 s and never fewer visitors than first come: %d kept against %d", pl.kept, fc.kept),
	}
	if pl.kept < fc.kept {
		return row, fmt.Errorf("bench: the Hajj-sized closure's re-plan kept %d visitors, fewer than first come's %d", pl.kept, fc.kept)
	}
	return row, nil
}
