package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tafweej/tafweej/scheduler"
)

// TestCapacityCutAndItsLiftSurviveRestarts: a cut and the bookings it moved survive a
// restart on the same Badger store with the same books; the cut can be
// lifted after the restart, and the lift survives the next one.
func TestCapacityCutAndItsLiftSurviveRestarts(t *testing.T) {
	dir := t.TempDir()
	cfg := petra(t)
	clk := NewManualClock(time.Date(2026, 11, 29, 10, 0, 0, 0, cfg.Location()))
	ctx := context.Background()
	var avail []scheduler.SlotRoom
	var before scheduler.Snapshot
	read := func(e *Engine) ([]scheduler.SlotRoom, scheduler.Snapshot) {
		var a []scheduler.SlotRoom
		var snap scheduler.Snapshot
		e.Read(ctx, func(s *scheduler.State, now time.Time) {
			a, _ = s.Availability(now, "2026-12-01", "main", "op-x")
			snap = s.Snapshot()
		})
		return a, snap
	}
	st := openStore(t, dir)
	r := runRecording(t, cfg, st, clk, nil, scheduler.PlanOptions{})
	for i := range 60 {
		res, err := r.e.Do(ctx, scheduler.Book{ID: fmt.Sprintf("bk%02d", i), Operator: fmt.Sprintf("op%d", i%10), Request: scheduler.BookingRequest{
			Date: "2026-12-01", Route: "main", PartySize: 40, Window: scheduler.Window{From: 6 * 60, To: 15 * 60}}})
		if err != nil || res.Err != nil {
			t.Fatal(err, res.Err)
		}
	}
	at := func(h int) time.Time { return time.Date(2026, 12, 1, h, 0, 0, 0, cfg.Location()) }
	res, err := r.e.Do(ctx, scheduler.CutCapacity{ID: "rain", Zone: "siq", Capacity: 500, From: at(8), Until: at(11), Reason: "rain", Source: "ops"})
	if err != nil || res.Err != nil {
		t.Fatal(err, res.Err)
	}
	avail, before = read(r.e)
	moved := 0
	for _, b := range before.Bookings {
		if strings.HasPrefix(b.Reason, "capacity cut: ") {
			moved++
		}
	}
	if moved == 0 {
		t.Fatal("the cut moved nobody")
	}
	r.stop()
	st.Close()

	st = openStore(t, dir)
	r = runRecording(t, cfg, st, clk, nil, scheduler.PlanOptions{})
	a2, after := read(r.e)
	if !reflect.DeepEqual(avail, a2) {
		t.Fatal("availability differs after the restart")
	}
	if b1, _ := json.Marshal(before); !bytes.Equal(b1, must(json.Marshal(after))) || len(after.Cuts) != 1 {
		t.Fatalf("state after the restart differs (cuts %+v)", after.Cuts)
	}
	if res, err := r.e.Do(ctx, scheduler.LiftCut{ID: "rain"}); err != nil || res.Err != nil {
		t.Fatal(err, res.Err)
	}
	r.stop()
	st.Close()

	st = openStore(t, dir)
	defer st.Close()
	r = runRecording(t, cfg, st, clk, nil, scheduler.PlanOptions{})
	var cuts []scheduler.CapacityCut
	r.e.Read(ctx, func(s *scheduler.State, now time.Time) { cuts = s.Cuts(now) })
	if len(cuts) != 0 {
		t.Fatalf("a lifted cut is in force after a restart: %+v", cuts)
	}
	a3, _ := read(r.e)
	for i := range a3 {
		if a3[i].Capacity != 300 {
			t.Fatalf("wave %s capacity %d after the lift", a3[i].Slot, a3[i].Capacity)
		}
	}
}
