package scheduler

import (
	"time"
)

// Config is a site's configuration: the reserve's model (gates, zones,
// routes), its opening hours and the policy the scheduler applies. It is
// parsed and validated by ParseConfig; a *Config returned from there is
// complete and internally consistent, and the scheduler never mutates it.
type Config struct {
	Site        string    `yaml:"site" json:"site"`
	Name        Text      `yaml:"name" json:"name"`
	TimeZone    string    `yaml:"time_zone" json:"time_zone"`
	SlotMinutes int       `yaml:"slot_minutes" json:"slot_minutes"`
	Seasons     []Season  `yaml:"seasons" json:"seasons"`
	ClosedDates []string  `yaml:"closed_dates" json:"closed_dates,omitempty"`
	Evenings    []Evening `yaml:"evenings" json:"evenings,omitempty"`
	Gates       []Gate    `yaml:"gates" json:"gates"`
	Zones       []Zone    `yaml:"zones" json:"zones"`
	Routes      []Route   `yaml:"routes" json:"routes"`
	Sensors     []Sensor  `yaml:"sensors" json:"sensors,omitempty"`
	Policy      Policy    `yaml:"policy" json:"policy"`
	// Alerts maps an alert kind (e.g. "flood_warning") to what it does.
	Alerts map[string]AlertRule `yaml:"alerts" json:"alerts,omitempty"`

	// Derived by ParseConfig; not part of the file.
	loc    *time.Location
	gates  map[string]*Gate
	zones  map[string]*Zone
	routes map[string]*Route
	sensor map[string]*Sensor
}

// Text is a message in the site's two languages.
type Text struct {
	EN string `yaml:"en" json:"en"`
	AR string `yaml:"ar" json:"ar"`
}

// Season is a span of the year (month-day, inclusive; it may wrap the year
// end) with its opening hours. Hours["default"] applies to every weekday that
// has no entry of its own ("mon" … "sun").
type Season struct {
	Name  string           `yaml:"name" json:"name"`
	From  string           `yaml:"from" json:"from"` // "MM-DD"
	To    string           `yaml:"to" json:"to"`     // "MM-DD"
	Hours map[string]Hours `yaml:"hours" json:"hours"`
}

// Hours of one day: gates open at Open, the last wave enters at LastEntry,
// every visitor must be out by Close. Times are "HH:MM" in the site's zone.
type Hours struct {
	Open      string `yaml:"open" json:"open"`
	LastEntry string `yaml:"last_entry" json:"last_entry"`
	Close     string `yaml:"close" json:"close"`
}

// Evening is a special evening event (Petra by Night): on the given weekdays
// its route is bookable only at the listed entry times.
type Evening struct {
	Name     string   `yaml:"name" json:"name"`
	Weekdays []string `yaml:"weekdays" json:"weekdays"`
	Entries  []string `yaml:"entries" json:"entries"` // "HH:MM", on slot boundaries
	Route    string   `yaml:"route" json:"route"`
	Close    string   `yaml:"close" json:"close"`
}

// Gate is an entrance. WaveCapacity is how many visitors it may let in per
// slot.
type Gate struct {
	ID           string `yaml:"id" json:"id"`
	Name         Text   `yaml:"name" json:"name"`
	WaveCapacity int    `yaml:"wave_capacity" json:"wave_capacity"`
}

// Zone is a stretch of the reserve with a safe simultaneous capacity. A hold
// starts when live occupancy reaches HoldAt and ends when it falls to
// ReleaseAt or below.
type Zone struct {
	ID        string `yaml:"id" json:"id"`
	Name      Text   `yaml:"name" json:"name"`
	Capacity  int    `yaml:"capacity" json:"capacity"`
	HoldAt    int    `yaml:"hold_at" json:"hold_at"`
	ReleaseAt int    `yaml:"release_at" json:"release_at"`
}

// Route is the ordered zones a group visits from one of its gates.
type Route struct {
	ID    string   `yaml:"id" json:"id"`
	Name  Text     `yaml:"name" json:"name"`
	Gates []string `yaml:"gates" json:"gates"`
	// Evening routes are bookable only at an Evening's entries.
	Evening bool   `yaml:"evening" json:"evening,omitempty"`
	Stops   []Stop `yaml:"stops" json:"stops"`
}

