package scheduler

// Planned days (requests.go) at their edges: an allotment after
// downtime, a request period over the year end, the cut-off across a
// summer-time change, a restart, a date that stops being planned or closes
// after its requests came in.

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestAllotAfterDowntime: the service was down from before the
// cut-off until the planned day itself, 11:00: requests whose window is
// over are not placed (and say so), the others are placed from the
// current wave on; a day already over places nobody.
func TestAllotAfterDowntime(t *testing.T) {
	cfg := plannedPetra(t)
	r := &recorder{s: New(cfg)}
	s := r.s
	now := time.Date(2026, 10, 10, 10, 0, 0, 0, cfg.Location())
	submitted(t, r, now, SubmitRequest{ID: "early", BookingID: "bk-early", Operator: "op-a", Request: mainRoute(20, hm(8, 0), hm(10, 0))})
	submitted(t, r, now, SubmitRequest{ID: "span", BookingID: "bk-span", Operator: "op-b", Request: mainRoute(20, hm(9, 0), hm(13, 0)), Preferred: hm(9, 0)})
	submitted(t, r, now, SubmitRequest{ID: "late", BookingID: "bk-late", Operator: "op-c", Request: mainRoute(20, hm(12, 0), hm(14, 0))})
	other := mainRoute(20, hm(8, 0), hm(14, 0))
	other.Date = "2026-10-21"
	submitted(t, r, now, SubmitRequest{ID: "next", BookingID: "bk-next", Operator: "op-a", Request: other})

	back := time.Date(2026, 10, 20, 11, 5, 0, 0, cfg.Location())
	if due := s.RequestsDue(back); !reflect.DeepEqual(due, []string{"2026-10-20", "2026-10-21"}) {
		t.Fatalf("due after the downtime: %v", due)
	}
	inst, err := s.RequestInstance(back, plannedDate)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := PlanInstance(inst, PlanOptions{Iterations: testIterations})
	if err != nil {
		t.Fatal(err)
	}
	if res := r.do(t, back, AllotRequests{Date: plannedDate, Plan: plan}); res.Err != nil {
		t.Fatal(res.Err)
	}
	q, _ := s.Request("", "early")
	if q.Status != RequestNotPlaced || !strings.Contains(q.Reason, "no entry left") {
		t.Errorf("a request whose window was over: %s %q", q.Status, q.Reason)
	}
	for _, id := range []string{"span", "late"} {
		q, _ := s.Request("", id)
		b, ok := s.Booking("", q.Booking)
		if q.Status != RequestAllotted || !ok || b.Slot.Before(time.Date(2026, 10, 20, 11, 0, 0, 0, cfg.Location())) {
			t.Errorf("request %s: %s, booking %+v", id, q.Status, b)
		}
	}
	// Down until the day after: nothing of 21 October can be placed.
	gone := time.Date(2026, 10, 22, 9, 0, 0, 0, cfg.Location())
	inst, err = s.RequestInstance(gone, "2026-10-21")
	if err != nil {
		t.Fatal(err)
	}
	plan, _ = PlanInstance(inst, PlanOptions{Iterations: -1})
	res := r.do(t, gone, AllotRequests{Date: "2026-10-21", Plan: plan})
	if res.Err != nil || res.Allotted.NotPlaced != 1 {
		t.Fatalf("allotment of a day already over: %+v %v", res.Allotted, res.Err)
	}
	if _, ok := s.Booking("", "bk-next"); ok {
		t.Fatal("a booking was made for a day already over")
	}
	if s.PendingRequests() != 0 || len(s.RequestsDue(gone)) != 0 {
		t.Fatalf("still pending: %d", s.PendingRequests())
	}
	checkDayLoads(t, cfg, s.days[plannedDate])
}

