package web_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/tafweej/tafweej/api"
	"github.com/tafweej/tafweej/internal/auth"
	"github.com/tafweej/tafweej/internal/testenv"
	"github.com/tafweej/tafweej/scheduler"
)

// chromiumPath finds Debian's chromium, or skips (fails with
// TAFWEEJ_REQUIRE_CHROMIUM=1).
func chromiumPath(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped under -short")
	}
	for _, p := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("TAFWEEJ_REQUIRE_CHROMIUM") == "1" {
		t.Fatal("chromium not found and TAFWEEJ_REQUIRE_CHROMIUM=1: install it with `apt-get install -y chromium`")
	}
	t.Skip("chromium not found: browser tests skipped (install with `apt-get install -y chromium`; TAFWEEJ_REQUIRE_CHROMIUM=1 makes this a failure)")
	return ""
}

// newBrowser starts a headless chromium; the returned context is its first
// tab.
func newBrowser(t *testing.T, width, height int) context.Context {
	t.Helper()
	path := chromiumPath(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(width, height),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return bctx
}

// run runs browser actions with a time limit.
func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(c, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// js runs a script for its effect.
func js(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[any](expr+"; true")(ctx, t)
		return err
	})
}

// eval runs a script for its value.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	v, err := chromedp.Run(c, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// text is the text the page shows in the first element matching sel.
// waitText waits until the element's shown text contains want.
func waitText(t *testing.T, ctx context.Context, sel, want string) string {
	t.Helper()
	var got string
	waitFor(t, 10*time.Second, func() error {
		c, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		s, err := chromedp.Run(c, chromedp.Evaluate[string](fmt.Sprintf(
			`(() => { const e = document.querySelector(%q); return e && !e.hidden && e.offsetParent !== null ? e.innerText : ""; })()`, sel)))
		if err != nil {
			return err
		}
		got = s
		if !strings.Contains(s, want) {
			return fmt.Errorf("%s shows %q, want it to contain %q", sel, s, want)
		}
		return nil
	})
	return got
}

// gone waits until no element matches sel.
func gone(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	waitFor(t, 10*time.Second, func() error {
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)))
		if err != nil {
			return err
		}
		if n != 0 {
			return fmt.Errorf("%d elements still match %s", n, sel)
		}
		return nil
	})
}

func attr(t *testing.T, ctx context.Context, expr string) string {
	t.Helper()
	return eval[string](t, ctx, expr)
}

// scan types a ticket code and count the way a handheld scanner does (the
// code, then Enter) and waits for a new result.
func scan(t *testing.T, ctx context.Context, ticket string, count int) {
	t.Helper()
	run(t, ctx, "scan",
		js(`document.getElementById("result").hidden = true`),
		chromedp.SetValue(chromedp.ID("count"), fmt.Sprint(count)),
		chromedp.Focus(chromedp.ID("ticket")),
		chromedp.SendKeys(chromedp.ID("ticket"), ticket+kb.Enter),
		chromedp.WaitVisible(chromedp.ID("result")))
}

// setUpGate enters the key and picks the gate on the gate page.
func setUpGate(t *testing.T, ctx context.Context, base, key string) {
	t.Helper()
	run(t, ctx, "gate setup",
		chromedp.Navigate(base+"/gate"),
		chromedp.WaitVisible(chromedp.ID("setup")),
		chromedp.SendKeys(chromedp.ID("key"), key),
		chromedp.SetValue(chromedp.ID("gate-select"), "visitor-centre"),
		chromedp.Click(chromedp.CSS("#setup button[type=submit]")))
}

