package engine

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/tafweej/tafweej/internal/testenv"
	"github.com/tafweej/tafweej/scheduler"
)

// petraMetering is configs/petra.yaml with hold thresholds far below
// Petra's, so that the forecast must hold groups back at the gate.
func petraMetering(t *testing.T) *scheduler.Config {
	t.Helper()
	cfg, err := scheduler.ParseConfig(testenv.PetraYAML(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Policy.RequestWindow = nil
	for i := range cfg.Zones {
		z := &cfg.Zones[i]
		z.HoldAt = max(z.Capacity*30/100, 1)
		z.ReleaseAt = z.HoldAt / 2
	}
	data, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if cfg, err = scheduler.ParseConfig(data); err != nil {
		t.Fatalf("the edited configuration: %v", err)
	}
	return cfg
}

// TestHeldGroupKeepsItsRetryAcrossARestart: a group the forecast held
// back at the gate and told to come back at retry_at is, after a restart
// of the engine from the same store, still let in (or held again) when it
// comes back past its late grace — never turned away as too late or
// moved to another wave.
func TestHeldGroupKeepsItsRetryAcrossARestart(t *testing.T) {
	for _, rebook := range []bool{false, true} {
		t.Run(fmt.Sprintf("rebook_late=%v", rebook), func(t *testing.T) {
			heldGroupKeepsItsRetry(t, rebook)
		})
	}
}

func heldGroupKeepsItsRetry(t *testing.T, rebook bool) {
	dir := t.TempDir()
	cfg := petraMetering(t)
	cfg.Policy.RebookLate = rebook
	late := time.Duration(cfg.Policy.LateGraceMinutes) * time.Minute
	clk := NewManualClock(time.Date(2026, 11, 30, 10, 0, 0, 0, cfg.Location()))
	ctx := context.Background()
	st := openStore(t, dir)
	r := runRecording(t, cfg, st, clk, nil, scheduler.PlanOptions{})
	var booked []scheduler.Booking
	for i := range 60 {
		from := 6*60 + 15*(i%8)
		res, err := r.e.Do(ctx, scheduler.Book{ID: fmt.Sprintf("g%02d", i), Operator: scheduler.WalkInOperator, Request: scheduler.BookingRequest{
			Date: "2026-12-01", Route: "main", PartySize: 40, Window: scheduler.Window{From: from, To: from + 120}}})
		if err != nil {
			t.Fatal(err)
		}
		if res.Err != nil {
			continue // no room left in its window
		}
		booked = append(booked, *res.Booking)
	}
	slices.SortStableFunc(booked, func(a, b scheduler.Booking) int { return a.Slot.Compare(b.Slot) })
	// Each group comes at the end of its grace, until one is held back.
	var held scheduler.Booking
	var retry time.Time
	for i, b := range booked {
		clk.Set(b.Slot.Add(late - time.Minute))
		res, err := r.e.Do(ctx, scheduler.Scan{Gate: b.Gate, Device: "d1", ScanID: fmt.Sprintf("s%d", i), Ticket: scheduler.Ticket{Booking: b.ID}, Count: b.PartySize})
		if err != nil || res.Err != nil {
			t.Fatal(err, res.Err)
		}
		if res.Scan.Reason == scheduler.ReasonHeld && meters(r.e)[b.ID] {
			held, retry = b, *res.Scan.RetryAt
			break
		}
	}
	if held.ID == "" {
		t.Fatal("the forecast held no group back")
	}
	r.stop()
	st.Close()

	st = openStore(t, dir)
	defer st.Close()
	r = runRecording(t, cfg, st, clk, nil, scheduler.PlanOptions{})
	at := retry
	if grace := held.Slot.Add(late + time.Minute); at.Before(grace) {
		at = grace
	}
	clk.Set(at)
	var heldNow []string
	r.e.Read(ctx, func(s *scheduler.State, now time.Time) {
		for _, m := range s.Forecast(now).Held {
			heldNow = append(heldNow, m.Booking)
		}
	})
	if !slices.Contains(heldNow, held.ID) {
		t.Errorf("after the restart the forecast holds %v, not %s", heldNow, held.ID)
	}
	res, err := r.e.Do(ctx, scheduler.Scan{Gate: held.Gate, Device: "d1", ScanID: "back", Ticket: scheduler.Ticket{Booking: held.ID}, Count: held.PartySize})
	if err != nil || res.Err != nil {
		t.Fatal(err, res.Err)
	}
	switch res.Scan.Reason {
	case scheduler.ReasonOK, scheduler.ReasonHeld:
	default:
		t.Fatalf("%s (slot %s, told to come back at %s) came back at %s after a restart: %s, want admitted or held again",
			held.ID, held.Slot.Format("15:04"), retry.Format("15:04"), at.Format("15:04"), res.Scan.Reason)
	}
}

// meters are the groups the engine's forecast holds back now.
func meters(e *Engine) map[string]bool {
	out := map[string]bool{}
	e.Read(context.Background(), func(s *scheduler.State, now time.Time) {
		for _, m := range s.Forecast(now).Held {
			out[m.Booking] = true
		}
	})
	return out
}
