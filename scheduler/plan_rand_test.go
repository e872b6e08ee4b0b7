package scheduler

import (
	"math/rand/v2"
	"testing"
)

// TestPlanRandIsMathRandPCG: the planner's own PCG draws exactly what
// rand.New(rand.NewPCG(...)) draws, Uint64 and IntN alike (powers of two,
// small, large and near 2^63 bounds, where IntN rejects), so the plans are
// those of the math/rand/v2 stream they were made with.
func TestPlanRandIsMathRandPCG(t *testing.T) {
	bounds := []int{1, 2, 3, 5, 7, 8, 12, 300, 1000, 1 << 20, 7398, 1<<62 + 1, 1<<63 - 1, 3 << 61}
	for _, seed := range []uint64{1, 105, 0x9e3779b97f4a7c15, 1<<64 - 1} {
		want := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		got := newPlanRand(seed, seed^0x9e3779b97f4a7c15)
		for i := range 200_000 {
			if i%3 == 0 {
				if g, w := got.Uint64(), want.Uint64(); g != w {
					t.Fatalf("seed %d, draw %d: Uint64 %d, math/rand/v2 %d", seed, i, g, w)
				}
				continue
			}
			n := bounds[i%len(bounds)]
			if g, w := got.IntN(n), want.IntN(n); g != w {
				t.Fatalf("seed %d, draw %d: IntN(%d) %d, math/rand/v2 %d", seed, i, n, g, w)
			}
		}
	}
}
