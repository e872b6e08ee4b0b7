package main

import (
	"slices"
	"strings"
	"testing"
)

// TestSweepListsAreChecked: --groups and --dwell take comma-separated
// numbers; anything else is refused naming the flag and the value.
func TestSweepListsAreChecked(t *testing.T) {
	if g, err := ints("--groups", "220, 450"); err != nil || !slices.Equal(g, []int{220, 450}) {
		t.Errorf("ints(220, 450) = %v, %v", g, err)
	}
	if d, err := floats("--dwell", "1.0,1.3"); err != nil || !slices.Equal(d, []float64{1, 1.3}) {
		t.Errorf("floats(1.0,1.3) = %v, %v", d, err)
	}
	for _, c := range []struct {
		flag, value string
		parse       func(string, string) error
	}{
		{"--groups", "220,many", func(f, v string) error { _, err := ints(f, v); return err }},
		{"--groups", "0", func(f, v string) error { _, err := ints(f, v); return err }},
		{"--dwell", "1.0;1.3", func(f, v string) error { _, err := floats(f, v); return err }},
		{"--dwell", "-1", func(f, v string) error { _, err := floats(f, v); return err }},
	} {
		err := c.parse(c.flag, c.value)
		if err == nil || !strings.Contains(err.Error(), c.flag+` "`+c.value+`"`) {
			t.Errorf("%s %s: %v, want an error naming the flag and the value", c.flag, c.value, err)
		}
	}
}
