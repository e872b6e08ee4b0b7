package web_test

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/goccy/go-yaml"

	"github.com/tafweej/tafweej/api"
	teststack "github.com/tafweej/tafweej/internal/testenv/stack"
	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

// overbookedStack is the stack restarted on a configuration whose zone
// capacities are 40% and wave capacities half of Petra's, over a store in
// which the morning of 1 December was booked full under Petra's.
func overbookedStack(t *testing.T) *stack {
	t.Helper()
	cfg := teststack.Petra(t)
	dir := t.TempDir()
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := scheduler.New(cfg)
	var records []scheduler.Effect
	for i := range 30 {
		res, eff := s.Apply(bookingNow, scheduler.Book{ID: fmt.Sprintf("bk_over%02d", i), Operator: scheduler.WalkInOperator,
			Request: scheduler.BookingRequest{Date: "2026-12-01", Route: "main", PartySize: 50, Window: scheduler.Window{From: 8 * 60, To: 10 * 60}}})
		if res.Err != nil {
			t.Fatalf("book %d: %v", i, res.Err)
		}
		for _, ef := range eff {
			if _, ok := ef.(scheduler.Event); !ok {
				records = append(records, ef)
			}
		}
	}
	if err := st.Commit(records); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	low := *cfg
	low.Zones, low.Gates = slices.Clone(cfg.Zones), slices.Clone(cfg.Gates)
	for i := range low.Zones {
		z := &low.Zones[i]
		z.Capacity, z.HoldAt, z.ReleaseAt = int(math.Round(float64(z.Capacity)*0.4)), int(math.Round(float64(z.HoldAt)*0.4)), int(math.Round(float64(z.ReleaseAt)*0.4))
	}
	for i := range low.Gates {
		low.Gates[i].WaveCapacity /= 2
	}
	data, err := yaml.Marshal(&low)
	if err != nil {
		t.Fatal(err)
	}
	lowered, err := scheduler.ParseConfig(data)
	if err != nil {
		t.Fatalf("the lowered configuration: %v", err)
	}
	return newStackOn(t, bookingNow, lowered, dir)
}

// TestBrowserOverbookedDates: the control room shows the date over the
// capacity now configured — drawn, with its zones and waves and the
// figures of GET /v1/occupancy — and re-plans it with one confirmed click.
func TestBrowserOverbookedDates(t *testing.T) {
	ctx := newBrowser(t, 1400, 1000)
	s := overbookedStack(t)
	var occ api.Occupancy
	if code := s.do("GET", "/v1/occupancy", s.opsKey, nil, &occ); code != http.StatusOK || len(occ.Overbooked) != 1 {
		t.Fatalf("GET /v1/occupancy: %d, overbooked %+v", code, occ.Overbooked)
	}
	d := occ.Overbooked[0]
	openOps(t, ctx, s.srv.URL, s.opsKey, "en")

	day := `#over .oday[data-date="2026-12-01"]`
	got := waitText(t, ctx, day, fmt.Sprintf("%d waves and %d zones over capacity", d.Waves, d.ZoneDays))
	for _, z := range d.Zones {
		name := z.Zone
		if zc, ok := s.cfg.Zone(z.Zone); ok {
			name = zc.Name.EN
		}
		want := fmt.Sprintf("%s: %d of %d (%s–%s)", name, z.Planned, z.Capacity, z.From.Format("15:04"), z.Until.Format("15:04"))
		if !strings.Contains(got, want) {
			t.Errorf("the date shows %q, lacking %q", got, want)
		}
	}
	for _, g := range d.Gates {
		if want := fmt.Sprintf("%d waves, the fullest %d of %d at %s", g.Waves, g.Booked, g.Capacity, g.Slot.Format("15:04")); !strings.Contains(got, want) {
			t.Errorf("the date shows %q, lacking %q", got, want)
		}
	}
	// Drawn, not only present: a visible box with the alarm's border.
	box := eval[map[string]any](t, ctx, `(() => { const e = document.getElementById("over-box"); const r = e.getBoundingClientRect();
		return {h: r.height, w: r.width, border: getComputedStyle(e).borderTopColor, width: getComputedStyle(e).borderTopWidth}; })()`)
	if box["h"].(float64) < 50 || box["w"].(float64) < 200 || box["border"] != "rgb(179, 20, 27)" || box["width"] != "4px" {
		t.Errorf("the over-capacity box is drawn as %v", box)
	}
	if chip := waitText(t, ctx, `.zone[data-zone="siq"] .chip.over`, ""); !strings.EqualFold(chip, "over capacity") {
		t.Errorf("the Siq's chip says %q", chip)
	}

	run(t, ctx, "re-plan", chromedp.Click(chromedp.CSS(day+` button[data-action="replan"]`)))
	waitFor(t, 5*time.Second, func() error {
		if !dialogOpen(t, ctx) {
			return fmt.Errorf("no confirmation dialog")
		}
		return nil
	})
	run(t, ctx, "confirm", chromedp.Click(chromedp.ID("confirm-ok")))
	res := waitText(t, ctx, "#over-result", "re-planned:")
	gone(t, ctx, day)
	gone(t, ctx, `.zone[data-zone="siq"] .chip.over`)
	if code := s.do("GET", "/v1/occupancy", s.opsKey, nil, &occ); code != http.StatusOK || len(occ.Overbooked) != 0 {
		t.Errorf("after the re-plan GET /v1/occupancy: %d, overbooked %+v", code, occ.Overbooked)
	}
	t.Log(res)
}
