package main

import (
	"fmt"
	"time"
)

// limitJS is what bounds a wave's places (limited_by of GET
// /v1/availability).
type limitJS struct {
	Kind string    `json:"kind"`
	ID   string    `json:"id"`
	At   time.Time `json:"at,omitzero"`
	Rule string    `json:"rule"`
}

// String says it in a few words: "zone siq at 08:00", "gate
// visitor-centre (walk-in share)", "your share of the wave".
func (l *limitJS) String() string {
	if l == nil {
		return ""
	}
	switch l.Rule {
	case "operator_wave_share":
		return "your share of the wave"
	case "operator_day_share":
		return "your share of the day"
	}
	s := l.Kind + " " + l.ID
	if l.Kind == "zone" && !l.At.IsZero() {
		s += " at " + l.At.Format("15:04")
	}
	switch l.Rule {
	case "closed":
		s += " (closed)"
	case "walk_in_share":
		s += " (walk-in share kept)"
	case "capacity", "":
	default:
		s += fmt.Sprintf(" (%s)", l.Rule)
	}
	return s
}
