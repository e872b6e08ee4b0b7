package store_test

import (
	"fmt"
	"log"
	"os"
	"time"

	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

func Example() {
	dir, err := os.MkdirTemp("", "tafweej-store-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	s, err := store.Open(dir, store.Options{})
	if err != nil {
		log.Fatal(err)
	}
	// The owner loop commits one turn's effects at once; events are skipped.
	amman := time.FixedZone("+03", 3*60*60)
	b := scheduler.Booking{ID: "bk-1", Operator: "op-1", Date: "2026-12-01", Route: "main",
		PartySize: 12, Slot: time.Date(2026, 12, 1, 8, 15, 0, 0, amman), Gate: "visitor-centre",
		Status: scheduler.StatusConfirmed, Version: 1}
	err = s.Commit([]scheduler.Effect{
		scheduler.PutBooking{Booking: b},
		scheduler.Event{Kind: scheduler.EventBookingConfirmed, Data: b},
	})
	if err != nil {
		log.Fatal(err)
	}
	s.Close()

	// At the next start, the snapshot rebuilds the scheduler.
	s, err = store.Open(dir, store.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	snap, err := s.Load()
	if err != nil {
		log.Fatal(err)
	}
	for _, b := range snap.Bookings {
		fmt.Println(b.ID, b.Slot.Format(time.RFC3339), b.Gate, b.Status)
	}
	// Output: bk-1 2026-12-01T08:15:00+03:00 visitor-centre confirmed
}
