package scheduler

import "testing"

// TestFormatClockIsParseClocksInverse: every minute of the day survives
// FormatClock then ParseClock, and the end of a window reads "24:00".
func TestFormatClockIsParseClocksInverse(t *testing.T) {
	for m := range 1440 {
		s := FormatClock(m)
		back, err := ParseClock(s)
		if err != nil || back != m || len(s) != 5 {
			t.Fatalf("FormatClock(%d) = %q, parsed back as %d, %v", m, s, back, err)
		}
	}
	if s := FormatClock(1440); s != "24:00" {
		t.Errorf("FormatClock(1440) = %q, want \"24:00\"", s)
	}
}
