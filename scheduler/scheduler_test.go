package scheduler

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/tafweej/tafweej/internal/testenv"
)

// petra is the Petra configuration without planned days, so that the
// tests of first-come allotment and of the planner may book any date;
// plannedPetra keeps them.
func petra(t testing.TB) *Config {
	t.Helper()
	cfg := plannedPetra(t)
	cfg.Policy.RequestWindow = nil
	return cfg
}

func plannedPetra(t testing.TB) *Config {
	t.Helper()
	cfg, err := ParseConfig(testenv.PetraYAML(t))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Policy.RequestWindow == nil {
		t.Fatal("configs/petra.yaml has no policy.request_window")
	}
	return cfg
}

// now is 29 November 2026, 10:00 in Amman; 1 December is a Tuesday.
func testNow(cfg *Config) time.Time {
	return time.Date(2026, 11, 29, 10, 0, 0, 0, cfg.Location())
}

func hm(h, m int) int { return h*60 + m }

// recorder applies commands and keeps every effect, like nomad's harness.
type recorder struct {
	s       *State
	effects []Effect
}

func (r *recorder) do(t testing.TB, now time.Time, c Command) Result {
	t.Helper()
	res, eff := r.s.Apply(now, c)
	if res.Err != nil && len(eff) > 0 {
		t.Fatalf("%T refused (%v) but returned %d effects", c, res.Err, len(eff))
	}
	r.effects = append(r.effects, eff...)
	return res
}

func code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err != nil {
		return "?" + err.Error()
	}
	return ""
}

func TestBookFirstUserStory(t *testing.T) {
	cfg := petra(t)
	r := &recorder{s: New(cfg)}
	now := testNow(cfg)
	res := r.do(t, now, Book{ID: "bk1", Operator: "op-a", Request: BookingRequest{
		Date: "2026-12-01", Route: "monastery", PartySize: 40, Window: Window{hm(8, 0), hm(10, 0)}, Language: "ar"}})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	b := res.Booking
	if want := time.Date(2026, 12, 1, 8, 0, 0, 0, cfg.Location()); !b.Slot.Equal(want) || b.Gate != "visitor-centre" {
		t.Fatalf("allotted %s at %s, want 08:00 at visitor-centre", b.Slot, b.Gate)
	}
	if len(r.effects) != 2 {
		t.Fatalf("effects %d, want PutBooking and an event", len(r.effects))
	}
	// Resize to 35 keeps the slot.
	n := 35
	res = r.do(t, now, Modify{Operator: "op-a", ID: "bk1", PartySize: &n})
	if res.Err != nil || res.Booking.PartySize != 35 || !res.Booking.Slot.Equal(b.Slot) {
		t.Fatalf("resize: %+v %v", res.Booking, res.Err)
	}
	// Another operator cannot see or change it.
	if res := r.do(t, now, Cancel{Operator: "op-b", ID: "bk1"}); code(res.Err) != CodeNotFound {
		t.Fatalf("other operator cancel: %v", res.Err)
	}
	if _, ok := r.s.Booking("op-b", "bk1"); ok {
		t.Fatal("op-b sees op-a's booking")
	}
	before := roomAt(t, r.s, now, "2026-12-01", "monastery", WalkInOperator, hm(8, 0))
	if res := r.do(t, now, Cancel{Operator: "op-a", ID: "bk1"}); res.Err != nil || res.Booking.Status != StatusCancelled {
		t.Fatalf("cancel: %v", res.Err)
	}
	after := roomAt(t, r.s, now, "2026-12-01", "monastery", WalkInOperator, hm(8, 0))
	if after != before+35 {
		t.Fatalf("capacity did not return: %d → %d", before, after)
	}
}

func roomAt(t testing.TB, s *State, now time.Time, date, route, op string, m int) int {
	t.Helper()
	av, err := s.Availability(now, date, route, op)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range av {
		if s.minuteOf(s.days[date], a.Slot) == m && a.Gate == "visitor-centre" {
			return a.Remaining
		}
	}
	t.Fatalf("no slot at %s", clock(m))
	return 0
}