// Stop is one zone of a route: a group arrives Arrive minutes after entry
// and counts against the zone for Stay minutes.
type Stop struct {
	Zone   string `yaml:"zone" json:"zone"`
	Arrive int    `yaml:"arrive" json:"arrive"`
	Stay   int    `yaml:"stay" json:"stay"`
}

// Sensor is a people counter known to the site.
type Sensor struct {
	ID   string `yaml:"id" json:"id"`
	Zone string `yaml:"zone" json:"zone"`
	// MaxPerMinute is the most people the sensor can count in a minute,
	// in or out (0: DefaultMaxPerMinute). Readings that need more are
	// implausible (plausible.go).
	MaxPerMinute int `yaml:"max_per_minute,omitempty" json:"max_per_minute,omitempty"`
}

// Policy holds the rules of admission and allotment.
type Policy struct {
	EarlyGraceMinutes int `yaml:"early_grace_minutes" json:"early_grace_minutes"`
	LateGraceMinutes  int `yaml:"late_grace_minutes" json:"late_grace_minutes"`
	// RebookLate moves a group that arrives after its late grace to the next
	// wave with room instead of rejecting it.
	RebookLate bool `yaml:"rebook_late" json:"rebook_late"`
	// WalkInShare is the share of every wave and zone kept for walk-ins
	// (bookings by the ticket office), 0..1.
	WalkInShare  float64 `yaml:"walk_in_share" json:"walk_in_share"`
	MaxPartySize int     `yaml:"max_party_size" json:"max_party_size"`
	// OperatorWaveShare caps one operator's visitors in one wave, as a share
	// of the gate's wave capacity (0..1).
	OperatorWaveShare float64 `yaml:"operator_wave_share" json:"operator_wave_share"`
	// OperatorDayShare caps one operator's visitors on one day, as a share of
	// the day's total entry capacity over all gates (0..1).
	OperatorDayShare float64 `yaml:"operator_day_share" json:"operator_day_share"`
	// HoldHorizonMinutes: a wave is held if its route reaches a held zone
	// within this many minutes of entry.
	HoldHorizonMinutes int `yaml:"hold_horizon_minutes" json:"hold_horizon_minutes"`
	// BookingDaysAhead is how far ahead bookings are accepted.
	BookingDaysAhead int `yaml:"booking_days_ahead" json:"booking_days_ahead"`
	// RequestWindow, when set, makes the dates it covers planned days:
	// until a date's cut-off operators submit requests instead of booking,
	// then the day planner allots all the date's requests at once, and
	// only after that is the date open to first-come bookings.
	RequestWindow *RequestWindow `yaml:"request_window" json:"request_window,omitempty"`
}

// RequestWindow says which dates are planned days and when their requests
// close.
type RequestWindow struct {
	// Periods are spans of the year ("MM-DD", inclusive; a span may wrap
	// the year end) whose dates are planned; none means every date.
	Periods []Period `yaml:"periods" json:"periods,omitempty"`
	// Requests for date D close CutoffDaysBefore days before D at
	// CutoffTime ("HH:MM", the site's time).
	CutoffDaysBefore int    `yaml:"cutoff_days_before" json:"cutoff_days_before"`
	CutoffTime       string `yaml:"cutoff_time" json:"cutoff_time"`
}

// Period is a span of the year, "MM-DD" to "MM-DD" inclusive.
type Period struct {
	From string `yaml:"from" json:"from"`
	To   string `yaml:"to" json:"to"`
}

// AlertRule says what an alert of one kind does: close the named zones (the
// alert's own zones if empty), if its severity is at least MinSeverity.
type AlertRule struct {
	Close       bool     `yaml:"close" json:"close"`
	Zones       []string `yaml:"zones" json:"zones,omitempty"`
	MinSeverity string   `yaml:"min_severity" json:"min_severity"` // low, medium, high
}

// Location is the site's time zone.
func (c *Config) Location() *time.Location { return c.loc }

// Gate returns the gate with the given id.
func (c *Config) Gate(id string) (*Gate, bool) { g, ok := c.gates[id]; return g, ok }

// Zone returns the zone with the given id.
func (c *Config) Zone(id string) (*Zone, bool) { z, ok := c.zones[id]; return z, ok }

// Route returns the route with the given id.
func (c *Config) Route(id string) (*Route, bool) { r, ok := c.routes[id]; return r, ok }

// Sensor returns the sensor with the given id.
func (c *Config) Sensor(id string) (*Sensor, bool) { s, ok := c.sensor[id]; return s, ok }
