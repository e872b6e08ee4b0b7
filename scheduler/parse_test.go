package scheduler

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tafweej/tafweej/internal/testenv"
)

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func mustParse(t testing.TB, name string) *Config {
	t.Helper()
	c, err := ParseConfig(readFile(t, name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return c
}

func amman(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Amman")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestParseConfigPetra(t *testing.T) {
	c := mustParse(t, testenv.PetraPath())

	if c.Site != "petra" || c.SlotMinutes != 15 {
		t.Errorf("site %q, slot %d; want petra, 15", c.Site, c.SlotMinutes)
	}
	if got := c.Location().String(); got != "Asia/Amman" {
		t.Errorf("location %q, want Asia/Amman", got)
	}
	// Jordan is on UTC+3 all year.
	for _, m := range []time.Month{time.January, time.July} {
		if _, off := time.Date(2026, m, 1, 12, 0, 0, 0, c.Location()).Zone(); off != 3*3600 {
			t.Errorf("offset in %v: %ds, want +3h", m, off)
		}
	}
	for _, id := range []string{"visitor-centre", "little-petra", "umm-sayhoun"} {
		if _, ok := c.Gate(id); !ok {
			t.Errorf("gate %q missing", id)
		}
	}
	for _, id := range []string{"bab-al-siq", "siq", "treasury", "street-of-facades", "colonnaded-street", "monastery", "high-place", "little-petra"} {
		z, ok := c.Zone(id)
		if !ok {
			t.Errorf("zone %q missing", id)
			continue
		}
		if z.Name.EN == "" || z.Name.AR == "" {
			t.Errorf("zone %q: name not in both languages: %+v", id, z.Name)
		}
	}
	for _, id := range []string{"main", "monastery", "high-place", "back-trail", "petra-by-night"} {
		if _, ok := c.Route(id); !ok {
			t.Errorf("route %q missing", id)
		}
	}
	if r, _ := c.Route("petra-by-night"); r == nil || !r.Evening {
		t.Error("petra-by-night is not an evening route")
	}
	if s, ok := c.Sensor("siq-n1"); !ok || s.Zone != "siq" {
		t.Errorf("sensor siq-n1: %+v, %v", s, ok)
	}
	// Lookups point into the slices, not at copies.
	if g, _ := c.Gate(c.Gates[0].ID); g != &c.Gates[0] {
		t.Error("Gate does not point into Config.Gates")
	}
	if z, _ := c.Zone(c.Zones[1].ID); z != &c.Zones[1] {
		t.Error("Zone does not point into Config.Zones")
	}
	if _, ok := c.Zone("atlantis"); ok {
		t.Error("unknown zone found")
	}
	fw, ok := c.Alerts["flood_warning"]
	if !ok || !fw.Close || fw.MinSeverity != "medium" || strings.Join(fw.Zones, ",") != "bab-al-siq,siq,treasury" {
		t.Errorf("flood_warning rule: %+v", fw)
	}
}

func TestParseConfigMinimal(t *testing.T) {
	c := mustParse(t, "testdata/minimal.yaml")
	if len(c.Routes) != 2 || c.Policy.MaxPartySize != 40 || c.Name.AR == "" {
		t.Errorf("decoded %+v", c)
	}
}

// TestParseConfigBad is the table of bad configs: every problem a file has
// must be reported, and nothing else (one expected substring per problem).
func TestParseConfigBad(t *testing.T) {
	cases := []struct {
		file string
		want []string
	}{
		{"route-unknown-zone", []string{`line 45: routes[0].stops[1].zone: unknown zone "gorge2" (known: entrance, gorge)`}},
		{"route-unknown-gate", []string{`routes[0].gates[1]: unknown gate "side" (known: main, back)`}},
		{"route-stops", []string{
			`routes[0].stops[1].stay: invalid stay 0`,
			`routes[0].stops[1].arrive: arrive 15 is before the previous stop's 20`,
		}},
		{"overlapping-stops", []string{`routes[0].stops[2].arrive: stop in zone "gorge" from minute 30 overlaps stops[1] in the same zone (minutes 15-60)`}},
		{"route-no-stops", []string{`routes[1].gates: route "night" has no gate`, `routes[1].stops: route "night" has no stop`}},
		{"season-overlap", []string{`seasons[1]: season "winter" overlaps season "summer" on 10-01..10-15`}},
		{"season-gap", []string{`seasons: no season covers 10-01..10-14, between season "summer" and season "winter"`}},
		{"bad-month-day", []string{`line 8: seasons[0].from: invalid month-day "04-31" (accepted: "MM-DD"`}},
		{"no-default-hours", []string{`seasons[1].hours: season "winter" has no "default" hours`}},
		{"bad-weekday-key", []string{`seasons[0].hours.friday: unknown day "friday" (accepted: default, mon, tue, wed, thu, fri, sat, sun)`}},
		{"last-entry-after-close", []string{`seasons[0].hours.default.close: close 18:00 is before last_entry 18:30`}},
		{"open-after-last-entry", []string{`seasons[1].hours.default.last_entry: last_entry 15:00 is not after open 15:00`}},
		{"off-slot", []string{`seasons[0].hours.default.open: time "06:10" is not on a 15-minute slot boundary (accepted: e.g. "06:00" or "06:15")`}},
		{"bad-clock", []string{`seasons[0].hours.default.close: invalid time "6pm" (accepted: "HH:MM"`}},
		{"bad-closed-date", []string{`closed_dates[1]: invalid date "2026-02-30"`, `closed_dates[2]: date "2026-12-25" listed twice`}},
		{"negative-capacity", []string{`zones[0].capacity: invalid capacity -5 (accepted: more than 0 visitors)`}},
		{"hold-above-capacity", []string{`line 38: zones[1].hold_at: hold_at 350 is above capacity 300`}},
		{"release-above-hold", []string{`zones[0].release_at: release_at 180 is not below hold_at 170`}},
		{"unknown-field", []string{
			`line 30: gates[1].wave_capcity: unknown field "wave_capcity" (accepted: id, name, wave_capacity)`,
			`gates[1].wave_capacity: missing wave capacity`,
		}},
		{"bad-time-zone", []string{`line 4: time_zone: unknown time zone "Asia/Aman"`}},
		{"slot-not-dividing", []string{`slot_minutes: invalid slot length 7 (accepted: 1 to 120 minutes dividing the day's 1440`}},
		{"evening-route-not-evening", []string{`evenings[0].route: route "night" is not an evening route`}},
		{"unused-evening-route", []string{`routes[1].evening: evening route "late" is used by no evening`}},
		{"evening-bad", []string{
			`evenings[0].weekdays[1]: unknown weekday "funday"`,
			`evenings[0].entries[0]: time "18:50" is not on a 15-minute slot boundary (accepted: e.g. "18:45" or "19:00")`,
			`evenings[0].close: close 19:00 is not after the last entry 20:00`,
		}},
		{"duplicate-gate", []string{`gates[1].id: duplicate gate id "main" (first at gates[0])`, `routes[0].gates[1]: unknown gate "back" (known: main)`}},
		{"sensor-unknown-zone", []string{`sensors[0].zone: unknown zone "gorj"`}},
		{"policy", []string{
			`policy.late_grace_minutes: invalid late grace -1`,
			`policy.walk_in_share: invalid share 1.5 (accepted: 0 to 1)`,
			`policy.max_party_size: max party size 500 is above the largest gate wave_capacity 100`,
			`policy.operator_wave_share: invalid share 0 (accepted: more than 0, at most 1)`,
			`policy.booking_days_ahead: invalid booking horizon 0`,
		}},
		{"alerts", []string{`alerts.flood_warning.zones[1]: unknown zone "cave"`, `alerts.flood_warning.min_severity: invalid severity "severe" (accepted: low, medium, high)`}},
		{"bad-site-id", []string{`site: invalid site id "Test Site" (accepted: 1 to 64 characters from a-z, 0-9, '-' and '_'`}},
		{"wrong-type", []string{`line 37: zones[1].capacity: invalid value "lots" (accepted: a whole number)`}},
		{"float-for-int", []string{`line 5: slot_minutes: invalid value "15.5" (accepted: a whole number)`}},
		{"list-for-string", []string{`evenings[0].route: invalid value of type list (accepted: a string)`}},
		{"duplicate-key", []string{`line 6: yaml: mapping key "slot_minutes" already defined`}},
		{"syntax", []string{`line 53: yaml: `}},
		{"two-documents", []string{`line 70: a second YAML document`}},
		{"empty", []string{`the config is empty`}},
	}
	seen := map[string]bool{}
	for _, tc := range cases {
		seen[tc.file] = true
		t.Run(tc.file, func(t *testing.T) {
			_, err := ParseConfig(readFile(t, filepath.Join("testdata", tc.file+".bad.yaml")))
			var cerr *ConfigError
			if !errors.As(err, &cerr) {
				t.Fatalf("got %v, want a *ConfigError", err)
			}
			checkProblems(t, cerr, tc.want)
			for _, p := range cerr.Problems {
				if p.Line == 0 && tc.file != "empty" {
					t.Errorf("problem without a line: %v", p)
				}
			}
		})
	}
	// Every bad file in testdata has a case.
	files, _ := filepath.Glob("testdata/*.bad.yaml")
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".bad.yaml")
		if !seen[name] && name != "many" {
			t.Errorf("%s has no case in TestParseConfigBad", f)
		}
	}
}

