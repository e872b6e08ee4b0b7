package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/tafweej/tafweej/store"
)

// BenchmarkCatchUp measures how fast an empty standby applies a log of
// turn-sized records (10 records of ~300 bytes each) from an R3 stream
// into its Badger: the catch-up of a new instance (docs/cluster.md).
func BenchmarkCatchUp(b *testing.B) {
	_, nc, js := clusterConn(b)
	site := fmt.Sprintf("catchup%d", time.Now().UnixNano()%1e6)
	ensureAll(b, js, site)
	w := newLog(js, nc, site, "w")
	w.startWriting(0, 1, func() bool { return true }, nil)
	val := make([]byte, 300)
	const records = 5000
	for i := range records {
		ops := make([]store.Op, 10)
		for j := range ops {
			ops[j] = store.Op{Key: []byte(fmt.Sprintf("b/bk_%d_%d", i, j)), Val: val}
		}
		if _, err := w.Append(ops); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		st, err := store.Open(b.TempDir(), store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		n := &Node{o: Options{Store: st}, wal: newLog(js, nc, site, "r"), log: discard}
		ctx, cancel := context.WithCancel(context.Background())
		start := time.Now()
		go n.tailLoop(ctx)
		for n.Applied() < records {
			time.Sleep(time.Millisecond)
		}
		b.ReportMetric(records/time.Since(start).Seconds(), "records/s")
		cancel()
		time.Sleep(50 * time.Millisecond)
		st.Close()
	}
}

var discard = slog.New(slog.DiscardHandler)
