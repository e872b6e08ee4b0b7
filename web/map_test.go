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
	"github.com/tafweej/tafweej/scheduler"
)

// occupancyScale is the control room's map colour scale, written out here
// independently of map.js: live/capacity below the bound takes the colour.
var occupancyScale = []struct {
	below float64
	rgb   string
}{
	{0.25, "rgb(26, 152, 80)"},
	{0.5, "rgb(145, 207, 96)"},
	{0.75, "rgb(254, 224, 139)"},
	{1, "rgb(252, 141, 89)"},
	{1e18, "rgb(215, 48, 39)"},
}

func scaleColour(live, capacity int) string {
	r := float64(live) / float64(capacity)
	for _, b := range occupancyScale {
		if r < b.below {
			return b.rgb
		}
	}
	return ""
}

// drawnZone is one zone's shape on the map as the browser drew it.
type drawnZone struct {
	Zone   string  `json:"zone"`
	Fill   string  `json:"fill"`
	Dash   string  `json:"dash"`
	Held   string  `json:"held"`
	Closed string  `json:"closed"`
	Mark   bool    `json:"mark"` // a closure's hatch is drawn over it
	Label  string  `json:"label"`
	W      float64 `json:"w"`
	H      float64 `json:"h"`
	Inside bool    `json:"inside"` // within the map's box
}

const measureMap = `(() => {
	const svg = document.getElementById("map"), box = svg.getBoundingClientRect();
	return [...svg.querySelectorAll("path.map-zone")].map((p) => {
		const cs = getComputedStyle(p), r = p.getBoundingClientRect(), z = p.dataset.zone;
		const mark = svg.querySelector('path.map-closed[data-zone="' + z + '"]');
		const label = svg.querySelector('g.map-label[data-zone="' + z + '"]');
		return { zone: z, fill: cs.fill, dash: cs.strokeDasharray, held: p.dataset.held, closed: p.dataset.closed,
			mark: !!mark && mark.getBoundingClientRect().width > 0, label: label ? label.textContent : "",
			w: r.width, h: r.height,
			inside: r.left >= box.left - 1 && r.right <= box.right + 1 && r.top >= box.top - 1 && r.bottom <= box.bottom + 1 };
	});
})()`