// checkProblems asserts a one-to-one match between the problems and the
// expected substrings.
func checkProblems(t *testing.T, cerr *ConfigError, want []string) {
	t.Helper()
	used := make([]bool, len(cerr.Problems))
	for _, w := range want {
		found := false
		for i, p := range cerr.Problems {
			if !used[i] && strings.Contains(p.Error(), w) {
				used[i], found = true, true
				break
			}
		}
		if !found {
			t.Errorf("no problem contains %q", w)
		}
	}
	for i, p := range cerr.Problems {
		if !used[i] {
			t.Errorf("unexpected problem: %v", p)
		}
	}
	if t.Failed() {
		t.Logf("full error:\n%v", cerr)
	}
}

func TestParseConfigReportsAllProblems(t *testing.T) {
	_, err := ParseConfig(readFile(t, "testdata/many.bad.yaml"))
	var cerr *ConfigError
	if !errors.As(err, &cerr) {
		t.Fatalf("got %v, want a *ConfigError", err)
	}
	checkProblems(t, cerr, []string{
		`line 3: time_zone: unknown time zone "Mars/Olympus"`,
		`line 5: colour: unknown field "colour"`,
		`line 6: seasons: no season covers 10-01..10-14`,
		`line 20: gates[1].id: duplicate gate id "main"`,
		`line 24: zones[0].capacity: invalid capacity -1`,
		`line 31: routes[0].stops[0].speed: unknown field "speed" (accepted: zone, arrive, stay)`,
		`line 32: routes[0].stops[1].zone: unknown zone "canyon" (known: gorge)`,
		`line 35: sensors[1].id: duplicate sensor id "gorge-1"`,
		`line 50: alerts.flood_warning.min_severity: invalid severity "extreme"`,
	})
	// In file order, one per line of the message after the heading.
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(cerr.Problems)+1 || !strings.HasPrefix(lines[0], "scheduler: invalid config (9 problems)") {
		t.Errorf("error text:\n%v", err)
	}
	for i := 1; i < len(cerr.Problems); i++ {
		if cerr.Problems[i].Line < cerr.Problems[i-1].Line {
			t.Errorf("problems out of file order: %v before %v", cerr.Problems[i-1], cerr.Problems[i])
		}
	}
	// Each problem is reachable with errors.As.
	var p ConfigProblem
	if !errors.As(err, &p) || p.Path != "time_zone" || p.Line != 3 {
		t.Errorf("errors.As ConfigProblem: %+v", p)
	}
}

