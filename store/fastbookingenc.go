package store

import (
	"strconv"
	"time"

	"github.com/tafweej/tafweej/internal/jsonplain"
	"github.com/tafweej/tafweej/scheduler"
)

// A booking record is written on every admission at a gate (its Admitted
// and UpdatedAt change), in the owner loop's turn: through encoding/json's
// reflection that was most of encodeEffects' time for an admitting scan.
// appendBookingRecord writes the same bytes as encodeJSON(&b) without
// reflection (TestFastBookingEncodeIsEncodeJSON); a string encoding/json
// would escape, or a time MarshalJSON refuses, makes it give up, and encode
// falls back to encodeJSON.

// appendBookingRecord appends b's record, in its envelope, to dst and
// reports whether it could.
func appendBookingRecord(dst []byte, b *scheduler.Booking) ([]byte, bool) {
	ok := true
	str := func(key, s string) {
		if !ok {
			return
		}
		dst = append(dst, key...)
		dst, ok = jsonplain.Append(dst, s)
	}
	num := func(key string, n int) {
		dst = append(dst, key...)
		dst = strconv.AppendInt(dst, int64(n), 10)
	}
	tm := func(key string, t time.Time) {
		if !ok {
			return
		}
		dst = append(dst, key...)
		var err error
		if dst, err = t.AppendText(append(dst, '"')); err != nil {
			ok = false
			return
		}
		dst = append(dst, '"')
	}
	dst = append(dst, envelopeHead...)
	str(`{"id":`, b.ID)
	str(`,"operator":`, b.Operator)
	str(`,"date":`, b.Date)
	str(`,"route":`, b.Route)
	num(`,"party_size":`, b.PartySize)
	num(`,"window":{"from":`, b.Window.From)
	num(`,"to":`, b.Window.To)
	dst = append(dst, '}')
	if b.Language != "" {
		str(`,"language":`, b.Language)
	}
	if b.Guide != "" {
		str(`,"guide":`, b.Guide)
	}
	if b.Reference != "" {
		str(`,"reference":`, b.Reference)
	}
	tm(`,"slot":`, b.Slot)
	str(`,"gate":`, b.Gate)
	str(`,"status":`, string(b.Status))
	num(`,"admitted":`, b.Admitted)
	if b.Reason != "" {
		str(`,"reason":`, b.Reason)
	}
	tm(`,"created_at":`, b.CreatedAt)
	tm(`,"updated_at":`, b.UpdatedAt)
	num(`,"version":`, b.Version)
	return append(dst, '}', '}'), ok
}
