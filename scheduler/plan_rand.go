package scheduler

import "math/bits"

// planRand is math/rand/v2's PCG behind a Rand, without the interface call
// of rand.Rand: the same stream (rand.New(rand.NewPCG(hi, lo))'s Uint64 and
// IntN, on every platform) at a fraction of the cost a draw, which the
// planner's inner loop pays a few times a step. TestPlanRandIsMathRandPCG
// holds it to math/rand/v2's own.
type planRand struct{ hi, lo uint64 }

func newPlanRand(seed1, seed2 uint64) *planRand { return &planRand{seed1, seed2} }

// Uint64 is rand.PCG.Uint64: a 128-bit LCG step, then DXSM.
func (r *planRand) Uint64() uint64 {
	const (
		mulHi = 2549297995355413924
		mulLo = 4865540595714422341
		incHi = 6364136223846793005
		incLo = 1442695040888963407
	)
	hi, lo := bits.Mul64(r.lo, mulLo)
	hi += r.hi*mulLo + r.lo*mulHi
	lo, c := bits.Add64(lo, incLo, 0)
	hi, _ = bits.Add64(hi, incHi, c)
	r.lo, r.hi = lo, hi

	const cheapMul = 0xda942042e4dd58b5
	hi ^= hi >> 32
	hi *= cheapMul
	hi ^= hi >> 48
	hi *= lo | 1
	return hi
}

// IntN is rand.Rand.IntN: a uniform int in [0, n), n > 0, by Lemire's
// multiply-and-reject, drawing exactly what rand.Rand draws (math/rand/v2
// keeps its 32-bit platforms on the same sequence as its 64-bit ones).
func (r *planRand) IntN(n int) int {
	if n <= 0 {
		panic("invalid argument to IntN")
	}
	u := uint64(n)
	if u&(u-1) == 0 {
		return int(r.Uint64() & (u - 1))
	}
	hi, lo := bits.Mul64(r.Uint64(), u)
	if lo < u {
		thresh := -u % u
		for lo < thresh {
			hi, lo = bits.Mul64(r.Uint64(), u)
		}
	}
	return int(hi)
}
