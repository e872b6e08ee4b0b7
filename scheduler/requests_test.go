package scheduler

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// 20 October 2026 is a Tuesday in the autumn request window of
// configs/petra.yaml: requests close on 17 October at 18:00.
const plannedDate = "2026-10-20"

func plannedCutoff(cfg *Config) time.Time {
	return time.Date(2026, 10, 17, 18, 0, 0, 0, cfg.Location())
}

func submitted(t *testing.T, r *recorder, now time.Time, c SubmitRequest) Request {
	t.Helper()
	res := r.do(t, now, c)
	if res.Err != nil {
		t.Fatalf("submit %s: %v", c.ID, res.Err)
	}
	return *res.Request
}

func mainRoute(size int, from, to int) BookingRequest {
	return BookingRequest{Date: plannedDate, Route: "main", PartySize: size, Window: Window{from, to}}
}

func TestRequestWindowStory(t *testing.T) {
	cfg := plannedPetra(t)
	r := &recorder{s: New(cfg)}
	now := time.Date(2026, 10, 10, 10, 0, 0, 0, cfg.Location())
	cutoff := plannedCutoff(cfg)
	if got, ok := cfg.RequestCutoff(time.Date(2026, 10, 20, 0, 0, 0, 0, cfg.Location())); !ok || !got.Equal(cutoff) {
		t.Fatalf("cut-off of %s: %s %v, want %s", plannedDate, got, ok, cutoff)
	}
	if cfg.Planned(time.Date(2026, 12, 1, 0, 0, 0, 0, cfg.Location())) {
		t.Fatal("1 December is not in a request window")
	}

	// First come is closed on a planned day until it is allotted.
	res := r.do(t, now, Book{ID: "bk-early", Operator: "op-a", Request: mainRoute(20, hm(9, 0), hm(10, 0))})
	if code(res.Err) != CodeRequestWindow || !strings.Contains(res.Err.Error(), "2026-10-17 18:00") {
		t.Fatalf("book on a planned day before the cut-off: %v, want %s naming the cut-off", res.Err, CodeRequestWindow)
	}

	q1 := submitted(t, r, now, SubmitRequest{ID: "rq1", BookingID: "bk1", Operator: "op-a", Request: mainRoute(40, hm(9, 0), hm(10, 0)), Preferred: hm(9, 30)})
	if q1.Status != RequestPending || q1.Booking != "bk1" || q1.Preferred != hm(9, 30) {
		t.Fatalf("submitted %+v", q1)
	}
	submitted(t, r, now, SubmitRequest{ID: "rq2", BookingID: "bk2", Operator: "op-b", Request: mainRoute(30, hm(9, 0), hm(11, 0))})
	submitted(t, r, now, SubmitRequest{ID: "rq3", BookingID: "bk3", Operator: "op-b", Request: mainRoute(12, hm(13, 0), hm(14, 0))})
	if r.s.bookings.len() != 0 {
		t.Fatal("a request must hold no capacity before it is allotted")
	}

	// Bad requests are refused and change nothing.
	before := r.s.Snapshot()
	for _, tc := range []struct {
		name string
		cmd  SubmitRequest
		code string
		text string
	}{
		{"not planned", SubmitRequest{ID: "x1", BookingID: "bx1", Operator: "op-a", Request: BookingRequest{Date: "2026-12-01", Route: "main", PartySize: 5, Window: Window{hm(9, 0), hm(10, 0)}}},
			CodeInvalid, "not a planned day"},
		{"preferred outside", SubmitRequest{ID: "x2", BookingID: "bx2", Operator: "op-a", Request: mainRoute(5, hm(9, 0), hm(10, 0)), Preferred: hm(11, 0)},
			CodeInvalid, "preferred start 11:00 is outside the window 09:00-10:00"},
		{"ticket office", SubmitRequest{ID: "x3", BookingID: "bx3", Operator: WalkInOperator, Request: mainRoute(5, hm(9, 0), hm(10, 0))},
			CodeInvalid, "walk-ins"},
		{"repeated id", SubmitRequest{ID: "rq1", BookingID: "bx4", Operator: "op-a", Request: mainRoute(5, hm(9, 0), hm(10, 0))},
			CodeConflict, `request id "rq1" exists`},
		{"window after hours", SubmitRequest{ID: "x5", BookingID: "bx5", Operator: "op-a", Request: mainRoute(5, hm(16, 0), hm(17, 0))},
			CodeOutsideHours, "no entry"},
		{"bad route", SubmitRequest{ID: "x7", BookingID: "bx7", Operator: "op-a", Request: BookingRequest{Date: plannedDate, Route: "nowhere", PartySize: 5, Window: Window{hm(9, 0), hm(10, 0)}}},
			CodeInvalid, `unknown route "nowhere"`},
	} {
		res := r.do(t, now, tc.cmd)
		if code(res.Err) != tc.code || !strings.Contains(res.Err.Error(), tc.text) {
			t.Errorf("%s: %v, want %s containing %q", tc.name, res.Err, tc.code, tc.text)
		}
	}
	if !reflect.DeepEqual(before, r.s.Snapshot()) {
		t.Fatal("a refused request changed the state")
	}

	// An operator may not request more than its day share.
	d, _ := r.s.day(plannedDate)
	limit := floorShare(d.entries, cfg.Policy.OperatorDayShare)
	asked := 40
	for i := 0; asked+60 <= limit; i++ {
		id := "fill" + string(rune('a'+i))
		submitted(t, r, now, SubmitRequest{ID: id, BookingID: "b" + id, Operator: "op-a", Request: mainRoute(60, hm(6, 0), hm(15, 0))})
		asked += 60
	}
	res = r.do(t, now, SubmitRequest{ID: "over", BookingID: "bover", Operator: "op-a", Request: mainRoute(60, hm(6, 0), hm(15, 0))})
	if code(res.Err) != CodeOverShare {
		t.Fatalf("request over the day share (%d asked of %d): %v", asked+60, limit, res.Err)
	}

	// Tenants: another operator does not see or withdraw op-b's request.
	if _, ok := r.s.Request("op-a", "rq2"); ok {
		t.Fatal("op-a sees op-b's request")
	}
	if res := r.do(t, now, WithdrawRequest{Operator: "op-a", ID: "rq3"}); code(res.Err) != CodeNotFound {
		t.Fatalf("withdraw another operator's request: %v", res.Err)
	}
	if res := r.do(t, now, WithdrawRequest{Operator: "op-b", ID: "rq3"}); res.Err != nil || res.Request.Status != RequestWithdrawn {
		t.Fatalf("withdraw: %+v %v", res.Request, res.Err)
	}
	if res := r.do(t, now, WithdrawRequest{Operator: "op-b", ID: "rq3"}); code(res.Err) != CodeConflict {
		t.Fatalf("withdraw twice: %v", res.Err)
	}

	if due := r.s.RequestsDue(cutoff.Add(-time.Minute)); len(due) != 0 {
		t.Fatalf("due before the cut-off: %v", due)
	}
	// After the cut-off: no more requests or withdrawals, first come still
	// waits for the allotment, and the date is due.
	after := cutoff.Add(time.Minute)
	if res := r.do(t, after, SubmitRequest{ID: "late", BookingID: "blate", Operator: "op-a", Request: mainRoute(5, hm(9, 0), hm(10, 0))}); code(res.Err) != CodeCutoff {
		t.Fatalf("request after the cut-off: %v", res.Err)
	}
	if res := r.do(t, after, WithdrawRequest{Operator: "op-a", ID: "rq1"}); code(res.Err) != CodeCutoff {
		t.Fatalf("withdraw after the cut-off: %v", res.Err)
	}
	if res := r.do(t, after, Book{ID: "bk-x", Operator: "op-c", Request: mainRoute(5, hm(9, 0), hm(10, 0))}); code(res.Err) != CodeRequestWindow {
		t.Fatalf("first come before the allotment: %v", res.Err)
	}
	if due := r.s.RequestsDue(after); !reflect.DeepEqual(due, []string{plannedDate}) {
		t.Fatalf("due after the cut-off: %v", due)
	}
	if res := r.do(t, cutoff.Add(-time.Hour), AllotRequests{Date: plannedDate}); code(res.Err) != CodeConflict {
		t.Fatalf("allot before the cut-off: %v", res.Err)
	}

	// A restart while requests wait gives the same state.
	again, err := Restore(cfg, r.s.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again.Snapshot(), r.s.Snapshot()) || !reflect.DeepEqual(again.RequestsDue(after), []string{plannedDate}) {
		t.Fatal("restore lost the pending requests")
	}

	inst, err := r.s.RequestInstance(after, plannedDate)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := PlanInstance(inst, PlanOptions{Iterations: testIterations})
	if err != nil {
		t.Fatal(err)
	}
	res = r.do(t, after, AllotRequests{Date: plannedDate, Plan: plan})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	sum := res.Allotted
	if sum.Requests != len(inst.Requests) || sum.Allotted+sum.NotPlaced != sum.Requests || sum.Visitors != plan.Visitors || sum.Replaced != 0 {
		t.Fatalf("allotment %+v, plan placed %d visitors of %d requests", sum, plan.Visitors, len(inst.Requests))
	}
	q, _ := r.s.Request("op-a", "rq1")
	b, ok := r.s.Booking("op-a", "bk1")
	if q.Status != RequestAllotted || !ok || b.Status != StatusConfirmed || b.PartySize != 40 {
		t.Fatalf("rq1 %+v, booking %+v", q, b)
	}
	if m := b.Slot.Hour()*60 + b.Slot.Minute(); m < hm(9, 0) || m >= hm(10, 0) {
		t.Fatalf("rq1 allotted at %s, outside its window", b.Slot)
	}
	checkDayLoads(t, cfg, r.s.days[plannedDate])
	if due := r.s.RequestsDue(after); len(due) != 0 {
		t.Fatalf("still due after the allotment: %v", due)
	}
	// Applied again (a retry after a crash): nothing changes.
	snap := r.s.Snapshot()
	if res, eff := r.s.Apply(after, AllotRequests{Date: plannedDate, Plan: plan}); res.Err != nil || len(eff) != 0 {
		t.Fatalf("second allotment: %v, %d effects", res.Err, len(eff))
	}
	if !reflect.DeepEqual(snap, r.s.Snapshot()) {
		t.Fatal("a second allotment changed the state")
	}
	// Now the date is open to first come.
	if res := r.do(t, after, Book{ID: "bk-x", Operator: "op-c", Request: mainRoute(5, hm(9, 0), hm(12, 0))}); res.Err != nil {
		t.Fatalf("first come after the allotment: %v", res.Err)
	}
}

