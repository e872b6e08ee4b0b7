package engine

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tafweej/tafweej/scheduler"
	"github.com/tafweej/tafweej/store"
)

// BenchmarkTurnBook is the owner loop's own cost of a booking: one Do at a
// time through the loop (channel hop, apply, commit, reply) on an
// in-memory store, so no fsync: what the loop adds to the disk's time.
// Bookings are spread over days and operators so that capacity never
// refuses.
func BenchmarkTurnBook(b *testing.B) {
	st, err := store.Open("", store.Options{InMemory: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	e, _ := start(b, st, nil)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		c := scheduler.Book{ID: fmt.Sprintf("bk%08d", i), Operator: fmt.Sprintf("op%d", i%100), Request: scheduler.BookingRequest{
			Date: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, (i/1000)%300).Format(time.DateOnly), Route: "main",
			PartySize: 1, Window: scheduler.Window{From: 6 * 60, To: 15 * 60}}, IdempotencyKey: fmt.Sprintf("k%d", i), RequestHash: "h"}
		res, err := e.Do(ctx, c)
		if err != nil || res.Err != nil {
			b.Fatal(err, res.Err)
		}
	}
}