// TestRequestWindowYearEnd: a request period that wraps the year end
// (20 December to 10 January): its dates are planned on both sides of New
// Year, the cut-off of 2 January is on 30 December, and the days around
// the period are not planned.
func TestRequestWindowYearEnd(t *testing.T) {
	cfg := petraWith(t, func(c *Config) {
		i := slices.Index(c.Policy.RequestWindow.Periods, Period{From: "03-15", To: "05-15"})
		if i < 0 {
			t.Fatal("configs/petra.yaml has no spring request period 03-15 to 05-15")
		}
		c.Policy.RequestWindow.Periods[i] = Period{From: "12-20", To: "01-10"} // spring becomes the holidays
	})
	r := &recorder{s: New(cfg)}
	loc := cfg.Location()
	for _, tc := range []struct {
		date    string
		planned bool
	}{{"2026-12-19", false}, {"2026-12-20", true}, {"2026-12-31", true}, {"2027-01-01", true}, {"2027-01-10", true}, {"2027-01-11", false}} {
		d, _ := time.ParseInLocation(time.DateOnly, tc.date, loc)
		if got := cfg.Planned(d); got != tc.planned {
			t.Errorf("%s planned: %v, want %v", tc.date, got, tc.planned)
		}
	}
	d, _ := time.ParseInLocation(time.DateOnly, "2027-01-02", loc)
	cutoff, ok := cfg.RequestCutoff(d)
	if want := time.Date(2026, 12, 30, 18, 0, 0, 0, loc); !ok || !cutoff.Equal(want) {
		t.Fatalf("cut-off of 2 January: %s %v, want %s", cutoff, ok, want)
	}
	req := BookingRequest{Date: "2027-01-02", Route: "main", PartySize: 20, Window: Window{hm(8, 0), hm(10, 0)}}
	if res := r.do(t, cutoff.Add(-time.Minute), Book{ID: "bk-first", Operator: "op-a", Request: req}); code(res.Err) != CodeRequestWindow {
		t.Fatalf("first come on 30 December at 17:59: %v", res.Err)
	}
	submitted(t, r, cutoff.Add(-time.Minute), SubmitRequest{ID: "rq1", BookingID: "bk1", Operator: "op-a", Request: req})
	if res := r.do(t, cutoff, SubmitRequest{ID: "rq2", BookingID: "bk2", Operator: "op-b", Request: req}); code(res.Err) != CodeCutoff {
		t.Fatalf("request at the cut-off: %v", res.Err)
	}
	if res := r.do(t, cutoff, Book{ID: "bk-first", Operator: "op-a", Request: req}); code(res.Err) != CodeRequestWindow {
		t.Fatalf("first come after the cut-off, before the allotment: %v", res.Err)
	}
	if res := r.do(t, cutoff, AllotRequests{Date: "2027-01-02"}); res.Err != nil || res.Allotted.Allotted != 1 {
		t.Fatalf("allotment with no plan (first come): %+v %v", res.Allotted, res.Err)
	}
	if res := r.do(t, cutoff, Book{ID: "bk-first", Operator: "op-a", Request: req}); res.Err != nil {
		t.Fatalf("first come after the allotment: %v", res.Err)
	}
}

