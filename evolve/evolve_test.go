package evolve

import (
	"context"
	"encoding/json"
	"math"
	"math/cmplx"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/prismai/mec/backend/backendtest"
	_ "github.com/prismai/mec/backend/cpu"
	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/internal/peers"
	"github.com/prismai/mec/internal/peers/peertest"
)

// peerTol is the agreement the issue asks of mec's exact method and QuTiP.
const peerTol = 1e-8

func randomSpec(rng *rand.Rand, n int) *Spec {
	s := &Spec{Qubits: n, T: 0.2 + 2*rng.Float64()}
	nt := 1 + rng.IntN(2*n+2)
	for i := 0; i < nt; i++ {
		p := make([]byte, n)
		for k := range p {
			p[k] = "IXYZ"[rng.IntN(4)]
		}
		s.Terms = append(s.Terms, circuit.PauliTerm{Coeff: rng.NormFloat64(), Pauli: string(p)})
	}
	if rng.IntN(2) == 0 {
		for _, a := range backendtest.RandomState(rng, n) {
			s.Psi0 = append(s.Psi0, [2]float64{real(a), imag(a)})
		}
	}
	if n > 1 && rng.IntN(2) == 0 {
		s.Keep = rng.Perm(n)[:1+rng.IntN(n-1)]
	}
	return s
}

func amps(o [][2]float64) []complex128 {
	v := make([]complex128, len(o))
	for i, a := range o {
		v[i] = complex(a[0], a[1])
	}
	return v
}

func TestAgainstQuTiP(t *testing.T) {
	script, err := peers.Script("qutip_evolve.py")
	peertest.Require(t, err)
	py, err := peers.Python()
	peertest.Require(t, err)
	if err := exec.Command(py, "-c", "import qutip").Run(); err != nil {
		peertest.Require(t, err)
	}
	rng := rand.New(rand.NewPCG(11, 7))
	dir := t.TempDir()
	const cases = 12
	specs := make([]*Spec, cases)
	for i := range specs {
		specs[i] = randomSpec(rng, 1+i%8)
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for i, s := range specs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			f := filepath.Join(dir, "spec"+string(rune('a'+i))+".json")
			b, _ := json.Marshal(s)
			if err := os.WriteFile(f, b, 0o644); err != nil {
				t.Error(err)
				return
			}
			out, err := exec.Command(py, script, f).Output()
			if err != nil {
				t.Errorf("case %d: qutip_evolve.py: %v", i, err)
				return
			}
			var peer Output
			if err := json.Unmarshal(out, &peer); err != nil {
				t.Errorf("case %d: peer output: %v", i, err)
				return
			}
			got, err := Run(context.Background(), s, Options{})
			if err != nil {
				t.Errorf("case %d: %v", i, err)
				return
			}
			if d := backendtest.MaxDiff(amps(got.Amplitudes), amps(peer.Amplitudes)); d > peerTol {
				t.Errorf("case %d (%d qubits, %d terms, t=%.3f): amplitudes differ from QuTiP by %g", i, s.Qubits, len(s.Terms), s.T, d)
			}
			if got.ErrorBound > 1e-11 {
				t.Errorf("case %d: error bound %g above tolerance", i, got.ErrorBound)
			}
			if s.Keep != nil {
				if len(peer.Rho) != len(got.Rho) {
					t.Errorf("case %d: rho sizes %d vs %d", i, len(got.Rho), len(peer.Rho))
					return
				}
				for r := range peer.Rho {
					if d := backendtest.MaxDiff(amps(got.Rho[r]), amps(peer.Rho[r])); d > peerTol {
						t.Errorf("case %d keep %v: rho row %d differs from QuTiP's ptrace by %g", i, s.Keep, r, d)
					}
				}
			}
		}()
	}
	wg.Wait()
}

