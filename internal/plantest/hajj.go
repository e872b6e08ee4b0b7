package plantest

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/tafweej/tafweej/scheduler"
)

// The Hajj-sized day is a scale test of the planner, used by its benchmark
// and by tafweej bench.

// HajjConfig is a synthetic Hajj-sized site in the shape of the Jamarat:
// 12 gates (one per camp district), each with its approach road, 6 tunnels
// shared by pairs of districts, the 4 levels of the Jamarat bridge and 8
// exit roads: 30 zones. Every district has two routes, to two levels. The
// site runs around the clock in 96 slots of 15 minutes. No walk-in share,
// no operator caps: the establishments' groups are all planned.
func HajjConfig() *scheduler.Config {
	var b strings.Builder
	b.WriteString(`site: hajj
name: { en: Jamarat (synthetic), ar: الجمرات }
time_zone: Asia/Riyadh
slot_minutes: 15
seasons:
  - name: all
    from: "01-01"
    to: "12-31"
    hours:
      default: { open: "00:00", last_entry: "23:45", close: "23:59" }
gates:
`)
	for g := 1; g <= 12; g++ {
		fmt.Fprintf(&b, "  - { id: gate-%02d, wave_capacity: 1200 }\n", g)
	}
	b.WriteString("zones:\n")
	zone := func(id string, c int) {
		fmt.Fprintf(&b, "  - { id: %s, capacity: %d, hold_at: %d, release_at: %d }\n", id, c, c*85/100, c*70/100)
	}
	for g := 1; g <= 12; g++ {
		zone(fmt.Sprintf("approach-%02d", g), 3000)
	}
	for t := 1; t <= 6; t++ {
		zone(fmt.Sprintf("tunnel-%d", t), 6000)
	}
	for l := 1; l <= 4; l++ {
		zone(fmt.Sprintf("level-%d", l), 9000)
	}
	for e := 1; e <= 8; e++ {
		zone(fmt.Sprintf("exit-%d", e), 5000)
	}
	b.WriteString("routes:\n")
	for g := 1; g <= 12; g++ {
		for _, l := range []int{(g-1)%4 + 1, g%4 + 1} {
			fmt.Fprintf(&b, `  - id: d%02d-level-%d
    gates: [gate-%02d]
    stops:
      - { zone: approach-%02d, arrive: 0, stay: 30 }
      - { zone: tunnel-%d, arrive: 30, stay: 15 }
      - { zone: level-%d, arrive: 45, stay: 30 }
      - { zone: exit-%d, arrive: 75, stay: 30 }
`, g, l, g, g, (g+1)/2, l, (g+l)%8+1)
		}
	}
	b.WriteString(`policy:
  early_grace_minutes: 15
  late_grace_minutes: 45
  rebook_late: true
  walk_in_share: 0
  max_party_size: 250
  operator_wave_share: 1
  operator_day_share: 1
  hold_horizon_minutes: 60
  booking_days_ahead: 30
`)
	cfg, err := scheduler.ParseConfig([]byte(b.String()))
	if err != nil {
		panic("plantest: the synthetic Hajj configuration is invalid: " + err.Error())
	}
	return cfg
}

// HajjRequests are 1,000,000 pilgrims in groups of 20 to 250 from 60
// establishments, with windows of one to three hours: 40% want the morning
// after sunrise (06:00-10:00), 30% the afternoon (14:00-18:00), the rest
// any time. The same people give the same requests.
func HajjRequests(cfg *scheduler.Config, people int) []scheduler.PlanRequest {
	rng := rand.New(rand.NewPCG(2027, 5))
	var reqs []scheduler.PlanRequest
	for total, i := 0, 0; total < people; i++ {
		n := 20 + rng.IntN(231)
		if people-total < n+20 {
			n = people - total
		}
		var pref int
		switch x := rng.IntN(10); {
		case x < 4:
			pref = 6*60 + 15*rng.IntN(16)
		case x < 7:
			pref = 14*60 + 15*rng.IntN(16)
		default:
			pref = 15 * rng.IntN(96)
		}
		span := 60 * (1 + rng.IntN(3))
		from := max(pref-15*rng.IntN(span/15), 0)
		w := scheduler.Window{From: from, To: min(from+span, 24*60)}
		reqs = append(reqs, scheduler.PlanRequest{
			ID:        fmt.Sprintf("g%06d", i),
			Operator:  fmt.Sprintf("est-%02d", rng.IntN(60)),
			Route:     cfg.Routes[rng.IntN(len(cfg.Routes))].ID,
			PartySize: n, Window: w, Preferred: min(max(pref, w.From), w.To-15),
		})
		total += n
	}
	return reqs
}
