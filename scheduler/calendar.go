package scheduler

import (
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Calendar queries on a parsed configuration: clocks ("HH:MM"), days of
// the year ("MM-DD") and seasons, the civil date in the site's zone, the
// opening hours and the evening events of a date.

// weekdayKeys are the accepted weekday keys, indexed by time.Weekday.
var weekdayKeys = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

const acceptedWeekdays = "mon, tue, wed, thu, fri, sat, sun"

func weekdayKey(d time.Weekday) string { return weekdayKeys[d] }

func isWeekdayKey(s string) bool { return slices.Contains(weekdayKeys[:], s) }

// ParseClock parses a time of day "HH:MM" (24-hour, two digits each, 00:00
// to 23:59) into minutes after midnight.
func ParseClock(s string) (int, error) {
	if len(s) != 5 || s[2] != ':' || !isDigits(s[:2]) || !isDigits(s[3:]) {
		return 0, fmt.Errorf("invalid time %q (accepted: \"HH:MM\", 00:00 to 23:59)", s)
	}
	h, _ := strconv.Atoi(s[:2])
	m, _ := strconv.Atoi(s[3:])
	if h > 23 || m > 59 {
		return 0, fmt.Errorf("invalid time %q (accepted: \"HH:MM\", 00:00 to 23:59)", s)
	}
	return h*60 + m, nil
}

// FormatClock writes minutes after midnight as "HH:MM" (1440 as "24:00",
// the end of a window): ParseClock's inverse from 00:00 to 23:59.
func FormatClock(m int) string { return clock(m) }

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// Days of the year are counted in a leap year, so that 02-29 has a place:
// 0 is 01-01, 365 is 12-31.
const daysInYear = 366

var leapYearStart = time.Date(2024, time.January, 1, 0, 0, 0, 0, time.UTC)

// parseMonthDay parses "MM-DD" into a day of the (leap) year.
func parseMonthDay(s string) (int, bool) {
	if len(s) != 5 || s[2] != '-' || !isDigits(s[:2]) || !isDigits(s[3:]) {
		return 0, false
	}
	m, _ := strconv.Atoi(s[:2])
	d, _ := strconv.Atoi(s[3:])
	return dayOfYear(time.Month(m), d)
}

func dayOfYear(m time.Month, d int) (int, bool) {
	t := time.Date(2024, m, d, 0, 0, 0, 0, time.UTC)
	if m < time.January || m > time.December || t.Month() != m || t.Day() != d {
		return 0, false
	}
	return t.YearDay() - 1, true
}

func formatDay(day int) string { return leapYearStart.AddDate(0, 0, day).Format("01-02") }

// inSeason reports whether day is within from..to inclusive, wrapping the
// year end when from > to.
func inSeason(day, from, to int) bool {
	if from <= to {
		return from <= day && day <= to
	}
	return day >= from || day <= to
}

// civil is the civil date of t in the site's time zone.
func (c *Config) civil(t time.Time) (y int, m time.Month, d int) {
	if c.loc != nil {
		t = t.In(c.loc)
	}
	return t.Date()
}

func (c *Config) closedOn(y int, m time.Month, d int) bool {
	return slices.Contains(c.ClosedDates, fmt.Sprintf("%04d-%02d-%02d", y, m, d))
}

// HoursOn gives the opening hours of the site on the civil date of date in
// the site's time zone, as minutes after local midnight: gates open at open,
// the last wave enters at lastEntry, visitors must be out by close. ok is
// false if the site is closed that day (closed_dates) or, for a config that
// did not come from ParseConfig, no season covers the date. The weekday's
// own hours apply if the season has them, else its "default" hours.
func (c *Config) HoursOn(date time.Time) (open, lastEntry, close int, ok bool) {
	y, m, d := c.civil(date)
	if c.closedOn(y, m, d) {
		return 0, 0, 0, false
	}
	day, _ := dayOfYear(m, d)
	for _, s := range c.Seasons {
		from, ok1 := parseMonthDay(s.From)
		to, ok2 := parseMonthDay(s.To)
		if !ok1 || !ok2 || !inSeason(day, from, to) {
			continue
		}
		wd := time.Date(y, m, d, 12, 0, 0, 0, time.UTC).Weekday()
		h, found := s.Hours[weekdayKey(wd)]
		if !found {
			if h, found = s.Hours["default"]; !found {
				return 0, 0, 0, false
			}
		}
		var err1, err2, err3 error
		open, err1 = ParseClock(h.Open)
		lastEntry, err2 = ParseClock(h.LastEntry)
		close, err3 = ParseClock(h.Close)
		if err1 != nil || err2 != nil || err3 != nil {
			return 0, 0, 0, false
		}
		return open, lastEntry, close, true
	}
	return 0, 0, 0, false
}

// EveningOn returns the evening event (Petra by Night) held on the civil
// date of date in the site's time zone for the given route, if any. There is
// none on a closed date.
func (c *Config) EveningOn(date time.Time, route string) (*Evening, bool) {
	y, m, d := c.civil(date)
	if c.closedOn(y, m, d) {
		return nil, false
	}
	wd := weekdayKey(time.Date(y, m, d, 12, 0, 0, 0, time.UTC).Weekday())
	for i := range c.Evenings {
		e := &c.Evenings[i]
		if e.Route == route && slices.Contains(e.Weekdays, wd) {
			return e, true
		}
	}
	return nil, false
}
