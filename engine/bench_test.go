package engine

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tafweej/tafweej/scheduler"
)

// BenchmarkEngineBook measures bookings through the owner loop with synced
// Badger writes, with the engine's metrics on and off; the ratio is the
// metrics' overhead (issue 4). Run with -benchtime and -count, compare with
// benchstat.
func BenchmarkEngineBook(b *testing.B) {
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("metrics=%v", on), func(b *testing.B) {
			var reg prometheus.Registerer
			if on {
				reg = prometheus.NewRegistry()
			}
			e, _ := start(b, openStore(b, b.TempDir()), reg)
			var n atomic.Int64
			b.SetParallelism(16)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := int(n.Add(1))
					// Spread over many days and operators so shares never bind.
					c := book(i, fmt.Sprintf("op%d", i%200))
					c.Request.Date = fmt.Sprintf("2027-%02d-%02d", 1+i%11, 1+(i/11)%28)
					res, err := e.Do(context.Background(), c)
					if err != nil {
						b.Fatal(err)
					}
					if res.Err != nil {
						if se, ok := res.Err.(*scheduler.Error); !ok || se.Code != scheduler.CodeNoCapacity {
							b.Fatal(res.Err)
						}
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "bookings/s")
		})
	}
}
