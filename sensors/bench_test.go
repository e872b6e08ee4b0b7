package sensors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tafweej/tafweej/scheduler"
)

// Benchmarks; run with e.g.
//
//	go test ./sensors -run '^$' -bench . -benchtime 5000x
//
// The embedded server syncs every JetStream write (SyncAlways), as in
// production, so both counter benchmarks include an fsync per message on
// the JetStream side.

// publishAsync publishes msgs with at most 256 acknowledgements pending
// and waits for all of them.
func publishAsync(b *testing.B, js jetstream.JetStream, msgs []*nats.Msg) {
	b.Helper()
	for _, m := range msgs {
		for {
			_, err := js.PublishMsgAsync(m)
			if err == nil {
				break
			}
			if !errors.Is(err, jetstream.ErrTooManyStalledMsgs) {
				b.Fatal(err)
			}
			// 256 acknowledgements are pending: wait for some.
			time.Sleep(time.Millisecond)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(60 * time.Second):
		b.Fatal("publish acknowledgements not received within 60s")
	}
}

// BenchmarkCounterEndToEnd: counter messages published to JetStream,
// consumed by the service, applied by the owner loop and checkpointed in
// Badger, from the first publish to the last checkpoint; the petra
// configuration's 20 sensors take turns.
func BenchmarkCounterEndToEnd(b *testing.B) {
	h := newHarness(b, harnessOptions{})
	h.at("09:00")
	js, err := jetstream.New(h.client, jetstream.WithPublishAsyncMaxPending(256))
	if err != nil {
		b.Fatal(err)
	}
	var counters []*Counter
	for _, s := range h.cfg.Sensors {
		c := NewCounter(js, "petra", s.ID, s.Zone, "bench")
		c.Now = h.clock.Now
		counters = append(counters, c)
	}
	msgs := make([]*nats.Msg, b.N)
	for i := range msgs {
		c := counters[i%len(counters)]
		c.Add(2, 1)
		msgs[i], _ = c.next()
	}
	b.ResetTimer()
	start := time.Now()
	publishAsync(b, js, msgs)
	for {
		done := true
		if err := h.eng.Read(context.Background(), func(s *scheduler.State, _ time.Time) {
			seq := map[string]uint64{}
			for _, st := range s.Sensors() {
				seq[st.Sensor] = st.Seq
			}
			for _, c := range counters {
				if seq[c.sensor] != c.seq {
					done = false
				}
			}
		}); err != nil {
			b.Fatal(err)
		}
		if done {
			break
		}
		if time.Since(start) > 2*time.Minute {
			b.Fatal("counter messages not all applied within 2 minutes")
		}
		time.Sleep(2 * time.Millisecond)
	}
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/el.Seconds(), "msgs/s")
	if v := h.metric("tafweej_sensor_messages_total", "result", "applied"); v != float64(b.N) {
		b.Fatalf("%v applied, want %d", v, b.N)
	}
}

// BenchmarkRawJetStream: the same server, publish and consume with a
// durable pull consumer acking every message, nothing else.
func BenchmarkRawJetStream(b *testing.B) {
	ns := runNATS(b)
	nc, err := nats.Connect(ns.ClientURL(), ns.auth.ServiceOption())
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(256))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "BENCH", Subjects: []string{"bench.>"},
		Storage: jetstream.FileStorage, Duplicates: 2 * time.Minute}); err != nil {
		b.Fatal(err)
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, "BENCH", jetstream.ConsumerConfig{Durable: "bench",
		AckPolicy: jetstream.AckExplicitPolicy, MaxAckPending: maxAckPending})
	if err != nil {
		b.Fatal(err)
	}
	msgs := make([]*nats.Msg, b.N)
	body, _ := json.Marshal(counterJSON{Sensor: "siq-n1", Zone: "siq", Boot: "bench", Seq: 1, InTotal: 18342, OutTotal: 17790, At: time.Now().Format(time.RFC3339)})
	for i := range msgs {
		msgs[i] = &nats.Msg{Subject: fmt.Sprintf("bench.counter.%d", i%20), Data: body, Header: nats.Header{}}
		msgs[i].Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("s%d:bench:%d", i%20, i))
	}
	b.ResetTimer()
	start := time.Now()
	got := make(chan int, 1)
	go func() {
		n := 0
		for n < b.N {
			batch, err := cons.Fetch(fetchBatch, jetstream.FetchMaxWait(fetchWait))
			if err != nil {
				continue
			}
			for m := range batch.Messages() {
				_ = m.Ack()
				if n++; n == b.N {
					break // the batch's fetch may still be waiting for more
				}
			}
		}
		got <- n
	}()
	publishAsync(b, js, msgs)
	select {
	case <-got:
	case <-time.After(2 * time.Minute):
		b.Fatal("not all consumed within 2 minutes")
	}
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/el.Seconds(), "msgs/s")
}