// TestAllotRequestsStalePlan applies a plan made before a closure: its
// placements in the closed zones are not used; those requests get another
// slot of their window first come, or are not placed.
func TestAllotRequestsStalePlan(t *testing.T) {
	cfg := plannedPetra(t)
	r := &recorder{s: New(cfg)}
	now := time.Date(2026, 10, 10, 10, 0, 0, 0, cfg.Location())
	for i, op := range []string{"op-a", "op-b", "op-c", "op-d"} {
		for j := range 6 {
			id := op + "-" + string(rune('a'+j))
			submitted(t, r, now.Add(time.Duration(i*10+j)*time.Second), SubmitRequest{ID: id, BookingID: "bk-" + id, Operator: op,
				Request: mainRoute(30, hm(8, 0), hm(11, 0))})
		}
	}
	after := plannedCutoff(cfg).Add(time.Hour)
	inst, err := r.s.RequestInstance(after, plannedDate)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := PlanInstance(inst, PlanOptions{Iterations: testIterations})
	if err != nil {
		t.Fatal(err)
	}
	// Meanwhile the Siq is closed on the day from 08:00 to 09:30.
	from := time.Date(2026, 10, 20, 8, 0, 0, 0, cfg.Location())
	if res := r.do(t, from.Add(-72*time.Hour), Close{ID: "cl1", Zones: []string{"siq"}, Reason: "works", Until: from.Add(90 * time.Minute)}); res.Err != nil {
		t.Fatal(res.Err)
	}
	r.s.closures["cl1"].From = from // the closure starts on the day itself
	res := r.do(t, after, AllotRequests{Date: plannedDate, Plan: plan})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if res.Allotted.Replaced == 0 {
		t.Fatalf("no placement was replaced: %+v", res.Allotted)
	}
	d := r.s.days[plannedDate]
	checkDayLoads(t, cfg, d)
	rt, _ := cfg.Route("main")
	for _, b := range r.s.Bookings("", plannedDate) {
		m := r.s.minuteOf(d, b.Slot)
		if r.s.closedFor(d, rt, m) {
			t.Fatalf("booking %s allotted at %s, in the closure", b.ID, b.Slot)
		}
	}
}

