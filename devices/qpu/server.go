package qpu

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/qasm"
	"github.com/prismai/mec/sim"
)

// ServerOptions configures a Server.
type ServerOptions struct {
	// Backend is the local state-vector backend that samples ("" = default).
	Backend string
	// Token, when set, is the bearer token every request must carry.
	Token string
	// Device is the name reported as the job's backend (default "mec-<backend>").
	Device string
	// QueueSize bounds the jobs waiting to run (default 16); Workers is the
	// number of jobs run at once (default 1).
	QueueSize, Workers int
	// MaxShots and MaxQubits bound one pub (defaults 1,000,000 and 26).
	MaxShots, MaxQubits int
	// MaxJobs bounds the jobs remembered; the oldest finished ones are
	// forgotten first (default 1024).
	MaxJobs int
	// Fuse is the simulator's gate-fusion size (default sim.DefaultFuse).
	Fuse int
}

// Server is mec's own QPU endpoint: the IBM Qiskit Runtime job API shape
// (sampler program, version 2) in front of a local state-vector backend.
// Jobs run asynchronously from a bounded queue and can be cancelled.
type Server struct {
	opts  ServerOptions
	queue chan *job

	mu    sync.Mutex
	jobs  map[string]*job
	order []string

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type job struct {
	id      string
	created time.Time
	req     JobRequest
	circs   []*circuit.Circuit
	shots   []int
	seed    uint64

	mu     sync.Mutex
	status string
	reason string
	result []byte // encoded result document
	cancel context.CancelFunc
}

func (j *job) snapshot() (status, reason string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.status, j.reason
}

func (j *job) finish(status, reason string, result []byte) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.status == StatusCancelled || j.status == StatusCompleted || j.status == StatusFailed {
		return
	}
	j.status, j.reason, j.result = status, reason, result
}

// NewServer starts the workers of a Server; Close (or cancelling ctx) stops
// them, cancelling running jobs.
func NewServer(ctx context.Context, opts ServerOptions) (*Server, error) {
	if opts.QueueSize <= 0 {
		opts.QueueSize = 16
	}
	if opts.Workers <= 0 {
		opts.Workers = 1
	}
	if opts.MaxShots <= 0 {
		opts.MaxShots = 1_000_000
	}
	if opts.MaxQubits <= 0 {
		opts.MaxQubits = 26
	}
	if opts.MaxJobs <= 0 {
		opts.MaxJobs = 1024
	}
	if opts.Fuse == 0 {
		opts.Fuse = sim.DefaultFuse
	}
	// Check that the backend exists before taking jobs.
	s0, err := sim.New(sim.Options{Backend: opts.Backend, Fuse: opts.Fuse})
	if err != nil {
		return nil, fmt.Errorf("qpu server: %w", err)
	}
	if opts.Device == "" {
		opts.Device = "mec-" + s0.Backend().Name()
	}
	s := &Server{opts: opts, queue: make(chan *job, opts.QueueSize), jobs: map[string]*job{}}
	s.ctx, s.cancel = context.WithCancel(ctx)
	for i := 0; i < opts.Workers; i++ {
		s.wg.Add(1)
		go s.worker()
	}
	return s, nil
}

// Close stops the workers, cancelling running and queued jobs, and waits for them.
func (s *Server) Close() error {
	s.cancel()
	s.wg.Wait()
	return nil
}

// Device is the device name the server reports.
func (s *Server) Device() string { return s.opts.Device }

func (s *Server) worker() {
	defer s.wg.Done()
	for {
		select {
		case <-s.ctx.Done():
			for {
				select {
				case j := <-s.queue:
					j.finish(StatusCancelled, "server shutting down", nil)
				default:
					return
				}
			}
		case j := <-s.queue:
			s.run(j)
		}
	}
}

func (s *Server) run(j *job) {
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	j.mu.Lock()
	if j.status != StatusQueued {
		j.mu.Unlock()
		return
	}
	j.status, j.cancel = StatusRunning, cancel
	j.mu.Unlock()
	res, err := s.sample(ctx, j)
	switch {
	case err != nil && ctx.Err() != nil:
		j.finish(StatusCancelled, "cancelled", nil)
	case err != nil:
		j.finish(StatusFailed, err.Error(), nil)
	default:
		j.finish(StatusCompleted, "", res)
	}
}

