package qpu

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/qasm"
	"github.com/prismai/mec/sim/simtest"
)

const testToken = "s3cret-test-token-0123456789"

// loopback starts mec's QPU endpoint on 127.0.0.1 and returns a backend
// talking to it.
func loopback(t *testing.T, opts ServerOptions, target *Target) (*Server, *Backend) {
	t.Helper()
	opts.Token = testToken
	srv, err := NewServer(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { hs.Close(); srv.Close() })
	b, err := New(Config{URL: hs.URL, Kind: KindMec, Token: testToken, Target: target, PollInterval: 5 * time.Millisecond, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return srv, b
}

func ghz(n int) *circuit.Circuit {
	c := circuit.New(n)
	c.Append("h", nil, 0)
	for q := 1; q < n; q++ {
		c.Append("cx", nil, q-1, q)
	}
	return c
}

func withMeasure(c *circuit.Circuit) *circuit.Circuit {
	m := &circuit.Circuit{Qubits: c.Qubits, Clbits: c.Qubits, Ops: append([]circuit.Op(nil), c.Ops...)}
	for q := 0; q < c.Qubits; q++ {
		m.Measure(q, q)
	}
	return m
}

func probs(t *testing.T, c *circuit.Circuit) []float64 {
	t.Helper()
	amps, err := simtest.StateVector(c)
	if err != nil {
		t.Fatal(err)
	}
	p := make([]float64, len(amps))
	for i, a := range amps {
		p[i] = real(a)*real(a) + imag(a)*imag(a)
	}
	return p
}

// TestLoopbackChiSquare samples GHZ and random circuits through the job API
// of `mec serve qpu` (in process, on loopback) and checks each histogram
// against |ψ|² of the local state vector with Pearson's χ² test at
// significance 0.001 (seeded, so the figures are reproducible).
func TestLoopbackChiSquare(t *testing.T) {
	const alpha, shots = 1e-3, 20000
	rng := rand.New(rand.NewPCG(2026, 6))
	for _, tc := range []struct {
		name   string
		target *Target
	}{{"as is", nil}, {"transpiled cx line", &Target{TwoQubit: BasisCX, Coupling: [][2]int{{0, 1}, {1, 2}, {2, 3}, {3, 4}, {4, 5}}}}, {"transpiled ecr", &Target{TwoQubit: BasisECR}}} {
		_, b := loopback(t, ServerOptions{}, tc.target)
		circs := []*circuit.Circuit{ghz(3), ghz(5)}
		for i := 0; i < 4; i++ {
			circs = append(circs, randomCircuit(rng, 4+i%3, 25, false))
		}
		for i, c := range circs {
			seed := uint64(100 + i)
			counts, err := b.SampleCircuit(t.Context(), withMeasure(c), shots, &seed)
			if err != nil {
				t.Fatalf("%s circuit %d: %v", tc.name, i, err)
			}
			res, err := ChiSquareTest(counts, probs(t, c))
			if err != nil {
				t.Fatalf("%s circuit %d: %v", tc.name, i, err)
			}
			t.Logf("%s: circuit %d (%d qubits): χ² = %.2f, df = %d, p = %.3f", tc.name, i, c.Qubits, res.Stat, res.DF, res.P)
			if res.P < alpha {
				t.Errorf("%s circuit %d: χ² %.2f with %d df, p = %.2g < %g", tc.name, i, res.Stat, res.DF, res.P, alpha)
			}
		}
	}
}

func TestChiSquareDetectsWrongDistribution(t *testing.T) {
	p := []float64{0.5, 0, 0, 0.5}
	res, err := ChiSquareTest(map[string]int{"00": 6000, "11": 4000}, p)
	if err != nil {
		t.Fatal(err)
	}
	if res.P > 1e-6 {
		t.Fatalf("a 60/40 split passed against 50/50: %+v", res)
	}
	if _, err := ChiSquareTest(map[string]int{"01": 10, "00": 10}, p); err == nil {
		t.Fatal("shots on an impossible outcome were accepted")
	}
}

func TestServerErrors(t *testing.T) {
	srv, b := loopback(t, ServerOptions{MaxQubits: 8}, nil)
	cl := b.Client().(*HTTPClient)
	ctx := t.Context()
	// Refused before any parsing: HTTP 400, no job.
	bad := []struct {
		name string
		req  JobRequest
		code int
	}{
		{"program", JobRequest{ProgramID: "estimator", Params: JobParams{Pubs: []Pub{{Circuit: "OPENQASM 3.0;"}}, Version: 2}}, 400},
		{"no pubs", JobRequest{ProgramID: "sampler", Params: JobParams{Version: 2}}, 400},
		{"shots", JobRequest{ProgramID: "sampler", Params: JobParams{Pubs: []Pub{{Circuit: "OPENQASM 3.0; qubit[1] q; bit[1] c; c[0] = measure q[0];", Shots: 1 << 30}}, Version: 2}}, 400},
	}
	for _, tc := range bad {
		_, err := cl.Submit(ctx, tc.req)
		var he *HTTPError
		if !errors.As(err, &he) || he.StatusCode != tc.code {
			t.Errorf("%s: got %v, want HTTP %d", tc.name, err, tc.code)
		}
	}
	if len(srv.JobIDs()) != 0 {
		t.Fatalf("rejected requests created jobs: %v", srv.JobIDs())
	}
	// Found by the worker, which parses: the job fails with the reason.
	failing := []struct{ name, src, reason string }{
		{"syntax", "OPENQASM 3.0; qubit[2] q; frob q[0];", "1:27"},
		{"no measure", "OPENQASM 3.0; include \"stdgates.inc\"; qubit[2] q; h q[0];", "no measurements"},
		{"too big", "OPENQASM 3.0; qubit[9] q; bit[1] c; c[0] = measure q[0];", "--max-qubits"},
	}
	for _, tc := range failing {
		_, err := Run(ctx, cl, tc.src, 10, nil, time.Millisecond)
		var je *JobError
		if !errors.As(err, &je) || !errors.Is(err, ErrJobFailed) || !strings.Contains(je.Reason, tc.reason) {
			t.Errorf("%s: got %v, want a failed job saying %q", tc.name, err, tc.reason)
		}
	}
	if _, err := cl.Status(ctx, "nope"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("unknown job: %v", err)
	}
	// Wrong token: ErrAuth, not retried, token never shown.
	cfg := cl.Config()
	cfg.Token = "wrong-token-abcdef"
	wrong, _ := NewClient(cfg)
	_, err := wrong.Status(ctx, "x")
	if !errors.Is(err, ErrAuth) {
		t.Fatalf("wrong token: %v", err)
	}
	if strings.Contains(err.Error(), "wrong-token-abcdef") || strings.Contains(err.Error(), testToken) {
		t.Fatalf("credential in error: %v", err)
	}
}

// slowCircuit takes a while on the CPU: many gates on 16 qubits, many shots
// of a mid-circuit measurement (so each shot re-runs the circuit).
func slowCircuit() string {
	c := randomCircuit(rand.New(rand.NewPCG(1, 1)), 14, 400, false)
	c.Clbits = 1
	c.Measure(0, 0)
	c.Append("h", nil, 0)
	s, _ := qasm.Export3(c)
	return s
}

func TestServerQueueFullAndCancel(t *testing.T) {
	srv, b := loopback(t, ServerOptions{QueueSize: 1, Workers: 1}, nil)
	cl := b.Client().(*HTTPClient)
	cfg := cl.Config()
	cfg.Retries = -1 // see the 429 itself
	cl, _ = NewClient(cfg)
	ctx := t.Context()
	req := JobRequest{ProgramID: "sampler", Params: JobParams{Pubs: []Pub{{Circuit: slowCircuit(), Shots: 100000}}, Version: 2}}
	var ids []string
	var full error
	for i := 0; i < 5 && full == nil; i++ {
		id, err := cl.Submit(ctx, req)
		if err != nil {
			full = err
			break
		}
		ids = append(ids, id)
	}
	if !errors.Is(full, ErrQueueFull) {
		t.Fatalf("after %d jobs: %v, want ErrQueueFull", len(ids), full)
	}
	for _, id := range ids {
		if err := cl.Cancel(ctx, id); err != nil {
			t.Fatalf("cancel %s: %v", id, err)
		}
	}
	for _, id := range ids {
		deadline := time.Now().Add(10 * time.Second)
		for {
			st, err := cl.Status(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if st.Phase() == StatusCancelled {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("job %s still %s", id, st.Phase())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	// Results of a cancelled job: 409 with a JSON error.
	_, err := cl.Result(ctx, ids[0])
	var he *HTTPError
	if !errors.As(err, &he) || he.StatusCode != http.StatusConflict {
		t.Fatalf("result of cancelled job: %v", err)
	}
	// The worker drops the cancelled jobs (the queue has room again).
	for _, id := range ids {
		select {
		case <-jobDone(t, srv, id):
		case <-time.After(10 * time.Second):
			t.Fatalf("the worker still holds job %s", id)
		}
	}
	// Run reports a cancelled job with a typed error.
	fake := &cancellingClient{Client: cl}
	_, err = Run(ctx, fake, slowCircuit(), 10, nil, time.Millisecond)
	if !errors.Is(err, ErrJobCancelled) {
		t.Fatalf("Run on a cancelled job: %v", err)
	}
}

// cancellingClient cancels every job right after submitting it.
type cancellingClient struct{ Client }

func (c *cancellingClient) Submit(ctx context.Context, req JobRequest) (string, error) {
	id, err := c.Client.Submit(ctx, req)
	if err == nil {
		err = c.Client.Cancel(ctx, id)
	}
	return id, err
}

// cancelAfterSubmit cancels the caller's context once a job is created
// (however long that took on a loaded machine).
type cancelAfterSubmit struct {
	Client
	cancel context.CancelFunc
}

func (c *cancelAfterSubmit) Submit(ctx context.Context, req JobRequest) (string, error) {
	id, err := c.Client.Submit(ctx, req)
	c.cancel()
	return id, err
}

func TestRunContextCancelCancelsJob(t *testing.T) {
	srv, b := loopback(t, ServerOptions{}, nil)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	_, err := Run(ctx, &cancelAfterSubmit{Client: b.Client(), cancel: cancel}, slowCircuit(), 100000, nil, time.Millisecond)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v", err)
	}
	ids := srv.JobIDs()
	if len(ids) != 1 {
		t.Fatalf("jobs %v", ids)
	}
	st, err := b.Client().Status(t.Context(), ids[0])
	if err != nil || st.Phase() != StatusCancelled {
		t.Fatalf("job after context cancel: %+v %v", st, err)
	}
}

func TestServerGracefulShutdown(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	srv, err := NewServer(ctx, ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- srv.ListenAndServe(ctx, "127.0.0.1:0", func(a net.Addr) { addr <- a.String() })
	}()
	url := "http://" + <-addr
	cl, _ := NewClient(Config{URL: url})
	id, err := cl.Submit(t.Context(), JobRequest{ProgramID: "sampler", Params: JobParams{Pubs: []Pub{{Circuit: slowCircuit(), Shots: 100000}}, Version: 2}})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("server did not shut down")
	}
	st, _ := srv.jobs[id].snapshot()
	if st != StatusCancelled {
		t.Fatalf("running job after shutdown: %s", st)
	}
}

func TestJobRequestShape(t *testing.T) {
	seed := uint64(3)
	b, err := json.Marshal(JobRequest{ProgramID: "sampler", Backend: "ibm_x", Params: JobParams{Pubs: []Pub{{Circuit: "Q", Shots: 10}}, Version: 2,
		Options: &JobOptions{Simulator: &SimulatorOptions{SeedSimulator: &seed}}}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"program_id":"sampler","backend":"ibm_x","params":{"pubs":[["Q",null,10]],"version":2,"options":{"simulator":{"seed_simulator":3}}}}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
}

// TestLoopbackPreparedState sends PrepareState of random states, transpiled
// to {rz, sx, x, ecr} on a heavy-hex fragment, through the loopback
// endpoint and checks the counts against |ψ|² (χ², significance 0.001).
func TestLoopbackPreparedState(t *testing.T) {
	tg := Target{TwoQubit: BasisECR, Coupling: [][2]int{{0, 1}, {1, 2}, {2, 3}, {0, 4}, {4, 5}, {3, 6}, {6, 7}, {5, 7}}}
	_, b := loopback(t, ServerOptions{}, &tg)
	rng := rand.New(rand.NewPCG(77, 1))
	for n := 1; n <= 6; n++ {
		psi := make([]complex128, 1<<n)
		for i := range psi {
			psi[i] = complex(rng.NormFloat64(), rng.NormFloat64())
		}
		seed := uint64(n)
		res, err := CheckState(t.Context(), b, psi, 20000, &seed)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("PrepareState, %d qubits, ecr heavy-hex: χ² = %.2f, df = %d, p = %.3f", n, res.Stat, res.DF, res.P)
		if res.P < 1e-3 {
			t.Errorf("%d qubits: %+v", n, res)
		}
	}
}
