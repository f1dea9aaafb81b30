package fusion

// Memory encoding (fusion §10): a store of spike-pattern projectors
// P_S = |S⟩⟨S| with associative recall by overlap.

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
)

// Memory configures the spike-pattern memory. Like Learning, a zero
// Memory is off (DefaultConfig turns it on).
type Memory struct {
	// Capacity is the most patterns the store holds (0: off).
	Capacity int `json:"capacity" yaml:"capacity"`
	// MinDistance is the least Hamming distance between stored patterns
	// (0: 3): a step's pattern closer than that to a stored one reinforces
	// it instead of being stored, so that a probe with ⌊(MinDistance−1)/2⌋
	// flipped bits is still nearest to the pattern it came from.
	MinDistance int `json:"min_distance,omitempty" yaml:"min_distance,omitempty"`
}

func (m Memory) validate(qubits int) error {
	if m.Capacity < 0 || m.Capacity > 1<<16 {
		return fmt.Errorf("fusion: memory.capacity %d: want 0..%d (0: off)", m.Capacity, 1<<16)
	}
	if m.MinDistance < 0 || (m.Capacity > 0 && m.MinDistance > qubits) {
		return fmt.Errorf("fusion: memory.min_distance %d: want 0..%d (the qubits)", m.MinDistance, qubits)
	}
	return nil
}

func (m Memory) minDistance() int {
	if m.MinDistance == 0 {
		return 3
	}
	return m.MinDistance
}

// Overlap is the overlap of ψ with the stored pattern S: the expected
// fraction of the n bits that a measurement of ψ agrees with S on,
// m_S = Σ_a |ψ_a|²·(n − |a ⊕ S|)/n /‖ψ‖² = ⟨ψ|O_S|ψ⟩ with O_S = (1/n)·Σ_k
// P^{(k)}_{S_k}, the mean of the one-qubit projectors onto S's bits. For
// a basis state |S′⟩ it is 1 − d(S, S′)/n, and m_S = 1 exactly when ψ =
// P_S ψ, i.e. ⟨ψ|P_S|ψ⟩ = 1.
func Overlap(psi []complex128, s uint64, qubits int) float64 {
	tot, m := 0.0, 0.0
	for a, z := range psi {
		p := real(z)*real(z) + imag(z)*imag(z)
		tot += p
		m += p * float64(qubits-bits.OnesCount64((uint64(a)^s)&(1<<qubits-1)))
	}
	if tot == 0 {
		return 0
	}
	return m / (tot * float64(qubits))
}

// MemoryStore is the store of spike-pattern projectors.
type MemoryStore struct {
	cfg      Memory
	qubits   int
	patterns []uint64
	counts   []int
}

// NewMemoryStore returns an empty store for patterns of qubits bits.
func NewMemoryStore(cfg Memory, qubits int) *MemoryStore {
	return &MemoryStore{cfg: cfg, qubits: qubits}
}

// Patterns returns the stored patterns |S⟩, oldest first.
func (m *MemoryStore) Patterns() []uint64 { return slices.Clone(m.patterns) }

// Encode offers the pattern S: it is stored as P_S when the store has room
// and S is at least MinDistance from every stored pattern; a pattern
// closer than that reinforces the nearest one. It reports whether S was
// stored.
func (m *MemoryStore) Encode(s uint64) bool {
	near, best := -1, m.qubits+1
	for i, p := range m.patterns {
		if d := bits.OnesCount64(p ^ s); d < best {
			near, best = i, d
		}
	}
	if near >= 0 && best < m.cfg.minDistance() {
		m.counts[near]++
		return false
	}
	if len(m.patterns) >= m.cfg.Capacity {
		return false
	}
	m.patterns = append(m.patterns, s)
	m.counts = append(m.counts, 1)
	return true
}

// Recall returns the index of the stored pattern of largest overlap with
// ψ (Overlap; the older on ties) and the overlap, or −1 for an empty
// store.
func (m *MemoryStore) Recall(psi []complex128) (int, float64) {
	best, mo := -1, math.Inf(-1)
	for i, p := range m.patterns {
		if o := Overlap(psi, p, m.qubits); o > mo {
			best, mo = i, o
		}
	}
	return best, mo
}

// RecallAccuracy is the fraction of perturbed stored patterns recalled as
// the pattern they came from: each stored |S⟩ with flips bits flipped
// (chosen by a PCG seeded by seed), every qubit then rotated by
// R_y(noise), ψ = ⊗_k (cos(noise/2)|b_k⟩ + sin(noise/2)|1−b_k⟩), is
// recalled by overlap. For such a product state the overlap with P is
// (1/n)·Σ_k (cos²(noise/2) if b_k = P_k, else sin²(noise/2)), which is
// what Overlap computes from the 2^n amplitudes (ProductProbe builds
// them), evaluated in O(n). NaN for an empty store.
func (m *MemoryStore) RecallAccuracy(flips int, noise float64, seed uint64) float64 {
	if len(m.patterns) == 0 {
		return math.NaN()
	}
	rng := rand.New(rand.NewPCG(seed, 0x6d656d))
	c2 := math.Cos(noise/2) * math.Cos(noise/2)
	ok := 0
	for i, p := range m.patterns {
		probe := p
		for _, k := range rng.Perm(m.qubits)[:min(flips, m.qubits)] {
			probe ^= 1 << k
		}
		best, mo := -1, math.Inf(-1)
		for j, q := range m.patterns {
			agree := float64(m.qubits - bits.OnesCount64(q^probe))
			if o := (agree*c2 + (float64(m.qubits)-agree)*(1-c2)) / float64(m.qubits); o > mo {
				best, mo = j, o
			}
		}
		if best == i {
			ok++
		}
	}
	return float64(ok) / float64(len(m.patterns))
}

// ProductProbe returns the 2^n amplitudes of ⊗_k (cos(noise/2)|b_k⟩ +
// sin(noise/2)|1−b_k⟩), the basis state |b⟩ with every qubit rotated by
// R_y(noise) (up to signs).
func ProductProbe(b uint64, qubits int, noise float64) []complex128 {
	c, sn := math.Cos(noise/2), math.Sin(noise/2)
	psi := make([]complex128, 1<<qubits)
	for a := range psi {
		amp := 1.0
		for k := 0; k < qubits; k++ {
			if (uint64(a)^b)>>k&1 == 0 {
				amp *= c
			} else {
				amp *= sn
			}
		}
		psi[a] = complex(amp, 0)
	}
	return psi
}

// snapshot returns the patterns and their counts, interleaved.
func (m *MemoryStore) snapshot() []uint64 {
	out := make([]uint64, 0, 2*len(m.patterns))
	for i, p := range m.patterns {
		out = append(out, p, uint64(m.counts[i]))
	}
	return out
}

func (m *MemoryStore) restore(v []uint64) {
	m.patterns, m.counts = m.patterns[:0], m.counts[:0]
	for i := 0; i+1 < len(v); i += 2 {
		m.patterns = append(m.patterns, v[i])
		m.counts = append(m.counts, int(v[i+1]))
	}
}

// Memory returns the system's spike-pattern store (nil when off).
func (s *System) Memory() *MemoryStore { return s.mem }
