package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tafweej/tafweej/engine"
	"github.com/tafweej/tafweej/scheduler"
)

// archiveFlag is serve's --archive-after: the live horizon in whole days
// ("30d", or a duration of whole days such as "720h"); "off" (or "0")
// never archives.
type archiveFlag struct{ days int } // -1: off

func (f *archiveFlag) Set(v string) error {
	v = strings.TrimSpace(v)
	if v == "off" || v == "0" {
		f.days = -1
		return nil
	}
	var days int
	if n, ok := strings.CutSuffix(v, "d"); ok {
		d, err := strconv.Atoi(n)
		if err != nil {
			return fmt.Errorf("archive horizon %q is not a number of days: use e.g. 30d, 720h or off", v)
		}
		days = d
	} else {
		d, err := time.ParseDuration(v)
		if err != nil || d%(24*time.Hour) != 0 {
			return fmt.Errorf("archive horizon %q is not a whole number of days: use e.g. 30d, 720h or off", v)
		}
		days = int(d / (24 * time.Hour))
	}
	if days < scheduler.MinArchiveDays {
		return fmt.Errorf("archive horizon %q is too short: at least %dd (scans and offline uploads reach %d days back), or off",
			v, scheduler.MinArchiveDays, scheduler.MinArchiveDays)
	}
	f.days = days
	return nil
}

func (f *archiveFlag) Type() string { return "DAYS" }

func (f *archiveFlag) String() string {
	if f.days < 0 {
		return "off"
	}
	if f.days == 0 {
		return strconv.Itoa(engine.DefaultArchiveAfterDays) + "d"
	}
	return strconv.Itoa(f.days) + "d"
}
