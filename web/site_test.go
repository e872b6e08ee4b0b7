package web

import (
	"testing"
	"time"

	"github.com/tafweej/tafweej/internal/testenv/stack"
)

func TestRequestWindowNext(t *testing.T) {
	cfg := stack.Petra(t)
	loc := cfg.Location()
	at := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, loc) }
	// Petra: spring 03-15..05-15 and autumn 10-01..11-30 are planned;
	// requests close 3 days before at 18:00.
	cases := []struct {
		name       string
		now        time.Time
		date       string
		cutoff     time.Time
		wantAbsent bool
	}{
		{"inside autumn", at(2026, 11, 20, 10, 0), "2026-11-23", at(2026, 11, 20, 18, 0), false},
		{"at a cut-off the next date", at(2026, 11, 20, 18, 0), "2026-11-24", at(2026, 11, 21, 18, 0), false},
		{"autumn over: next spring", at(2026, 11, 29, 10, 0), "2027-03-15", at(2027, 3, 12, 18, 0), false},
		{"before spring", at(2026, 3, 1, 9, 0), "2026-03-15", at(2026, 3, 12, 18, 0), false},
		{"last spring day still open", at(2026, 5, 12, 17, 59), "2026-05-15", at(2026, 5, 12, 18, 0), false},
		{"spring closed: autumn", at(2026, 5, 12, 18, 0), "2026-10-01", at(2026, 9, 28, 18, 0), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rw := requestWindow(cfg, c.now)
			if rw == nil {
				t.Fatal("no request window for Petra")
			}
			if len(rw.Periods) != 2 || rw.CutoffDaysBefore != 3 || rw.CutoffTime != "18:00" {
				t.Errorf("request window %+v", rw)
			}
			if rw.Next == nil {
				t.Fatalf("no next planned day at %s", c.now)
			}
			if rw.Next.Date != c.date || !rw.Next.Cutoff.Equal(c.cutoff) || rw.Next.Cutoff.Location() != loc {
				t.Errorf("next at %s = %s (cut-off %s), want %s (cut-off %s)", c.now, rw.Next.Date, rw.Next.Cutoff, c.date, c.cutoff)
			}
		})
	}
	t.Run("a site without planned days", func(t *testing.T) {
		c := *cfg
		p := c.Policy
		p.RequestWindow = nil
		c.Policy = p
		if rw := requestWindow(&c, at(2026, 11, 20, 10, 0)); rw != nil {
			t.Errorf("request window %+v, want none", rw)
		}
	})
}