func TestBookRefusals(t *testing.T) {
	cfg := petra(t)
	now := testNow(cfg)
	ok := BookingRequest{Date: "2026-12-01", Route: "main", PartySize: 10, Window: Window{hm(8, 0), hm(10, 0)}}
	for _, tc := range []struct {
		name  string
		mod   func(*BookingRequest)
		code  string
		field string
	}{
		{"unknown route", func(r *BookingRequest) { r.Route = "nowhere" }, CodeInvalid, "route"},
		{"party size 0", func(r *BookingRequest) { r.PartySize = 0 }, CodeInvalid, "party_size"},
		{"party size over max", func(r *BookingRequest) { r.PartySize = cfg.Policy.MaxPartySize + 1 }, CodeInvalid, "party_size"},
		{"window backwards", func(r *BookingRequest) { r.Window = Window{hm(10, 0), hm(8, 0)} }, CodeInvalid, "window"},
		{"window outside hours", func(r *BookingRequest) { r.Window = Window{hm(2, 0), hm(4, 0)} }, CodeOutsideHours, "window"},
		{"bad date", func(r *BookingRequest) { r.Date = "1/12/2026" }, CodeInvalid, "date"},
		{"past date", func(r *BookingRequest) { r.Date = "2026-11-01" }, CodeInvalid, "date"},
		{"too far ahead", func(r *BookingRequest) { r.Date = "2028-12-01" }, CodeInvalid, "date"},
		{"evening route on a tuesday", func(r *BookingRequest) { r.Route = "petra-by-night" }, CodeClosed, "date"},
		{"today's past waves", func(r *BookingRequest) { r.Date = "2026-11-29"; r.Window = Window{hm(6, 0), hm(9, 0)} }, CodeOutsideHours, "window"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := New(cfg)
			req := ok
			tc.mod(&req)
			res, eff := s.Apply(now, Book{ID: "x", Operator: "op", Request: req})
			var e *Error
			if !errors.As(res.Err, &e) || e.Code != tc.code || e.Field != tc.field {
				t.Fatalf("got %v (field %q), want code %s field %s", res.Err, fieldOf(res.Err), tc.code, tc.field)
			}
			if len(eff) != 0 || s.BookingCount() != 0 {
				t.Fatal("a refusal changed state")
			}
		})
	}
}

func fieldOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

func TestNoCapacityNamesAlternatives(t *testing.T) {
	cfg := petra(t)
	now := testNow(cfg)
	s := New(cfg)
	// Fill the 08:00 and 08:15 waves at the main gate with walk-ins (no
	// operator share limits), then ask an operator for 08:00-08:30.
	for i, m := range []int{hm(8, 0), hm(8, 15)} {
		for k := 0; k < 5; k++ {
			res, _ := s.Apply(now, Book{ID: id("w", i*10+k), Operator: WalkInOperator, Request: BookingRequest{
				Date: "2026-12-01", Route: "main", PartySize: 60, Window: Window{m, m + 15}}})
			if res.Err != nil {
				t.Fatal(res.Err)
			}
		}
	}
	res, _ := s.Apply(now, Book{ID: "late", Operator: "op", Request: BookingRequest{
		Date: "2026-12-01", Route: "main", PartySize: 20, Window: Window{hm(8, 0), hm(8, 30)}}})
	var e *Error
	if !errors.As(res.Err, &e) || e.Code != CodeNoCapacity {
		t.Fatalf("got %v, want no_capacity", res.Err)
	}
	if len(e.Alternatives) == 0 {
		t.Fatal("no alternatives offered")
	}
	first := e.Alternatives[0]
	if first.Slot.Before(time.Date(2026, 12, 1, 7, 30, 0, 0, cfg.Location())) || first.Slot.After(time.Date(2026, 12, 1, 8, 45, 0, 0, cfg.Location())) {
		t.Errorf("nearest alternative %s is not next to the window", first.Slot)
	}
}

func id(p string, i int) string { return p + string(rune('a'+i/26)) + string(rune('a'+i%26)) }

func TestWalkInShareKeptFree(t *testing.T) {
	cfg := petra(t)
	now := testNow(cfg)
	s := New(cfg)
	// Operators fill the 09:00 wave as far as they may.
	placed := 0
	for i := 0; i < 40; i++ {
		res, _ := s.Apply(now, Book{ID: id("o", i), Operator: id("op", i), Request: BookingRequest{
			Date: "2026-12-01", Route: "main", PartySize: 30, Window: Window{hm(9, 0), hm(9, 15)}}})
		if res.Err == nil {
			placed += 30
		}
	}
	gate, _ := cfg.Gate("visitor-centre")
	if limit := floorShare(gate.WaveCapacity, 1-cfg.Policy.WalkInShare); placed > limit {
		t.Fatalf("operators placed %d, above %d", placed, limit)
	}
	res, _ := s.Apply(now, Book{ID: "walk", Operator: WalkInOperator, Request: BookingRequest{
		Date: "2026-12-01", Route: "main", PartySize: 30, Window: Window{hm(9, 0), hm(9, 15)}}})
	if res.Err != nil {
		t.Fatalf("walk-in refused: %v", res.Err)
	}
}

func TestOperatorShare(t *testing.T) {
	cfg := petra(t)
	now := testNow(cfg)
	s := New(cfg)
	gate, _ := cfg.Gate("visitor-centre")
	limit := floorShare(gate.WaveCapacity, cfg.Policy.OperatorWaveShare)
	got := 0
	var last error
	for i := 0; i < 10; i++ {
		res, _ := s.Apply(now, Book{ID: id("b", i), Operator: "greedy", Request: BookingRequest{
			Date: "2026-12-01", Route: "main", PartySize: 50, Window: Window{hm(9, 0), hm(9, 15)}}})
		if res.Err == nil {
			got += 50
		}
		last = res.Err
	}
	if got > limit {
		t.Fatalf("one operator got %d in a wave, limit %d", got, limit)
	}
	if code(last) != CodeOverShare {
		t.Fatalf("last refusal %v, want %s", last, CodeOverShare)
	}
}

