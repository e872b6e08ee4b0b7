package store

import (
	"encoding/binary"
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/tafweej/tafweej/scheduler"
)

// TestMeasureScanCommit times a gate scan's synced transaction with the
// scan record in the JSON envelope (as before) and in the binary form,
// and the durable limit's one 256-byte record (RawDB.Write's), the three
// alternated in one store so that a loaded machine weighs on each alike;
// the transaction only, the records encoded before (BenchmarkEncodeScanRecord
// times the encoding).
// The records are those of a real admission on the Petra site, each scan
// with its own scan id, the booking rewritten each time; and, to weigh
// the booking's share, the scan record written alone. Set
// TAFWEEJ_SCAN_COMMIT_MEASURE=<transactions of each kind>.
func TestMeasureScanCommit(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("TAFWEEJ_SCAN_COMMIT_MEASURE"))
	if n <= 0 {
		t.Skip("set TAFWEEJ_SCAN_COMMIT_MEASURE=<transactions of each kind> to measure")
	}
	_, effects := petraAdmission(t, time.Minute)
	var scan scheduler.ScanRecord
	var book scheduler.Booking
	for _, e := range effects {
		switch e := e.(type) {
		case scheduler.PutScan:
			scan = e.Record
		case scheduler.PutBooking:
			book = e.Booking
		}
	}
	if scan.ScanID == "" || book.ID == "" {
		t.Fatalf("the admission wrote %+v", effects)
	}
	s := openBadger(t, t.TempDir()).(*Badger)
	limitVal := make([]byte, 256)
	kinds := []string{"scan, JSON record", "scan, binary record", "limit, one 256-byte record",
		"the binary scan record alone"}
	lat := make([][]time.Duration, len(kinds))
	bytes := make([]int, len(kinds))
	for i := range n {
		for j := range kinds {
			k := (i + j) % len(kinds) // each kind first in turn: no kind always follows the same one
			var ops []op
			switch k {
			case 2:
				ops = []op{{key: binary.BigEndian.AppendUint64([]byte("raw/"), uint64(i)), val: limitVal}}
			default:
				rec := scan
				rec.ScanID = fmt.Sprintf("%s-%d-%d", scan.ScanID, k, i)
				enc := encode
				if k == 0 {
					enc = encodeJSON
				}
				sv, err := enc(&rec)
				if err != nil {
					t.Fatal(err)
				}
				bv, err := encode(&book)
				if err != nil {
					t.Fatal(err)
				}
				ops = []op{{key: bookingKey(book.ID), val: bv}, {key: scanKey(rec.ScanID), val: sv}}
				if k == 3 {
					ops = ops[1:] // what a scan would write if its record carried the booking's change
				}
			}
			start := time.Now()
			if err := s.db.Update(func(txn *badger.Txn) error { return putOps(txn, ops) }); err != nil {
				t.Fatal(err)
			}
			lat[k] = append(lat[k], time.Since(start))
			if i == 0 {
				for _, o := range ops {
					bytes[k] += len(o.key) + len(o.val)
				}
			}
		}
	}
	// Paired: each kind against the JSON record's transaction of the same
	// round, the median of the differences (less swayed by the machine's
	// load than two medians apart).
	for k := 1; k < len(kinds); k++ {
		d := make([]time.Duration, n)
		for i := range n {
			d[i] = lat[k][i] - lat[0][i]
		}
		slices.Sort(d)
		t.Logf("%-28s against the JSON record's in the same round: median difference %+.3f ms", kinds[k], float64(d[n/2].Microseconds())/1000)
	}
	for k, name := range kinds {
		l := lat[k]
		slices.Sort(l)
		q := func(p float64) float64 { return float64(l[int(p*float64(len(l)-1))].Microseconds()) / 1000 }
		t.Logf("%-28s %4d bytes of keys and values | p50 %.3f ms, p90 %.3f ms, p99 %.3f ms (%d)", name, bytes[k], q(0.5), q(0.9), q(0.99), len(l))
	}
}

// BenchmarkEncodeScanRecord: an admission's scan record in the JSON
// envelope and in the binary form.
func BenchmarkEncodeScanRecord(b *testing.B) {
	r := scan("visitor-centre|dev-0|bench-1-0-17", "bk_abcdefghij234567")
	for _, enc := range []struct {
		name string
		f    func(any) ([]byte, error)
	}{{"json", encodeJSON}, {"binary", encode}} {
		b.Run(enc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := enc.f(&r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecodeScanRecord: loading it back from each.
func BenchmarkDecodeScanRecord(b *testing.B) {
	r := scan("visitor-centre|dev-0|bench-1-0-17", "bk_abcdefghij234567")
	for _, enc := range []struct {
		name string
		f    func(any) ([]byte, error)
	}{{"json", encodeJSON}, {"binary", encode}} {
		val, err := enc.f(&r)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(enc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var out scheduler.ScanRecord
				if err := decode([]byte("s/x"), val, &out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
