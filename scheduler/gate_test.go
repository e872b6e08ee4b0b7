package scheduler

import (
	"reflect"
	"testing"
	"time"
)

// TestScanReasons: every admission rule of gate.go, one case each, on a
// group of 20 booked on the main trail for 1 December. The one reason the
// core never gives is invalid_signature: the gate adapter (sensors)
// verifies the ticket's signature before the core sees the scan.
func TestScanReasons(t *testing.T) {
	const date = "2026-12-01"
	type setup struct {
		s   *State
		b   Booking // as booked
		now time.Time
		sc  Scan // a full scan of the group at its gate, at its slot
	}
	// at books the group in the window from-to (minutes) and returns the
	// state, the booking and a scan of the whole group at its slot.
	at := func(t *testing.T, edit func(*Config), from, to int) setup {
		t.Helper()
		cfg := petra(t)
		if edit != nil {
			edit(cfg)
		}
		s := New(cfg)
		res, _ := s.Apply(testNow(cfg), Book{ID: "bk-1", Operator: "op-a",
			Request: BookingRequest{Date: date, Route: "main", PartySize: 20, Window: Window{from, to}}})
		if res.Err != nil {
			t.Fatalf("book: %v", res.Err)
		}
		b := *res.Booking
		return setup{s: s, b: b, now: b.Slot, sc: Scan{Gate: b.Gate, Ticket: Ticket{Booking: b.ID}, Count: 20}}
	}
	morning := func(t *testing.T) setup { return at(t, nil, hm(9, 0), hm(10, 0)) }
	// lastWave books the day's last wave, after which no wave is left to
	// move a group to.
	lastWave := func(t *testing.T, edit func(*Config)) setup {
		cfg := petra(t)
		day, _ := time.ParseInLocation(time.DateOnly, date, cfg.Location())
		_, last, _, ok := cfg.HoursOn(day)
		if !ok {
			t.Fatalf("no hours on %s", date)
		}
		return at(t, edit, last, last+cfg.SlotMinutes)
	}
	apply := func(t *testing.T, s *State, now time.Time, c Command) {
		t.Helper()
		if res, _ := s.Apply(now, c); res.Err != nil {
			t.Fatalf("%T: %v", c, res.Err)
		}
	}
	admit := func(t *testing.T, s *State, now time.Time, sc Scan, n int) {
		t.Helper()
		sc.Count = n
		if res, _ := s.Apply(now, sc); res.Scan.Admitted != n {
			t.Fatalf("admitting %d: %+v", n, res.Scan)
		}
	}
	noRebook := func(c *Config) { c.Policy.RebookLate = false }

	cases := []struct {
		name     string
		prepare  func(t *testing.T) setup
		decision string
		reason   string
		admitted int
		retry    func(u setup, res ScanResult) bool // nil: RetryAt must be nil
		moves    bool                               // the refusal moves the group to another wave
	}{
		{name: "admit", prepare: morning, decision: DecisionAdmit, reason: ReasonOK, admitted: 20},
		{name: "partial: more people than are left", prepare: func(t *testing.T) setup {
			u := morning(t)
			u.sc.Count = 25
			return u
		}, decision: DecisionPartial, reason: ReasonOK, admitted: 20},
		{name: "unknown gate, named as such", prepare: func(t *testing.T) setup {
			u := morning(t)
			u.sc.Gate = "no-such-gate"
			return u
		}, decision: DecisionReject, reason: ReasonUnknownGate},
		{name: "bad request: no one passing", prepare: func(t *testing.T) setup {
			u := morning(t)
			u.sc.Count = 0
			return u
		}, decision: DecisionReject, reason: ReasonBadRequest},
		{name: "bad request: more than a group", prepare: func(t *testing.T) setup {
			u := morning(t)
			u.sc.Count = u.s.cfg.Policy.MaxPartySize + 1
			return u
		}, decision: DecisionReject, reason: ReasonBadRequest},
		{name: "unknown ticket", prepare: func(t *testing.T) setup {
			u := morning(t)
			u.sc.Ticket.Booking = "bk-nope"
			return u
		}, decision: DecisionReject, reason: ReasonUnknownTicket},
		{name: "cancelled", prepare: func(t *testing.T) setup {
			u := morning(t)
			apply(t, u.s, testNow(u.s.cfg), Cancel{Operator: "op-a", ID: u.b.ID})
			return u
		}, decision: DecisionReject, reason: ReasonCancelled},
		{name: "closed: cancelled by a closure still in force", prepare: func(t *testing.T) setup {
			u := morning(t)
			// The Siq closed all day: no wave of the main trail is left.
			day, _ := time.ParseInLocation(time.DateOnly, date, u.s.cfg.Location())
			apply(t, u.s, testNow(u.s.cfg), Close{ID: "flood", Zones: []string{"siq"}, Reason: "flood", Until: day.Add(48 * time.Hour)})
			if b, _ := u.s.Booking("", u.b.ID); b.Status != StatusCancelled {
				t.Fatalf("the closure left the booking %s, want it cancelled", b.Status)
			}
			return u
		}, decision: DecisionReject, reason: ReasonClosed},
		{name: "closed: a closure on the route, group partly in", prepare: func(t *testing.T) setup {
			u := morning(t)
			admit(t, u.s, u.now, u.sc, 5) // a group with someone in is not moved
			apply(t, u.s, u.now, Close{ID: "flood", Zones: []string{"siq"}, Reason: "flood"})
			return u
		}, decision: DecisionReject, reason: ReasonClosed},
		{name: "wrong day", prepare: func(t *testing.T) setup {
			u := morning(t)
			u.now = u.b.Slot.AddDate(0, 0, -1)
			return u
		}, decision: DecisionReject, reason: ReasonWrongDay},
		{name: "wrong gate", prepare: func(t *testing.T) setup {
			u := morning(t)
			for _, g := range u.s.cfg.Gates {
				if g.ID != u.b.Gate {
					u.sc.Gate = g.ID
					break
				}
			}
			return u
		}, decision: DecisionReject, reason: ReasonWrongGate},
		{name: "already used", prepare: func(t *testing.T) setup {
			u := morning(t)
			admit(t, u.s, u.now, u.sc, 20)
			return u
		}, decision: DecisionReject, reason: ReasonAlreadyUsed},
		{name: "too early", prepare: func(t *testing.T) setup {
			u := morning(t)
			u.now = u.b.Slot.Add(-time.Duration(u.s.cfg.Policy.EarlyGraceMinutes+1) * time.Minute)
			return u
		}, decision: DecisionReject, reason: ReasonTooEarly, retry: func(u setup, res ScanResult) bool {
			return res.RetryAt.Equal(u.b.Slot.Add(-time.Duration(u.s.cfg.Policy.EarlyGraceMinutes) * time.Minute))
		}},
		{name: "too late: no rebooking", prepare: func(t *testing.T) setup {
			u := at(t, noRebook, hm(9, 0), hm(10, 0))
			u.now = u.b.Slot.Add(time.Duration(u.s.cfg.Policy.LateGraceMinutes+1) * time.Minute)
			return u
		}, decision: DecisionReject, reason: ReasonTooLate},
		{name: "too late: no later wave", prepare: func(t *testing.T) setup {
			u := lastWave(t, func(c *Config) { c.Policy.RebookLate = true })
			u.now = u.b.Slot.Add(time.Duration(u.s.cfg.Policy.LateGraceMinutes+1) * time.Minute)
			return u
		}, decision: DecisionReject, reason: ReasonTooLate},
		{name: "rebooked: late, moved to a later wave", prepare: func(t *testing.T) setup {
			u := at(t, func(c *Config) { c.Policy.RebookLate = true }, hm(9, 0), hm(10, 0))
			u.now = u.b.Slot.Add(time.Duration(u.s.cfg.Policy.LateGraceMinutes+1) * time.Minute)
			return u
		}, decision: DecisionReject, reason: ReasonRebooked, moves: true, retry: func(u setup, res ScanResult) bool {
			return res.RetryAt.After(u.now) && res.Slot.Equal(*res.RetryAt)
		}},
		{name: "held: moved to the next wave with room", prepare: func(t *testing.T) setup {
			u := morning(t)
			apply(t, u.s, u.now, SetHold{Zone: "bab-al-siq", On: true})
			return u
		}, decision: DecisionReject, reason: ReasonHeld, moves: true, retry: func(u setup, res ScanResult) bool {
			return res.RetryAt.After(u.now) && res.Slot.Equal(*res.RetryAt)
		}},
		{name: "held: no wave left, come back in a slot", prepare: func(t *testing.T) setup {
			u := lastWave(t, nil)
			apply(t, u.s, u.now, SetHold{Zone: "bab-al-siq", On: true})
			return u
		}, decision: DecisionReject, reason: ReasonHeld, retry: func(u setup, res ScanResult) bool {
			return res.RetryAt.Equal(u.now.Add(time.Duration(u.s.cfg.SlotMinutes) * time.Minute))
		}},
	}
	seen := map[string]bool{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := tc.prepare(t)
			res, effects := u.s.Apply(u.now, u.sc)
			if res.Err != nil || res.Scan == nil {
				t.Fatalf("scan: %v", res.Err)
			}
			got := *res.Scan
			if got.Decision != tc.decision || got.Reason != tc.reason || got.Admitted != tc.admitted {
				t.Fatalf("got %s/%s admitting %d, want %s/%s admitting %d", got.Decision, got.Reason, got.Admitted,
					tc.decision, tc.reason, tc.admitted)
			}
			if got.Message.EN == "" || got.Message.AR == "" {
				t.Errorf("no message for %s: %+v", got.Reason, got.Message)
			}
			switch {
			case tc.retry == nil && got.RetryAt != nil:
				t.Errorf("retry at %v, want none", got.RetryAt)
			case tc.retry != nil && (got.RetryAt == nil || !tc.retry(u, got)):
				t.Errorf("retry at %v (slot %v) is not the one the rule gives", got.RetryAt, got.Slot)
			}
			// An admission and a move are written; any other refusal
			// changes nothing.
			if want := tc.decision != DecisionReject || tc.moves; want != (len(effects) > 0) {
				t.Errorf("%s/%s returned %d effects", got.Decision, got.Reason, len(effects))
			}
		})
		seen[tc.reason] = true
	}
	for _, r := range []string{ReasonOK, ReasonTooEarly, ReasonTooLate, ReasonRebooked, ReasonAlreadyUsed, ReasonUnknownTicket,
		ReasonWrongGate, ReasonWrongDay, ReasonCancelled, ReasonHeld, ReasonClosed, ReasonBadRequest} {
		if !seen[r] {
			t.Errorf("no case for reason %s", r)
		}
	}
}

