package fusion

import (
	"context"
	"fmt"
)

// Rollout is a look-ahead that leaves no trace: it runs steps fusion steps
// from the current state with the coupling α, β, γ and the step length dt
// (0: the current one), without the learning rules (the gradient exchange
// and meta-evolution would move Θ under the candidate being judged),
// calls visit after each step with the step's metrics and ψ (read-only,
// valid during the call), and then restores the System to the Snapshot
// taken before, so that the next Step is the one it would have been (also
// when it stops early on an error); its steps are not charged to Costs. The
// integration layer's meta-optimiser scores candidate couplings with it.
func (s *System) Rollout(ctx context.Context, steps int, alpha, beta, gamma, dt float64, visit func(Metrics, []complex128) error) (err error) {
	snap, err := s.Snapshot()
	if err != nil {
		return fmt.Errorf("fusion: rollout: %w", err)
	}
	// Without learning the Hamiltonian stays, and the Trotter step of the
	// current Δt is kept aside: restoring needs neither rebuilt.
	snap.H = nil
	// The cost breakdown (Costs) is of the steps the system ran: the
	// rollout's are not charged to it.
	step, stepDt, clock := s.step, s.cfg.Dt, s.clock
	defer func() {
		s.step, s.cfg.Dt, s.clock = step, stepDt, clock
		if rerr := s.Restore(snap); rerr != nil && err == nil {
			err = fmt.Errorf("fusion: rollout: %w", rerr)
		}
	}()
	if dt > 0 && dt != s.cfg.Dt {
		if err := s.SetDt(dt); err != nil {
			return err
		}
	}
	s.SetCoupling(alpha, beta, gamma)
	for range steps {
		m, _, err := s.evolve(ctx)
		if err != nil {
			return err
		}
		if err := visit(m, s.Psi()); err != nil {
			return err
		}
	}
	return nil
}