// sample runs every pub and encodes the result document.
func (s *Server) sample(ctx context.Context, j *job) ([]byte, error) {
	type reg struct {
		Samples []string `json:"samples"`
		NumBits int      `json:"num_bits"`
	}
	type pubOut struct {
		Data     map[string]reg `json:"data"`
		Metadata map[string]any `json:"metadata"`
	}
	var outs []pubOut
	for i, c := range j.circs {
		sm, err := sim.New(sim.Options{Backend: s.opts.Backend, Fuse: s.opts.Fuse, Seed: j.seed + uint64(i)})
		if err != nil {
			return nil, err
		}
		counts, err := sm.Counts(ctx, c, j.shots[i])
		if err != nil {
			return nil, fmt.Errorf("pub %d: %w", i, err)
		}
		samples := make([]string, 0, j.shots[i])
		for _, k := range sim.SortedKeys(counts) {
			h, err := sampleHex(k)
			if err != nil {
				return nil, err
			}
			for n := counts[k]; n > 0; n-- {
				samples = append(samples, h)
			}
		}
		outs = append(outs, pubOut{
			Data:     map[string]reg{"c": {Samples: samples, NumBits: c.Clbits}},
			Metadata: map[string]any{"shots": j.shots[i], "circuit_metadata": map[string]any{}},
		})
	}
	return json.Marshal(map[string]any{
		"results":  outs,
		"metadata": map[string]any{"execution": map[string]any{"backend": s.opts.Device, "seed_simulator": j.seed}, "version": 2},
	})
}

// ServeHTTP implements the job API:
//
//	POST   /api/v1/jobs               create a sampler job (JobRequest) → {"id", "backend"}
//	GET    /api/v1/jobs/{id}          its status (JobStatus)
//	GET    /api/v1/jobs/{id}/results  its result, once Completed
//	POST   /api/v1/jobs/{id}/cancel   cancel it (204)
//	DELETE /api/v1/jobs/{id}          cancel and forget it (204)
//
// Errors are {"errors": [{"code": HTTP status, "message": ...}]}.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.opts.Token != "" {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(s.opts.Token)) != 1 {
			writeError(w, http.StatusUnauthorized, "missing or invalid bearer token")
			return
		}
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/api/v1/jobs")
	if !ok {
		writeError(w, http.StatusNotFound, "no such endpoint")
		return
	}
	parts := strings.Split(strings.Trim(rest, "/"), "/")
	switch {
	case rest == "" || rest == "/":
		if r.Method != http.MethodPost {
			writeError(w, http.StatusMethodNotAllowed, "use POST to create a job")
			return
		}
		s.create(w, r)
	case len(parts) == 1 && r.Method == http.MethodGet:
		s.status(w, parts[0])
	case len(parts) == 1 && r.Method == http.MethodDelete:
		s.cancelJob(w, parts[0], true)
	case len(parts) == 2 && parts[1] == "results" && r.Method == http.MethodGet:
		s.results(w, parts[0])
	case len(parts) == 2 && parts[1] == "cancel" && r.Method == http.MethodPost:
		s.cancelJob(w, parts[0], false)
	default:
		writeError(w, http.StatusNotFound, "no such endpoint")
	}
}

func writeError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(apiError{Errors: []apiErrorItem{{Code: code, Message: msg}}})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	var req JobRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<20))
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "invalid job request: "+err.Error())
		return
	}
	if req.ProgramID != "sampler" {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("program_id %q: only \"sampler\" is available", req.ProgramID))
		return
	}
	if req.Params.Version != 0 && req.Params.Version != 2 {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("sampler version %d: only version 2 is available", req.Params.Version))
		return
	}
	if len(req.Params.Pubs) == 0 {
		writeError(w, http.StatusBadRequest, "params.pubs is empty")
		return
	}
	j := &job{id: newID(), created: time.Now().UTC(), req: req, status: StatusQueued}
	if o := req.Params.Options; o != nil && o.Simulator != nil && o.Simulator.SeedSimulator != nil {
		j.seed = *o.Simulator.SeedSimulator
	} else {
		var b [8]byte
		_, _ = rand.Read(b[:])
		for _, x := range b {
			j.seed = j.seed<<8 | uint64(x)
		}
	}
	for i, p := range req.Params.Pubs {
		if len(p.Params) > 0 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("pub %d: parameter values are not supported (bind them before sending)", i))
			return
		}
		c, err := qasm.Parse(p.Circuit)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("pub %d: %v", i, err))
			return
		}
		if c.Qubits > s.opts.MaxQubits {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("pub %d: %d qubits; this endpoint takes at most %d", i, c.Qubits, s.opts.MaxQubits))
			return
		}
		if c.Clbits == 0 || !hasMeasure(c) {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("pub %d: the circuit has no measurements", i))
			return
		}
		if c.Clbits > 64 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("pub %d: %d classical bits; at most 64", i, c.Clbits))
			return
		}
		shots := p.Shots
		if shots == 0 && req.Params.Options != nil {
			shots = req.Params.Options.DefaultShots
		}
		if shots == 0 {
			shots = req.Params.Shots
		}
		if shots == 0 {
			shots = 4096
		}
		if shots < 0 || shots > s.opts.MaxShots {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("pub %d: %d shots; allowed 1 to %d", i, shots, s.opts.MaxShots))
			return
		}
		j.circs, j.shots = append(j.circs, c), append(j.shots, shots)
	}
	if s.ctx.Err() != nil {
		writeError(w, http.StatusServiceUnavailable, "server shutting down")
		return
	}
	s.mu.Lock()
	select {
	case s.queue <- j:
	default:
		s.mu.Unlock()
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusTooManyRequests, fmt.Sprintf("job queue full (%d jobs waiting)", s.opts.QueueSize))
		return
	}
	s.jobs[j.id] = j
	s.order = append(s.order, j.id)
	s.forgetOld()
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, JobCreated{ID: j.id, Backend: s.opts.Device})
}

