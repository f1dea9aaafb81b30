package qpu

import (
	"encoding/json"
	"flag"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// update rewrites the recorded responses of testdata/runtime.
var update = flag.Bool("update", false, "rewrite the recorded runtime responses")

// runJob posts a request body to a fresh server and returns the HTTP
// status of the creation and, once the job completes, its result document.
func runJob(t *testing.T, body string) (int, map[string]any, string) {
	t.Helper()
	srv, err := NewServer(t.Context(), ServerOptions{Device: "mec-cpu"})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { hs.Close(); srv.Close() })
	resp, err := http.Post(hs.URL+"/api/v1/jobs", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e apiError
		if json.Unmarshal(b, &e) == nil && len(e.Errors) > 0 {
			return resp.StatusCode, nil, e.Errors[0].Message
		}
		return resp.StatusCode, nil, string(b)
	}
	var created JobCreated
	if err := json.Unmarshal(b, &created); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(hs.URL + "/api/v1/jobs/" + created.ID)
		if err != nil {
			t.Fatal(err)
		}
		var st JobStatus
		_ = json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if st.Phase() == StatusFailed {
			return http.StatusOK, nil, st.State.Reason
		}
		if st.Phase() == StatusCompleted {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still %s", created.ID, st.Phase())
		}
		time.Sleep(5 * time.Millisecond)
	}
	resp, err = http.Get(hs.URL + "/api/v1/jobs/" + created.ID + "/results")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	return http.StatusOK, doc, ""
}

// checkFixture compares a result document with its recorded one, field
// by field (numbers to 1e-12), or records it with -update.
func checkFixture(t *testing.T, name string, doc map[string]any) {
	t.Helper()
	path := filepath.Join("testdata", "runtime", name)
	if *update {
		b, _ := json.MarshalIndent(doc, "", "  ")
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]any
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	compareJSON(t, name, "", want, doc)
}

