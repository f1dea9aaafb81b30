package snn

import (
	"math"
	"math/rand/v2"
)

// Stream kinds: each random stream is derived from (seed, kind, a, b).
const (
	streamVInit   = 1
	streamConnect = 2
	streamPoisson = 3
)

// splitmix64 is the SplitMix64 finaliser, used to decorrelate stream seeds.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// newStream returns the PCG stream for (seed, kind, a, b). Streams for
// different arguments are independent for all practical purposes, which is
// what makes results independent of the thread count.
func newStream(seed, kind, a, b uint64) *rand.PCG {
	s1 := splitmix64(seed ^ splitmix64(kind<<56^a))
	s2 := splitmix64(splitmix64(b) ^ s1 ^ 0x2545f4914f6cdd1d)
	return rand.NewPCG(s1, s2)
}

// uniform01 returns a float64 in [0, 1) from a PCG (53 random bits).
func uniform01(p *rand.PCG) float64 {
	return float64(p.Uint64()>>11) * (1.0 / (1 << 53))
}

// geometric returns the number of failures before the first success of
// Bernoulli(prob) trials, given log1p(-prob) (negative); prob ≥ 1 gives 0.
func geometric(p *rand.PCG, log1mp float64) int64 {
	if math.IsInf(log1mp, -1) {
		return 0
	}
	u := 1 - uniform01(p) // (0, 1]
	k := math.Floor(math.Log(u) / log1mp)
	if k > 1<<53 {
		return 1 << 53
	}
	return int64(k)
}

// pcg is the generator type of every stream.
type pcg = rand.PCG
