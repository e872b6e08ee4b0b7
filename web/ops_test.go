package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tafweej/tafweej/api"
	"github.com/tafweej/tafweej/internal/auth"
	"github.com/tafweej/tafweej/internal/testenv"
	"github.com/tafweej/tafweej/scheduler"
)

// openOps opens the control room in a language with the ops key and waits
// for the zones.
func openOps(t *testing.T, ctx context.Context, base, key, lang string) {
	t.Helper()
	run(t, ctx, "ops setup",
		chromedp.Navigate(base+"/ops"),
		js(fmt.Sprintf(`localStorage.setItem("tafweej.lang", %q)`, lang)),
		chromedp.Navigate(base+"/ops"),
		chromedp.WaitVisible(chromedp.ID("setup")),
		chromedp.SendKeys(chromedp.ID("key"), key),
		chromedp.Click(chromedp.CSS("#setup button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(`.zone[data-zone="siq"]`)))
	waitText(t, ctx, "#conn", map[string]string{"ar": "مباشر", "en": "Live"}[lang])
}

// waitNoText waits until the element's shown text lacks unwanted.
func waitNoText(t *testing.T, ctx context.Context, sel, unwanted string) string {
	t.Helper()
	var got string
	waitFor(t, 10*time.Second, func() error {
		got = eval[string](t, ctx, fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e ? e.innerText : ""; })()`, sel))
		if strings.Contains(got, unwanted) {
			return fmt.Errorf("%s shows %q, still with %q", sel, got, unwanted)
		}
		return nil
	})
	return got
}

// fillCut fills the cut form; an empty value leaves the field empty.
func fillCut(target, capacity, untilTime, untilDate, reason string) chromedp.Action[chromedp.Void] {
	return js(fmt.Sprintf(`(() => {
		const set = (id, v) => { const e = document.getElementById(id); e.value = v; e.dispatchEvent(new Event("change")); };
		set("cut-target", %q); set("cut-capacity", %q); set("cut-until-time", %q); set("cut-until-date", %q); set("cut-reason", %q);
	})()`, target, capacity, untilTime, untilDate, reason))
}

func dialogOpen(t *testing.T, ctx context.Context) bool {
	t.Helper()
	return eval[bool](t, ctx, `document.getElementById("confirm").open`)
}

func TestBrowserCapacityCuts(t *testing.T) {
	ctx := newBrowser(t, 1400, 1000)
	s := newStack(t)
	start := time.Now()
	opKey := s.key(auth.RoleOperator, "wadi-tours")
	for _, n := range []int{4, 3, 2} {
		s.book(opKey, n) // on 1 December
	}
	openOps(t, ctx, s.srv.URL, s.opsKey, "en")
	waitText(t, ctx, "#cuts", "None")

	t.Run("a cut on a day without bookings", func(t *testing.T) {
		// GET /v1/status keeps the configured capacity on a day with no
		// booking in memory; the page shows the cut in force.
		var cut scheduler.CapacityCut
		if code := s.do("POST", "/v1/cuts", s.opsKey, api.CutRequest{Zone: "treasury", Capacity: 300,
			Until: "2026-11-29T12:00:00+03:00", Reason: "works"}, &cut); code != http.StatusCreated {
			t.Fatalf("POST /v1/cuts: %d %+v", code, cut)
		}
		z := waitText(t, ctx, `.zone[data-zone="treasury"]`, "Live: 0 / 300 (cut from 600)")
		if !strings.Contains(z, "Planned: 0 / 300") || !strings.Contains(z, "CUT") {
			t.Errorf("treasury shows %q", z)
		}
		waitText(t, ctx, `#cuts .cut[data-zone="treasury"]`, "10:00 – 12:00")
	})

	s.clock.Set(time.Date(2026, 12, 1, 7, 30, 0, 0, testenv.Amman)) // the treasury's cut is over
	waitText(t, ctx, "#clock", "07:30")
	gone(t, ctx, `#cuts .cut[data-zone="treasury"]`)
	waitText(t, ctx, `.zone[data-zone="siq"]`, "Live: 0 / 1200 (hold at")
	waitText(t, ctx, `.zone[data-zone="treasury"]`, "Live: 0 / 600 (hold at")

	t.Run("the form checks its fields before asking", func(t *testing.T) {
		run(t, ctx, "capacity above the configured one",
			fillCut("zone:siq", "1200", "14:00", "", "rain"),
			chromedp.Click(chromedp.ID("cut-submit")))
		waitText(t, ctx, "#cut-error", "from 1 to 1199")
		if got := attr(t, ctx, `document.activeElement.id`); got != "cut-capacity" {
			t.Errorf("focus on %q, want the capacity field", got)
		}
		if got := attr(t, ctx, `document.getElementById("cut-capacity").getAttribute("aria-invalid")`); got != "true" {
			t.Errorf("capacity aria-invalid %q", got)
		}
		run(t, ctx, "no reason", fillCut("zone:siq", "600", "14:00", "", "  "), chromedp.Click(chromedp.ID("cut-submit")))
		waitText(t, ctx, "#cut-error", "Write the reason for the cut.")
		run(t, ctx, "an end already past", fillCut("zone:siq", "600", "07:00", "", "rain"), chromedp.Click(chromedp.ID("cut-submit")))
		waitText(t, ctx, "#cut-error", "end later than now")
		if dialogOpen(t, ctx) {
			t.Error("the confirmation opened for a form with errors")
		}
		// The help says what is accepted for the picked zone or gate.
		run(t, ctx, "pick a gate", fillCut("gate:little-petra", "", "", "", ""))
		waitText(t, ctx, "#cut-capacity-help", "Configured 60; accepted 1 to 59.")
	})

	t.Run("the service's refusal shows in the confirmation", func(t *testing.T) {
		run(t, ctx, "until beyond the booking period",
			fillCut("zone:siq", "600", "14:00", "2028-12-01", "rain"),
			chromedp.Click(chromedp.ID("cut-submit")),
			chromedp.WaitVisible(chromedp.ID("confirm")),
			chromedp.Click(chromedp.ID("confirm-ok")))
		waitText(t, ctx, "#confirm-error", "beyond the booking period")
		run(t, ctx, "cancel", chromedp.Click(chromedp.ID("confirm-cancel")), chromedp.WaitNotVisible(chromedp.ID("confirm")))
		var list api.CutList
		if code := s.do("GET", "/v1/cuts", s.opsKey, nil, &list); code != http.StatusOK || len(list.Cuts) != 0 {
			t.Fatalf("GET /v1/cuts: %d %+v, want no cut", code, list)
		}
	})

	t.Run("cut the Siq from the form", func(t *testing.T) {
		run(t, ctx, "fill", fillCut("zone:siq", "600", "14:00", "", "rain: slippery path"),
			chromedp.Click(chromedp.ID("cut-submit")),
			chromedp.WaitVisible(chromedp.ID("confirm")))
		title := waitText(t, ctx, "#confirm-title", "Confirm cutting The Siq to 600")
		if !strings.Contains(title, "(configured 1200) until 14:00") {
			t.Errorf("confirmation %q", title)
		}
		waitText(t, ctx, "#confirm-detail", "rain: slippery path")
		run(t, ctx, "confirm", chromedp.Click(chromedp.ID("confirm-ok")), chromedp.WaitNotVisible(chromedp.ID("confirm")))
		row := waitText(t, ctx, `#cuts .cut[data-zone="siq"]`, "rain: slippery path")
		for _, want := range []string{"The Siq", "zone", "600 of 1200", "in force", "07:30 – 14:00"} {
			if !strings.Contains(row, want) {
				t.Errorf("cut row %q lacks %q", row, want)
			}
		}
		z := waitText(t, ctx, `.zone[data-zone="siq"]`, "Live: 0 / 600 (cut from 1200)")
		if !strings.Contains(z, "CUT") {
			t.Errorf("siq zone %q has no CUT chip", z)
		}
		// The form sent the end as the site's time with its offset.
		var list api.CutList
		s.do("GET", "/v1/cuts", s.opsKey, nil, &list)
		if len(list.Cuts) != 1 || list.Cuts[0].Zone != "siq" || list.Cuts[0].Capacity != 600 ||
			!list.Cuts[0].Until.Equal(time.Date(2026, 12, 1, 14, 0, 0, 0, testenv.Amman)) || list.Cuts[0].Reason != "rain: slippery path" {
			t.Fatalf("GET /v1/cuts: %+v", list)
		}
		if v := attr(t, ctx, `document.getElementById("cut-reason").value`); v != "" {
			t.Errorf("the form kept the reason %q after the cut", v)
		}
	})

	t.Run("a gate cut made elsewhere shows with the groups it moved", func(t *testing.T) {
		var cut scheduler.CapacityCut
		code := s.do("POST", "/v1/cuts", s.opsKey, api.CutRequest{Gate: "visitor-centre", Capacity: 5,
			Until: "2026-12-01T12:00:00+03:00", Reason: "fewer staff"}, &cut)
		if code != http.StatusCreated {
			t.Fatalf("POST /v1/cuts: %d %+v", code, cut)
		}
		row := waitText(t, ctx, `#cuts .cut[data-gate="visitor-centre"]`, "fewer staff")
		for _, want := range []string{"Visitor Centre", "gate (wave)", "5 of 300", "07:30 – 12:00"} {
			if !strings.Contains(row, want) {
				t.Errorf("gate cut row %q lacks %q", row, want)
			}
		}
		log := waitText(t, ctx, "#cut-log", "capacity cut: fewer staff")
		if !strings.Contains(log, "wadi-tours") {
			t.Errorf("cut log %q names no operator", log)
		}
	})

	t.Run("Arabic", func(t *testing.T) {
		run(t, ctx, "switch", chromedp.Click(chromedp.ID("lang")))
		waitText(t, ctx, "#h-cuts", "تخفيض السعة")
		waitText(t, ctx, `#cuts .cut[data-zone="siq"]`, "ساري المفعول")
		waitText(t, ctx, `.zone[data-zone="siq"]`, "مخفّضة من 1200")
		if got := attr(t, ctx, `document.querySelector('label[for="cut-reason"]').innerText`); got != "السبب" {
			t.Errorf("reason label %q", got)
		}
		run(t, ctx, "back to English", chromedp.Click(chromedp.ID("lang")))
		waitText(t, ctx, "#h-cuts", "Capacity cuts")
	})

	t.Run("lift the Siq's cut", func(t *testing.T) {
		if got := attr(t, ctx, `document.querySelector('#cuts .cut[data-zone="siq"] button[data-action="lift"]').getAttribute("aria-label")`); got != "Lift the cut of The Siq" {
			t.Errorf("lift button label %q", got)
		}
		run(t, ctx, "lift",
			chromedp.Click(chromedp.CSS(`#cuts .cut[data-zone="siq"] button[data-action="lift"]`)),
			chromedp.WaitVisible(chromedp.ID("confirm")))
		waitText(t, ctx, "#confirm-title", "Confirm lifting the cut of The Siq (cut capacity 600)")
		run(t, ctx, "confirm", chromedp.Click(chromedp.ID("confirm-ok")), chromedp.WaitNotVisible(chromedp.ID("confirm")))
		gone(t, ctx, `#cuts .cut[data-zone="siq"]`)
		z := waitText(t, ctx, `.zone[data-zone="siq"]`, "Live: 0 / 1200 (hold at")
		if strings.Contains(z, "CUT") || strings.Contains(z, "cut from") {
			t.Errorf("siq zone still shows a cut: %q", z)
		}
		waitText(t, ctx, `#cuts .cut[data-gate="visitor-centre"]`, "fewer staff")
	})
	t.Logf("capacity cut cases took %s", time.Since(start).Round(time.Millisecond))
}

// submitRequest files a request of a planned day through the API.
func (s *stack) submitRequest(key, date string, party int) api.Request {
	s.t.Helper()
	var q api.Request
	code := s.do("POST", "/v1/requests", key, api.RequestBody{BookingRequest: api.BookingRequest{Date: date, Route: "main",
		PartySize: party, Window: api.Window{From: "08:00", To: "10:00"}, Language: "en"}}, &q)
	if code != http.StatusCreated || q.Status != scheduler.RequestPending {
		s.t.Fatalf("POST /v1/requests: %d %+v", code, q)
	}
	return q
}

func TestBrowserPlannedDays(t *testing.T) {
	ctx := newBrowser(t, 1400, 1000)
	// 20 November is in Petra's autumn planned period: requests for the
	// 25th close on the 22nd at 18:00, for the 27th on the 24th.
	s := newStackAt(t, time.Date(2026, 11, 20, 10, 0, 0, 0, testenv.Amman))
	start := time.Now()
	wadi := s.key(auth.RoleOperator, "wadi-tours")
	nabat := s.key(auth.RoleOperator, "nabatean-trails")
	s.submitRequest(wadi, "2026-11-25", 10)
	s.submitRequest(nabat, "2026-11-25", 6)
	gone := s.submitRequest(nabat, "2026-11-25", 3)
	if code := s.do("DELETE", "/v1/requests/"+gone.ID, nabat, nil, nil); code != http.StatusOK {
		t.Fatalf("withdraw: %d", code)
	}
	s.submitRequest(wadi, "2026-11-27", 5)

	openOps(t, ctx, s.srv.URL, s.opsKey, "en")
	day := `#planned article[data-date="2026-11-25"]`
	row := func(date, status string) string {
		return fmt.Sprintf(`#planned article[data-date=%q] tr[data-status=%q]`, date, status)
	}
	t.Run("pending requests before the cut-off", func(t *testing.T) {
		head := waitText(t, ctx, day, "Cut-off: Sun 22 Nov 18:00")
		if !strings.Contains(head, "Wed 25 Nov") || !strings.Contains(head, "requests open") {
			t.Errorf("planned day shows %q", head)
		}
		for sel, want := range map[string]string{
			row("2026-11-25", "pending"):    "Pending\t2\t16",
			row("2026-11-25", "withdrawn"):  "Withdrawn\t1\t3",
			row("2026-11-25", "allotted"):   "Allotted\t0\t0",
			row("2026-11-25", "not_placed"): "Not placed\t0\t0",
			row("2026-11-27", "pending"):    "Pending\t1\t5",
		} {
			waitText(t, ctx, sel, want)
		}
		rule := waitText(t, ctx, "#planned-rule", "Requests close 3 days before the day, at 18:00.")
		for _, want := range []string{"15 Mar – 15 May", "1 Oct – 30 Nov", "Next cut-off: Fri 20 Nov 18:00 (requests for Mon 23 Nov)"} {
			if !strings.Contains(rule, want) {
				t.Errorf("rule %q lacks %q", rule, want)
			}
		}
		if n := eval[int](t, ctx, `document.querySelectorAll("#planned article").length`); n != 2 {
			t.Errorf("%d planned days shown, want 2", n)
		}
	})

	t.Run("the allotment updates the panel", func(t *testing.T) {
		s.clock.Set(time.Date(2026, 11, 22, 18, 1, 0, 0, testenv.Amman))
		if _, err := s.eng.Do(context.Background(), scheduler.Tick{}); err != nil { // the planner runs after a tick past the cut-off
			t.Fatal(err)
		}
		waitText(t, ctx, row("2026-11-25", "allotted"), "Allotted\t2\t16")
		waitText(t, ctx, row("2026-11-25", "pending"), "Pending\t0\t0")
		waitText(t, ctx, day+" .allotment", "Allotment: 2 of 2 requests placed, 16 of 16 visitors.")
		waitText(t, ctx, day+" h3", "allotted")
		waitText(t, ctx, row("2026-11-27", "pending"), "Pending\t1\t5")
		waitText(t, ctx, `#planned article[data-date="2026-11-27"] h3`, "requests open")
		waitText(t, ctx, "#planned-rule", "Next cut-off: Mon 23 Nov 18:00 (requests for Thu 26 Nov)")
	})

	t.Run("Arabic", func(t *testing.T) {
		run(t, ctx, "switch", chromedp.Click(chromedp.ID("lang")))
		waitText(t, ctx, "#h-planned", "الأيام المخططة")
		waitText(t, ctx, row("2026-11-25", "allotted"), "خُصّص لها فوج\t2\t16")
		waitText(t, ctx, day+" h3", "تم التوزيع")
	})
	t.Logf("planned day cases took %s", time.Since(start).Round(time.Millisecond))
}
