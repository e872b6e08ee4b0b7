package scheduler

import (
	"strings"
	"testing"
)

// TestPartialScanMessageSaysHowManyMayEnter: a gate device that shows
// only the answer's message must not greet a whole scan of which only part
// may pass. A partial admission says, in both languages, how many of the
// scan may enter and that the rest of the group is already in.
func TestPartialScanMessageSaysHowManyMayEnter(t *testing.T) {
	cfg := petra(t)
	s := New(cfg)
	res, _ := s.Apply(testNow(cfg), Book{ID: "bk-1", Operator: "op-a",
		Request: BookingRequest{Date: "2026-12-01", Route: "main", PartySize: 20, Window: Window{hm(9, 0), hm(10, 0)}}})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	b := *res.Booking
	sc := Scan{Gate: b.Gate, Ticket: Ticket{Booking: b.ID}, Count: 12}
	if first, _ := s.Apply(b.Slot, sc); first.Scan.Decision != DecisionAdmit || first.Scan.Message.EN != "Welcome — wave 09:00" {
		t.Fatalf("first scan of 12: %+v, want admit with the welcome", first.Scan)
	}
	second, _ := s.Apply(b.Slot, sc)
	got := second.Scan
	if got.Decision != DecisionPartial || got.Admitted != 8 {
		t.Fatalf("second scan of 12: %+v, want partial, 8 admitted", got)
	}
	for _, want := range []string{"8 of 12", "already in", "09:00"} {
		if !strings.Contains(got.Message.EN, want) {
			t.Errorf("English message %q does not say %q", got.Message.EN, want)
		}
	}
	for _, want := range []string{"٨", "١٢", "٠٩:٠٠"} {
		if !strings.Contains(got.Message.AR, want) {
			t.Errorf("Arabic message %q does not say %q", got.Message.AR, want)
		}
	}
}