// TestTrotterOrder checks that the Trotter error falls as steps^-order.
func TestTrotterOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 9))
	s := &Spec{Qubits: 4, T: 1, Terms: circuit.PauliSum{
		{Coeff: 0.9, Pauli: "XXII"}, {Coeff: -0.6, Pauli: "IZZI"}, {Coeff: 0.4, Pauli: "IIYY"},
		{Coeff: 0.7, Pauli: "ZIIX"}, {Coeff: 0.3, Pauli: "YZXI"},
	}}
	for _, a := range backendtest.RandomState(rng, 4) {
		s.Psi0 = append(s.Psi0, [2]float64{real(a), imag(a)})
	}
	exact, err := Run(context.Background(), s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, order := range []int{1, 2, 4} {
		errAt := func(steps int) float64 {
			o, err := Run(context.Background(), s, Options{Method: "trotter", Steps: steps, Order: order})
			if err != nil {
				t.Fatal(err)
			}
			return backendtest.MaxDiff(amps(o.Amplitudes), amps(exact.Amplitudes))
		}
		e1, e2 := errAt(8), errAt(16)
		rate := math.Log2(e1 / e2)
		// The observed order must be within 0.35 of the formula's order.
		if math.Abs(rate-float64(order)) > 0.35 {
			t.Errorf("order %d: error %g → %g when doubling steps: observed order %.2f", order, e1, e2, rate)
		}
	}
}

func TestAnalytic(t *testing.T) {
	// H = ω Z on one qubit from |+⟩: amplitudes e^{∓iωt}/√2.
	w, tt := 0.7, 3.3
	s := &Spec{Qubits: 1, T: tt, Terms: circuit.PauliSum{{Coeff: w, Pauli: "Z"}, {Coeff: 0.25, Pauli: "I"}},
		Psi0: [][2]float64{{1 / math.Sqrt2, 0}, {1 / math.Sqrt2, 0}}}
	o, err := Run(context.Background(), s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	g := amps(o.Amplitudes)
	ph := cmplx.Exp(complex(0, -0.25*tt))
	want := []complex128{ph * cmplx.Exp(complex(0, -w*tt)) / math.Sqrt2, ph * cmplx.Exp(complex(0, w*tt)) / math.Sqrt2}
	if d := backendtest.MaxDiff(g, want); d > 1e-13 {
		t.Errorf("H=ωZ+0.25I: diff %g", d)
	}
	// A long time (many substeps) keeps the norm.
	s.T = 500
	o, err = Run(context.Background(), s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var nrm float64
	for _, a := range o.Amplitudes {
		nrm += a[0]*a[0] + a[1]*a[1]
	}
	if math.Abs(nrm-1) > 1e-10 || o.Steps < 2 {
		t.Errorf("t=500: norm² %v after %d substeps", nrm, o.Steps)
	}
}

func TestBadSpecs(t *testing.T) {
	bad := []*Spec{
		{Qubits: 0, Terms: circuit.PauliSum{{Coeff: 1, Pauli: ""}}},
		{Qubits: 2, Terms: circuit.PauliSum{{Coeff: 1, Pauli: "X"}}},
		{Qubits: 2, Terms: circuit.PauliSum{{Coeff: 1, Pauli: "XQ"}}},
		{Qubits: 1, Terms: circuit.PauliSum{{Coeff: math.NaN(), Pauli: "X"}}},
		{Qubits: 1, T: math.Inf(1), Terms: circuit.PauliSum{{Coeff: 1, Pauli: "X"}}},
		{Qubits: 1, Terms: circuit.PauliSum{{Coeff: 1, Pauli: "X"}}, Psi0: [][2]float64{{1, 0}}},
		{Qubits: 1, Terms: circuit.PauliSum{{Coeff: 1, Pauli: "X"}}, Psi0: [][2]float64{{1, 0}, {1, 0}}},
		{Qubits: 2, Terms: circuit.PauliSum{{Coeff: 1, Pauli: "XX"}}, Keep: []int{2}},
		{Qubits: 2, Terms: nil},
	}
	for i, s := range bad {
		if _, err := Run(context.Background(), s, Options{}); err == nil {
			t.Errorf("bad spec %d accepted", i)
		}
	}
	if _, err := Run(context.Background(), &Spec{Qubits: 1, Terms: circuit.PauliSum{{Coeff: 1, Pauli: "X"}}}, Options{Method: "magic"}); err == nil {
		t.Error("unknown method accepted")
	}
}
