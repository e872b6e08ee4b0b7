package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/tafweej/tafweej/internal/testenv"
	"github.com/tafweej/tafweej/scheduler"
)

// TestRetriedScanGetsItsFirstReplyByteForByteAfterARestart: a gate scan
// retried with its scan_id is answered with the very bytes of its first
// reply, by the same engine and by one restarted from the same store (the
// scan record is stored compactly and its message rendered again on
// load: store/scanrecord.go), for every kind of reply: admitted, partly
// admitted, too early, wrong gate (a message naming a gate, kept as text),
// already used, cancelled, unknown ticket, unknown gate.
func TestRetriedScanGetsItsFirstReplyByteForByteAfterARestart(t *testing.T) {
	dir := t.TempDir()
	cfg, err := scheduler.ParseConfig(testenv.PetraYAML(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Policy.RequestWindow = nil
	clk := NewManualClock(time.Date(2026, 11, 30, 10, 0, 0, 0, cfg.Location()))
	ctx := context.Background()
	st := openStore(t, dir)
	r := runRecording(t, cfg, st, clk, nil, scheduler.PlanOptions{})
	do := func(c scheduler.Command) scheduler.Result {
		t.Helper()
		res, err := r.e.Do(ctx, c)
		if err != nil || res.Err != nil {
			t.Fatalf("%T: %v %v", c, err, res.Err)
		}
		return res
	}
	var bs []scheduler.Booking
	for i := range 3 {
		res := do(scheduler.Book{ID: fmt.Sprintf("bk_%d", i), Operator: "op-01",
			Request: scheduler.BookingRequest{Date: "2026-12-01", Route: "main", PartySize: 4, Language: "ar", Window: scheduler.Window{From: 9 * 60, To: 10 * 60}}})
		bs = append(bs, *res.Booking)
	}
	do(scheduler.Cancel{Operator: "op-01", ID: bs[2].ID})
	b := bs[0]
	scans := []struct {
		at   time.Time
		scan scheduler.Scan
		want string // the reason
	}{
		{b.Slot.Add(-2 * time.Hour), scheduler.Scan{Gate: b.Gate, Ticket: scheduler.Ticket{Booking: b.ID}, Count: 1}, scheduler.ReasonTooEarly},
		{b.Slot.Add(time.Minute), scheduler.Scan{Gate: "little-petra", Ticket: scheduler.Ticket{Booking: b.ID}, Count: 1}, scheduler.ReasonWrongGate},
		{b.Slot.Add(time.Minute + 1234567), scheduler.Scan{Gate: b.Gate, Ticket: scheduler.Ticket{Booking: b.ID}, Count: 3}, scheduler.ReasonOK},
		{b.Slot.Add(2 * time.Minute), scheduler.Scan{Gate: b.Gate, Ticket: scheduler.Ticket{Booking: b.ID}, Count: 2}, scheduler.ReasonOK},
		{b.Slot.Add(3 * time.Minute), scheduler.Scan{Gate: b.Gate, Ticket: scheduler.Ticket{Booking: b.ID}, Count: 1}, scheduler.ReasonAlreadyUsed},
		{b.Slot.Add(3 * time.Minute), scheduler.Scan{Gate: b.Gate, Ticket: scheduler.Ticket{Booking: bs[2].ID}, Count: 1}, scheduler.ReasonCancelled},
		{b.Slot.Add(3 * time.Minute), scheduler.Scan{Gate: b.Gate, Ticket: scheduler.Ticket{Booking: "bk_nobody"}, Count: 1}, scheduler.ReasonUnknownTicket},
		{b.Slot.Add(3 * time.Minute), scheduler.Scan{Gate: "back-door", Ticket: scheduler.Ticket{Booking: bs[1].ID}, Count: 1}, scheduler.ReasonUnknownGate},
		{bs[1].Slot, scheduler.Scan{Gate: bs[1].Gate, Ticket: scheduler.Ticket{Booking: bs[1].ID}, Count: 4}, scheduler.ReasonOK},
	}
	first := make([][]byte, len(scans))
	reply := func(i int) []byte {
		t.Helper()
		s := scans[i].scan
		s.Device, s.ScanID = "dev-1", fmt.Sprintf("scan-%d", i)
		res := do(s)
		out, err := json.Marshal(res.Scan)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	partial := false
	for i, sc := range scans {
		clk.Set(sc.at)
		first[i] = reply(i)
		var res scheduler.ScanResult
		if err := json.Unmarshal(first[i], &res); err != nil || res.Reason != sc.want {
			t.Fatalf("scan %d answered %s, want %s", i, first[i], sc.want)
		}
		partial = partial || res.Decision == scheduler.DecisionPartial
	}
	if !partial {
		t.Fatal("no scan was a partial admission")
	}
	check := func(when string) {
		t.Helper()
		for i := range scans {
			if got := reply(i); string(got) != string(first[i]) {
				t.Errorf("%s, scan %d retried answered\n%s\nfirst\n%s", when, i, got, first[i])
			}
		}
	}
	clk.Set(b.Slot.Add(30 * time.Minute))
	check("in the same engine")
	r.stop()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st = openStore(t, dir)
	defer st.Close()
	r = runRecording(t, cfg, st, clk, nil, scheduler.PlanOptions{})
	check("after a restart")
}
