package lava

import (
	"context"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/engines/snn"
)

// testNetwork is a 40-neuron network with a 20-source Poisson input: list,
// all_to_all (dense) and one_to_one projections, one τ_syn per target.
func testNetwork(seed uint64) *snn.Network {
	lif := snn.LIF{TauMMs: 10, VRestMV: -52, VThMV: -50, VResetMV: -60}
	n := &snn.Network{DtMs: 0.1, Seed: seed}
	n.AddPopulation(snn.Population{Name: "E", Size: 30, Neuron: lif, TauSynMs: 5,
		VInit: snn.VInit{UniformMV: []float64{-60, -50}}})
	n.AddPopulation(snn.Population{Name: "I", Size: 10, Neuron: lif, TauSynMs: 5})
	n.AddPoisson(snn.PoissonGroup{Name: "in", Size: 20, RateHz: 300, TauSynMs: 5})
	var pairs [][2]int
	var ws []float64
	for s := 0; s < 20; s++ {
		for k := 0; k < 3; k++ {
			pairs = append(pairs, [2]int{s, (s*7 + k*11) % 30})
			ws = append(ws, 1.5+0.25*float64(k))
		}
	}
	n.Connect(snn.Projection{From: "in", To: "E", Rule: snn.RuleList, Pairs: pairs, WeightsMV: ws})
	n.Connect(snn.Projection{From: "E", To: "I", Rule: snn.RuleAllToAll, WeightMV: 0.3, Dense: true})
	n.Connect(snn.Projection{From: "I", To: "E", Rule: snn.RuleAllToAll, WeightMV: -0.8})
	n.Connect(snn.Projection{From: "I", To: "I", Rule: snn.RuleOneToOne, WeightMV: -0.5})
	return n
}

func TestDecayRoundTrip(t *testing.T) {
	for _, tau := range []float64{0.2, 1, 2.5, 5, 10, 20, 100, 300} {
		dv, err := DecayV(0.1, tau)
		if err != nil {
			t.Fatal(err)
		}
		if d := math.Abs(float64(dv)/4096 - 0.1/tau); d > 1.0/8192+1e-15 {
			t.Errorf("dv(%g) = %d: error %g > 1/8192", tau, dv, d)
		}
		du, err := DecayU(0.1, tau)
		if err != nil {
			t.Fatal(err)
		}
		if d := math.Abs(float64(du+DsOffset)/4096 - 0.1/tau); d > 1.0/8192+1e-15 {
			t.Errorf("du(%g) = %d: error %g > 1/8192", tau, du, d)
		}
	}
	if _, err := DecayV(1, 0.5); !errors.Is(err, ErrSaturated) {
		t.Errorf("dv with dt/τ = 2: %v, want ErrSaturated", err)
	}
	if _, err := DecayU(0.1, 1e4); !errors.Is(err, ErrUnderflow) {
		t.Errorf("du with τ = 1e5·dt: %v, want ErrUnderflow", err)
	}
	if _, err := DecayV(0.1, math.NaN()); !errors.Is(err, ErrInvalid) {
		t.Errorf("dv(NaN): %v, want ErrInvalid", err)
	}
}

func TestBiasRoundTrip(t *testing.T) {
	for _, b := range []float64{0, 1, -1, 4095, -4096, 4096, 12345.6, -300000, 524000} {
		m, e, err := EncodeBias(b)
		if err != nil {
			t.Fatalf("bias %g: %v", b, err)
		}
		if m < MinBiasMant || m > MaxBiasMant || e < 0 || e > MaxBiasExp {
			t.Errorf("bias %g: mant %d exp %d out of range", b, m, e)
		}
		if d := math.Abs(float64(m<<e) - b); d > math.Ldexp(1, e-1)+1e-9 {
			t.Errorf("bias %g: %d<<%d error %g > 2^(exp-1)", b, m, e, d)
		}
	}
	var ce *ConvError
	if _, _, err := EncodeBias(4096 * 128); !errors.Is(err, ErrSaturated) || !errors.As(err, &ce) {
		t.Errorf("bias 2^19: %v, want a *ConvError with ErrSaturated", err)
	}
	if _, _, err := EncodeBias(math.Inf(1)); !errors.Is(err, ErrInvalid) {
		t.Errorf("bias +Inf: %v", err)
	}
}

