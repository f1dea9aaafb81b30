package snn

import (
	"fmt"
	"math"
)

// newGens builds the Poisson groups of n for a time step of dt ms: every
// source with its own random stream, derived from (seed, group, source),
// and the step of its first spike.
func newGens(n *Network, dt float64) []*gen {
	var gens []*gen
	for i, g := range n.Poisson {
		prob := g.RateHz * dt / 1000
		gg := &gen{name: g.Name, size: g.Size, next: make([]int64, g.Size), count: make([]int64, g.Size)}
		gg.log1mp = math.Log1p(-prob)
		gg.off = prob == 0
		gg.rng = make([]pcg, g.Size)
		for k := range gg.rng {
			gg.rng[k] = *newStream(n.Seed, streamPoisson, uint64(i), uint64(k))
			if !gg.off {
				gg.next[k] = geometric(&gg.rng[k], gg.log1mp)
			}
		}
		gens = append(gens, gg)
	}
	return gens
}

// fire records a spike of source k at step and draws its next one.
func (g *gen) fire(k int, step int64) {
	g.count[k]++
	g.next[k] = step + 1 + geometric(&g.rng[k], g.log1mp)
}

// snapshot returns the group's schedule, counts and random streams.
func (g *gen) snapshot() (PoissonSnapshot, error) {
	ps := PoissonSnapshot{Next: g.next, Count: g.count}
	for i := range g.rng {
		st, err := g.rng[i].MarshalBinary()
		if err != nil {
			return PoissonSnapshot{}, err
		}
		ps.RNG = append(ps.RNG, st)
	}
	return ps, nil
}

// checkPoisson validates the Poisson part of a snapshot against gens
// (sizes, decodable random streams) before anything is taken.
func checkPoisson(gens []*gen, ps []PoissonSnapshot) error {
	if len(ps) != len(gens) {
		return fmt.Errorf("%d Poisson groups, want %d", len(ps), len(gens))
	}
	for i, g := range gens {
		s := ps[i]
		if len(s.Next) != g.size || len(s.Count) != g.size || len(s.RNG) != g.size {
			return fmt.Errorf("Poisson group %s: %d, %d and %d values for %d sources", g.name, len(s.Next), len(s.Count), len(s.RNG), g.size)
		}
		for k := range s.RNG {
			var p pcg
			if err := p.UnmarshalBinary(s.RNG[k]); err != nil {
				return fmt.Errorf("Poisson group %s source %d: %w", g.name, k, err)
			}
		}
	}
	return nil
}

// restorePoisson takes a Poisson part checked by checkPoisson.
func restorePoisson(gens []*gen, ps []PoissonSnapshot) {
	for i, g := range gens {
		copy(g.next, ps[i].Next)
		copy(g.count, ps[i].Count)
		for k := range g.rng {
			_ = g.rng[k].UnmarshalBinary(ps[i].RNG[k])
		}
	}
}

// PoissonSource is a network's Poisson groups stepped on their own: the
// same groups, seed and random streams as the network's Sim, so that they
// spike as the Sim's do, step for step. A backend that simulates the
// neurons elsewhere (an accelerator) draws its Poisson input from it and
// keeps it in snapshots through Snapshot and Restore.
type PoissonSource struct {
	step int64
	gens []*gen
}

// NewPoissonSource builds the Poisson groups of n (which must validate, as
// for Build).
func NewPoissonSource(n *Network) (*PoissonSource, error) {
	if err := n.Validate(); err != nil {
		return nil, fmt.Errorf("snn: network: %w", err)
	}
	return &PoissonSource{gens: newGens(n, n.dt())}, nil
}

// Step advances one step, calling spike for every source that spikes in
// it, groups in order and sources ascending within a group.
func (s *PoissonSource) Step(spike func(group, source int)) {
	for gi, g := range s.gens {
		if g.off {
			continue
		}
		for k, t := range g.next {
			if t == s.step {
				g.fire(k, s.step)
				spike(gi, k)
			}
		}
	}
	s.step++
}

// Sizes returns the number of sources of each group, in order.
func (s *PoissonSource) Sizes() []int {
	sizes := make([]int, len(s.gens))
	for i, g := range s.gens {
		sizes[i] = g.size
	}
	return sizes
}

// Snapshot returns the groups' state (a Snapshot's Poisson part). The
// slices are the source's own: encode them before the next Step.
func (s *PoissonSource) Snapshot() ([]PoissonSnapshot, error) {
	var ps []PoissonSnapshot
	for _, g := range s.gens {
		x, err := g.snapshot()
		if err != nil {
			return nil, fmt.Errorf("snn: Poisson snapshot: %w", err)
		}
		ps = append(ps, x)
	}
	return ps, nil
}

// Restore sets the groups to a Snapshot's Poisson part at the given step.
// A part of other groups, or with an undecodable stream, is an error and
// leaves the source unchanged.
func (s *PoissonSource) Restore(step int64, ps []PoissonSnapshot) error {
	if step < 0 {
		return fmt.Errorf("snn: Poisson restore: step %d", step)
	}
	if err := checkPoisson(s.gens, ps); err != nil {
		return fmt.Errorf("snn: Poisson restore: %w", err)
	}
	restorePoisson(s.gens, ps)
	s.step = step
	return nil
}
