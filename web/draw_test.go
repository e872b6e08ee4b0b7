package web_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/tafweej/tafweej/api"
	"github.com/tafweej/tafweej/internal/auth"
	"github.com/tafweej/tafweej/scheduler"
)

// drawnMeter is what the control room draws for one of a zone's meters,
// in CSS pixels measured with getBoundingClientRect: the track's inner
// width, the bar's width and where it starts, and where the hold marker
// starts (-1 without one), each from the track's inline start (the left
// in English, the right in Arabic).
type drawnMeter struct {
	Zone     string  `json:"zone"`
	Kind     string  `json:"kind"` // live or planned
	Track    float64 `json:"track"`
	Bar      float64 `json:"bar"`
	BarStart float64 `json:"barStart"`
	Mark     float64 `json:"mark"`
}

// measureMeters measures every zone meter of the control room.
const measureMeters = `(() => {
	const out = [];
	for (const z of document.querySelectorAll("#zones .zone[data-zone]")) {
		for (const m of z.querySelectorAll(".meter")) {
			const cs = getComputedStyle(m), r = m.getBoundingClientRect();
			const rtl = cs.direction === "rtl";
			// The inner (padding) box: absolutely placed children start there.
			const left = r.left + parseFloat(cs.borderLeftWidth), right = r.right - parseFloat(cs.borderRightWidth);
			const from = (e) => { const b = e.getBoundingClientRect(); return rtl ? right - b.right : b.left - left; };
			const bar = m.querySelector(":scope > span"), mark = m.querySelector(":scope > i");
			out.push({ zone: z.dataset.zone, kind: m.classList.contains("planned") ? "planned" : "live",
				track: right - left, bar: bar ? bar.getBoundingClientRect().width : -1, barStart: bar ? from(bar) : -1,
				mark: mark ? from(mark) : -1 });
		}
	}
	return out;
})()`

// drawTolerance is how far, in CSS pixels, a drawn width or position may be
// from the exact one (rounding of the percentage and of the layout).
const drawTolerance = 2.5

