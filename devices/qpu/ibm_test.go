package qpu

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/qasm"
)

const (
	fixtureAPIKey   = "fixture-api-key-DO-NOT-LEAK-42"
	fixtureCRN      = "crn:v1:bluemix:public:quantum-computing:us-east:a/fixture:instance::"
	fixtureIAMToken = "eyJraWQiOiJ0ZXN0IiwiYWxnIjoiUlMyNTYifQ.fixture-access-token.sig"
	fixtureJob      = "d4fixturejob0000000g"
)

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fakeIBM serves the recorded IBM fixtures and checks every request mec
// sends: the IAM exchange form, the bearer token and Service-CRN headers,
// the sampler job body, and that the circuit uses only basis gates on
// coupled qubits.
type fakeIBM struct {
	t        *testing.T
	coupling map[[2]int]bool
	statuses []string // fixtures returned by successive status polls
	result   string

	mu       sync.Mutex
	iamCalls int
	posted   *JobRequest
	polls    int
	cancels  int
	paths    []string
}

func (f *fakeIBM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t := f.t
	f.mu.Lock()
	defer f.mu.Unlock()
	f.paths = append(f.paths, r.Method+" "+r.URL.Path)
	if r.URL.Path == "/identity/token" {
		f.iamCalls++
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			t.Errorf("IAM: %s with Content-Type %q", r.Method, r.Header.Get("Content-Type"))
		}
		b, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(b))
		if form.Get("grant_type") != "urn:ibm:params:oauth:grant-type:apikey" {
			t.Errorf("IAM grant_type %q", form.Get("grant_type"))
		}
		if form.Get("apikey") != fixtureAPIKey {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write(fixture(t, "ibm_iam_error.json"))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(fixture(t, "ibm_iam_token.json"))
		return
	}
	if got := r.Header.Get("Authorization"); got != "Bearer "+fixtureIAMToken {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write(fixture(t, "ibm_error_401.json"))
		return
	}
	if got := r.Header.Get("Service-CRN"); got != fixtureCRN {
		t.Errorf("Service-CRN header %q", got)
	}
	if got := r.Header.Get("IBM-API-Version"); got != "2025-05-01" {
		t.Errorf("IBM-API-Version header %q", got)
	}
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/api/v1/jobs":
		if r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("job POST Content-Type %q", r.Header.Get("Content-Type"))
		}
		var raw map[string]any
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &raw); err != nil {
			t.Errorf("job body: %v", err)
		}
		params, _ := raw["params"].(map[string]any)
		pubs, _ := params["pubs"].([]any)
		if raw["program_id"] != "sampler" || raw["backend"] != "ibm_fixture" || params["version"] != 2.0 || len(pubs) != 1 {
			t.Errorf("job body shape: %s", b)
		}
		if pub, _ := pubs[0].([]any); len(pub) != 3 || pub[1] != nil {
			t.Errorf("pub shape: %v", pubs[0])
		}
		var req JobRequest
		_ = json.Unmarshal(b, &req)
		f.posted = &req
		f.checkBasis(req.Params.Pubs[0].Circuit)
		_, _ = w.Write(fixture(t, "ibm_job_created.json"))
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/jobs/"+fixtureJob:
		i := min(f.polls, len(f.statuses)-1)
		f.polls++
		_, _ = w.Write(fixture(t, f.statuses[i]))
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/jobs/"+fixtureJob+"/results":
		_, _ = w.Write(fixture(t, f.result))
	case r.Method == http.MethodPost && r.URL.Path == "/api/v1/jobs/"+fixtureJob+"/cancel":
		f.cancels++
		w.WriteHeader(http.StatusNoContent)
	default:
		t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
		w.WriteHeader(http.StatusNotFound)
	}
}

// checkBasis parses the submitted OpenQASM 3 and checks the ISA.
func (f *fakeIBM) checkBasis(src string) {
	// The ecr definition is in standard gates; strip it to see the body.
	body := src
	if i := strings.Index(src, "gate ecr"); i >= 0 {
		j := strings.Index(src[i:], "}\n")
		body = src[:i] + src[i+j+2:]
	}
	for _, line := range strings.Split(body, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "OPENQASM") || strings.HasPrefix(line, "include") ||
			strings.HasPrefix(line, "qubit[") || strings.HasPrefix(line, "bit[") || strings.Contains(line, "= measure") {
			continue
		}
		name := strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '(' })[0]
		switch name {
		case "rz", "sx", "x":
		case "ecr":
			var a, b int
			if _, err := fmtSscanf(line, &a, &b); err != nil || !f.coupling[[2]int{a, b}] {
				f.t.Errorf("ecr on uncoupled qubits or against the native direction: %q", line)
			}
		default:
			f.t.Errorf("non-basis instruction sent to the device: %q", line)
		}
	}
	if _, err := qasm.Parse(src); err != nil {
		f.t.Errorf("submitted circuit does not parse: %v", err)
	}
}

func ibmConfig(url string) Config {
	// ECR is native in one direction per pair on IBM's devices.
	t := Target{TwoQubit: BasisECR, Directed: true, Coupling: [][2]int{{0, 1}, {2, 1}, {2, 3}}}
	return Config{URL: url, Kind: KindIBM, APIKey: fixtureAPIKey, IAMURL: url + "/identity/token", Instance: fixtureCRN,
		Device: "ibm_fixture", APIVersion: "2025-05-01", Target: &t, PollInterval: time.Millisecond, Backoff: time.Millisecond}
}