// TestBrowserControlRoomMapShowsTheCrowdedSiqAndFitsAWallScreen: the
// control room draws every zone from GET /v1/zones.geojson; the crowded
// Siq is drawn in the scale's colour for its occupancy and marked held,
// the closed Monastery carries the closure's hatch; the map follows the
// occupancy live; both names show; and the whole page fits a 1920×1080
// wall screen without scrolling, in both languages, with nothing fetched
// from outside the service.
func TestBrowserControlRoomMapShowsTheCrowdedSiqAndFitsAWallScreen(t *testing.T) {
	ctx := newBrowser(t, 1920, 1080)
	run(t, ctx, "wall screen viewport", chromedp.EmulateViewport(1920, 1080))
	s := newStack(t)
	opKey := s.key(auth.RoleOperator, "wadi-tours")
	first := s.book(opKey, 40)
	s.book(opKey, 30)
	s.clock.Set(first.Slot.Add(5 * time.Minute))
	s.count("siq-n1", "siq", 1, 1100)        // 1100 of 1200: crowded, held
	s.count("treasury-1", "treasury", 1, 90) // 90 of 600
	if code := s.do("POST", "/v1/closures", s.opsKey, api.ClosureRequest{Zones: []string{"monastery"}, Reason: "rockfall"}, nil); code != http.StatusCreated {
		t.Fatalf("POST /v1/closures: %d", code)
	}

	openOps(t, ctx, s.srv.URL, s.opsKey, "en")
	var zones []drawnZone
	byZone := map[string]drawnZone{}
	waitFor(t, 10*time.Second, func() error {
		zones = eval[[]drawnZone](t, ctx, measureMap)
		if len(zones) != len(s.cfg.Zones) {
			return fmt.Errorf("%d zones drawn, want %d", len(zones), len(s.cfg.Zones))
		}
		for _, z := range zones {
			byZone[z.Zone] = z
		}
		if want := scaleColour(1100, 1200); byZone["siq"].Fill != want {
			return fmt.Errorf("the Siq (1100 of 1200) is drawn %q, want %q", byZone["siq"].Fill, want)
		}
		return nil
	})
	for _, z := range zones {
		if z.W < 8 || z.H < 8 || !z.Inside {
			t.Errorf("%s: drawn %.0f×%.0f px, inside the map %v", z.Zone, z.W, z.H, z.Inside)
		}
		zc, _ := s.cfg.Zone(z.Zone)
		if !strings.Contains(z.Label, zc.Name.EN) || !strings.Contains(z.Label, zc.Name.AR) {
			t.Errorf("%s: label %q lacks %q or %q", z.Zone, z.Label, zc.Name.EN, zc.Name.AR)
		}
	}
	if siq := byZone["siq"]; siq.Held != "true" || siq.Dash == "none" || siq.Dash == "" || !strings.Contains(siq.Label, "HELD") {
		t.Errorf("the held Siq: held=%s dash %q label %q, want it marked held", siq.Held, siq.Dash, siq.Label)
	}
	if tr := byZone["treasury"]; tr.Fill != scaleColour(90, 600) {
		t.Errorf("the Treasury (90 of 600) is drawn %q, want %q", tr.Fill, scaleColour(90, 600))
	}
	if m := byZone["monastery"]; m.Closed != "true" || !m.Mark || !strings.Contains(m.Label, "CLOSED") {
		t.Errorf("the closed Monastery: closed=%s hatch %v label %q", m.Closed, m.Mark, m.Label)
	}
	if tr := byZone["treasury"]; tr.Mark || tr.Closed != "false" {
		t.Errorf("the open Treasury carries a closure mark")
	}

	// Live: the Siq empties (900 go out, over ten minutes: a counter that
	// counts faster than a crowd can walk is doubted, issue 14) and its
	// colour follows.
	s.clock.Advance(10 * time.Minute)
	res, err := s.eng.Do(context.Background(), scheduler.CounterReading{Sensor: "siq-n1", Zone: "siq", Boot: "b1", Seq: 2,
		In: 1100, Out: 900, At: s.clock.Now()})
	if err != nil || res.Err != nil {
		t.Fatalf("counter reading: %v %v", err, res.Err)
	}
	waitFor(t, 10*time.Second, func() error {
		got := eval[string](t, ctx, `getComputedStyle(document.querySelector('#map path.map-zone[data-zone="siq"]')).fill`)
		if want := scaleColour(200, 1200); got != want {
			return fmt.Errorf("the Siq at 200 of 1200 is drawn %q, want %q", got, want)
		}
		return nil
	})

	for _, lang := range []string{"en", "ar"} {
		if lang == "ar" {
			run(t, ctx, "switch to Arabic", chromedp.Click(chromedp.ID("lang")))
			waitText(t, ctx, "#conn", "مباشر")
			waitFor(t, 10*time.Second, func() error {
				if l := eval[string](t, ctx, `document.querySelector('#map g.map-label[data-zone="monastery"]').textContent`); !strings.Contains(l, "مغلق") {
					return fmt.Errorf("the Monastery's label %q, want it marked مغلق", l)
				}
				return nil
			})
		}
		fit := eval[map[string]float64](t, ctx, `(() => { const d = document.documentElement, m = document.getElementById("map").getBoundingClientRect();
			return { sh: d.scrollHeight, sw: d.scrollWidth, ih: innerHeight, iw: innerWidth, mapTop: m.top, mapBottom: m.bottom, mapW: m.width, mapH: m.height }; })()`)
		t.Logf("%s: page %vx%v in a %vx%v viewport; map %vx%v px", lang, fit["sw"], fit["sh"], fit["iw"], fit["ih"], fit["mapW"], fit["mapH"])
		if fit["iw"] != 1920 || fit["ih"] != 1080 {
			t.Fatalf("viewport %vx%v, want 1920x1080", fit["iw"], fit["ih"])
		}
		if fit["sh"] > 1080 || fit["sw"] > 1920 {
			t.Errorf("%s: the control room is %vx%v px, more than the 1920x1080 wall screen", lang, fit["sw"], fit["sh"])
		}
		if fit["mapBottom"] > 1080 || fit["mapH"] < 400 || fit["mapW"] < 600 {
			t.Errorf("%s: the map is %vx%v px ending at %v; want at least 600x400 within the screen", lang, fit["mapW"], fit["mapH"], fit["mapBottom"])
		}
	}
	// Offline: nothing was fetched from anywhere but the service.
	for _, u := range eval[[]string](t, ctx, `performance.getEntriesByType("resource").map((e) => e.name)`) {
		if !strings.HasPrefix(u, s.srv.URL) {
			t.Errorf("the control room fetched %s, outside the service", u)
		}
	}
}