func TestBrowserGateAndControlRoom(t *testing.T) {
	ctx := newBrowser(t, 1000, 900)
	s := newStack(t)
	start := time.Now()
	gateKey := s.key(auth.RoleGate, "")
	opKey := s.key(auth.RoleOperator, "wadi-tours")
	group := s.book(opKey, 4)
	small := s.book(opKey, 3)
	later := s.book(opKey, 2)
	s.clock.Set(group.Slot.Add(5 * time.Minute))

	t.Run("arabic page renders right to left", func(t *testing.T) {
		run(t, ctx, "open /gate", chromedp.Navigate(s.srv.URL+"/gate"), chromedp.WaitVisible(chromedp.ID("setup")))
		if dir, lang := attr(t, ctx, `document.documentElement.dir`), attr(t, ctx, `document.documentElement.lang`); dir != "rtl" || lang != "ar" {
			t.Fatalf("html dir=%q lang=%q, want rtl and ar", dir, lang)
		}
		if got := attr(t, ctx, `getComputedStyle(document.body).direction`); got != "rtl" {
			t.Errorf("computed direction %q, want rtl", got)
		}
		waitText(t, ctx, "#setup h2", "إعداد الجهاز")
	})

	t.Run("wrong key", func(t *testing.T) {
		setUpGate(t, ctx, s.srv.URL, "tfw_not-a-key")
		waitText(t, ctx, "#alert", "المفتاح غير صحيح")
		if !strings.Contains(attr(t, ctx, `document.getElementById("alert").dataset.msg`), "wrong_key") {
			t.Error("the alert is not the wrong-key message")
		}
	})

	t.Run("a scan that admits", func(t *testing.T) {
		setUpGate(t, ctx, s.srv.URL, gateKey)
		run(t, ctx, "console", chromedp.WaitVisible(chromedp.ID("ticket")))
		waitText(t, ctx, "#conn", "مباشر") // the event stream is live
		waitText(t, ctx, "#waves", "08:")
		scan(t, ctx, group.Ticket, 4)
		waitText(t, ctx, "#decision", "دخول")
		// English, switched from the page.
		run(t, ctx, "switch to English", chromedp.Click(chromedp.ID("lang")))
		if dir := attr(t, ctx, `document.documentElement.dir`); dir != "ltr" {
			t.Errorf("English page dir %q, want ltr", dir)
		}
		waitText(t, ctx, "#decision", "ADMIT")
		d := waitText(t, ctx, "#details", "Admitted")
		for _, want := range []string{"4", "wadi-tours", "de", group.Slot.In(testenv.Amman).Format("15:04")} {
			if !strings.Contains(d, want) {
				t.Errorf("details %q lack %q", d, want)
			}
		}
		if c := attr(t, ctx, `document.getElementById("result").className`); !strings.Contains(c, "admit") {
			t.Errorf("result class %q", c)
		}
	})

	t.Run("rejected as already used", func(t *testing.T) {
		scan(t, ctx, group.Ticket, 1)
		waitText(t, ctx, "#decision", "REJECT")
		waitText(t, ctx, "#reason", "Ticket already used")
	})

	t.Run("partial admission", func(t *testing.T) {
		s.clock.Set(small.Slot.Add(5 * time.Minute))
		scan(t, ctx, small.Ticket, 5)
		waitText(t, ctx, "#decision", "PARTIAL")
		d := waitText(t, ctx, "#details", "Admitted")
		if !strings.Contains(d, "Admitted\n3") || !strings.Contains(d, "Remaining\n0") {
			t.Errorf("details %q, want 3 admitted and 0 remaining", d)
		}
	})

	t.Run("hold banner appears live", func(t *testing.T) {
		if _, err := s.eng.Do(context.Background(), scheduler.SetHold{Zone: "siq", On: true}); err != nil {
			t.Fatal(err)
		}
		waitText(t, ctx, `#banners .banner.hold[data-zone="siq"]`, "Waves on hold: The Siq")
		if _, err := s.eng.Do(context.Background(), scheduler.SetHold{Zone: "siq", On: false}); err != nil {
			t.Fatal(err)
		}
		gone(t, ctx, "#banners .banner.hold")
	})

	t.Run("closure from the control room reaches the gate", func(t *testing.T) {
		ops, cancel := chromedp.NewContext(ctx)
		defer cancel()
		if err := chromedp.Do(ops); err != nil { // opens the tab, without a time limit
			t.Fatal(err)
		}
		run(t, ops, "ops setup",
			chromedp.Navigate(s.srv.URL+"/ops"),
			chromedp.WaitVisible(chromedp.ID("setup")),
			chromedp.SendKeys(chromedp.ID("key"), s.opsKey),
			chromedp.Click(chromedp.CSS("#setup button[type=submit]")),
			chromedp.WaitVisible(chromedp.CSS(`button[data-action="close"][data-zone="siq"]`)))
		z := waitText(t, ops, `.zone[data-zone="siq"]`, "1200")
		if !strings.Contains(z, "1200") {
			t.Errorf("siq zone shows %q", z)
		}
		run(t, ops, "close the Siq",
			chromedp.Click(chromedp.CSS(`button[data-action="close"][data-zone="siq"]`)),
			chromedp.WaitVisible(chromedp.ID("confirm")))
		// Confirming without a reason is refused on the page.
		run(t, ops, "confirm without reason", chromedp.Click(chromedp.ID("confirm-ok")))
		waitText(t, ops, "#confirm-error", "Write the reason")
		run(t, ops, "confirm",
			chromedp.SendKeys(chromedp.ID("confirm-reason"), "flash flood warning"),
			chromedp.Click(chromedp.ID("confirm-ok")),
			chromedp.WaitNotVisible(chromedp.ID("confirm")))
		// The page's language is kept per device: English, as chosen on the gate tab.
		waitText(t, ops, `.zone[data-zone="siq"]`, "CLOSED")
		waitText(t, ops, "#closures", "flash flood warning")
		// The gate page shows the closure banner without a reload.
		waitText(t, ctx, "#banners .banner.closure", "flash flood warning")
		s.clock.Set(later.Slot.Add(5 * time.Minute))
		scan(t, ctx, later.Ticket, 2)
		waitText(t, ctx, "#decision", "REJECT")
		waitText(t, ctx, "#reason", "Zone closed")
		// Reopen from the control room: the banner goes.
		run(t, ops, "reopen",
			chromedp.WaitVisible(chromedp.CSS(`#closures button[data-action="reopen"]`)),
			chromedp.Click(chromedp.CSS(`#closures button[data-action="reopen"]`)),
			chromedp.WaitVisible(chromedp.ID("confirm")),
			chromedp.Click(chromedp.ID("confirm-ok")),
			chromedp.WaitNotVisible(chromedp.ID("confirm")))
		gone(t, ctx, "#banners .banner.closure")
	})
	t.Logf("browser cases took %s", time.Since(start).Round(time.Millisecond))
}