func TestRequestIdempotency(t *testing.T) {
	cfg := plannedPetra(t)
	r := &recorder{s: New(cfg)}
	now := time.Date(2026, 10, 10, 10, 0, 0, 0, cfg.Location())
	cmd := SubmitRequest{ID: "rq1", BookingID: "bk1", Operator: "op-a", Request: mainRoute(10, hm(9, 0), hm(10, 0)),
		IdempotencyKey: "k1", RequestHash: "h1"}
	first := submitted(t, r, now, cmd)
	retry := cmd
	retry.ID, retry.BookingID = "rq2", "bk2" // a retry gets new ids from the API
	res := r.do(t, now.Add(time.Minute), retry)
	if res.Err != nil || !res.Replayed || !reflect.DeepEqual(*res.Request, first) {
		t.Fatalf("retry: %+v %v", res.Request, res.Err)
	}
	other := retry
	other.RequestHash = "h2"
	if res := r.do(t, now, other); code(res.Err) != CodeIdempotencyMismatch {
		t.Fatalf("same key, other request: %v", res.Err)
	}
	// The key of a request cannot replay as a booking.
	if res := r.do(t, now, Book{ID: "bk9", Operator: "op-a", Request: BookingRequest{Date: "2026-12-01", Route: "main", PartySize: 10,
		Window: Window{hm(9, 0), hm(10, 0)}}, IdempotencyKey: "k1", RequestHash: "h1"}); code(res.Err) != CodeIdempotencyMismatch {
		t.Fatalf("request key reused for a booking: %v", res.Err)
	}
	if n := len(r.s.Requests("op-a", "")); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
}
