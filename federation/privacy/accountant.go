package privacy

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/prismai/mec/internal/strict"
)

// StateVersion is the version of the serialised [Accountant] state.
const StateVersion = 1

// maxOrders bounds the number of orders a restored state may carry.
const maxOrders = 4096

// DefaultOrders returns the RDP orders a new [Accountant] tracks (a fresh
// slice): α = 1 + 10^{k/20} for k = −40 … 80, 121 orders log-spaced from
// 1.01 to 10001. Consecutive orders differ by 12% in α − 1, which costs at
// most 0.2% of ε against the continuous optimum over σ ∈ [0.3, 200],
// T ≤ 10⁴ (TestOrderGrid); the small orders serve large privacy losses
// (many rounds, small σ), the large ones small losses
// (α* ≈ 1 + sqrt(log(1/δ)/ρ) for ρ = Σ 1/(2σ_t²)).
func DefaultOrders() []float64 {
	o := make([]float64, 0, 121)
	for k := -40; k <= 80; k++ {
		o = append(o, 1+math.Pow(10, float64(k)/20))
	}
	return o
}

// Accountant tracks the Rényi differential privacy of a sequence of
// Gaussian-mechanism releases (see the package documentation) and converts
// it to (ε, δ). The zero value is not usable; call [NewAccountant] or
// restore a saved state with json.Unmarshal (UnmarshalJSON). Not safe for
// concurrent use.
type Accountant struct {
	orders []float64 // α, strictly increasing, > 1
	rdp    []float64 // ε_RDP(α) of the composition so far
	rounds int
}

// NewAccountant returns an accountant with no rounds at the
// [DefaultOrders].
func NewAccountant() *Accountant {
	o := DefaultOrders()
	return &Accountant{orders: o, rdp: make([]float64, len(o))}
}

// checkSigma validates a noise multiplier.
func checkSigma(sigma float64) error {
	if !(sigma > 0) || math.IsInf(sigma, 1) {
		return fmt.Errorf("privacy: noise multiplier %v: want a finite σ > 0", sigma)
	}
	return nil
}

// Compose records one release of the Gaussian mechanism with noise
// multiplier σ: ε_RDP(α) += α/(2σ²) at every order. Different rounds may
// use different σ. On an error (σ not finite and positive, an RDP value
// overflowing, the round count overflowing) the accountant is unchanged.
func (a *Accountant) Compose(sigma float64) error { return a.ComposeN(sigma, 1) }

// ComposeN records rounds releases with the same multiplier σ at once
// (ε_RDP(α) += rounds·α/(2σ²)); rounds must be ≥ 0.
func (a *Accountant) ComposeN(sigma float64, rounds int) error {
	if a == nil || len(a.orders) == 0 {
		return errors.New("privacy: compose on an uninitialised accountant (use NewAccountant)")
	}
	if err := checkSigma(sigma); err != nil {
		return err
	}
	if rounds < 0 {
		return fmt.Errorf("privacy: compose %d rounds: want ≥ 0", rounds)
	}
	if rounds > math.MaxInt-a.rounds {
		return fmt.Errorf("privacy: compose: round count %d + %d overflows", a.rounds, rounds)
	}
	if rounds == 0 {
		return nil
	}
	next := make([]float64, len(a.rdp))
	for k, alpha := range a.orders {
		next[k] = a.rdp[k] + float64(rounds)*alpha/(2*sigma*sigma)
		if math.IsInf(next[k], 0) || math.IsNaN(next[k]) {
			return fmt.Errorf("privacy: compose: RDP at order %v overflows (σ = %v, %d rounds)", alpha, sigma, rounds)
		}
	}
	a.rdp = next
	a.rounds += rounds
	return nil
}

// Rounds returns the number of releases composed so far.
func (a *Accountant) Rounds() int {
	if a == nil {
		return 0
	}
	return a.rounds
}

// Orders returns the RDP orders tracked (a fresh slice).
func (a *Accountant) Orders() []float64 {
	if a == nil {
		return nil
	}
	return append([]float64(nil), a.orders...)
}

// RDP returns ε_RDP(α) at each of [Accountant.Orders] (a fresh slice).
func (a *Accountant) RDP() []float64 {
	if a == nil {
		return nil
	}
	return append([]float64(nil), a.rdp...)
}

