package scheduler

import (
	"fmt"
	"math"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// TestSpreadKeptAsAdmissionsComeIsTheSpreadMadeAfresh: the spread
// projection kept for a minute, to which each scan that lets visitors in
// adds them at once (meterInputs), is figure for figure the projection
// made afresh from the admission log, over random scans of random groups
// at random instants (within a minute and across minutes).
func TestSpreadKeptAsAdmissionsComeIsTheSpreadMadeAfresh(t *testing.T) {
	cfg := petraWith(t, func(c *Config) { c.Policy.RequestWindow = nil })
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, cfg.Location())
	routes := []string{"main", "monastery", "high-place", "back-trail"}
	rapid.Check(t, func(rt *rapid.T) {
		s := New(cfg)
		var ids []string
		for i := range rapid.IntRange(1, 12).Draw(rt, "groups") {
			id := fmt.Sprintf("g%02d", i)
			res, _ := s.Apply(day.Add(-24*time.Hour), Book{ID: id, Operator: WalkInOperator, Request: BookingRequest{
				Date: "2026-12-01", Route: rapid.SampledFrom(routes).Draw(rt, "route"), PartySize: rapid.IntRange(1, 30).Draw(rt, "size"),
				Window: Window{From: hm(7, 30), To: hm(9, 0)}}})
			if res.Err == nil {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			rt.Skip("nothing booked")
		}
		now := day.Add(8*time.Hour + time.Duration(rapid.IntRange(0, 59_999).Draw(rt, "start_ms"))*time.Millisecond)
		for i := range rapid.IntRange(1, 80).Draw(rt, "scans") {
			now = now.Add(time.Duration(rapid.SampledFrom([]int{0, 1, 500, 20_000, 61_000}).Draw(rt, "step_ms")) * time.Millisecond)
			id := rapid.SampledFrom(ids).Draw(rt, "scanned")
			s.Apply(now, Scan{Gate: s.bookings.at(id).Gate, Ticket: Ticket{Booking: id}, Count: rapid.IntRange(1, 5).Draw(rt, "count"), ScanID: fmt.Sprint(i), Device: "d"})
			kept := s.spread
			if kept == nil || !kept.at.Equal(now.Truncate(time.Minute)) {
				continue // nothing kept for this minute
			}
			s.spread = nil
			fresh := s.spreadProjection(now)
			s.spread = kept
			if kept.n != len(s.admits) {
				rt.Fatalf("scan %d: %d admissions in the kept spread, %d in the log", i, kept.n, len(s.admits))
			}
			for z, mu := range fresh.mean {
				for k := range mu {
					if math.Float64bits(kept.mean[z][k]) != math.Float64bits(mu[k]) || math.Float64bits(kept.vari[z][k]) != math.Float64bits(fresh.vari[z][k]) {
						rt.Fatalf("scan %d, zone %s minute %d: kept %v ± %v, afresh %v ± %v", i, z, k, kept.mean[z][k], kept.vari[z][k], mu[k], fresh.vari[z][k])
					}
				}
			}
		}
	})
}