func TestIdempotency(t *testing.T) {
	cfg := petra(t)
	now := testNow(cfg)
	s := New(cfg)
	req := BookingRequest{Date: "2026-12-01", Route: "main", PartySize: 10, Window: Window{hm(8, 0), hm(10, 0)}}
	r1, _ := s.Apply(now, Book{ID: "a", Operator: "op", Request: req, IdempotencyKey: "k", RequestHash: "h1"})
	r2, eff := s.Apply(now, Book{ID: "b", Operator: "op", Request: req, IdempotencyKey: "k", RequestHash: "h1"})
	if r1.Err != nil || r2.Err != nil || !r2.Replayed || r2.Booking.ID != "a" || len(eff) != 0 {
		t.Fatalf("replay: %+v %v", r2, r2.Err)
	}
	r3, _ := s.Apply(now, Book{ID: "c", Operator: "op", Request: req, IdempotencyKey: "k", RequestHash: "h2"})
	if code(r3.Err) != CodeIdempotencyMismatch {
		t.Fatalf("other body: %v", r3.Err)
	}
	// Keys are scoped to the operator.
	r4, _ := s.Apply(now, Book{ID: "d", Operator: "op2", Request: req, IdempotencyKey: "k", RequestHash: "h2"})
	if r4.Err != nil || r4.Replayed {
		t.Fatalf("other operator, same key: %+v %v", r4, r4.Err)
	}
}

func TestEveningRoute(t *testing.T) {
	cfg := petra(t)
	now := testNow(cfg)
	s := New(cfg)
	// 2 December 2026 is a Wednesday.
	res, _ := s.Apply(now, Book{ID: "n", Operator: "op", Request: BookingRequest{
		Date: "2026-12-02", Route: "petra-by-night", PartySize: 20, Window: Window{hm(18, 0), hm(21, 0)}}})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if h := res.Booking.Slot.In(cfg.Location()); h.Hour() != 18 || h.Minute() != 45 {
		t.Fatalf("slot %s, want 18:45", h)
	}
}

// snapJSON is the comparable form of a state: JSON, so that times equal in
// value but in different location objects compare equal.
func snapJSON(t interface{ Fatal(...any) }, s *State) string {
	b, err := json.Marshal(s.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRestoreRebuildsCapacity(t *testing.T) {
	cfg := petra(t)
	now := testNow(cfg)
	s := New(cfg)
	for i := 0; i < 30; i++ {
		s.Apply(now, Book{ID: id("r", i), Operator: id("op", i%4), Request: BookingRequest{
			Date: "2026-12-01", Route: []string{"main", "monastery", "high-place"}[i%3], PartySize: 10 + i, Window: Window{hm(8, 0), hm(11, 0)}}})
	}
	r2, err := Restore(cfg, s.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	if snapJSON(t, s) != snapJSON(t, r2) {
		t.Fatal("restored snapshot differs")
	}
	a1, _ := s.Availability(now, "2026-12-01", "main", "op-x")
	a2, _ := r2.Availability(now, "2026-12-01", "main", "op-x")
	b1, _ := json.Marshal(a1)
	b2, _ := json.Marshal(a2)
	if string(b1) != string(b2) {
		t.Fatal("restored capacity picture differs")
	}
}

// TestRestoreKeepsCompletedGroups: a group whose whole party was admitted
// is on its route; after a restart its load is still on the timeline, so
// allotment cannot overbook the zones it walks through.
func TestRestoreKeepsCompletedGroups(t *testing.T) {
	cfg := petra(t)
	s := New(cfg)
	now := testNow(cfg) // 29 November, 10:00
	res, _ := s.Apply(now, Book{ID: "bk1", Operator: "op-a", Request: BookingRequest{
		Date: "2026-11-29", Route: "main", PartySize: 40, Window: Window{hm(10, 0), hm(11, 0)}}})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	b := res.Booking
	res, _ = s.Apply(b.Slot, Scan{Gate: b.Gate, Ticket: Ticket{Booking: b.ID}, Count: 40, ScanID: "s1"})
	if res.Scan == nil || res.Scan.Admitted != 40 {
		t.Fatalf("scan: %+v", res.Scan)
	}
	if got, _ := s.Booking("", "bk1"); got.Status != StatusCompleted {
		t.Fatalf("status %s, want completed", got.Status)
	}
	again, err := Restore(cfg, s.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	if d := again.days["2026-11-29"]; d == nil || !reflect.DeepEqual(d.zone, s.days["2026-11-29"].zone) {
		t.Fatal("the completed group's load is gone after a restore")
	}
}
