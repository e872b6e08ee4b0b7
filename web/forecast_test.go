package web_test

import (
	"fmt"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tafweej/tafweej/api"
	"github.com/tafweej/tafweej/internal/auth"
)

// drawnForecast is one zone's forecast chart as the browser drew it:
// positions as shares of the chart's height from its top.
type drawnForecast struct {
	Zone     string  `json:"zone"`
	Cap      float64 `json:"cap"`
	Hold     float64 `json:"hold"`
	LineTop  float64 `json:"lineTop"`
	LineLeft float64 `json:"lineLeft"`
	LineW    float64 `json:"lineW"`
	Width    float64 `json:"width"`
}

const measureForecast = `[...document.querySelectorAll("#forecast .fc-zone")].map((d) => {
  const s = d.querySelector("svg").getBoundingClientRect();
  const f = (sel) => (d.querySelector(sel).getBoundingClientRect().top - s.top) / s.height;
  const l = d.querySelector(".fc-line").getBoundingClientRect();
  return { zone: d.dataset.zone, cap: f(".fc-cap"), hold: f(".fc-hold"), lineTop: (l.top - s.top) / s.height,
    lineLeft: l.left - s.left, lineW: l.width, width: s.width };
})`

// TestBrowserForecastPanelDrawsForecastAgainstCapacity: the control room
// draws every zone's forecast for the next hour (GET /v1/forecast) with
// its capacity and hold threshold where the figures put them, on a scale
// of 0 to 120% of the capacity, the line reaching as high as the
// forecast's peak and running across the whole hour.
func TestBrowserForecastPanelDrawsForecastAgainstCapacity(t *testing.T) {
	ctx := newBrowser(t, 1400, 1000)
	s := newStack(t)
	opKey := s.key(auth.RoleOperator, "wadi-tours")
	first := s.book(opKey, 40)
	s.book(opKey, 35)
	s.clock.Set(first.Slot.Add(5 * time.Minute))
	s.count("treasury-1", "treasury", 1, 450) // 450 of 600, over the hold threshold
	s.count("theatre-1", "theatre", 1, 200)
	var fc api.ForecastAnswer
	if code := s.do("GET", "/v1/forecast", s.opsKey, nil, &fc); code != http.StatusOK {
		t.Fatalf("GET /v1/forecast: %d", code)
	}
	peaks := map[string]int{}
	for _, z := range fc.Zones {
		if len(z.Visitors) != fc.Minutes+1 {
			t.Fatalf("%s: %d minutes forecast, want %d", z.Zone, len(z.Visitors), fc.Minutes+1)
		}
		peaks[z.Zone] = z.Peak
	}
	if peaks["treasury"] < 440 || peaks["bab-al-siq"] < 75 {
		t.Fatalf("the forecast misses the crowd: treasury %d (450 counted), bab-al-siq %d (75 still to come)", peaks["treasury"], peaks["bab-al-siq"])
	}
	openOps(t, ctx, s.srv.URL, s.opsKey, "en")
	var drawn []drawnForecast
	waitFor(t, 10*time.Second, func() error {
		drawn = eval[[]drawnForecast](t, ctx, measureForecast)
		if len(drawn) != len(fc.Zones) {
			return fmt.Errorf("%d forecast charts drawn, %d zones", len(drawn), len(fc.Zones))
		}
		return nil
	})
	near := func(got, want float64) bool { return math.Abs(got-want) < 0.03 }
	for i, d := range drawn {
		z := fc.Zones[i]
		top := 1.2 * float64(z.Capacity)
		if d.Zone != z.Zone {
			t.Fatalf("chart %d is %q, want %q", i, d.Zone, z.Zone)
		}
		if !near(d.Cap, 1-float64(z.Capacity)/top) || !near(d.Hold, 1-float64(z.HoldAt)/top) {
			t.Errorf("%s: capacity line at %.3f, hold at %.3f of the height; want %.3f and %.3f", z.Zone, d.Cap, d.Hold,
				1-float64(z.Capacity)/top, 1-float64(z.HoldAt)/top)
		}
		if want := 1 - math.Min(float64(z.Peak), top)/top; !near(d.LineTop, want) {
			t.Errorf("%s: the line's top at %.3f of the height, the peak %d puts it at %.3f", z.Zone, d.LineTop, z.Peak, want)
		}
		if d.LineLeft > 1 || d.LineW < d.Width-2 {
			t.Errorf("%s: the line spans %.1f px from %.1f of a %.1f px chart, not the whole hour", z.Zone, d.LineW, d.LineLeft, d.Width)
		}
	}
	run(t, ctx, "switch to Arabic", chromedp.Click(chromedp.ID("lang")))
	waitText(t, ctx, "#h-forecast", "توقعات")
}