// TestRequestCutoffDST: in a zone with summer time (Europe/London),
// the cut-off is the configured wall-clock time on the civil day, on both
// sides of the switches, never 24-hour steps.
func TestRequestCutoffDST(t *testing.T) {
	cfg := petraWith(t, func(c *Config) { c.TimeZone = "Europe/London" })
	loc := cfg.Location()
	for _, tc := range []struct {
		date string
		want time.Time
	}{
		{"2027-03-29", time.Date(2027, 3, 26, 18, 0, 0, 0, time.UTC)},  // GMT; summer time starts 28 March
		{"2027-03-31", time.Date(2027, 3, 28, 17, 0, 0, 0, time.UTC)},  // 18:00 BST on the switch day
		{"2027-10-31", time.Date(2027, 10, 28, 17, 0, 0, 0, time.UTC)}, // BST; back to GMT on 31 October
		{"2027-11-02", time.Date(2027, 10, 30, 17, 0, 0, 0, time.UTC)}, // BST still on 30 October
		{"2027-11-03", time.Date(2027, 10, 31, 18, 0, 0, 0, time.UTC)}, // GMT from the switch day
	} {
		d, _ := time.ParseInLocation(time.DateOnly, tc.date, loc)
		got, ok := cfg.RequestCutoff(d)
		if !ok || !got.Equal(tc.want) || got.In(loc).Hour() != 18 {
			t.Errorf("cut-off of %s: %s %v, want %s (18:00 local)", tc.date, got, ok, tc.want.In(loc))
		}
	}
	// On the switch day, requests close at 18:00 local, not 24 hours after
	// the day before's 18:00.
	r := &recorder{s: New(cfg)}
	req := BookingRequest{Date: "2027-03-31", Route: "main", PartySize: 20, Window: Window{hm(8, 0), hm(10, 0)}}
	before := time.Date(2027, 3, 28, 16, 59, 0, 0, time.UTC) // 17:59 BST
	submitted(t, r, before, SubmitRequest{ID: "rq1", BookingID: "bk1", Operator: "op-a", Request: req})
	if res := r.do(t, before.Add(time.Minute), SubmitRequest{ID: "rq2", BookingID: "bk2", Operator: "op-a", Request: req}); code(res.Err) != CodeCutoff {
		t.Fatalf("request at 18:00 BST on the switch day: %v", res.Err)
	}
	if due := r.s.RequestsDue(before); len(due) != 0 {
		t.Fatalf("due at 17:59 BST: %v", due)
	}
	if due := r.s.RequestsDue(before.Add(time.Minute)); len(due) != 1 {
		t.Fatalf("not due at 18:00 BST: %v", due)
	}
}

