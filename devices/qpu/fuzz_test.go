package qpu

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
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
