package plantest

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/tafweej/tafweej/scheduler"
)

// FullDays books days consecutive Petra days from first (local midnight)
// until they are full, first come, in a scheduler of its own at now (before
// first), and returns the records of the bookings to write to a store: the
// full days of the benchmark of a capacity cut over several days, and of
// the engine's tests of it. Groups of 10 to 60 from 20 operators on the
// day routes (most on the main trail), windows of one to three hours
// between 06:00 and 16:00; a day is full once 40 requests in a row are
// refused. The same seed gives the same bookings.
func FullDays(cfg *scheduler.Config, now, first time.Time, days int, seed uint64) []scheduler.Effect {
	rng := rand.New(rand.NewPCG(seed, 0xf011))
	s := scheduler.New(cfg)
	var recs []scheduler.Effect
	for d := range days {
		date := first.AddDate(0, 0, d).Format(time.DateOnly)
		for i, refused := 0, 0; refused < 40; i++ {
			q := scheduler.BookingRequest{Date: date, PartySize: 10 + rng.IntN(51)}
			switch x := rng.IntN(100); {
			case x < 60:
				q.Route = "main"
			case x < 80:
				q.Route = "monastery"
			case x < 92:
				q.Route = "high-place"
			default:
				q.Route, q.PartySize = "back-trail", min(q.PartySize, 30)
			}
			from := hm(6, 0) + 15*rng.IntN(36)
			q.Window = scheduler.Window{From: from, To: min(from+60+15*rng.IntN(9), hm(16, 0))}
			res, effects := s.Apply(now, scheduler.Book{ID: fmt.Sprintf("fd-%s-%04d", date, i),
				Operator: fmt.Sprintf("op-full-%02d", rng.IntN(20)), Request: q})
			if res.Err != nil {
				refused++
				continue
			}
			refused = 0
			for _, ef := range effects {
				if _, ev := ef.(scheduler.Event); !ev {
					recs = append(recs, ef)
				}
			}
		}
	}
	return recs
}
