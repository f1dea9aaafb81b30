package qpu

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzDecodeResult feeds arbitrary documents to the result decoder and the
// counts conversion: errors are fine, panics are not.
func FuzzDecodeResult(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"results":[{"data":{"c":{"samples":["0x1ffffffffffffffffffff"],"num_bits":4096}}}]}`))
	f.Add([]byte(`{"results":[{"data":{"c":{"samples":["0x"],"num_bits":-1},"d":{}}}]}`))
	f.Add([]byte(`{"results":[{"data":[]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := DecodeResult(bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, p := range res.Pubs {
			counts, err := p.Counts()
			if err != nil {
				continue
			}
			total := 0
			for _, n := range counts {
				total += n
			}
			if len(p.Registers) > 0 && total != len(p.Registers[0].Samples) {
				t.Fatalf("counts total %d for %d samples", total, len(p.Registers[0].Samples))
			}
		}
	})
}

// FuzzDecodeStatus checks the job status and job request decoders.
func FuzzDecodeStatus(f *testing.F) {
	for _, name := range []string{"ibm_job_queued.json", "ibm_job_failed.json", "ibm_job_completed.json"} {
		if b, err := os.ReadFile(filepath.Join("testdata", name)); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"program_id":"sampler","params":{"pubs":[["OPENQASM 3.0;",null,10]],"version":2}}`))
	f.Add([]byte(`{"params":{"pubs":[[1,2,3,4]]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var st JobStatus
		if json.Unmarshal(b, &st) == nil {
			_ = st.Phase()
		}
		var req JobRequest
		if json.Unmarshal(b, &req) == nil {
			if _, err := json.Marshal(req); err != nil {
				t.Fatalf("re-encoding a decoded request: %v", err)
			}
		}
	})
}

// FuzzServerRequest drives the QPU server's request path with arbitrary
// bodies and paths: the handler (authentication, decoding, checks, the
// queue) and, for every job it accepts, the worker (parsing under the
// limits, simulation, the result document). Any answer must be one of the
// API's codes with a JSON body; an accepted job must end within its time
// limit; a completed job's result must decode with every shot.
func FuzzServerRequest(f *testing.F) {
	srv, err := NewServer(f.Context(), ServerOptions{Token: testToken, Workers: 1, QueueSize: 2,
		MaxQubits: 8, MaxShots: 2000, MaxPubs: 4, MaxOps: 20_000, MaxShotQubits: 20_000,
		MaxResultBytes: 1 << 20, MaxRequestBytes: 64 << 10, MaxJobTime: time.Second})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { srv.Close() })
	ghz := `OPENQASM 3.0; include "stdgates.inc"; qubit[3] q; bit[3] c; h q[0]; cx q[0], q[1]; cx q[1], q[2]; c = measure q;`
	mid := `OPENQASM 3.0; include "stdgates.inc"; qubit[2] q; bit[2] c; h q[0]; c[0] = measure q[0]; reset q[0]; cx q[1], q[0]; c[1] = measure q[1];`
	req := func(pubs ...string) []byte {
		b, _ := json.Marshal(map[string]any{"program_id": "sampler", "params": map[string]any{"version": 2, "pubs": pubs}})
		return b
	}
	f.Add(byte(0), "", req(ghz))
	f.Add(byte(0), "", []byte(`{"program_id":"sampler","params":{"version":2,"pubs":[["`+mid+`",null,37]],"options":{"simulator":{"seed_simulator":9}}}}`))
	f.Add(byte(0), "", []byte(`{"program_id":"sampler","params":{"version":2,"pubs":[["`+strings.ReplaceAll(gateBomb(30), "\n", " ")+`",null,5]]}}`))
	f.Add(byte(0), "", req(ghz, ghz, ghz, ghz, ghz))
	f.Add(byte(0), "", []byte(`{"program_id":"sampler","params":{"version":2,"pubs":[["OPENQASM 3.0; qubit[9] q; bit[1] c; c[0] = measure q[0];",[1.5],0]],"shots":-3}}`))
	f.Add(byte(0), "", []byte(`{"program_id":"sampler","params":{"pubs":[[1,2,3,4]]}}`))
	f.Add(byte(1), "/nope", []byte(nil))
	f.Add(byte(2), "/results", []byte(nil))
	f.Add(byte(3), "/cancel", []byte(nil))
	f.Add(byte(4), "", []byte(nil))
	f.Add(byte(5), "", req(ghz))
	f.Fuzz(func(t *testing.T, method byte, path string, body []byte) {
		methods := []string{http.MethodPost, http.MethodGet, http.MethodGet, http.MethodPost, http.MethodDelete, http.MethodPut}
		m := methods[int(method)%len(methods)]
		target := "/api/v1/jobs"
		if path != "" {
			target += "/" + url.PathEscape(path)
		}
		r := httptest.NewRequest(m, "http://qpu.test"+target, bytes.NewReader(body))
		if method < 128 {
			r.Header.Set("Authorization", "Bearer "+testToken)
		}
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r)
		switch w.Code {
		case 200, 204, 400, 401, 404, 405, 409, 413, 429:
		default:
			t.Fatalf("%s %s: HTTP %d: %s", m, target, w.Code, w.Body)
		}
		if w.Code != 204 && !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%s %s: HTTP %d with a body that is not JSON: %q", m, target, w.Code, w.Body)
		}
		if m != http.MethodPost || path != "" || w.Code != 200 {
			return
		}
		var created JobCreated
		if err := json.Unmarshal(w.Body.Bytes(), &created); err != nil || created.ID == "" {
			t.Fatalf("created: %v %s", err, w.Body)
		}
		srv.mu.Lock()
		j := srv.jobs[created.ID]
		srv.mu.Unlock()
		select {
		case <-j.done:
		case <-time.After(20 * time.Second):
			t.Fatalf("job %s still running 20 s after it was created (limit 1 s)", j.id)
		}
		get := func(suffix string) *httptest.ResponseRecorder {
			r := httptest.NewRequest(http.MethodGet, "http://qpu.test/api/v1/jobs/"+j.id+suffix, nil)
			r.Header.Set("Authorization", "Bearer "+testToken)
			w := httptest.NewRecorder()
			srv.ServeHTTP(w, r)
			return w
		}
		var st JobStatus
		if sw := get(""); sw.Code != 200 || json.Unmarshal(sw.Body.Bytes(), &st) != nil || !finished(st.Phase()) {
			t.Fatalf("status of a finished job: %d %s", sw.Code, sw.Body)
		}
		if st.Phase() == StatusCompleted {
			rw := get("/results")
			res, err := DecodeResult(rw.Body)
			if rw.Code != 200 || err != nil || len(res.Pubs) != len(j.pubs) {
				t.Fatalf("result of a completed job: %d %v", rw.Code, err)
			}
			for i, p := range res.Pubs {
				counts, err := p.Counts()
				if err != nil {
					t.Fatalf("pub %d: %v", i, err)
				}
				total := 0
				for _, n := range counts {
					total += n
				}
				if total != j.shots[i] {
					t.Fatalf("pub %d: %d samples for %d shots", i, total, j.shots[i])
				}
			}
		}
		dr := httptest.NewRequest(http.MethodDelete, "http://qpu.test/api/v1/jobs/"+j.id, nil)
		dr.Header.Set("Authorization", "Bearer "+testToken)
		dw := httptest.NewRecorder()
		srv.ServeHTTP(dw, dr)
		if dw.Code != 204 {
			t.Fatalf("delete: %d %s", dw.Code, dw.Body)
		}
	})
}
