package scheduler

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Semantic validation of a decoded configuration: ids, references between
// sections, clocks on slot boundaries, seasons, hours, evenings, policy
// and alert rules. Every problem is reported with its path and line.

type validator struct {
	lines    map[string]int
	problems []ConfigProblem
}

// lineOf finds the line of path, or of its nearest written ancestor.
func (v *validator) lineOf(path string) int {
	for path != "" {
		if l, ok := v.lines[path]; ok && l > 0 {
			return l
		}
		i := max(strings.LastIndexByte(path, '.'), strings.LastIndexByte(path, '['))
		if i <= 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

// written reports whether path was written in the file.
func (v *validator) written(path string) bool {
	_, ok := v.lines[path]
	return ok
}

// number reports an out-of-range number: "missing <what>" if the field was
// not written at all, else "invalid <what> <value>".
func (v *validator) number(path, what string, value any, accepted string) {
	if !v.written(path) {
		v.addf(path, "missing %s (accepted: %s)", what, accepted)
		return
	}
	v.addf(path, "invalid %s %v (accepted: %s)", what, value, accepted)
}

func (v *validator) addf(path, format string, args ...any) {
	v.problems = append(v.problems, ConfigProblem{Path: path, Line: v.lineOf(path), Message: fmt.Sprintf(format, args...)})
}

const (
	maxIDLen   = 64
	acceptedID = "1 to 64 characters from a-z, 0-9, '-' and '_'"
)

// isToken reports whether s can be used as an id: a lowercase token that
// is safe in a NATS subject, a URL path and a metric label.
func isToken(s string) bool {
	if s == "" || len(s) > maxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func (v *validator) id(path, kind, id string) bool {
	switch {
	case id == "":
		v.addf(path, "missing %s id (accepted: %s)", kind, acceptedID)
	case !isToken(id):
		v.addf(path, "invalid %s id %q (accepted: %s)", kind, id, acceptedID)
	default:
		return true
	}
	return false
}

// ids checks the ids of one kind and returns the set of valid, unique ones
// in file order.
func (v *validator) ids(section, kind string, n int, idOf func(int) string) (set map[string]bool, order []string) {
	set = map[string]bool{}
	first := map[string]int{}
	for i := range n {
		id := idOf(i)
		path := fmt.Sprintf("%s[%d].id", section, i)
		if !v.id(path, kind, id) {
			continue
		}
		if j, dup := first[id]; dup {
			v.addf(path, "duplicate %s id %q (first at %s[%d])", kind, id, section, j)
			continue
		}
		first[id] = i
		set[id] = true
		order = append(order, id)
	}
	return set, order
}

// known formats a list of accepted ids for a message.
func known(ids []string) string {
	if len(ids) == 0 {
		return "none defined"
	}
	if len(ids) > 12 {
		return strings.Join(ids[:12], ", ") + ", ..."
	}
	return strings.Join(ids, ", ")
}

func (v *validator) config(c *Config) {
	switch {
	case c.Site == "":
		v.addf("site", "missing site id (accepted: %s, e.g. \"petra\")", acceptedID)
	case !isToken(c.Site):
		v.addf("site", "invalid site id %q (accepted: %s, e.g. \"petra\")", c.Site, acceptedID)
	}
	switch c.TimeZone {
	case "":
		v.addf("time_zone", "missing time zone (accepted: an IANA zone name, e.g. \"Asia/Amman\")")
	case "Local":
		v.addf("time_zone", "time zone %q depends on the machine (accepted: an IANA zone name, e.g. \"Asia/Amman\")", c.TimeZone)
	default:
		if _, err := time.LoadLocation(c.TimeZone); err != nil {
			v.addf("time_zone", "unknown time zone %q (accepted: an IANA zone name, e.g. \"Asia/Amman\")", c.TimeZone)
		}
	}
	slot := c.SlotMinutes
	if slot < 1 || slot > 120 || 1440%slot != 0 {
		v.number("slot_minutes", "slot length", slot, "1 to 120 minutes dividing the day's 1440, e.g. 10, 15, 20, 30, 60")
		slot = 0 // skip the slot-boundary checks
	}

	v.seasons(c, slot)
	v.closedDates(c)

	gates, gateOrder := v.ids("gates", "gate", len(c.Gates), func(i int) string { return c.Gates[i].ID })
	maxWave := 0
	for i, g := range c.Gates {
		if g.WaveCapacity <= 0 {
			v.number(fmt.Sprintf("gates[%d].wave_capacity", i), "wave capacity", g.WaveCapacity, "more than 0 visitors per slot")
		}
		maxWave = max(maxWave, g.WaveCapacity)
	}
	zones, zoneOrder := v.ids("zones", "zone", len(c.Zones), func(i int) string { return c.Zones[i].ID })
	for i, z := range c.Zones {
		v.zone(fmt.Sprintf("zones[%d]", i), z)
	}
	routes, routeOrder := v.ids("routes", "route", len(c.Routes), func(i int) string { return c.Routes[i].ID })
	for i := range c.Routes {
		v.route(fmt.Sprintf("routes[%d]", i), &c.Routes[i], gates, gateOrder, zones, zoneOrder)
	}
	v.evenings(c, slot, routes, routeOrder)
	v.ids("sensors", "sensor", len(c.Sensors), func(i int) string { return c.Sensors[i].ID })
	for i, s := range c.Sensors {
		v.zoneRef(fmt.Sprintf("sensors[%d].zone", i), s.Zone, zones, zoneOrder)
		if s.MaxPerMinute < 0 || s.MaxPerMinute > 100000 {
			v.addf(fmt.Sprintf("sensors[%d].max_per_minute", i), "max_per_minute %d is out of range (accepted: 1 to 100000 people a minute, or absent for %d)", s.MaxPerMinute, DefaultMaxPerMinute)
		}
	}
	v.policy(c.Policy, maxWave, len(c.Gates) > 0)
	v.alerts(c.Alerts, zones, zoneOrder)

	if len(c.Gates) == 0 {
		v.addf("gates", "no gates (accepted: a list of at least one gate)")
	}
	if len(c.Zones) == 0 {
		v.addf("zones", "no zones (accepted: a list of at least one zone)")
	}
	if len(c.Routes) == 0 {
		v.addf("routes", "no routes (accepted: a list of at least one route)")
	}
}

func (v *validator) zoneRef(path, id string, zones map[string]bool, order []string) {
	switch {
	case id == "":
		v.addf(path, "missing zone (known: %s)", known(order))
	case !zones[id]:
		v.addf(path, "unknown zone %q (known: %s)", id, known(order))
	}
}

func (v *validator) zone(path string, z Zone) {
	if z.Capacity <= 0 {
		v.number(path+".capacity", "capacity", z.Capacity, "more than 0 visitors")
	}
	if z.ReleaseAt <= 0 {
		v.number(path+".release_at", "release_at", z.ReleaseAt, "more than 0 and below hold_at")
	}
	if z.HoldAt <= 0 {
		v.number(path+".hold_at", "hold_at", z.HoldAt, "more than release_at, at most capacity")
		return
	}
	if z.ReleaseAt > 0 && z.ReleaseAt >= z.HoldAt {
		v.addf(path+".release_at", "release_at %d is not below hold_at %d (accepted: 0 < release_at < hold_at <= capacity)", z.ReleaseAt, z.HoldAt)
	}
	if z.Capacity > 0 && z.HoldAt > z.Capacity {
		v.addf(path+".hold_at", "hold_at %d is above capacity %d (accepted: 0 < release_at < hold_at <= capacity)", z.HoldAt, z.Capacity)
	}
}

func (v *validator) route(path string, r *Route, gates map[string]bool, gateOrder []string, zones map[string]bool, zoneOrder []string) {
	if len(r.Gates) == 0 {
		v.addf(path+".gates", "route %q has no gate (accepted: a list of gate ids: %s)", r.ID, known(gateOrder))
	}
	seen := map[string]bool{}
	for j, g := range r.Gates {
		p := fmt.Sprintf("%s.gates[%d]", path, j)
		switch {
		case !gates[g]:
			v.addf(p, "unknown gate %q (known: %s)", g, known(gateOrder))
		case seen[g]:
			v.addf(p, "gate %q listed twice", g)
		}
		seen[g] = true
	}
	if len(r.Stops) == 0 {
		v.addf(path+".stops", "route %q has no stop (accepted: a list of at least one stop with zone, arrive, stay)", r.ID)
	}
	for j, s := range r.Stops {
		p := fmt.Sprintf("%s.stops[%d]", path, j)
		v.zoneRef(p+".zone", s.Zone, zones, zoneOrder)
		if s.Arrive < 0 {
			v.addf(p+".arrive", "invalid arrive %d (accepted: 0 or more minutes after entry)", s.Arrive)
		}
		if s.Stay <= 0 {
			v.number(p+".stay", "stay", s.Stay, "more than 0 minutes")
		}
		if j > 0 && s.Arrive < r.Stops[j-1].Arrive {
			v.addf(p+".arrive", "arrive %d is before the previous stop's %d (accepted: stops in visiting order, arrive never decreasing)", s.Arrive, r.Stops[j-1].Arrive)
		}
		// A group is counted once per stop: two stops in one zone must not
		// overlap, or the capacity check would count it once where it is
		// there twice.
		for k := 0; k < j; k++ {
			e := r.Stops[k]
			if e.Zone == s.Zone && s.Arrive < e.Arrive+e.Stay && e.Arrive < s.Arrive+s.Stay {
				v.addf(p+".arrive", "stop in zone %q from minute %d overlaps stops[%d] in the same zone (minutes %d-%d) (accepted: a later visit to a zone starts after the earlier one ends)", s.Zone, s.Arrive, k, e.Arrive, e.Arrive+e.Stay)
			}
		}
	}
}

// clock checks an "HH:MM" field, optionally on a slot boundary, and returns
// its minutes (-1 if invalid).
func (v *validator) clock(path, s string, slot int, onBoundary bool) int {
	if s == "" {
		v.addf(path, "missing time (accepted: \"HH:MM\", 00:00 to 23:59)")
		return -1
	}
	m, err := ParseClock(s)
	if err != nil {
		v.addf(path, "%v", err)
		return -1
	}
	if onBoundary && slot > 0 && m%slot != 0 {
		before := m - m%slot
		after := before + slot
		hint := fmt.Sprintf("e.g. %q", clock(before))
		if after < 1440 {
			hint += fmt.Sprintf(" or %q", clock(after))
		}
		v.addf(path, "time %q is not on a %d-minute slot boundary (accepted: %s)", s, slot, hint)
	}
	return m
}

func (v *validator) seasons(c *Config, slot int) {
	if len(c.Seasons) == 0 {
		v.addf("seasons", "no seasons (accepted: a list of seasons covering every day of the year)")
		return
	}
	type span struct{ from, to int }
	spans := make([]span, len(c.Seasons))
	allDates := true
	for i, s := range c.Seasons {
		p := fmt.Sprintf("seasons[%d]", i)
		if s.Name == "" {
			v.addf(p+".name", "missing season name (accepted: any text, e.g. \"summer\")")
		}
		for _, f := range []struct {
			field, value string
			day          *int
		}{{"from", s.From, &spans[i].from}, {"to", s.To, &spans[i].to}} {
			d, ok := parseMonthDay(f.value)
			if !ok {
				v.addf(p+"."+f.field, "invalid month-day %q (accepted: \"MM-DD\", e.g. \"04-01\")", f.value)
				allDates = false
			}
			*f.day = d
		}
		v.hours(p+".hours", s, slot)
	}
	if !allDates {
		return // coverage would report gaps that are not there
	}

	name := func(i int) string {
		if c.Seasons[i].Name != "" {
			return strconv.Quote(c.Seasons[i].Name)
		}
		return fmt.Sprintf("seasons[%d]", i)
	}
	owners := make([][]int, daysInYear)
	for i, s := range spans {
		for d := range daysInYear {
			if inSeason(d, s.from, s.to) {
				owners[d] = append(owners[d], i)
			}
		}
	}
	overlapping := map[[2]int]bool{} // pairs of seasons sharing a day
	for _, o := range owners {
		for b := range o {
			for a := range b {
				overlapping[[2]int{o[a], o[b]}] = true
			}
		}
	}
	pairs := make([][2]int, 0, len(overlapping))
	for pair := range overlapping {
		pairs = append(pairs, pair)
	}
	slices.SortFunc(pairs, func(x, y [2]int) int {
		if x[1] != y[1] {
			return x[1] - y[1]
		}
		return x[0] - y[0]
	})
	for _, pair := range pairs {
		i, j := pair[0], pair[1]
		rs := runs(func(d int) bool {
			return inSeason(d, spans[i].from, spans[i].to) && inSeason(d, spans[j].from, spans[j].to)
		})
		v.addf(fmt.Sprintf("seasons[%d]", j), "season %s overlaps season %s on %s (accepted: every day in exactly one season)", name(j), name(i), formatRuns(rs))
	}
	for _, r := range runs(func(d int) bool { return len(owners[d]) == 0 }) {
		if r[0] == 0 && r[1] == daysInYear-1 {
			break // cannot happen with at least one season
		}
		before := owners[(r[0]+daysInYear-1)%daysInYear]
		after := owners[(r[1]+1)%daysInYear]
		msg := fmt.Sprintf("no season covers %s, between season %s and season %s (accepted: every day in exactly one season)", formatRuns([][2]int{r}), name(before[0]), name(after[0]))
		if leap, _ := dayOfYear(time.February, 29); r[0] == leap && r[1] == leap {
			msg += "; end the season at \"02-29\" to include the leap day"
		}
		v.addf("seasons", "%s", msg)
	}
}

// runs returns the maximal circular runs of days for which in is true, as
// [first, last] pairs (last < first when a run wraps the year end).
func runs(in func(int) bool) [][2]int {
	start := -1
	for d := range daysInYear {
		if !in(d) {
			start = d
			break
		}
	}
	if start < 0 {
		return [][2]int{{0, daysInYear - 1}}
	}
	var out [][2]int
	first := -1
	for k := 1; k <= daysInYear; k++ {
		d := (start + k) % daysInYear
		switch {
		case in(d) && first < 0:
			first = d
		case !in(d) && first >= 0:
			out = append(out, [2]int{first, (d + daysInYear - 1) % daysInYear})
			first = -1
		}
	}
	return out
}

func formatRuns(rs [][2]int) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		if r[0] == r[1] {
			parts[i] = formatDay(r[0])
		} else {
			parts[i] = formatDay(r[0]) + ".." + formatDay(r[1])
		}
	}
	return strings.Join(parts, ", ")
}

func (v *validator) hours(path string, s Season, slot int) {
	if len(s.Hours) == 0 {
		v.addf(path, "season %q has no hours (accepted: a mapping with \"default\" and optionally %s)", s.Name, acceptedWeekdays)
		return
	}
	if _, ok := s.Hours["default"]; !ok {
		v.addf(path, "season %q has no \"default\" hours (accepted: \"default\" and optionally %s)", s.Name, acceptedWeekdays)
	}
	keys := make([]string, 0, len(s.Hours))
	for k := range s.Hours {
		keys = append(keys, k)
	}
	sort.Strings(keys) // problems are put in file order at the end
	for _, k := range keys {
		p := joinPath(path, k)
		if k != "default" && !isWeekdayKey(k) {
			v.addf(p, "unknown day %q (accepted: default, %s)", k, acceptedWeekdays)
			continue
		}
		h := s.Hours[k]
		open := v.clock(p+".open", h.Open, slot, true)
		last := v.clock(p+".last_entry", h.LastEntry, slot, true)
		closing := v.clock(p+".close", h.Close, slot, false)
		if open >= 0 && last >= 0 && open >= last {
			v.addf(p+".last_entry", "last_entry %s is not after open %s (accepted: open < last_entry <= close)", h.LastEntry, h.Open)
		}
		if last >= 0 && closing >= 0 && last > closing {
			v.addf(p+".close", "close %s is before last_entry %s (accepted: open < last_entry <= close)", h.Close, h.LastEntry)
		}
	}
}

func (v *validator) closedDates(c *Config) {
	seen := map[string]int{}
	for i, d := range c.ClosedDates {
		p := fmt.Sprintf("closed_dates[%d]", i)
		t, err := time.Parse(time.DateOnly, d)
		if err != nil || t.Format(time.DateOnly) != d {
			v.addf(p, "invalid date %q (accepted: \"YYYY-MM-DD\", e.g. \"2026-12-25\")", d)
			continue
		}
		if j, dup := seen[d]; dup {
			v.addf(p, "date %q listed twice (first at closed_dates[%d])", d, j)
			continue
		}
		seen[d] = i
	}
}

func (v *validator) evenings(c *Config, slot int, routes map[string]bool, routeOrder []string) {
	used := map[string]bool{}
	type routeDay struct{ route, day string }
	held := map[routeDay]int{}
	for i, e := range c.Evenings {
		p := fmt.Sprintf("evenings[%d]", i)
		if len(e.Weekdays) == 0 {
			v.addf(p+".weekdays", "evening %q has no weekdays (accepted: a list of %s)", e.Name, acceptedWeekdays)
		}
		days := map[string]bool{}
		for j, d := range e.Weekdays {
			pd := fmt.Sprintf("%s.weekdays[%d]", p, j)
			switch {
			case !isWeekdayKey(d):
				v.addf(pd, "unknown weekday %q (accepted: %s)", d, acceptedWeekdays)
			case days[d]:
				v.addf(pd, "weekday %q listed twice", d)
			default:
				days[d] = true
			}
		}
		if len(e.Entries) == 0 {
			v.addf(p+".entries", "evening %q has no entries (accepted: a list of \"HH:MM\" entry times on slot boundaries)", e.Name)
		}
		last := -1
		for j, s := range e.Entries {
			pe := fmt.Sprintf("%s.entries[%d]", p, j)
			m := v.clock(pe, s, slot, true)
			if m < 0 {
				continue
			}
			if m <= last {
				v.addf(pe, "entry %q is not after the one before (accepted: entry times in increasing order)", s)
			}
			last = m
		}
		if closing := v.clock(p+".close", e.Close, slot, false); closing >= 0 && last >= 0 && closing <= last {
			v.addf(p+".close", "close %s is not after the last entry %s (accepted: a time after every entry)", e.Close, clock(last))
		}
		pr := p + ".route"
		switch {
		case e.Route == "":
			v.addf(pr, "missing route (known: %s)", known(routeOrder))
		case !routes[e.Route]:
			v.addf(pr, "unknown route %q (known: %s)", e.Route, known(routeOrder))
		default:
			for k := range c.Routes {
				if c.Routes[k].ID == e.Route {
					if !c.Routes[k].Evening {
						v.addf(pr, "route %q is not an evening route (accepted: a route with evening: true)", e.Route)
					}
					break
				}
			}
			used[e.Route] = true
			for _, d := range e.Weekdays {
				if !days[d] {
					continue
				}
				rd := routeDay{e.Route, d}
				if j, dup := held[rd]; dup {
					v.addf(p+".weekdays", "route %q already has an evening on %q (evenings[%d]); accepted: one evening per route and weekday", e.Route, d, j)
				} else {
					held[rd] = i
				}
			}
		}
	}
	for i, r := range c.Routes {
		if r.Evening && routes[r.ID] && !used[r.ID] {
			v.addf(fmt.Sprintf("routes[%d].evening", i), "evening route %q is used by no evening, so it can never be booked (accepted: list it as the route of an evening, or set evening: false)", r.ID)
		}
	}
}

func inUnit(x float64) bool { return x >= 0 && x <= 1 } // false for NaN

func (v *validator) policy(p Policy, maxWave int, haveGates bool) {
	if p.EarlyGraceMinutes < 0 {
		v.addf("policy.early_grace_minutes", "invalid early grace %d (accepted: 0 or more minutes)", p.EarlyGraceMinutes)
	}
	if p.LateGraceMinutes < 0 {
		v.addf("policy.late_grace_minutes", "invalid late grace %d (accepted: 0 or more minutes)", p.LateGraceMinutes)
	}
	if !inUnit(p.WalkInShare) {
		v.number("policy.walk_in_share", "share", p.WalkInShare, "0 to 1")
	}
	if !inUnit(p.OperatorWaveShare) || p.OperatorWaveShare == 0 {
		v.number("policy.operator_wave_share", "share", p.OperatorWaveShare, "more than 0, at most 1")
	}
	if !inUnit(p.OperatorDayShare) || p.OperatorDayShare == 0 {
		v.number("policy.operator_day_share", "share", p.OperatorDayShare, "more than 0, at most 1")
	}
	switch {
	case p.MaxPartySize <= 0:
		v.number("policy.max_party_size", "max party size", p.MaxPartySize, "more than 0")
	case haveGates && maxWave > 0 && p.MaxPartySize > maxWave:
		v.addf("policy.max_party_size", "max party size %d is above the largest gate wave_capacity %d, so such a group could never enter (accepted: 1 to %d)", p.MaxPartySize, maxWave, maxWave)
	}
	if p.HoldHorizonMinutes < 0 {
		v.addf("policy.hold_horizon_minutes", "invalid hold horizon %d (accepted: 0 or more minutes)", p.HoldHorizonMinutes)
	}
	if p.BookingDaysAhead <= 0 {
		v.number("policy.booking_days_ahead", "booking horizon", p.BookingDaysAhead, "more than 0 days")
	}
	if rw := p.RequestWindow; rw != nil {
		const path = "policy.request_window"
		for i, per := range rw.Periods {
			for _, f := range []struct{ field, value string }{{"from", per.From}, {"to", per.To}} {
				if _, ok := parseMonthDay(f.value); !ok {
					v.addf(fmt.Sprintf("%s.periods[%d].%s", path, i, f.field), "invalid month-day %q (accepted: \"MM-DD\", e.g. \"10-01\")", f.value)
				}
			}
		}
		if rw.CutoffDaysBefore < 1 || rw.CutoffDaysBefore >= p.BookingDaysAhead && p.BookingDaysAhead > 0 {
			v.addf(path+".cutoff_days_before", "invalid cut-off %d days before the date (accepted: 1 to %d, less than booking_days_ahead, so that requests can be made at all)",
				rw.CutoffDaysBefore, max(1, p.BookingDaysAhead-1))
		}
		if rw.CutoffTime == "" {
			v.addf(path+".cutoff_time", "missing cut-off time (accepted: \"HH:MM\", e.g. \"18:00\")")
		} else if _, err := ParseClock(rw.CutoffTime); err != nil {
			v.addf(path+".cutoff_time", "invalid cut-off time %q (accepted: \"HH:MM\", e.g. \"18:00\")", rw.CutoffTime)
		}
	}
}

var severities = []string{"low", "medium", "high"}

func (v *validator) alerts(alerts map[string]AlertRule, zones map[string]bool, zoneOrder []string) {
	kinds := make([]string, 0, len(alerts))
	for k := range alerts {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, kind := range kinds {
		a := alerts[kind]
		p := joinPath("alerts", kind)
		if !isToken(kind) {
			v.addf(p, "invalid alert kind %q (accepted: %s, e.g. \"flood_warning\")", kind, acceptedID)
		}
		if a.MinSeverity == "" {
			v.addf(p+".min_severity", "missing severity (accepted: %s)", strings.Join(severities, ", "))
		} else if !slices.Contains(severities, a.MinSeverity) {
			v.addf(p+".min_severity", "invalid severity %q (accepted: %s)", a.MinSeverity, strings.Join(severities, ", "))
		}
		seen := map[string]bool{}
		for j, z := range a.Zones {
			pz := fmt.Sprintf("%s.zones[%d]", p, j)
			v.zoneRef(pz, z, zones, zoneOrder)
			if seen[z] && zones[z] {
				v.addf(pz, "zone %q listed twice", z)
			}
			seen[z] = true
		}
	}
}