// Epsilon returns the smallest ε, over the tracked orders, for which the
// composition so far is (ε, δ)-DP by the conversion of Canonne, Kamath &
// Steinke (2020) and Balle et al. (2020),
//
//	ε = ε_RDP(α) + log((α − 1)/α) − (log δ + log α)/(α − 1),
//
// and the order α attaining it (the lowest on a tie). A negative minimum
// is reported as ε = 0 (a valid, weaker statement). With no rounds ε = 0
// and the order is 0. δ must be in (0, 1).
func (a *Accountant) Epsilon(delta float64) (eps, order float64, err error) {
	if a == nil || len(a.orders) == 0 {
		return 0, 0, errors.New("privacy: epsilon of an uninitialised accountant (use NewAccountant)")
	}
	if !(delta > 0 && delta < 1) {
		return 0, 0, fmt.Errorf("privacy: δ = %v: want 0 < δ < 1", delta)
	}
	if a.rounds == 0 {
		return 0, 0, nil
	}
	logDelta := math.Log(delta)
	eps = math.Inf(1)
	for k, alpha := range a.orders {
		e := a.rdp[k] + math.Log1p(-1/alpha) - (logDelta+math.Log(alpha))/(alpha-1)
		if e < eps {
			eps, order = e, alpha
		}
	}
	return max(eps, 0), order, nil
}

// state is the serialised form of an Accountant.
type state struct {
	Version int       `json:"version"`
	Rounds  int64     `json:"rounds"`
	Orders  []float64 `json:"orders"`
	RDP     []float64 `json:"rdp"`
}

// MarshalJSON writes the accountant's state:
// {"version":1,"rounds":T,"orders":[α…],"rdp":[ε_RDP(α)…]}. Go's float
// formatting round-trips exactly.
func (a *Accountant) MarshalJSON() ([]byte, error) {
	if a == nil || len(a.orders) == 0 {
		return nil, errors.New("privacy: marshal of an uninitialised accountant")
	}
	return json.Marshal(state{Version: StateVersion, Rounds: int64(a.rounds), Orders: a.orders, RDP: a.rdp})
}

// UnmarshalJSON restores a state written by MarshalJSON, keeping its
// orders (so a state saved by a build with another grid stays exact). It
// rejects, leaving the accountant unchanged: malformed JSON, unknown
// fields or trailing data, another version, a negative round count, no
// orders or more than 4096, orders and RDP vectors of different lengths,
// orders that are not finite, > 1 and strictly increasing, RDP values that
// are negative or not finite, an RDP curve decreasing in α (Rényi
// divergences are non-decreasing in the order), and zero rounds with
// non-zero RDP or rounds with a zero RDP value.
func (a *Accountant) UnmarshalJSON(data []byte) error {
	if a == nil {
		return errors.New("privacy: unmarshal into a nil accountant")
	}
	var s state
	if err := strict.JSON(data, &s); err != nil {
		return fmt.Errorf("privacy: accountant state: %w", err)
	}
	if err := s.validate(); err != nil {
		return fmt.Errorf("privacy: accountant state: %w", err)
	}
	a.orders, a.rdp, a.rounds = s.Orders, s.RDP, int(s.Rounds)
	return nil
}

// validate checks a decoded state.
func (s *state) validate() error {
	if s.Version != StateVersion {
		return fmt.Errorf("version %d, want %d", s.Version, StateVersion)
	}
	if s.Rounds < 0 || s.Rounds > math.MaxInt {
		return fmt.Errorf("round count %d out of range", s.Rounds)
	}
	if len(s.Orders) == 0 || len(s.Orders) > maxOrders {
		return fmt.Errorf("%d orders, want 1 to %d", len(s.Orders), maxOrders)
	}
	if len(s.RDP) != len(s.Orders) {
		return fmt.Errorf("%d RDP values for %d orders", len(s.RDP), len(s.Orders))
	}
	for k, alpha := range s.Orders {
		if !(alpha > 1) || math.IsInf(alpha, 1) {
			return fmt.Errorf("order %d is %v, want a finite α > 1", k, alpha)
		}
		if k > 0 && !(alpha > s.Orders[k-1]) {
			return fmt.Errorf("orders not strictly increasing at %d (%v after %v)", k, alpha, s.Orders[k-1])
		}
		v := s.RDP[k]
		if !(v >= 0) || math.IsInf(v, 1) {
			return fmt.Errorf("RDP at order %v is %v, want finite and ≥ 0", alpha, v)
		}
		if k > 0 && v < s.RDP[k-1] {
			return fmt.Errorf("RDP decreases from %v at order %v to %v at order %v", s.RDP[k-1], s.Orders[k-1], v, alpha)
		}
		if (s.Rounds == 0) != (v == 0) {
			return fmt.Errorf("RDP %v at order %v with %d rounds (zero exactly when no rounds)", v, alpha, s.Rounds)
		}
	}
	return nil
}