// forgetOld drops the oldest finished jobs beyond MaxJobs; s.mu is held.
func (s *Server) forgetOld() {
	for len(s.order) > s.opts.MaxJobs {
		dropped := false
		for i, id := range s.order {
			st, _ := s.jobs[id].snapshot()
			if st != StatusQueued && st != StatusRunning {
				delete(s.jobs, id)
				s.order = append(s.order[:i], s.order[i+1:]...)
				dropped = true
				break
			}
		}
		if !dropped {
			return
		}
	}
}

func hasMeasure(c *circuit.Circuit) bool {
	for _, op := range c.Ops {
		if op.Kind == circuit.KindMeasure {
			return true
		}
	}
	return false
}

func (s *Server) lookup(w http.ResponseWriter, id string) *job {
	s.mu.Lock()
	j := s.jobs[id]
	s.mu.Unlock()
	if j == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("job %q not found", truncate(id, 64)))
	}
	return j
}

func (s *Server) status(w http.ResponseWriter, id string) {
	j := s.lookup(w, id)
	if j == nil {
		return
	}
	st, reason := j.snapshot()
	writeJSON(w, http.StatusOK, JobStatus{ID: j.id, Backend: s.opts.Device, Status: st,
		State: JobState{Status: st, Reason: reason}, Created: j.created.Format(time.RFC3339Nano)})
}

func (s *Server) results(w http.ResponseWriter, id string) {
	j := s.lookup(w, id)
	if j == nil {
		return
	}
	j.mu.Lock()
	st, res := j.status, j.result
	j.mu.Unlock()
	if st != StatusCompleted {
		writeError(w, http.StatusConflict, fmt.Sprintf("job %s is %s, not Completed", j.id, st))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(res)
}

func (s *Server) cancelJob(w http.ResponseWriter, id string, forget bool) {
	j := s.lookup(w, id)
	if j == nil {
		return
	}
	j.mu.Lock()
	st := j.status
	if st == StatusQueued || st == StatusRunning {
		j.status, j.reason = StatusCancelled, "cancelled by request"
		if j.cancel != nil {
			j.cancel()
		}
	}
	j.mu.Unlock()
	if !forget && (st == StatusCompleted || st == StatusFailed) {
		writeError(w, http.StatusConflict, fmt.Sprintf("job %s is already %s", j.id, st))
		return
	}
	if forget {
		s.mu.Lock()
		delete(s.jobs, j.id)
		for i, x := range s.order {
			if x == j.id {
				s.order = append(s.order[:i], s.order[i+1:]...)
				break
			}
		}
		s.mu.Unlock()
	}
	w.WriteHeader(http.StatusNoContent)
}

func newID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ListenAndServe serves the job API on addr until ctx is cancelled, then
// shuts down gracefully (in-flight requests get up to 5 s) and cancels the
// remaining jobs. ready, when not nil, receives the bound address.
func (s *Server) ListenAndServe(ctx context.Context, addr string, ready func(net.Addr)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("qpu server: %w", err)
	}
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	if ready != nil {
		ready(ln.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		s.Close()
		return fmt.Errorf("qpu server: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = hs.Shutdown(sctx)
	s.Close()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("qpu server: shutdown: %w", err)
	}
	return nil
}

// JobIDs lists the remembered jobs, oldest first (for tests and listings).
func (s *Server) JobIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := append([]string(nil), s.order...)
	sort.SliceStable(ids, func(a, b int) bool { return s.jobs[ids[a]].created.Before(s.jobs[ids[b]].created) })
	return ids
}
