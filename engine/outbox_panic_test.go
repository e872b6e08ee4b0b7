package engine

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

// panickyOutbox panics while staging every turn's deliveries.
type panickyOutbox struct{ committed int }

func (*panickyOutbox) Stage(*scheduler.State, []scheduler.Effect, []scheduler.Event) []store.WebhookDelivery {
	panic("outbox bug")
}
func (o *panickyOutbox) Committed(out []store.WebhookDelivery) { o.committed += len(out) }

// TestPanickingOutboxNeverCostsTheChange: the webhook outbox runs on the
// owner loop; if it panics, the change is still made and stored, the panic
// is counted under "outbox", and the loop goes on serving.
func TestPanickingOutboxNeverCostsTheChange(t *testing.T) {
	cfg := petra(t)
	st := openStore(t, t.TempDir())
	defer st.Close()
	reg := prometheus.NewRegistry()
	ob := &panickyOutbox{}
	e, err := New(Options{Config: cfg, Store: st, Clock: NewManualClock(time.Date(2026, 11, 29, 10, 0, 0, 0, cfg.Location())),
		Registerer: reg, Outbox: ob})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	for i, id := range []string{"bk1", "bk2"} {
		res, err := e.Do(ctx, scheduler.Book{ID: id, Operator: "op1", Request: scheduler.BookingRequest{
			Date: "2026-12-01", Route: "main", PartySize: 10, Window: scheduler.Window{From: 8 * 60, To: 12 * 60}}})
		if err != nil || res.Err != nil {
			t.Fatalf("booking %d: %v %v", i, err, res.Err)
		}
	}
	snap, err := st.Load()
	if err != nil || len(snap.Bookings) != 2 {
		t.Fatalf("stored %d bookings (%v), want 2", len(snap.Bookings), err)
	}
	if n := testutil.ToFloat64(e.panics.total.WithLabelValues("outbox")); n != 2 {
		t.Errorf("tafweej_panics_total{where=outbox} %v, want 2", n)
	}
	if ob.committed != 0 {
		t.Errorf("%d deliveries handed on from a panicking outbox", ob.committed)
	}
}
