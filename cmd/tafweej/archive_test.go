package main

import (
	"strings"
	"testing"
)

func TestArchiveAfterFlag(t *testing.T) {
	for _, c := range []struct {
		in   string
		days int
		err  string
	}{
		{"30d", 30, ""},
		{"2d", 2, ""},
		{"720h", 30, ""},
		{"off", -1, ""},
		{"0", -1, ""},
		{"1d", 0, "too short: at least 2d"},
		{"36h", 0, "not a whole number of days"},
		{"thirty", 0, "not a whole number of days"},
		{"xd", 0, "not a number of days"},
	} {
		var f archiveFlag
		err := f.Set(c.in)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("--archive-after %s: %v", c.in, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), `"`+c.in+`"`)):
			t.Errorf("--archive-after %s: error %v, want one quoting the value and saying %q", c.in, err, c.err)
		case c.err == "" && f.days != c.days:
			t.Errorf("--archive-after %s = %d days, want %d", c.in, f.days, c.days)
		}
	}
	var f archiveFlag
	if f.String() != "30d" {
		t.Errorf("default --archive-after shows %q, want 30d", f.String())
	}
}