// A config that differs from minimal.yaml by replacing old with new.
// A config that differs from minimal.yaml by replacing old with new, for
// each old, new pair.
func minimalWith(t *testing.T, oldNew ...string) []byte {
	t.Helper()
	data := string(readFile(t, "testdata/minimal.yaml"))
	for i := 0; i+1 < len(oldNew); i += 2 {
		if !strings.Contains(data, oldNew[i]) {
			t.Fatalf("minimal.yaml has no %q", oldNew[i])
		}
		data = strings.Replace(data, oldNew[i], oldNew[i+1], 1)
	}
	return []byte(data)
}

func TestParseConfigEdgeCases(t *testing.T) {
	fri := `      fri: { open: "07:00", last_entry: "15:00", close: "17:00" }`
	cases := []struct {
		name string
		subs []string // old, new, ... applied to minimal.yaml
		want []string // nil: valid
	}{
		{"local time zone", []string{"time_zone: Asia/Amman", "time_zone: Local"},
			[]string{`line 5: time_zone: time zone "Local" depends on the machine`}},
		{"missing time zone", []string{"time_zone: Asia/Amman\n", ""}, []string{`time_zone: missing time zone`}},
		{"missing site", []string{"site: test\n", ""}, []string{`site: missing site id`}},
		{"policy under another name", []string{"policy:\n", "rules:\n"}, []string{
			`rules: unknown field "rules"`,
			`policy.max_party_size: missing max party size`,
			`policy.operator_wave_share: missing share`,
			`policy.operator_day_share: missing share`,
			`policy.booking_days_ahead: missing booking horizon`,
		}},
		{"leap day gap", []string{`    to: "03-31"`, `    to: "02-28"`, "closed_dates:",
			`  - { name: spring, from: "03-01", to: "03-31", hours: { default: { open: "06:00", last_entry: "15:00", close: "16:00" } } }` + "\nclosed_dates:"},
			[]string{`seasons: no season covers 02-29, between season "winter" and season "spring" (accepted: every day in exactly one season); end the season at "02-29"`}},
		{"season wrapping into another", []string{`    to: "09-30"`, `    to: "03-31"`},
			[]string{`season "winter" overlaps season "summer" on 10-01..03-31`}},
		{"slot 20", []string{"slot_minutes: 15", "slot_minutes: 20"},
			[]string{`evenings[0].entries[0]: time "18:45" is not on a 20-minute slot boundary (accepted: e.g. "18:40" or "19:00")`}},
		{"request window", []string{"  booking_days_ahead: 365\n", "  booking_days_ahead: 365\n  request_window:\n    periods: [{ from: \"10-01\", to: \"11-31\" }]\n    cutoff_days_before: 0\n    cutoff_time: \"6pm\"\n    cutof: 3\n"},
			[]string{
				`line 66: policy.request_window.periods[0].to: invalid month-day "11-31"`,
				`policy.request_window.cutoff_days_before: invalid cut-off 0 days before the date (accepted: 1 to 364`,
				`policy.request_window.cutoff_time: invalid cut-off time "6pm" (accepted: "HH:MM"`,
				`line 69: policy.request_window.cutof: unknown field "cutof" (accepted: periods, cutoff_days_before, cutoff_time)`,
			}},
		{"request window every day", []string{"  booking_days_ahead: 365\n", "  booking_days_ahead: 365\n  request_window: { cutoff_days_before: 2, cutoff_time: \"12:00\" }\n"}, nil},
		{"slot 180", []string{"slot_minutes: 15", "slot_minutes: 180"}, []string{`invalid slot length 180`}},
		{"anchors and merge keys", []string{fri, `      fri: &fri { open: "07:00", last_entry: "15:00", close: "17:00" }` +
			"\n" + `      sat: { <<: *fri }` + "\n" + `      sun: *fri`}, nil},
		// goccy/go-yaml v1.19.2 does not let a key override a merged one.
		{"merge key override", []string{fri, `      fri: &fri { open: "07:00", last_entry: "15:00", close: "17:00" }` +
			"\n" + `      sat: { <<: *fri, close: "17:30" }`},
			[]string{`line 14: yaml: duplicate key "close"`}},
		{"unknown field in a merged mapping", []string{fri, `      fri: &fri { open: "07:00", last_entry: "15:00", close: "17:00", shut: true }` +
			"\n" + `      sat: { <<: *fri }`},
			[]string{`seasons[0].hours.fri.shut: unknown field "shut"`, `seasons[0].hours.sat.shut: unknown field "shut"`}},
		{"unknown alias", []string{"wave_capacity: 20", "wave_capacity: *nope"},
			[]string{`line 31: gates[1].wave_capacity: unknown alias "*nope"`}},
		{"NaN share", []string{"walk_in_share: 0.2", "walk_in_share: .nan"}, []string{`policy.walk_in_share: invalid value`}},
		{"same route twice on a weekday", []string{"    close: \"22:30\"\n",
			"    close: \"22:30\"\n  - { name: again, weekdays: [wed], entries: [\"21:00\"], route: night, close: \"23:00\" }\n"},
			[]string{`evenings[1].weekdays: route "night" already has an evening on "wed" (evenings[0])`}},
		{"entries out of order", []string{`entries: ["18:45", "20:00"]`, `entries: ["20:00", "18:45"]`},
			[]string{`evenings[0].entries[1]: entry "18:45" is not after the one before`}},
		{"rule with its own zones", []string{"    zones: [entrance, gorge]\n", "    zones: []\n"}, nil},
		{"missing severity", []string{"    min_severity: medium\n", ""}, []string{`alerts.flood_warning.min_severity: missing severity`}},
		{"bad alert kind", []string{"  flood_warning:", "  Flood Warning:"},
			[]string{`alerts."Flood Warning": invalid alert kind "Flood Warning"`}},
		{"id too long", []string{"  - id: back", "  - id: " + strings.Repeat("b", 65)},
			[]string{`gates[1].id: invalid gate id`, `routes[0].gates[1]: unknown gate "back"`}},
		{"missing id", []string{"  - { id: gorge-1, zone: gorge }", "  - { zone: gorge }"}, []string{`sensors[0].id: missing sensor id`}},
		{"mapping for a list", []string{"sensors:\n  - { id: gorge-1, zone: gorge }\n  - { id: entrance-1, zone: entrance }\n", "sensors: {a: 1}\n"},
			[]string{`line 52: sensors: invalid value of type mapping (accepted: a list)`}},
		{"no sensors, evenings, closed dates or alerts", []string{
			"sensors:\n  - { id: gorge-1, zone: gorge }\n  - { id: entrance-1, zone: entrance }\n", "",
			"closed_dates: [\"2026-12-25\"]\n", "",
			"alerts:\n", "x_alerts:\n",
		}, []string{`unknown field "x_alerts"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig(minimalWith(t, tc.subs...))
			if tc.want == nil {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			var cerr *ConfigError
			if !errors.As(err, &cerr) {
				t.Fatalf("got %v, want a *ConfigError", err)
			}
			checkProblems(t, cerr, tc.want)
		})
	}
}

func TestParseClock(t *testing.T) {
	good := map[string]int{"00:00": 0, "06:00": 360, "18:45": 1125, "23:59": 1439}
	for s, want := range good {
		if got, err := ParseClock(s); err != nil || got != want {
			t.Errorf("ParseClock(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "6:00", "24:00", "12:60", "12-00", "1200", "ab:cd", "+1:00", "06:00:00", "٠٦:٠٠"} {
		if got, err := ParseClock(s); err == nil {
			t.Errorf("ParseClock(%q) = %d, want an error", s, got)
		} else if !strings.Contains(err.Error(), `accepted: "HH:MM"`) {
			t.Errorf("ParseClock(%q): %v does not say what is accepted", s, err)
		}
	}
}

func TestHoursOn(t *testing.T) {
	petra := mustParse(t, testenv.PetraPath())
	minimal := mustParse(t, "testdata/minimal.yaml")
	loc := amman(t)
	cases := []struct {
		name              string
		c                 *Config
		date              time.Time
		open, last, close int
		ok                bool
	}{
		{"petra summer", petra, time.Date(2026, 7, 15, 0, 0, 0, 0, loc), 6 * 60, 16 * 60, 18 * 60, true},
		{"petra winter", petra, time.Date(2026, 12, 1, 8, 0, 0, 0, loc), 6 * 60, 15 * 60, 16 * 60, true},
		{"petra first day of summer", petra, time.Date(2026, 4, 1, 23, 59, 0, 0, loc), 6 * 60, 16 * 60, 18 * 60, true},
		{"petra last day of winter", petra, time.Date(2026, 3, 31, 0, 0, 0, 0, loc), 6 * 60, 15 * 60, 16 * 60, true},
		{"petra leap day", petra, time.Date(2028, 2, 29, 10, 0, 0, 0, loc), 6 * 60, 15 * 60, 16 * 60, true},
		// 22:00 UTC on 31 March is 01:00 on 1 April in Amman: summer.
		{"instant in another zone", petra, time.Date(2026, 3, 31, 22, 0, 0, 0, time.UTC), 6 * 60, 16 * 60, 18 * 60, true},
		{"weekday hours", minimal, time.Date(2026, 7, 17, 9, 0, 0, 0, loc), 7 * 60, 15 * 60, 17 * 60, true},
		{"default on another weekday", minimal, time.Date(2026, 7, 16, 9, 0, 0, 0, loc), 6 * 60, 16 * 60, 18 * 60, true},
		{"closed date", minimal, time.Date(2026, 12, 25, 9, 0, 0, 0, loc), 0, 0, 0, false},
		{"a year later, open", minimal, time.Date(2027, 12, 25, 9, 0, 0, 0, loc), 6 * 60, 15 * 60, 16 * 60, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			open, last, closing, ok := tc.c.HoursOn(tc.date)
			if open != tc.open || last != tc.last || closing != tc.close || ok != tc.ok {
				t.Errorf("HoursOn(%v) = %d, %d, %d, %v; want %d, %d, %d, %v",
					tc.date, open, last, closing, ok, tc.open, tc.last, tc.close, tc.ok)
			}
		})
	}
}

func TestEveningOn(t *testing.T) {
	petra := mustParse(t, testenv.PetraPath())
	minimal := mustParse(t, "testdata/minimal.yaml")
	loc := amman(t)
	monday := time.Date(2026, 12, 7, 12, 0, 0, 0, loc)
	e, ok := petra.EveningOn(monday, "petra-by-night")
	if !ok || strings.Join(e.Entries, ",") != "18:45,20:00" || e.Close != "22:30" {
		t.Fatalf("EveningOn(monday) = %+v, %v", e, ok)
	}
	if e != &petra.Evenings[0] {
		t.Error("EveningOn does not point into Config.Evenings")
	}
	if _, ok := petra.EveningOn(monday.AddDate(0, 0, 1), "petra-by-night"); ok {
		t.Error("Petra by Night on a Tuesday")
	}
	if _, ok := petra.EveningOn(monday, "main"); ok {
		t.Error("an evening on the main route")
	}
	// 2026-12-25 is closed in minimal.yaml; 2026-12-23 is a Wednesday.
	if _, ok := minimal.EveningOn(time.Date(2026, 12, 23, 12, 0, 0, 0, loc), "night"); !ok {
		t.Error("no evening on a Wednesday")
	}
	closed := mustParse(t, "testdata/minimal.yaml")
	closed.ClosedDates = append(closed.ClosedDates, "2026-12-23")
	if _, ok := closed.EveningOn(time.Date(2026, 12, 23, 12, 0, 0, 0, loc), "night"); ok {
		t.Error("an evening on a closed date")
	}
}

// FuzzParseConfig: ParseConfig never panics, and either returns a usable
// config or a *ConfigError with at least one problem.
func FuzzParseConfig(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.yaml")
	seeds = append(seeds, testenv.PetraPath())
	for _, name := range seeds {
		f.Add(readFile(f, name))
	}
	f.Add([]byte("a: &a [*a]"))
	f.Add([]byte("seasons: [{hours: {<<: [*x]}}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data)
		if err != nil {
			var cerr *ConfigError
			if !errors.As(err, &cerr) || len(cerr.Problems) == 0 {
				t.Fatalf("error %v is not a *ConfigError with problems", err)
			}
			if c != nil {
				t.Fatal("config returned with an error")
			}
			return
		}
		if c.Location() == nil {
			t.Fatal("valid config without a location")
		}
		day := time.Date(2026, 1, 1, 12, 0, 0, 0, c.Location())
		for i := 0; i < 366; i += 7 {
			d := day.AddDate(0, 0, i)
			if open, last, closing, ok := c.HoursOn(d); ok && !(open < last && last <= closing) {
				t.Fatalf("HoursOn(%v) = %d, %d, %d", d, open, last, closing)
			} else if !ok && !c.closedOn(d.Date()) {
				t.Fatalf("HoursOn(%v): closed on an open day", d)
			}
		}
	})
}