func compareJSON(t *testing.T, file, path string, want, got any) {
	t.Helper()
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			t.Errorf("%s%s: %T, want an object", file, path, got)
			return
		}
		for k := range w {
			if _, ok := g[k]; !ok {
				t.Errorf("%s%s: no field %q", file, path, k)
			}
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				t.Errorf("%s%s: extra field %q", file, path, k)
				continue
			}
			compareJSON(t, file, path+"."+k, w[k], g[k])
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			t.Errorf("%s%s: %v, want %d elements", file, path, got, len(w))
			return
		}
		for i := range w {
			compareJSON(t, file, path+"["+itoa(i)+"]", w[i], g[i])
		}
	case float64:
		g, ok := got.(float64)
		if !ok || math.Abs(g-w) > 1e-12 {
			t.Errorf("%s%s: %v, want %v", file, path, got, w)
		}
	default:
		if want != got {
			t.Errorf("%s%s: %v, want %v", file, path, got, want)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestRuntimeSampler: a Qiskit Runtime SamplerV2 request — an input bound
// by a list of values, two named registers, a pub without parameters —
// gives the recorded result field by field: one data entry per declared
// register with its name and width, samples in shot order (the state
// ry(1.2)|0⟩ → cx makes meas 0b00 or 0b11; flag is always 1), the
// shots and the seed in the metadata.
func TestRuntimeSampler(t *testing.T) {
	req, err := os.ReadFile("testdata/runtime/sampler_request.json")
	if err != nil {
		t.Fatal(err)
	}
	code, doc, msg := runJob(t, string(req))
	if code != http.StatusOK || doc == nil {
		t.Fatalf("sampler job: %d %s", code, msg)
	}
	checkFixture(t, "sampler_response.json", doc)
	pub := doc["results"].([]any)[0].(map[string]any)["data"].(map[string]any)
	meas, flagReg := pub["meas"].(map[string]any), pub["flag"].(map[string]any)
	if meas["num_bits"] != 2.0 || flagReg["num_bits"] != 1.0 || len(meas["samples"].([]any)) != 12 {
		t.Fatalf("registers %v", pub)
	}
	sorted := true
	for k, v := range meas["samples"].([]any) {
		if v != "0x0" && v != "0x3" {
			t.Errorf("meas sample %d = %v: want 0x0 or 0x3", k, v)
		}
		if k > 0 && v.(string) < meas["samples"].([]any)[k-1].(string) {
			sorted = false
		}
		if f := flagReg["samples"].([]any)[k]; f != "0x1" {
			t.Errorf("flag sample %d = %v", k, f)
		}
	}
	if sorted {
		t.Error("samples come sorted: shot order is lost")
	}
	// The same values bound by name give the same samples.
	named := strings.Replace(string(req), "[1.2], 12]", `{"theta": 1.2}, 12]`, 1)
	if _, doc2, msg := runJob(t, named); doc2 == nil {
		t.Fatal(msg)
	} else {
		compareJSON(t, "named binding", "", doc, doc2)
	}
}

// TestRuntimeEstimator: an EstimatorV2 request — Qiskit labels (qubit 0
// rightmost), a list of observables and a SparsePauliOp-style object,
// named parameter values, exact (precision 0) and sampled (precision
// 0.05: 400 shots per term) pubs — gives the recorded result, and its
// values are the closed forms.
func TestRuntimeEstimator(t *testing.T) {
	req, err := os.ReadFile("testdata/runtime/estimator_request.json")
	if err != nil {
		t.Fatal(err)
	}
	code, doc, msg := runJob(t, string(req))
	if code != http.StatusOK || doc == nil {
		t.Fatalf("estimator job: %d %s", code, msg)
	}
	checkFixture(t, "estimator_response.json", doc)
	res := doc["results"].([]any)
	evs := res[0].(map[string]any)["data"].(map[string]any)["evs"].([]any)
	// q0 = ry(0.9)|0⟩, q1 = |1⟩: "ZI" is Z on qubit 1 = −1, "IZ" is Z on
	// qubit 0 = cos 0.9, 0.5·X(q1) + 2·X(q0) = 2 sin 0.9.
	want := []float64{-1, math.Cos(0.9), 2 * math.Sin(0.9)}
	for i, w := range want {
		if math.Abs(evs[i].(float64)-w) > 1e-12 {
			t.Errorf("ev %d = %v, want %v", i, evs[i], w)
		}
	}
	d1 := res[1].(map[string]any)
	ev, std := d1["data"].(map[string]any)["evs"].(float64), d1["data"].(map[string]any)["stds"].(float64)
	if ev != 1 || std != 0 || d1["metadata"].(map[string]any)["shots"] != 400.0 {
		t.Errorf("Bell ⟨XX⟩ from 400 shots: %v ± %v, %v", ev, std, d1["metadata"])
	}
}

// TestRuntimeBadRequests: everything else is a clear 400 or a failed job
// naming the problem.
func TestRuntimeBadRequests(t *testing.T) {
	bell := `"OPENQASM 3.0;\ninclude \"stdgates.inc\";\ninput float[64] a;\nbit[2] c;\nqubit[2] q;\nrx(a) q[0];\nc = measure q;\n"`
	for _, tc := range []struct {
		body string
		code int
		want string
	}{
		{`{"program_id": "optimizer", "params": {"pubs": [[` + bell + `]], "version": 2}}`, 400, `program_id "optimizer"`},
		{`{"program_id": "sampler", "params": {"pubs": [[` + bell + `, [[0.1], [0.2]]]], "version": 2}}`, 400, "2 bindings in one pub"},
		{`{"program_id": "sampler", "params": {"pubs": [[` + bell + `, [0.1, 0.2]]], "version": 2}}`, 200, "2 parameter values for the circuit's 1 inputs"},
		{`{"program_id": "sampler", "params": {"pubs": [[` + bell + `]], "version": 2}}`, 200, `input "a" needs a value`},
		{`{"program_id": "sampler", "params": {"pubs": [[` + bell + `, {"a": 1, "u": 1}]], "version": 2}}`, 200, `"u" is not an input`},
		{`{"program_id": "estimator", "params": {"pubs": [[` + bell + `, "ZZZ", [0.1], 0]], "version": 2}}`, 200, "observable of 3 qubits on a 2-qubit circuit"},
		{`{"program_id": "estimator", "params": {"pubs": [[` + bell + `, "ZQ", [0.1]]], "version": 2}}`, 400, `label "ZQ"`},
		{`{"program_id": "estimator", "params": {"pubs": [[` + bell + `, "ZZ", [0.1], 0.0001]], "version": 2}}`, 400, "precision 0.0001 takes 100000000 shots"},
		{`{"program_id": "estimator", "params": {"pubs": [[` + bell + `]], "version": 2}}`, 400, "want [circuit, observables"},
		{`{"program_id": "estimator", "params": {"pubs": [], "version": 2}}`, 400, "params.pubs is empty"},
	} {
		code, _, msg := runJob(t, tc.body)
		if code != tc.code || !strings.Contains(msg, tc.want) {
			t.Errorf("%s:\n got %d %q, want %d %q", tc.body, code, msg, tc.code, tc.want)
		}
	}
}