func TestWeightsRoundTrip(t *testing.T) {
	for _, ws := range [][]float64{{1, -1, 0.5}, {254}, {-256}, {3000, -50}, {0.01, 0.02}, {32000, 1000}} {
		m, e, err := EncodeWeights(ws)
		if err != nil {
			t.Fatalf("%v: %v", ws, err)
		}
		for k, w := range ws {
			if m[k]%2 != 0 || m[k] < MinWeight || m[k] > MaxWeight {
				t.Errorf("%v: mantissa %d not even in [-256, 254]", ws, m[k])
			}
			if d := math.Abs(math.Ldexp(float64(m[k]), e) - w); d > math.Ldexp(1, e) {
				t.Errorf("%v: w %g -> %d·2^%d, error %g > 2^exp", ws, w, m[k], e, d)
			}
		}
	}
	if _, _, err := EncodeWeights([]float64{254 * 200}); !errors.Is(err, ErrSaturated) {
		t.Errorf("huge weight: %v, want ErrSaturated", err)
	}
	if _, _, err := EncodeWeights([]float64{30000, 0.5}); !errors.Is(err, ErrUnderflow) {
		t.Errorf("tiny beside huge: %v, want ErrUnderflow", err)
	}
}

func TestConvertErrors(t *testing.T) {
	cases := map[string]func(n *snn.Network){
		"fixed_probability": func(n *snn.Network) {
			n.Connect(snn.Projection{From: "E", To: "E", Rule: snn.RuleFixedProbability, P: 0.1, WeightMV: 1})
		},
		"delay":   func(n *snn.Network) { n.Projections[1].DelayMs = 1 },
		"two tau": func(n *snn.Network) { n.Projections[2].TauSynMs = 10 },
		"t_ref":   func(n *snn.Network) { n.Populations[0].Neuron.TRefMs = 2 },
	}
	for name, mut := range cases {
		n := testNetwork(1)
		mut(n)
		if _, err := Convert(n, ConvertOptions{}); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: %v, want ErrUnsupported", name, err)
		}
	}
	n := testNetwork(1)
	n.Projections[0].WeightsMV[0] = 1e6
	if _, err := Convert(n, ConvertOptions{}); !errors.Is(err, ErrSaturated) {
		t.Errorf("huge weight: %v, want ErrSaturated", err)
	}
	n = testNetwork(1)
	n.Populations[0].Neuron.TRefMs = 2
	if _, err := Convert(n, ConvertOptions{IgnoreRefractory: true}); err != nil {
		t.Errorf("IgnoreRefractory: %v", err)
	}
	if _, err := Convert(testNetwork(1), ConvertOptions{VthMant: 1 << 17}); !errors.Is(err, ErrSaturated) {
		t.Errorf("VthMant 2^17: %v", err)
	}
}