// checkMeters compares what is drawn with GET /v1/occupancy: each bar's
// width is the track's width times occupancy/capacity (full when over),
// and the live meter's hold marker sits at hold_at/capacity.
func checkMeters(occ api.Occupancy, drawn []drawnMeter) error {
	byZone := map[string]map[string]drawnMeter{}
	for _, m := range drawn {
		if byZone[m.Zone] == nil {
			byZone[m.Zone] = map[string]drawnMeter{}
		}
		byZone[m.Zone][m.Kind] = m
	}
	var errs []string
	for _, z := range occ.Zones {
		for kind, value := range map[string]int{"live": z.Live, "planned": z.Planned} {
			m, ok := byZone[z.Zone][kind]
			if !ok {
				errs = append(errs, fmt.Sprintf("%s: no %s meter drawn", z.Zone, kind))
				continue
			}
			if m.Track < 50 {
				errs = append(errs, fmt.Sprintf("%s %s: track only %.1fpx wide", z.Zone, kind, m.Track))
				continue
			}
			frac := 0.0
			if z.Capacity > 0 {
				frac = math.Min(1, float64(value)/float64(z.Capacity))
			}
			if want := frac * m.Track; math.Abs(m.Bar-want) > drawTolerance || math.Abs(m.BarStart) > drawTolerance {
				errs = append(errs, fmt.Sprintf("%s %s: %d of %d: bar drawn %.1fpx wide from %.1fpx, want %.1fpx of the %.1fpx track from 0",
					z.Zone, kind, value, z.Capacity, m.Bar, m.BarStart, want, m.Track))
			}
			wantMark := -1.0
			if kind == "live" && z.Capacity > 0 && z.HoldAt > 0 && z.HoldAt <= z.Capacity {
				wantMark = float64(z.HoldAt) / float64(z.Capacity) * m.Track
			}
			if (wantMark < 0) != (m.Mark < 0) || math.Abs(m.Mark-wantMark) > drawTolerance {
				errs = append(errs, fmt.Sprintf("%s %s: hold marker at %.1fpx, want %.1fpx (hold at %d of %d; -1 is none)",
					z.Zone, kind, m.Mark, wantMark, z.HoldAt, z.Capacity))
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("the meters drawn disagree with GET /v1/occupancy:\n  %s", strings.Join(errs, "\n  "))
	}
	return nil
}

// count sets a zone's live occupancy with one counter reading.
func (s *stack) count(sensor, zone string, seq uint64, in int64) {
	s.t.Helper()
	res, err := s.eng.Do(context.Background(), scheduler.CounterReading{Sensor: sensor, Zone: zone, Boot: "b1", Seq: seq,
		In: in, At: s.clock.Now()})
	if err == nil {
		err = res.Err
	}
	if err != nil || res.Counter != scheduler.CounterApplied {
		s.t.Fatalf("counter reading %s %s in=%d: %v (%s)", sensor, zone, in, err, res.Counter)
	}
}

func TestBrowserOccupancyBarsDrawEachZonesOccupancy(t *testing.T) {
	ctx := newBrowser(t, 1400, 1000)
	s := newStack(t)
	opKey := s.key(auth.RoleOperator, "wadi-tours")
	first := s.book(opKey, 40)
	for _, n := range []int{35, 30} {
		s.book(opKey, n)
	}
	s.clock.Set(first.Slot.Add(5 * time.Minute))
	// Quarters, halves, three quarters, over capacity and empty: each bar
	// has its own width, and the over one is full.
	s.count("bab-al-siq-1", "bab-al-siq", 1, 200) // 200 of 800
	s.count("siq-n1", "siq", 1, 600)              // 600 of 1200
	s.count("treasury-1", "treasury", 1, 450)     // 450 of 600
	s.count("theatre-1", "theatre", 1, 700)       // 700 of 600
	var occ api.Occupancy
	if code := s.do("GET", "/v1/occupancy", s.opsKey, nil, &occ); code != http.StatusOK {
		t.Fatalf("GET /v1/occupancy: %d", code)
	}
	if len(occ.Zones) == 0 {
		t.Fatal("GET /v1/occupancy has no zones")
	}
	busy := 0
	for _, z := range occ.Zones {
		if z.Live > 0 {
			busy++
		}
	}
	if busy < 4 {
		t.Fatalf("only %d zones with people in GET /v1/occupancy: %+v", busy, occ.Zones)
	}

	openOps(t, ctx, s.srv.URL, s.opsKey, "en")
	for _, lang := range []string{"en", "ar"} {
		if lang == "ar" {
			run(t, ctx, "switch to Arabic", chromedp.Click(chromedp.ID("lang")))
			waitText(t, ctx, "#conn", "مباشر")
		}
		waitText(t, ctx, `.zone[data-zone="siq"]`, "600")
		var drawn []drawnMeter
		waitFor(t, 10*time.Second, func() error {
			drawn = eval[[]drawnMeter](t, ctx, measureMeters)
			return checkMeters(occ, drawn)
		})
		for _, m := range drawn {
			if m.Zone == "siq" && m.Kind == "live" {
				t.Logf("%s: the Siq's live bar %.1f of %.1f px, hold marker at %.1f px", lang, m.Bar, m.Track, m.Mark)
			}
		}
	}
}

// watchConsole records, from before the pages' own scripts run, every
// Content-Security-Policy violation the pages report and every error,
// exception or security message on the console of the tab.
type watchConsole struct {
	mu   sync.Mutex // guards errs
	errs []string
}

// cspRecorder runs in every new document of the tab, before the page's
// scripts; scripts added through the DevTools protocol are not subject to
// the page's CSP.
const cspRecorder = `window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => window.__cspViolations.push(
	e.effectiveDirective + " blocked " + e.blockedURI + " at " + e.sourceFile + ":" + e.lineNumber + " sample " + JSON.stringify(e.sample)));`

func newWatch(t *testing.T, ctx context.Context) *watchConsole {
	t.Helper()
	w := &watchConsole{}
	run(t, ctx, "record CSP violations", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspRecorder})
		return err
	}))
	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() || m.Source == "security" ||
				strings.Contains(m.Text, "Content Security Policy") {
				w.mu.Lock()
				w.errs = append(w.errs, fmt.Sprintf("console %s: %s (%s:%d)", m.Type, m.Text, m.URL, m.Line))
				w.mu.Unlock()
			}
		}
	}()
	return w
}