// BenchmarkScan: gate scans over NATS request/reply from 1, 10 and 100
// gates (devices) at once, each sending its next scan when the last is
// answered, with p50/p99 latency; "raw" is a NATS responder that answers
// at once, on the same server. Every scan has its own scan_id, so every
// one is a synced commit (an admission, or the scan record of an
// already_used group).
func BenchmarkScan(b *testing.B) {
	for _, gates := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("tafweej/gates=%d", gates), func(b *testing.B) {
			h := newHarness(b, harnessOptions{})
			var codes []string
			for i := range 10 {
				bk := h.book(fmt.Sprintf("op-%d", i%2), "main", "", 12, "08:00", "08:15")
				codes = append(codes, h.signer.Code(bk))
			}
			h.at("08:05")
			latencyBench(b, gates, func(g, i int) []byte {
				data, _ := json.Marshal(scheduler.ScanRequest{Ticket: codes[g%len(codes)], ScanID: fmt.Sprintf("b%d-g%d-%d", b.N, g, i), Device: fmt.Sprintf("dev%d", g)})
				return data
			}, func(data []byte) error {
				m, err := h.client.Request("tafweej.petra.gate.visitor-centre.scan", data, 10*time.Second)
				if err != nil {
					return err
				}
				var r scheduler.ScanResult
				if err := json.Unmarshal(m.Data, &r); err != nil || r.Decision == "" || r.Reason == "bad_request" {
					return fmt.Errorf("reply %s (%v)", m.Data, err)
				}
				return nil
			})
		})
		b.Run(fmt.Sprintf("raw/gates=%d", gates), func(b *testing.B) {
			ns := runNATS(b)
			srv, err := nats.Connect(ns.ClientURL(), ns.auth.ServiceOption())
			if err != nil {
				b.Fatal(err)
			}
			defer srv.Close()
			reply := []byte(`{"decision":"admit","reason":"ok","admitted":1,"remaining":11,"booking":"bk_x","slot":"2026-12-01T08:00:00+03:00","gate":"visitor-centre","retry_at":null,"message":{"en":"Welcome — wave 08:00","ar":"أهلاً وسهلاً — فوج ٠٨:٠٠"}}`)
			if _, err := srv.QueueSubscribe("tafweej.petra.gate.*.scan", gateQueue, func(m *nats.Msg) { _ = m.Respond(reply) }); err != nil {
				b.Fatal(err)
			}
			if err := srv.Flush(); err != nil {
				b.Fatal(err)
			}
			cl, err := nats.Connect(ns.ClientURL(), ns.auth.ServiceOption())
			if err != nil {
				b.Fatal(err)
			}
			defer cl.Close()
			latencyBench(b, gates, func(g, i int) []byte {
				data, _ := json.Marshal(scheduler.ScanRequest{Ticket: "TFW1.x.y", ScanID: fmt.Sprintf("g%d-%d", g, i)})
				return data
			}, func(data []byte) error {
				_, err := cl.Request("tafweej.petra.gate.visitor-centre.scan", data, 10*time.Second)
				return err
			})
		})
	}
}

// latencyBench runs b.N requests from gates goroutines and reports the
// p50 and p99 latency and the throughput.
func latencyBench(b *testing.B, gates int, mk func(g, i int) []byte, do func([]byte) error) {
	b.Helper()
	per := (b.N + gates - 1) / gates
	lat := make([][]time.Duration, gates)
	reqs := make([][][]byte, gates)
	for g := range gates {
		for i := range per {
			reqs[g] = append(reqs[g], mk(g, i))
		}
	}
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for g := range gates {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, r := range reqs[g] {
				t0 := time.Now()
				if err := do(r); err != nil {
					b.Error(err)
					return
				}
				lat[g] = append(lat[g], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	b.StopTimer()
	all := slices.Concat(lat...)
	if len(all) == 0 {
		return
	}
	slices.Sort(all)
	q := func(p float64) float64 { return float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(float64(len(all))/el.Seconds(), "scans/s")
	b.ReportMetric(0, "ns/op")
}