// TestRequestRestore: a restart rebuilds the pending requests and
// the idempotency records of requests: a retried submission is replayed,
// the key cannot be reused for a booking, and the operator's pending
// visitors still count against its day share.
func TestRequestRestore(t *testing.T) {
	cfg := plannedPetra(t)
	r := &recorder{s: New(cfg)}
	now := time.Date(2026, 10, 10, 10, 0, 0, 0, cfg.Location())
	c := SubmitRequest{ID: "rq1", BookingID: "bk1", Operator: "op-a", Request: mainRoute(40, hm(8, 0), hm(10, 0)), IdempotencyKey: "k1", RequestHash: "h1"}
	submitted(t, r, now, c)
	submitted(t, r, now, SubmitRequest{ID: "rq2", BookingID: "bk2", Operator: "op-b", Request: mainRoute(30, hm(8, 0), hm(10, 0))})
	if res := r.do(t, now, WithdrawRequest{Operator: "op-b", ID: "rq2"}); res.Err != nil {
		t.Fatal(res.Err)
	}
	again, err := Restore(cfg, r.s.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	if snapJSON(t, again) != snapJSON(t, r.s) || again.PendingRequests() != 1 {
		t.Fatalf("restored: %d pending", again.PendingRequests())
	}
	retry := c
	retry.ID, retry.BookingID = "rq9", "bk9"
	res, eff := again.Apply(now, retry)
	if res.Err != nil || !res.Replayed || res.Request.ID != "rq1" || len(eff) != 0 {
		t.Fatalf("retried submission after a restart: %+v %v, %d effects", res.Request, res.Err, len(eff))
	}
	res, _ = again.Apply(now, Book{ID: "bk8", Operator: "op-a", IdempotencyKey: "k1", RequestHash: "h1", Request: mainRoute(40, hm(8, 0), hm(10, 0))})
	if code(res.Err) != CodeIdempotencyMismatch {
		t.Fatalf("a request's key reused for a booking after a restart: %v", res.Err)
	}
	// The day share counts the restored pending request.
	d, _ := again.day(plannedDate)
	limit := floorShare(d.entries, cfg.Policy.OperatorDayShare)
	n := 1
	for left := limit - 40; left > 0; n++ {
		size := min(left, cfg.Policy.MaxPartySize)
		res, _ := again.Apply(now, SubmitRequest{ID: fmt.Sprintf("fill%d", n), BookingID: fmt.Sprintf("bkf%d", n), Operator: "op-a", Request: mainRoute(size, hm(6, 0), hm(15, 0))})
		if res.Err != nil {
			t.Fatalf("filling op-a's share (%d left): %v", left, res.Err)
		}
		left -= size
	}
	if res, _ := again.Apply(now, SubmitRequest{ID: "over", BookingID: "bk-over", Operator: "op-a", Request: mainRoute(1, hm(6, 0), hm(15, 0))}); code(res.Err) != CodeOverShare {
		t.Fatalf("one more visitor over op-a's day share: %v", res.Err)
	}
}

// TestWithdrawOnceNotPlanned: the configuration stops making a date
// planned while a request of it is pending (the request window shrank).
// The request is due at once; a withdrawal is refused, but its message
// must not name a cut-off of "0001-01-01 00:00".
func TestWithdrawOnceNotPlanned(t *testing.T) {
	cfg := plannedPetra(t)
	r := &recorder{s: New(cfg)}
	now := time.Date(2026, 10, 10, 10, 0, 0, 0, cfg.Location())
	submitted(t, r, now, SubmitRequest{ID: "rq1", BookingID: "bk1", Operator: "op-a", Request: mainRoute(40, hm(8, 0), hm(10, 0))})
	shrunk := petra(t) // no request window
	s, err := Restore(shrunk, r.s.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	if due := s.RequestsDue(now); !reflect.DeepEqual(due, []string{plannedDate}) {
		t.Fatalf("due once the date is not planned: %v", due)
	}
	res, _ := s.Apply(now, WithdrawRequest{Operator: "op-a", ID: "rq1"})
	if res.Err == nil {
		t.Fatal("withdrawn while due for allotment")
	}
	if strings.Contains(res.Err.Error(), "0001-01-01") {
		t.Errorf("withdrawal refused with a cut-off of year 1: %v", res.Err)
	}
}

// TestRequestsForDateClosedLater: requests are pending when the
// site adds their date to closed_dates (after a flood, say) and restarts.
// The allotment places none of them (and says why), makes no booking, and
// the date stays closed to first come.
func TestRequestsForDateClosedLater(t *testing.T) {
	cfg := plannedPetra(t)
	r := &recorder{s: New(cfg)}
	now := time.Date(2026, 10, 10, 10, 0, 0, 0, cfg.Location())
	for i := range 3 {
		submitted(t, r, now, SubmitRequest{ID: fmt.Sprintf("rq%d", i), BookingID: fmt.Sprintf("bk%d", i), Operator: fmt.Sprintf("op-%d", i),
			Request: mainRoute(20, hm(8, 0), hm(12, 0))})
	}
	closed := petraWith(t, func(c *Config) { c.ClosedDates = []string{plannedDate} })
	s, err := Restore(closed, r.s.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	r.s = s
	after := plannedCutoff(cfg).Add(time.Hour)
	if res := r.do(t, after, SubmitRequest{ID: "late", BookingID: "bk-late", Operator: "op-9", Request: mainRoute(5, hm(8, 0), hm(9, 0))}); res.Err == nil {
		t.Fatal("a request for a closed date was accepted")
	}
	inst, err := s.RequestInstance(after, plannedDate)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := PlanInstance(inst, PlanOptions{Iterations: -1})
	if err != nil {
		t.Fatal(err)
	}
	res := r.do(t, after, AllotRequests{Date: plannedDate, Plan: plan})
	if res.Err != nil || res.Allotted.Allotted != 0 || res.Allotted.NotPlaced != 3 {
		t.Fatalf("allotment of a closed date: %+v %v", res.Allotted, res.Err)
	}
	for _, q := range s.Requests("", plannedDate) {
		if q.Status != RequestNotPlaced || q.Reason == "" {
			t.Fatalf("request %s on a closed date: %s %q", q.ID, q.Status, q.Reason)
		}
	}
	if len(s.Bookings("", plannedDate)) != 0 {
		t.Fatal("bookings made on a closed date")
	}
	if res := r.do(t, after, Book{ID: "walk", Operator: "op-9", Request: mainRoute(5, hm(8, 0), hm(9, 0))}); code(res.Err) != CodeClosed {
		t.Fatalf("first come on the closed date: %v", res.Err)
	}
}