func newFakeIBM(t *testing.T, statuses []string, result string) (*fakeIBM, *httptest.Server) {
	f := &fakeIBM{t: t, statuses: statuses, result: result, coupling: map[[2]int]bool{}}
	for _, e := range [][2]int{{0, 1}, {2, 1}, {2, 3}} {
		f.coupling[e] = true
	}
	hs := httptest.NewServer(f)
	t.Cleanup(hs.Close)
	return f, hs
}

func TestIBMFixturesGHZ(t *testing.T) {
	f, hs := newFakeIBM(t, []string{"ibm_job_queued.json", "ibm_job_running.json", "ibm_job_completed.json"}, "ibm_job_results.json")
	b, err := New(ibmConfig(hs.URL))
	if err != nil {
		t.Fatal(err)
	}
	// GHZ on qubits 0 and 3: needs routing on the line 0-1-2-3.
	c := circuit.New(4)
	c.Clbits = 3
	c.Append("h", nil, 0).Append("cx", nil, 0, 3).Append("ccx", nil, 0, 3, 1)
	c.Measure(0, 0).Measure(3, 1).Measure(1, 2)
	counts, err := b.SampleCircuit(t.Context(), c, 8, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"000": 3, "111": 4, "011": 1}
	if len(counts) != len(want) {
		t.Fatalf("counts %v, want %v", counts, want)
	}
	for k, v := range want {
		if counts[k] != v {
			t.Fatalf("counts %v, want %v", counts, want)
		}
	}
	if f.iamCalls != 1 {
		t.Errorf("%d IAM exchanges, want 1 (token cached)", f.iamCalls)
	}
	if f.posted == nil || f.posted.Params.Pubs[0].Shots != 8 {
		t.Errorf("posted %+v", f.posted)
	}
	t.Logf("requests: %v", f.paths)
}

func TestIBMFailedJob(t *testing.T) {
	_, hs := newFakeIBM(t, []string{"ibm_job_queued.json", "ibm_job_failed.json"}, "ibm_job_results.json")
	b, _ := New(ibmConfig(hs.URL))
	c := withMeasure(ghz(2))
	_, err := b.SampleCircuit(t.Context(), c, 8, nil)
	var je *JobError
	if !errors.Is(err, ErrJobFailed) || !errors.As(err, &je) || !strings.Contains(je.Reason, "1517") {
		t.Fatalf("failed job: %v", err)
	}
}

func TestIBMBadAPIKey(t *testing.T) {
	f, hs := newFakeIBM(t, []string{"ibm_job_completed.json"}, "ibm_job_results.json")
	cfg := ibmConfig(hs.URL)
	cfg.APIKey = "wrong-api-key-SECRET-777"
	b, _ := New(cfg)
	_, err := b.SampleCircuit(t.Context(), withMeasure(ghz(2)), 8, nil)
	if !errors.Is(err, ErrAuth) {
		t.Fatalf("bad API key: %v", err)
	}
	if strings.Contains(err.Error(), "SECRET-777") || strings.Contains(err.Error(), fixtureCRN) {
		t.Fatalf("credential in error: %v", err)
	}
	if !strings.Contains(err.Error(), "API key could not be found") {
		t.Errorf("IAM message lost: %v", err)
	}
	if f.iamCalls != 1 {
		t.Errorf("auth failure retried: %d IAM calls", f.iamCalls)
	}
}

func TestIBMExpiredToken(t *testing.T) {
	f, hs := newFakeIBM(t, []string{"ibm_job_completed.json"}, "ibm_job_results.json")
	cfg := ibmConfig(hs.URL)
	cfg.APIKey = ""
	cfg.Token = "expired-access-token-XYZ"
	cl, _ := NewClient(cfg)
	_, err := cl.Status(t.Context(), fixtureJob)
	if !errors.Is(err, ErrAuth) || strings.Contains(err.Error(), "XYZ") {
		t.Fatalf("expired token: %v", err)
	}
	if len(f.paths) != 1 {
		t.Fatalf("401 retried: %v", f.paths)
	}
}

func TestIBMTwoRegisters(t *testing.T) {
	res, err := DecodeResult(strings.NewReader(string(fixture(t, "ibm_job_results_two_registers.json"))))
	if err != nil {
		t.Fatal(err)
	}
	counts, err := res.Pubs[0].Counts()
	if err != nil {
		t.Fatal(err)
	}
	// alpha (2 bits) is the low part, beta (1 bit) to its left.
	want := map[string]int{"001": 1, "110": 1, "111": 1}
	for k, v := range want {
		if counts[k] != v {
			t.Fatalf("counts %v, want %v", counts, want)
		}
	}
}

func TestIBMResultsFixtureTotals(t *testing.T) {
	res, err := DecodeResult(strings.NewReader(string(fixture(t, "ibm_job_results.json"))))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Pubs) != 1 || res.Pubs[0].Registers[0].Name != "c" || res.Pubs[0].Registers[0].NumBits != 3 {
		t.Fatalf("%+v", res)
	}
	if v, _ := res.Metadata["version"].(float64); math.Abs(v-2) > 0 {
		t.Fatalf("metadata %v", res.Metadata)
	}
}

// fmtSscanf reads the two qubit indices of "ecr q[A], q[B];".
func fmtSscanf(line string, a, b *int) (int, error) {
	return fmt.Sscanf(line, "ecr q[%d], q[%d];", a, b)
}
