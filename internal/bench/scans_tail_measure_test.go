package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/tafweej/tafweej/internal/subjects"
	"github.com/tafweej/tafweej/internal/testenv/stack"
	"github.com/tafweej/tafweej/scheduler"
)

// TestMeasureScanTail runs the 1-gate scan row's workload (a morning
// booked, then its tickets scanned one visitor at a time, interleaved in
// rounds with the durable limit as benchScans does) and lists the
// slowest 1% of each side with what was going on: the scan's decision,
// whether it was its group's first (the metering check made afresh),
// its round, and any GC pause ending while it was in flight. To find
// where the row's p99 comes from:
//
//	TAFWEEJ_SCAN_TAIL=900 go test -run TestMeasureScanTail -v ./internal/bench
//
// The value is the scans per repetition; TAFWEEJ_SCAN_REPS the
// repetitions (default 3). Skipped unless set.
func TestMeasureScanTail(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("TAFWEEJ_SCAN_TAIL"))
	if n <= 0 {
		t.Skip("set TAFWEEJ_SCAN_TAIL=<scans per repetition> to measure")
	}
	reps, _ := strconv.Atoi(os.Getenv("TAFWEEJ_SCAN_REPS"))
	if reps <= 0 {
		reps = 3
	}
	ctx := context.Background()
	env, err := startBenchEnv(ctx, stack.Petra(t), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer env.stop()
	stop, err := startScanLimits(env)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	type req struct {
		side     string // "tafweej" or "durable"
		i, round int
		first    bool // the first scan of its group
		what     string
		start    time.Time
		took     time.Duration
		minute   time.Time // the bench clock's minute at the start
	}
	subject := subjects.For(env.cfg.Site).GateScan("visitor-centre")
	for r := range reps {
		codes, err := bookMorning(ctx, env, benchBase(env.cfg.Location()).AddDate(0, 0, 1+r), fmt.Sprintf("tail_%d", r))
		if err != nil {
			t.Fatal(err)
		}
		var all []req
		reqs := make([][]byte, n)
		for i := range reqs {
			reqs[i], _ = json.Marshal(scheduler.ScanRequest{Ticket: codes[i%len(codes)], Count: 1,
				ScanID: fmt.Sprintf("tail-%d-%d", r, i), Device: "dev-0"})
		}
		debug.FreeOSMemory() // each repetition starts after a collection
		i := 0
		for round, chunk := range chunks(reqs, 1) {
			for j, data := range chunk {
				q := req{side: "tafweej", i: i + j, round: round, first: (i+j)%60 == 0, start: time.Now(), minute: env.clock.Now().Truncate(time.Minute)}
				m, err := env.scanConn(0).Request(subject, data, 10*time.Second)
				q.took = time.Since(q.start)
				if err != nil {
					t.Fatal(err)
				}
				var res scheduler.ScanResult
				if err := json.Unmarshal(m.Data, &res); err != nil {
					t.Fatal(err)
				}
				q.what = string(res.Decision) + "/" + res.Reason
				all = append(all, q)
			}
			for j, data := range chunk {
				q := req{side: "durable", i: i + j, round: round, start: time.Now(), what: "write"}
				if _, err := env.client.Request("bench.durable.visitor-centre.scan", data, 10*time.Second); err != nil {
					t.Fatal(err)
				}
				q.took = time.Since(q.start)
				all = append(all, q)
			}
			i += len(chunk)
		}
		var gc debug.GCStats
		gc.PauseQuantiles = make([]time.Duration, 5)
		debug.ReadGCStats(&gc)
		pauseIn := func(q req) string {
			for k, end := range gc.PauseEnd {
				if !end.Before(q.start) && !end.After(q.start.Add(q.took)) {
					return fmt.Sprintf("GC pause %v ending %v in", gc.Pause[k], end.Sub(q.start))
				}
			}
			return ""
		}
		for _, side := range []string{"tafweej", "durable"} {
			var s []req
			var lat []time.Duration
			byWhat := map[string][]time.Duration{}
			for _, q := range all {
				if q.side == side {
					s = append(s, q)
					lat = append(lat, q.took)
					k := q.what
					if q.first {
						k += " (first of group)"
					}
					byWhat[k] = append(byWhat[k], q.took)
				}
			}
			t.Logf("rep %d %s: p50 %.2f ms p90 %.2f p99 %.2f max %.2f", r+1, side, quantileMs(lat, 0.5), quantileMs(lat, 0.9), quantileMs(lat, 0.99), quantileMs(lat, 1))
			for _, k := range slices.Sorted(func(yield func(string) bool) {
				for k := range byWhat {
					if !yield(k) {
						return
					}
				}
			}) {
				v := byWhat[k]
				t.Logf("  %-36s %4d  p50 %.2f ms p90 %.2f max %.2f", k, len(v), quantileMs(v, 0.5), quantileMs(v, 0.9), quantileMs(v, 1))
			}
			slices.SortFunc(s, func(a, b req) int { return int(b.took - a.took) })
			for _, q := range s[:max(len(s)/100, 1)+1] {
				t.Logf("  slow: #%d round %d %.2f ms %s first=%v minute %s %s", q.i, q.round, float64(q.took)/1e6, q.what, q.first, q.minute.Format("15:04"), pauseIn(q))
			}
		}
		t.Logf("rep %d: %d GCs so far, last pauses %v", r+1, gc.NumGC, gc.Pause[:min(len(gc.Pause), 8)])
	}
}