// check fails the test for every violation the open page recorded and
// every console error since the last check.
func (w *watchConsole) check(t *testing.T, ctx context.Context, where string) {
	t.Helper()
	v := eval[[]string](t, ctx, `window.__cspViolations || ["the CSP recorder is not installed"]`)
	w.mu.Lock()
	errs := append(v, w.errs...)
	w.errs = nil
	w.mu.Unlock()
	if len(errs) > 0 {
		t.Errorf("%s: %d CSP violations or console errors:\n  %s", where, len(errs), strings.Join(errs, "\n  "))
	}
}

// TestBrowserConsolePagesKeepToTheirContentSecurityPolicy opens every page
// of the console in both languages and draws all that it can show (bars,
// hold markers, banners, scan results, dialogs, cuts, planned days); the
// page must not break a rule of its CSP nor log an error.
func TestBrowserConsolePagesKeepToTheirContentSecurityPolicy(t *testing.T) {
	ctx := newBrowser(t, 1400, 1000)
	s := newStack(t)
	gateKey := s.key(auth.RoleGate, "")
	opKey := s.key(auth.RoleOperator, "wadi-tours")
	b := s.book(opKey, 6)
	small := s.book(opKey, 3)
	s.book(opKey, 30)
	s.clock.Set(b.Slot.Add(5 * time.Minute))
	s.count("siq-n1", "siq", 1, 900)
	s.count("treasury-1", "treasury", 1, 300)
	if code := s.do("POST", "/v1/cuts", s.opsKey, api.CutRequest{Zone: "treasury", Capacity: 400,
		Until: "2026-12-01T13:00:00+03:00", Reason: "works"}, nil); code != http.StatusCreated {
		t.Fatalf("POST /v1/cuts: %d", code)
	}
	w := newWatch(t, ctx)

	setUpGate(t, ctx, s.srv.URL, gateKey)
	run(t, ctx, "gate console", chromedp.WaitVisible(chromedp.ID("ticket")))
	waitText(t, ctx, "#conn", "مباشر")
	scan(t, ctx, b.Ticket, 2)
	waitText(t, ctx, "#decision", "دخول")
	w.check(t, ctx, "gate page, Arabic")
	run(t, ctx, "switch to English", chromedp.Click(chromedp.ID("lang")))
	s.clock.Set(small.Slot.Add(5 * time.Minute))
	scan(t, ctx, small.Ticket, 5)
	waitText(t, ctx, "#decision", "PARTIAL")
	if _, err := s.eng.Do(context.Background(), scheduler.SetHold{Zone: "siq", On: true}); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, `#banners .banner.hold[data-zone="siq"]`, "The Siq")
	w.check(t, ctx, "gate page, English")

	run(t, ctx, "ops page", chromedp.Navigate(s.srv.URL+"/ops"),
		chromedp.WaitVisible(chromedp.ID("setup")),
		chromedp.SendKeys(chromedp.ID("key"), s.opsKey),
		chromedp.Click(chromedp.CSS("#setup button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(`.zone[data-zone="siq"] .meter`)))
	waitText(t, ctx, "#conn", "Live")
	waitText(t, ctx, `.zone[data-zone="siq"]`, "900")
	waitText(t, ctx, `#cuts .cut[data-zone="treasury"]`, "400")
	run(t, ctx, "open a dialog", chromedp.Click(chromedp.CSS(`button[data-action="close"][data-zone="treasury"]`)),
		chromedp.WaitVisible(chromedp.ID("confirm")), chromedp.Click(chromedp.ID("confirm-cancel")),
		chromedp.WaitNotVisible(chromedp.ID("confirm")))
	w.check(t, ctx, "ops page, English")
	run(t, ctx, "switch to Arabic", chromedp.Click(chromedp.ID("lang")))
	waitText(t, ctx, "#conn", "مباشر")
	w.check(t, ctx, "ops page, Arabic")
}