func TestConvertValues(t *testing.T) {
	m, err := Convert(testNetwork(3), ConvertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := m.Populations[0]
	if p.Dv != 41 || p.Du != 81 || p.Vth != DefaultVthMant {
		t.Errorf("dv %d du %d vth %d, want 41, 81 (round(4096/50)−1), %d", p.Dv, p.Du, p.Vth, DefaultVthMant)
	}
	q := 10.0 / float64(DefaultVthMant<<6)
	b := 0.01 * 8 / q // dt/τ_m·(V_rest − V_reset)/q
	if got := float64(p.BiasMant << p.BiasExp); math.Abs(got-b) > math.Ldexp(1, p.BiasExp-1) {
		t.Errorf("bias %d<<%d = %g, want %g", p.BiasMant, p.BiasExp, got, b)
	}
	// Initial voltages are snn's draws.
	sim, _ := testNetwork(3).Build(snn.Options{})
	defer sim.Close()
	for i, v := range sim.V()[:30] {
		if d := math.Abs(p.Voltage(p.VInit[i]) - v); d > q/2+1e-12 {
			t.Fatalf("V0[%d]: %g vs %g", i, p.Voltage(p.VInit[i]), v)
		}
	}
}

// TestReferenceFiresLikeFloat checks that the fixed-point reference is a
// faithful discretisation: a single neuron with constant drive has the
// same inter-spike interval as snn's Euler integrator to within a step.
func TestReferenceFiresLikeFloat(t *testing.T) {
	lif := snn.LIF{TauMMs: 10, VRestMV: -45, VThMV: -50, VResetMV: -60}
	n := &snn.Network{DtMs: 0.1}
	n.AddPopulation(snn.Population{Name: "A", Size: 1, Neuron: lif})
	m, err := Convert(n, ConvertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := NewReference(m)
	if err != nil {
		t.Fatal(err)
	}
	sim, _ := n.Build(snn.Options{Method: snn.MethodEuler})
	defer sim.Close()
	var a, b []int
	for k := 0; k < 2000; k++ {
		if s, _ := ref.Step(nil); len(s) > 0 {
			a = append(a, k)
		}
		if s := sim.Step(); len(s) > 0 {
			b = append(b, k)
		}
	}
	if len(a) < 5 || len(a) != len(b) {
		t.Fatalf("fixed point spikes at %v, float Euler at %v", a, b)
	}
	for k := range a {
		if d := a[k] - b[k]; d < -k-1 || d > k+1 {
			t.Errorf("spike %d at step %d vs %d", k, a[k], b[k])
		}
	}
}

func python(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("MEC_REQUIRE_PEERS") == "1" {
			t.Fatalf("python3 required: %v", err)
		}
		t.Skip("python3 not found: skipping the sidecar tests")
	}
	return p
}

// TestSidecarLockstep spawns the sidecar with --fake, runs the test
// network 400 steps in lockstep with snn's Poisson input, and checks
// spikes and voltages against the Go reference bit for bit.
func TestSidecarLockstep(t *testing.T) {
	py := python(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sc, err := Spawn(ctx, SpawnOptions{Python: py, Script: filepath.Join("sidecar", "mec_lava_sidecar.py"), Fake: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	if sc.Engine != "fake" {
		t.Fatalf("engine %q, want fake", sc.Engine)
	}
	for _, seed := range []uint64{1, 7} {
		net := testNetwork(seed)
		m, err := Convert(net, ConvertOptions{})
		if err != nil {
			t.Fatal(err)
		}
		c, err := sc.Dial(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !c.Fake() {
			t.Errorf("peer %q does not say engine=fake", c.Peer())
		}
		s, err := newSession(c, net, m)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := NewReference(m)
		if err != nil {
			t.Fatal(err)
		}
		total, inputs := 0, 0
		for step := 1; step <= 400; step++ {
			in := s.nextInputs()
			got, v, err := s.client.Step(in, step%50 == 0)
			if err != nil {
				t.Fatal(err)
			}
			want, err := ref.Step(in)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("seed %d step %d: sidecar spikes %v, reference %v", seed, step, got, want)
			}
			if v != nil && !slices.Equal(v, ref.V()) {
				t.Fatalf("seed %d step %d: voltages differ", seed, step)
			}
			total += len(got)
			inputs += len(in)
		}
		if total < 20 || inputs < 100 {
			t.Errorf("seed %d: only %d spikes from %d input spikes: the test is too quiet", seed, total, inputs)
		}
		t.Logf("seed %d: %d spikes, %d input spikes in 400 steps", seed, total, inputs)
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}
}

// TestSidecarTCP runs a few lockstep steps over loopback TCP.
func TestSidecarTCP(t *testing.T) {
	py := python(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sc, err := Spawn(ctx, SpawnOptions{Python: py, Fake: true, TCP: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	if !strings.HasPrefix(sc.Address, "tcp:127.0.0.1:") {
		t.Fatalf("address %q", sc.Address)
	}
	net := testNetwork(4)
	m, err := Convert(net, ConvertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := sc.Dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s, err := newSession(c, net, m)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ref, _ := NewReference(m)
	for step := 0; step < 100; step++ {
		in := s.nextInputs()
		got, _, err := s.client.Step(in, false)
		if err != nil {
			t.Fatal(err)
		}
		if want, _ := ref.Step(in); !slices.Equal(got, want) {
			t.Fatalf("step %d: %v vs %v", step+1, got, want)
		}
	}
}

// TestSidecarErrors checks that the sidecar rejects out-of-order steps
// with an ERROR frame the client reports as *RemoteError.
func TestSidecarErrors(t *testing.T) {
	py := python(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sc, err := Spawn(ctx, SpawnOptions{Python: py, Fake: true}) // the embedded copy
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	c, err := sc.Dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	m, err := Convert(testNetwork(1), ConvertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Load(m); err != nil {
		t.Fatal(err)
	}
	c.step = 5 // desynchronise on purpose
	_, _, err = c.Step(nil, false)
	var re *RemoteError
	if !errors.As(err, &re) || re.Code != CodeStep {
		t.Fatalf("out-of-order step: %v, want RemoteError code %d", err, CodeStep)
	}
}

// TestBackendSpawn opens the registered driver's backend with
// MEC_LAVA_SIDECAR=spawn-fake and runs a session.
func TestBackendSpawn(t *testing.T) {
	python(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b, err := Open(ctx, "spawn-fake")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if got := backend.Capabilities(b); len(got) != 0 {
		t.Errorf("capabilities %v, want none (sessions are the package's API)", got)
	}
	t.Log(b.Device())
	s, err := b.NewSession(ctx, testNetwork(2), ConvertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n := 0
	for k := 0; k < 200; k++ {
		sp, v, err := s.StepV()
		if err != nil {
			t.Fatal(err)
		}
		n += len(sp)
		for i, x := range v {
			if math.IsNaN(x) || x > -50+1e-9 {
				t.Fatalf("step %d: V[%d] = %g above threshold after the step", k, i, x)
			}
		}
	}
	if n == 0 {
		t.Error("no spikes in 200 steps")
	}
}

func TestDriverSkipsWithoutConfig(t *testing.T) {
	t.Setenv(EnvSidecar, "")
	_, err := driver{}.Init()
	if err == nil || !errors.Is(err, backend.ErrSkip) {
		t.Fatalf("Init without %s: %v, want a skip", EnvSidecar, err)
	}
}

// TestPythonUnitTests runs the sidecar's own unittest suite.
func TestPythonUnitTests(t *testing.T) {
	py := python(t)
	cmd := exec.Command(py, "-B", "-m", "unittest", "discover", "-s", "sidecar", "-p", "test_*.py")
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python unittest: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}

// TestSidecarSaturation drives the 24-bit state to its limits (u wraps,
// v clips at ±(2^23−1)) and checks the fake against the reference there.
func TestSidecarSaturation(t *testing.T) {
	py := python(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sc, err := Spawn(ctx, SpawnOptions{Python: py, Fake: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	lif := snn.LIF{TauMMs: 200, VRestMV: -60, VThMV: -50, VResetMV: -60}
	net := &snn.Network{DtMs: 0.1, Seed: 9}
	net.AddPopulation(snn.Population{Name: "A", Size: 4, Neuron: lif, TauSynMs: 40})
	net.AddPoisson(snn.PoissonGroup{Name: "exc", Size: 30, RateHz: 3000, TauSynMs: 40})
	net.AddPoisson(snn.PoissonGroup{Name: "inh", Size: 30, RateHz: 3000, TauSynMs: 40})
	net.Connect(snn.Projection{From: "exc", To: "A", Rule: snn.RuleList, Pairs: [][2]int{{0, 0}, {1, 0}, {2, 0}, {3, 1}}, WeightMV: 40})
	var inh [][2]int
	for s := 0; s < 30; s++ {
		inh = append(inh, [2]int{s, 2}, [2]int{s, 3})
	}
	net.Connect(snn.Projection{From: "inh", To: "A", Rule: snn.RuleList, Pairs: inh, WeightMV: -40})
	m, err := Convert(net, ConvertOptions{VthMant: MaxVth})
	if err != nil {
		t.Fatal(err)
	}
	c, err := sc.Dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s, err := newSession(c, net, m)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ref, _ := NewReference(m)
	clipped, wrapped := false, false
	prevU := make([]int32, 4)
	for step := 1; step <= 600; step++ {
		in := s.nextInputs()
		got, v, err := s.client.Step(in, true)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := ref.Step(in)
		if !slices.Equal(got, want) || !slices.Equal(v, ref.V()) {
			t.Fatalf("step %d: spikes %v vs %v, or voltages differ", step, got, want)
		}
		for i, x := range ref.V() {
			if x == -StateLimit+1 {
				clipped = true
			}
			if u := ref.U()[i]; (prevU[i] > StateLimit/2 && u < 0) || (prevU[i] < -StateLimit/2 && u > 0) {
				wrapped = true
			}
		}
		copy(prevU, ref.U())
	}
	if !clipped || !wrapped {
		t.Errorf("saturation not exercised: v clipped %v, u wrapped %v", clipped, wrapped)
	}
}

func TestRegisteredAndEmbedded(t *testing.T) {
	if !slices.Contains(backend.Names(), DriverName) {
		t.Errorf("driver %q not registered: %v", DriverName, backend.Names())
	}
	b, err := os.ReadFile(filepath.Join("sidecar", "mec_lava_sidecar.py"))
	if err != nil {
		t.Fatal(err)
	}
	if SidecarSource() != string(b) {
		t.Error("embedded sidecar differs from the file")
	}
}

// TestRegistryInit runs the registry's Init in this test binary (where
// only "lava" is registered) with MEC_LAVA_SIDECAR unset.
func TestRegistryInit(t *testing.T) {
	t.Setenv(EnvSidecar, "")
	for _, r := range backend.Init() {
		if r.Name == DriverName {
			if r.Status != backend.Skipped || !strings.Contains(r.Reason, EnvSidecar) {
				t.Errorf("lava: %v %q, want skipped naming %s", r.Status, r.Reason, EnvSidecar)
			}
			t.Logf("%s %s: %s", r.Name, r.Status, r.Reason)
			return
		}
	}
	t.Error("lava missing from Init results")
}