// TestScreenshots writes PNGs of both pages in both languages into
// $TAFWEEJ_SCREENSHOTS (make screenshots), and of the control room on a
// 1920×1080 wall screen. The day is 25 November, a planned day whose
// requests were allotted; the 29th still takes requests; the Siq is
// crowded and under a capacity cut; the High Place is closed.
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("TAFWEEJ_SCREENSHOTS")
	if dir == "" {
		t.Skip("set TAFWEEJ_SCREENSHOTS=DIR to write screenshots (make screenshots)")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s := newStackAt(t, time.Date(2026, 11, 20, 10, 0, 0, 0, testenv.Amman))
	gateKey := s.key(auth.RoleGate, "")
	opKey := s.key(auth.RoleOperator, "wadi-tours")
	nabat := s.key(auth.RoleOperator, "nabatean-trails")
	for _, n := range []int{24, 18, 30} {
		s.submitRequest(opKey, "2026-11-25", n)
		s.submitRequest(nabat, "2026-11-25", n/2)
	}
	s.submitRequest(nabat, "2026-11-29", 20)
	s.submitRequest(opKey, "2026-11-29", 12)
	s.clock.Set(time.Date(2026, 11, 22, 18, 1, 0, 0, testenv.Amman))
	if _, err := s.eng.Do(context.Background(), scheduler.Tick{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, func() error {
		var l api.RequestList
		s.do("GET", "/v1/requests?date=2026-11-25", s.opsKey, nil, &l)
		for _, q := range l.Requests {
			if q.Status == scheduler.RequestPending {
				return errNotYet
			}
		}
		return nil
	})
	morning := time.Date(2026, 11, 25, 7, 0, 0, 0, testenv.Amman)
	s.clock.Set(morning)
	// People on the counters: a crowded Siq, a busy Treasury, a quiet rest;
	// the High Place closed.
	for i, c := range []struct {
		sensor, zone string
		in           int64
	}{{"siq-n1", "siq", 1000}, {"treasury-1", "treasury", 480}, {"bab-al-siq-1", "bab-al-siq", 260},
		{"facades-1", "street-of-facades", 150}, {"colonnaded-1", "colonnaded-street", 420}, {"monastery-1", "monastery", 60}} {
		s.count(c.sensor, c.zone, uint64(i+1), c.in)
	}
	if code := s.do("POST", "/v1/closures", s.opsKey, api.ClosureRequest{Zones: []string{"high-place"}, Reason: "rockfall on the steps"}, nil); code != http.StatusCreated {
		t.Fatalf("POST /v1/closures: %d", code)
	}
	for _, c := range []api.CutRequest{
		{Zone: "siq", Capacity: 800, Until: "2026-11-25T13:00:00+03:00", Reason: "rain: slippery path"},
		{Gate: "little-petra", Capacity: 40, From: "2026-11-25T12:00:00+03:00", Until: "2026-11-25T16:00:00+03:00", Reason: "two gate staff off sick"},
	} {
		if code := s.do("POST", "/v1/cuts", s.opsKey, c, nil); code != http.StatusCreated {
			t.Fatalf("POST /v1/cuts %+v: %d", c, code)
		}
	}
	for _, lang := range []string{"ar", "en"} {
		s.clock.Set(morning)
		var b api.Booking
		if code := s.do("POST", "/v1/bookings", opKey, api.BookingRequest{Date: "2026-11-25", Route: "main", PartySize: 12,
			Window: api.Window{From: "08:00", To: "09:00"}, Language: "de"}, &b); code != http.StatusCreated {
			t.Fatalf("POST /v1/bookings: %d %+v", code, b)
		}
		s.clock.Set(b.Slot.Add(5 * time.Minute))
		phone := newBrowser(t, 412, 915)
		run(t, phone, "language", chromedp.Navigate(s.srv.URL+"/gate"),
			js(fmt.Sprintf(`localStorage.setItem("tafweej.lang", %q)`, lang)))
		setUpGate(t, phone, s.srv.URL, gateKey)
		run(t, phone, "console", chromedp.WaitVisible(chromedp.ID("ticket")))
		scan(t, phone, b.Ticket, 10)
		if _, err := s.eng.Do(context.Background(), scheduler.SetHold{Zone: "siq", On: true}); err != nil {
			t.Fatal(err)
		}
		waitText(t, phone, "#banners .banner.hold", "")
		png := eval2(t, phone, chromedp.FullScreenshot(100))
		if err := os.WriteFile(filepath.Join(dir, "gate-"+lang+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
		desk := newBrowser(t, 1400, 1000)
		openOps(t, desk, s.srv.URL, s.opsKey, lang)
		scan(t, phone, b.Ticket, 2) // an admission for the latest scans
		waitText(t, desk, "#scans", "wadi-tours")
		waitText(t, desk, `#planned article[data-date="2026-11-29"] tr[data-status="pending"]`, "32")
		waitText(t, desk, `#cuts .cut[data-zone="siq"]`, "800")
		png = eval2(t, desk, chromedp.FullScreenshot(100))
		if err := os.WriteFile(filepath.Join(dir, "ops-"+lang+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
		// The control room on a 1920×1080 wall screen, the map coloured by
		// the zones' live occupancy.
		wall := newBrowser(t, 1920, 1080)
		run(t, wall, "wall screen", chromedp.EmulateViewport(1920, 1080))
		openOps(t, wall, s.srv.URL, s.opsKey, lang)
		waitFor(t, 10*time.Second, func() error {
			if n := eval[int](t, wall, `document.querySelectorAll("#map path.map-zone").length`); n != len(s.cfg.Zones) {
				return fmt.Errorf("%d zones on the map", n)
			}
			return nil
		})
		if size := eval[[]float64](t, wall, `[document.documentElement.scrollWidth, document.documentElement.scrollHeight]`); size[0] > 1920 || size[1] > 1080 {
			t.Errorf("%s: the control room is %vx%v px on a 1920x1080 wall screen", lang, size[0], size[1])
		}
		png = eval2(t, wall, chromedp.CaptureScreenshot())
		if err := os.WriteFile(filepath.Join(dir, "ops-wall-"+lang+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := s.eng.Do(context.Background(), scheduler.SetHold{Zone: "siq", On: false}); err != nil {
			t.Fatal(err)
		}
	}
}

// eval2 runs an action for its value.
func eval2[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	v, err := chromedp.Run(c, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
