package scheduler

// dayOver is a day's zone buckets and waves over the configured capacity,
// over the whole day, in order. GET /v1/status and the metrics scrape ask
// for every date from today on each time; a day's answer is kept until its
// loads change (State.add and applyCuts drop it), so that a scrape costs a
// look at each day, not a pass over each day's timeline.
type dayOver struct {
	zones, waves map[string][]int // zone or gate → indexes over capacity
}

func (s *State) dayOver(d *day) *dayOver {
	if d.over != nil {
		return d.over
	}
	o := &dayOver{zones: map[string][]int{}, waves: map[string][]int{}}
	for _, z := range s.cfg.Zones {
		for i, v := range d.zone[z.ID] {
			if int(v) > z.Capacity {
				o.zones[z.ID] = append(o.zones[z.ID], i)
			}
		}
	}
	for _, g := range s.cfg.Gates {
		for i, v := range d.wave[g.ID] {
			if int(v) > g.WaveCapacity {
				o.waves[g.ID] = append(o.waves[g.ID], i)
			}
		}
	}
	d.over = o
	return o
}
