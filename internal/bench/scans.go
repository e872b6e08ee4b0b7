package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tafweej/tafweej/internal/subjects"
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

// benchScans books a morning of groups on a day of its own, moves the
// clock into it and sends scans of one visitor each over NATS from gates
// devices at once, each device sending its next scan when the last is
// answered.
func benchScans(ctx context.Context, env *benchEnv, gates, n, reps, level int, logf func(string, ...any)) (Row, error) {
	var tf, raw, bare []float64
	var tlat, rlat, blat []time.Duration
	var cpuTaf, cpuDur time.Duration // the process's CPU time in each figure's rounds
	stop, err := startScanLimits(env)
	if err != nil {
		return Row{}, err
	}
	defer stop()
	decisions := map[string]int{}
	var mu sync.Mutex // guards decisions
	booked := 0
	for r := range reps {
		// Each repetition on a day of its own, so that every scan can admit.
		codes, err := bookMorning(ctx, env, benchBase(env.cfg.Location()).AddDate(0, 0, 1+level*reps+r), fmt.Sprintf("%d_%d", level, r))
		if err != nil {
			return Row{}, err
		}
		booked += len(codes)
		logf("scans at %d gate(s) rep %d/%d: %d visitors booked, %d scans", gates, r+1, reps, len(codes), n)
		reqs := make([][]byte, n)
		for i := range reqs {
			reqs[i], _ = json.Marshal(scheduler.ScanRequest{Ticket: codes[i%len(codes)], Count: 1,
				ScanID: fmt.Sprintf("bench-%d-%d-%d", level, r, i), Device: fmt.Sprintf("dev-%d", i%gates)})
		}
		subject := subjects.For(env.cfg.Site).GateScan("visitor-centre")
		tafweej := func(reqs [][]byte) (float64, []time.Duration, error) {
			return requestBenchW(gates, reqs, func(w int, data []byte) error {
				m, err := env.scanConn(w).Request(subject, data, 10*time.Second)
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
		}
		// The limits, on the same server, with the same requests and
		// concurrency, from the service user's connection (a registered
		// gate device may only publish its gate's scans): the durable responder makes
		// one synced Badger write per request before it answers (every
		// admission is durable before its reply), the bare one answers at
		// once.
		limit := func(subj string) func(reqs [][]byte) (float64, []time.Duration, error) {
			return func(reqs [][]byte) (float64, []time.Duration, error) {
				return requestBenchW(gates, reqs, func(w int, data []byte) error {
					_, err := env.client.Request(subj, data, 10*time.Second)
					return err
				})
			}
		}
		var sTaf, sDur, sBare scanSample
		// Interleaved in rounds, so that all three see the same disk and
		// the same load.
		for _, chunk := range chunks(reqs, gates) {
			cpu0 := processCPU()
			if err := sTaf.add(tafweej(chunk)); err != nil {
				return Row{}, err
			}
			cpu1 := processCPU()
			if err := sDur.add(limit("bench.durable.visitor-centre.scan")(chunk)); err != nil {
				return Row{}, err
			}
			cpuTaf, cpuDur = cpuTaf+cpu1-cpu0, cpuDur+processCPU()-cpu1
			if err := sBare.add(limit("bench.gate.visitor-centre.scan")(chunk)); err != nil {
				return Row{}, err
			}
		}
		tf = append(tf, sTaf.rate())
		raw = append(raw, sDur.rate())
		bare = append(bare, sBare.rate())
		tlat, rlat, blat = append(tlat, sTaf.lat...), append(rlat, sDur.lat...), append(blat, sBare.lat...)
		logf("scans at %d gate(s) rep %d/%d: %.0f decisions/s, durable responder %.0f/s, bare request/reply %.0f/s", gates, r+1, reps, tf[r], raw[r], bare[r])
	}
	admitted := decisions["admit/ok"]
	row := ratioRow(fmt.Sprintf("gate scans, %d gate(s)", gates),
		Figure{What: fmt.Sprintf("scan decisions/s over NATS request/reply, %d device(s) in parallel, real signed tickets, each decision a synced commit", gates),
			Value: median(tf), Unit: "scans/s", N: n, Reps: reps, P50Ms: quantileMs(tlat, 0.5), P99Ms: quantileMs(tlat, 0.99), Concurrency: gates},
		Figure{What: "durable limit: NATS request/reply to a responder that makes one synced Badger write (one 256-byte record, store.RawDB) per request before it answers, each on its own goroutine (Badger writes concurrent transactions in one batch but syncs its log once per transaction), same server, same requests and concurrency, interleaved with the scans in rounds",
			Value: median(raw), Unit: "req/s", N: n, Reps: reps, P50Ms: quantileMs(rlat, 0.5), P99Ms: quantileMs(rlat, 0.99), Concurrency: gates, Durable: true})
	row.RawBare = &Figure{What: "bare NATS request/reply to a responder answering at once (no write), same server, same requests and concurrency, interleaved",
		Value: median(bare), Unit: "req/s", N: n, Reps: reps, P50Ms: quantileMs(blat, 0.5), P99Ms: quantileMs(blat, 0.99), Concurrency: gates}
	total := 0
	for _, v := range decisions {
		total += v
	}
	row.Extra = map[string]float64{"visitors_booked": float64(booked), "admitted": float64(admitted), "decisions": float64(total)}
	if cpuTaf > 0 && cpuDur > 0 {
		// What a scan and a durable request cost the process in CPU (both
		// sides: the devices' client, NATS, the service or the responder,
		// Badger), which other load on the machine does not change much:
		// on 2 cores, the higher of the two bounds its figure's rate.
		row.Extra["cpu_us_per_scan"] = float64(cpuTaf.Microseconds()) / float64(n*reps)
		row.Extra["cpu_us_per_durable_request"] = float64(cpuDur.Microseconds()) / float64(n*reps)
	}
	if admitted < total {
		var other []string
		for _, k := range slices.Sorted(maps.Keys(decisions)) {
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

// scanReply is what the limits' responders answer: a reply of the size of
// an admission's.
var scanReply = []byte(`{"decision":"admit","reason":"ok","admitted":1,"remaining":59,"booking":"bk_x","slot":"2026-12-01T08:00:00+03:00","gate":"visitor-centre","retry_at":null,"message":{"en":"Welcome — wave 08:00","ar":"أهلاً وسهلاً — فوج ٠٨:٠٠"}}`)

// startScanLimits starts the two limits' responders on the service's
// connection: bench.gate.*.scan answers at once, bench.durable.*.scan
// after one synced write to a raw Badger database on the same disk. Each
// request is handled on its own goroutine, as the service's gate
// responder does. stop unsubscribes and closes the database.
func startScanLimits(env *benchEnv) (stop func(), err error) {
	db, err := store.OpenRaw(env.dir)
	if err != nil {
		return nil, err
	}
	var wg sync.WaitGroup
	bare, err := env.nc.QueueSubscribe("bench.gate.*.scan", "bench", func(m *nats.Msg) { _ = m.Respond(scanReply) })
	if err != nil {
		db.Close()
		return nil, err
	}
	durable, err := env.nc.QueueSubscribe("bench.durable.*.scan", "bench", func(m *nats.Msg) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if db.Write() == nil {
				_ = m.Respond(scanReply)
			}
		}()
	})
	if err != nil {
		bare.Unsubscribe()
		db.Close()
		return nil, err
	}
	if err := env.nc.Flush(); err != nil {
		bare.Unsubscribe()
		durable.Unsubscribe()
		db.Close()
		return nil, err
	}
	return func() {
		bare.Unsubscribe()
		durable.Unsubscribe()
		wg.Wait()
		db.Close()
	}, nil
}

// scanSample adds up the rounds of one figure.
type scanSample struct {
	n    int
	took time.Duration
	lat  []time.Duration
}

func (s *scanSample) add(perSec float64, lat []time.Duration, err error) error {
	if err != nil {
		return err
	}
	s.n += len(lat)
	s.took += time.Duration(float64(len(lat)) / perSec * float64(time.Second))
	s.lat = append(s.lat, lat...)
	return nil
}

func (s *scanSample) rate() float64 { return float64(s.n) / s.took.Seconds() }

// chunks splits reqs into the rounds of an interleaved measurement by
// gates devices (rounds(len(reqs), gates) long).
func chunks(reqs [][]byte, gates int) [][][]byte {
	var out [][][]byte
	i := 0
	for _, m := range rounds(len(reqs), gates) {
		out = append(out, reqs[i:i+m])
		i += m
	}
	return out
}

// requestBench sends reqs from workers goroutines, each sending its next
// request when the last is answered; it returns the requests per second
// and every latency.
func requestBench(workers int, reqs [][]byte, do func([]byte) error) (float64, []time.Duration, error) {
	return requestBenchW(workers, reqs, func(_ int, data []byte) error { return do(data) })
}

// requestBenchW is requestBench with the worker's index given to do.
func requestBenchW(workers int, reqs [][]byte, do func(w int, data []byte) error) (float64, []time.Duration, error) {
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
				if err := do(w, reqs[i]); err != nil {
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
