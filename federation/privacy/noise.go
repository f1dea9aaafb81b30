package privacy

import (
	crand "crypto/rand"
	"fmt"
	"math"
	"math/rand/v2"
)

// NewSecureSource returns a ChaCha8 generator (math/rand/v2, a
// cryptographically strong generator) seeded with 32 fresh bytes from
// crypto/rand. crypto/rand.Read does not fail on supported platforms
// (since Go 1.24 it crashes the program rather than return short), but an
// error is still checked and returned.
func NewSecureSource() (*rand.ChaCha8, error) {
	var seed [32]byte
	if _, err := crand.Read(seed[:]); err != nil {
		return nil, fmt.Errorf("privacy: seeding the noise generator from crypto/rand: %w", err)
	}
	return rand.NewChaCha8(seed), nil
}

// Gaussian is the Gaussian mechanism on a vector: clip to L2 norm Clip
// (C), then add N(0, (Multiplier·C)²) to every coordinate. Multiplier is
// the noise multiplier σ to give [Accountant.Compose] for each release.
type Gaussian struct {
	Clip       float64 // C: finite, > 0
	Multiplier float64 // σ: finite, > 0
}

// check validates the parameters.
func (g Gaussian) check() error {
	if !(g.Clip > 0) || math.IsInf(g.Clip, 1) {
		return fmt.Errorf("privacy: Gaussian mechanism: clip bound %v, want a finite C > 0", g.Clip)
	}
	if !(g.Multiplier > 0) || math.IsInf(g.Multiplier, 1) {
		return fmt.Errorf("privacy: Gaussian mechanism: noise multiplier %v, want a finite σ > 0", g.Multiplier)
	}
	if math.IsInf(g.Multiplier*g.Clip, 1) {
		return fmt.Errorf("privacy: Gaussian mechanism: noise standard deviation σC = %v·%v overflows", g.Multiplier, g.Clip)
	}
	return nil
}

// Privatize clips v in place to norm g.Clip and adds the noise, drawn from
// a fresh [NewSecureSource] generator; it returns v's original norm. On an
// error (bad parameters, NaN or ±Inf in v) v is unchanged.
func (g Gaussian) Privatize(v []float64) (norm float64, err error) {
	if err := g.check(); err != nil {
		return 0, err
	}
	src, err := NewSecureSource()
	if err != nil {
		return 0, err
	}
	return g.PrivatizeWith(v, src)
}

// PrivatizeWith is [Gaussian.Privatize] with the noise drawn from src
// (standard normals by math/rand/v2's NormFloat64), for reproducible
// tests; src must not be nil. Production code should call Privatize.
func (g Gaussian) PrivatizeWith(v []float64, src rand.Source) (norm float64, err error) {
	if err := g.check(); err != nil {
		return 0, err
	}
	if src == nil {
		return 0, fmt.Errorf("privacy: Gaussian mechanism: nil randomness source")
	}
	norm, err = Clip(v, g.Clip)
	if err != nil {
		return 0, err
	}
	r := rand.New(src)
	std := g.Multiplier * g.Clip
	for i := range v {
		v[i] += std * r.NormFloat64()
	}
	return norm, nil
}