// TestScanRepeatedIDGetsFirstReply: a scan id seen before from the same
// gate and device gets the first reply, whatever happened since; the same
// id from another device is another scan.
func TestScanRepeatedIDGetsFirstReply(t *testing.T) {
	cfg := petra(t)
	s := New(cfg)
	res, _ := s.Apply(testNow(cfg), Book{ID: "bk-1", Operator: "op-a",
		Request: BookingRequest{Date: "2026-12-01", Route: "main", PartySize: 20, Window: Window{hm(9, 0), hm(10, 0)}}})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	b := *res.Booking
	sc := Scan{Gate: b.Gate, Ticket: Ticket{Booking: b.ID}, Count: 20, ScanID: "000123", Device: "d1"}
	first, _ := s.Apply(b.Slot, sc)
	if first.Scan.Reason != ReasonOK || first.Scan.Admitted != 20 {
		t.Fatalf("first scan: %+v", first.Scan)
	}
	again, effects := s.Apply(b.Slot.Add(time.Minute), sc)
	if !reflect.DeepEqual(again.Scan, first.Scan) || len(effects) != 0 {
		t.Fatalf("repeated scan: %+v with %d effects, want the first reply %+v and none", again.Scan, len(effects), first.Scan)
	}
	sc.Device = "d2"
	if other, _ := s.Apply(b.Slot.Add(time.Minute), sc); other.Scan.Reason != ReasonAlreadyUsed {
		t.Fatalf("the same id from another device: %s, want %s", other.Scan.Reason, ReasonAlreadyUsed)
	}
}
