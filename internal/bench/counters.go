package bench

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/sensors"
)

func benchCounters(ctx context.Context, env *benchEnv, n, reps int, logf func(string, ...any)) (Row, error) {
	js, err := jetstream.New(env.client)
	if err != nil {
		return Row{}, err
	}
	var counters []*sensors.Counter
	for _, s := range env.cfg.Sensors {
		cjs, err := env.counterJS(js, s.ID)
		if err != nil {
			return Row{}, err
		}
		c := sensors.NewCounter(cjs, env.cfg.Site, s.ID, s.Zone, env.boot())
		c.Now = env.clock.Now
		counters = append(counters, c)
	}
	// Raw: a stream of its own on the same server, a durable pull consumer
	// acking every message.
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: "BENCH_RAW", Subjects: []string{"bench.raw.>"},
		Storage: jetstream.FileStorage, Duplicates: 2 * time.Minute}); err != nil {
		return Row{}, fmt.Errorf("bench: raw stream: %w", err)
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, "BENCH_RAW", jetstream.ConsumerConfig{Durable: "bench",
		AckPolicy: jetstream.AckExplicitPolicy, MaxAckPending: 4096})
	if err != nil {
		return Row{}, fmt.Errorf("bench: raw consumer: %w", err)
	}
	body := []byte(`{"sensor":"siq-n1","zone":"siq","boot":"bench","seq":1,"in_total":18342,"out_total":17790,"at":"2026-12-01T07:00:00+03:00"}`)
	var tf, raw []float64
	var pubSec []float64 // Tafweej's repetitions: until the last publish was acknowledged
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
			pubSec = append(pubSec, time.Since(start).Seconds())
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
				m.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("raw-%s-%d-%d", env.boot(), r, i))
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
			return Row{}, err
		}
		if err := second(); err != nil {
			return Row{}, err
		}
		logf("counters rep %d/%d: %.0f msgs/s end to end (the last published after %.2f s, applied %.0f ms later), raw JetStream %.0f msgs/s",
			r+1, reps, tf[r], pubSec[r], 1e3*(float64(n)/tf[r]-pubSec[r]), raw[r])
	}
	return ratioRow("counter messages",
		Figure{What: fmt.Sprintf("counter readings applied/s end to end: %d sensors publish (sync ack) to JetStream, consumer, owner loop, Badger checkpoint", len(counters)),
			Value: median(tf), Unit: "msgs/s", N: n, Reps: reps, Concurrency: len(counters)},
		Figure{What: fmt.Sprintf("raw JetStream publish (sync ack, %d publishers) + pull consume with ack, separate stream, same server", len(counters)),
			Value: median(raw), Unit: "msgs/s", N: n, Reps: reps, Concurrency: len(counters)}), nil
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
