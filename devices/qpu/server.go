package qpu

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"math"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/qasm"
	"github.com/prismai/mec/sim"
)

// Defaults of ServerOptions.
const (
	DefaultQueueSize         = 16
	DefaultMaxShots          = 1_000_000
	DefaultMaxQubits         = 26
	DefaultMaxPubs           = 16
	DefaultMaxOps            = 1_000_000
	DefaultMaxShotQubits     = 64 << 20
	DefaultMaxResultBytes    = 64 << 20
	DefaultMaxRequestBytes   = 4 << 20
	DefaultMaxJobs           = 256
	DefaultMaxRetainedBytes  = 256 << 20
	DefaultMaxJobTime        = 10 * time.Minute
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	DefaultWriteTimeout      = 2 * time.Minute
	DefaultIdleTimeout       = 2 * time.Minute
	DefaultMaxConns          = 64
	DefaultMaxBranches       = 1
)

// ServerOptions configures a Server. Zero fields take the defaults above;
// each limit's error names the `mec serve qpu` flag that raises it.
type ServerOptions struct {
	// Backend is the local state-vector backend that samples ("" = default).
	Backend string
	// Token, when set, is a bearer token that authenticates as the client
	// "default" (one shared token).
	Token string
	// Clients maps client names to their bearer tokens (see
	// ReadClientsFile). A job belongs to the client that created it: only
	// that client can read, cancel or delete it; other clients get 404.
	// With neither Token nor Clients every request is anonymous and every
	// job everybody's.
	Clients map[string]string
	// Device is the name reported as the job's backend (default "mec-<backend>").
	Device string
	// QueueSize bounds the jobs waiting to run (default 16); Workers is the
	// number of jobs run at once (default 1).
	QueueSize, Workers int
	// MaxShots and MaxQubits bound one pub (defaults 1,000,000 and 26).
	MaxShots, MaxQubits int
	// MaxPubs bounds the pubs of one job (default 16).
	MaxPubs int
	// MaxOps bounds the operations the job's circuits expand to, all pubs
	// together (default 1,000,000); expansion stops at the limit.
	MaxOps int
	// MaxShotQubits bounds the sum over a job's pubs of shots × qubits
	// (default 64 Mi).
	MaxShotQubits int64
	// MaxResultBytes bounds one job's result document (default 64 MiB).
	MaxResultBytes int64
	// MaxRequestBytes bounds a request body (default 4 MiB).
	MaxRequestBytes int64
	// MaxJobs bounds the jobs remembered, and MaxRetainedBytes the result
	// bytes they hold together; the oldest finished jobs are forgotten
	// first (defaults 256 and 256 MiB).
	MaxJobs          int
	MaxRetainedBytes int64
	// MaxJobTime bounds one job's wall time, parsing and simulation
	// together, once it runs (default 10 minutes).
	MaxJobTime time.Duration
	// Fuse is the simulator's gate-fusion size (default sim.DefaultFuse).
	Fuse int
	// MaxBranches bounds the states one pub's shot run holds at once
	// (sim.Options.MaxBranches; default 1, at most sim.MaxBranchesCap).
	// Past it, the shots of a mid-circuit measurement's other outcome
	// replay their path group by group, one state at a time, so a
	// request's memory is that many states of its qubits per worker
	// however much its mid-circuit measurements branch, and its time
	// grows with the groups instead.
	MaxBranches int

	// ReadHeaderTimeout, ReadTimeout (the whole request, body included),
	// WriteTimeout and IdleTimeout bound each connection of
	// ListenAndServe (defaults 5 s, 30 s, 2 min, 2 min).
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// MaxConns bounds the connections ListenAndServe holds open at once
	// (default 64); further connections are closed at once.
	MaxConns int
	// TLS, when set, makes ListenAndServe serve HTTPS with it (TLS 1.3
	// at least; Go then offers the hybrid post-quantum key exchange
	// X25519MLKEM768 first). It needs a certificate.
	TLS *tls.Config
	// Insecure lets ListenAndServe serve on an address that is not
	// loopback without TLS or without a token. Without it that is refused.
	Insecure bool
	// ErrorLog receives the HTTP server's connection errors (failed TLS
	// handshakes and the like); nil means the log package's standard
	// logger.
	ErrorLog *log.Logger
}

func (o *ServerOptions) setDefaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def64 := func(v *int64, d int64) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.QueueSize, DefaultQueueSize)
	def(&o.Workers, 1)
	def(&o.MaxShots, DefaultMaxShots)
	def(&o.MaxQubits, DefaultMaxQubits)
	def(&o.MaxPubs, DefaultMaxPubs)
	def(&o.MaxOps, DefaultMaxOps)
	def64(&o.MaxShotQubits, DefaultMaxShotQubits)
	def64(&o.MaxResultBytes, DefaultMaxResultBytes)
	def64(&o.MaxRequestBytes, DefaultMaxRequestBytes)
	def(&o.MaxJobs, DefaultMaxJobs)
	def64(&o.MaxRetainedBytes, DefaultMaxRetainedBytes)
	defDur(&o.MaxJobTime, DefaultMaxJobTime)
	defDur(&o.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	defDur(&o.ReadTimeout, DefaultReadTimeout)
	defDur(&o.WriteTimeout, DefaultWriteTimeout)
	defDur(&o.IdleTimeout, DefaultIdleTimeout)
	def(&o.MaxConns, DefaultMaxConns)
	def(&o.MaxBranches, DefaultMaxBranches)
	if o.Fuse == 0 {
		o.Fuse = sim.DefaultFuse
	}
}

// Server is mec's own QPU endpoint: the IBM Qiskit Runtime job API shape
// (sampler program, version 2) in front of a local state-vector backend.
//
// The HTTP handler only authenticates, decodes the request (at most
// MaxRequestBytes) and checks what needs no parsing (pubs, shots); the
// OpenQASM is parsed, expanded (at most MaxOps operations) and simulated
// by a worker, under the job's context (cancel, delete, MaxJobTime,
// shutdown) and limits. A limit crossed while running fails the job with
// a reason that names the limit. Jobs run asynchronously from a bounded
// queue.
type Server struct {
	opts   ServerOptions
	queue  chan *job
	tokens []clientToken

	mu       sync.Mutex
	jobs     map[string]*job
	order    []string
	retained int64 // result bytes of the remembered jobs

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type clientToken struct {
	name  string
	token []byte
}

type job struct {
	id      string
	owner   string
	created time.Time
	program string // ProgramSampler or ProgramEstimator
	pubs    []Pub
	epubs   []EstimatorPub
	shots   []int // per pub; per term for the estimator (0: exact)
	seed    uint64
	done    chan struct{} // closed when a worker is done with the job

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

func finished(status string) bool {
	return status == StatusCancelled || status == StatusCompleted || status == StatusFailed
}

// finish records the job's end unless it has one already (a cancel by
// request); it reports whether it did.
func (j *job) finish(status, reason string, result []byte) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	if finished(j.status) {
		return false
	}
	j.status, j.reason, j.result = status, reason, result
	return true
}

// progress sets the reason shown while the job runs.
func (j *job) progress(reason string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.status == StatusRunning {
		j.reason = reason
	}
}

// NewServer starts the workers of a Server; Close (or cancelling ctx) stops
// them, cancelling running jobs.
func NewServer(ctx context.Context, opts ServerOptions) (*Server, error) {
	opts.setDefaults()
	if opts.MaxBranches > sim.MaxBranchesCap {
		return nil, fmt.Errorf("qpu server: a branch budget of %d states: at most %d (mec serve qpu --max-branches)", opts.MaxBranches, sim.MaxBranchesCap)
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
	if opts.Token != "" {
		s.tokens = append(s.tokens, clientToken{"default", []byte(opts.Token)})
	}
	names := make([]string, 0, len(opts.Clients))
	for name := range opts.Clients {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := checkClient(name, opts.Clients[name]); err != nil {
			return nil, fmt.Errorf("qpu server: %w", err)
		}
		if opts.Token != "" && name == "default" {
			return nil, errors.New(`qpu server: client name "default" is taken by the shared token`)
		}
		s.tokens = append(s.tokens, clientToken{name, []byte(opts.Clients[name])})
	}
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

// Authenticated reports whether requests must carry a token.
func (s *Server) Authenticated() bool { return len(s.tokens) > 0 }

func (s *Server) worker() {
	defer s.wg.Done()
	for {
		select {
		case <-s.ctx.Done():
			for {
				select {
				case j := <-s.queue:
					j.finish(StatusCancelled, "server shutting down", nil)
					close(j.done)
				default:
					return
				}
			}
		case j := <-s.queue:
			s.run(j)
			close(j.done)
		}
	}
}

func (s *Server) run(j *job) {
	ctx, cancel := context.WithTimeoutCause(s.ctx, s.opts.MaxJobTime, errJobTime(s.opts.MaxJobTime))
	defer cancel()
	j.mu.Lock()
	if j.status != StatusQueued {
		j.mu.Unlock()
		return
	}
	j.status, j.cancel = StatusRunning, cancel
	j.mu.Unlock()
	res, err := s.execute(ctx, j)
	switch {
	case err != nil && ctx.Err() != nil && context.Cause(ctx) != ctx.Err() && s.ctx.Err() == nil:
		j.finish(StatusFailed, context.Cause(ctx).Error(), nil) // the job's time limit
	case err != nil && ctx.Err() != nil:
		j.finish(StatusCancelled, "cancelled", nil)
	case err != nil:
		j.finish(StatusFailed, err.Error(), nil)
	default:
		// Under s.mu, so that a concurrent delete either comes first
		// (the result is not kept) or finds the result counted.
		s.mu.Lock()
		if s.jobs[j.id] != j {
			j.finish(StatusCompleted, "", nil) // deleted while it ran
		} else if j.finish(StatusCompleted, "", res) {
			s.retained += int64(len(res))
			s.forgetOld()
		}
		s.mu.Unlock()
	}
}

func errJobTime(d time.Duration) error {
	return fmt.Errorf("the job ran longer than this server's limit of %v per job (mec serve qpu --max-job-time)", d)
}

// parsedPub is one pub ready to run.
type parsedPub struct {
	c     *circuit.Circuit
	shots int
}

// parsePub parses pub i's circuit under the job's limits (opsLeft of its
// operations budget) with its parameter values bound: a list binds the
// circuit's inputs in declaration order, an object by name.
func (s *Server) parsePub(ctx context.Context, i int, src string, values []float64, named map[string]float64, opsLeft int) (*circuit.Circuit, error) {
	opts := qasm.Options{Limits: qasm.Limits{MaxFileBytes: s.opts.MaxRequestBytes, MaxIncludeBytes: 1, MaxOps: opsLeft, MaxExpandDuration: s.opts.MaxJobTime}}
	switch {
	case named != nil:
		opts.Params = named
	case values != nil:
		names, err := qasm.InputNames(ctx, src, opts)
		if err != nil {
			return nil, s.pubParseError(ctx, i, err)
		}
		if len(names) != len(values) {
			return nil, fmt.Errorf("pub %d: %d parameter values for the circuit's %d inputs %v", i, len(values), len(names), names)
		}
		opts.Params = map[string]float64{}
		for k, name := range names {
			opts.Params[name] = values[k]
		}
	}
	c, err := qasm.ParseContext(ctx, src, opts)
	if err != nil {
		return nil, s.pubParseError(ctx, i, err)
	}
	if c.Qubits > s.opts.MaxQubits {
		return nil, fmt.Errorf("pub %d: %d qubits; this server takes at most %d (mec serve qpu --max-qubits)", i, c.Qubits, s.opts.MaxQubits)
	}
	return c, nil
}

func (s *Server) pubParseError(ctx context.Context, i int, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("pub %d: %s", i, s.describeParseError(err))
}

// execute runs a job's pubs and encodes its result document.
func (s *Server) execute(ctx context.Context, j *job) ([]byte, error) {
	if j.program == ProgramEstimator {
		return s.executeEstimator(ctx, j)
	}
	n := len(j.pubs)
	pubs := make([]parsedPub, n)
	opsLeft := s.opts.MaxOps
	var shotQubits, resultBytes int64
	for i, p := range j.pubs {
		j.progress(fmt.Sprintf("parsing pub %d of %d", i+1, n))
		c, err := s.parsePub(ctx, i, p.Circuit, p.Params, p.Named, opsLeft)
		if err != nil {
			return nil, err
		}
		if c.Results() == 0 || !hasMeasure(c) {
			return nil, fmt.Errorf("pub %d: the circuit has no measurements", i)
		}
		if c.Results() > 64 {
			return nil, fmt.Errorf("pub %d: %d classical bits; at most 64", i, c.Results())
		}
		opsLeft -= len(c.Ops)
		shotQubits += int64(j.shots[i]) * int64(max(c.Qubits, 1))
		if shotQubits > s.opts.MaxShotQubits {
			return nil, fmt.Errorf("pubs 0 to %d: %d shots × qubits; this server takes at most %d per job (mec serve qpu --max-shot-qubits)", i, shotQubits, s.opts.MaxShotQubits)
		}
		resultBytes += int64(j.shots[i]) * int64(6*max(len(c.Cregs), 1)+(c.Results()+3)/4)
		if resultBytes > s.opts.MaxResultBytes {
			return nil, fmt.Errorf("pubs 0 to %d: the samples would take about %d bytes; this server returns at most %d per job (mec serve qpu --max-result-bytes)", i, resultBytes, s.opts.MaxResultBytes)
		}
		pubs[i] = parsedPub{c: c, shots: j.shots[i]}
	}
	out := &cappedBuffer{max: s.opts.MaxResultBytes}
	out.WriteString(`{"results":[`)
	for i, p := range pubs {
		j.progress(fmt.Sprintf("simulating pub %d of %d", i+1, n))
		sm, err := sim.New(sim.Options{Backend: s.opts.Backend, Fuse: s.opts.Fuse, Seed: j.seed + uint64(i), MaxBranches: s.opts.MaxBranches})
		if err != nil {
			return nil, err
		}
		values, err := shotValues(ctx, sm, p.c, p.shots)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("pub %d: %w", i, err)
		}
		if i > 0 {
			out.WriteByte(',')
		}
		out.WriteString(`{"data":{`)
		regs := p.c.Cregs
		if len(regs) == 0 {
			all := make([]int, p.c.Results())
			for k := range all {
				all[k] = k
			}
			regs = []circuit.Register{{Name: "c", Bits: all}}
		}
		for r, reg := range regs {
			if r > 0 {
				out.WriteByte(',')
			}
			name, _ := json.Marshal(reg.Name)
			out.Write(name)
			out.WriteString(`:{"samples":[`)
			var h []byte
			for k, v := range values {
				if k&0xffff == 0 {
					if err := ctx.Err(); err != nil {
						return nil, err
					}
				}
				var rv uint64
				for b, bit := range reg.Bits {
					rv |= (v >> uint(bit) & 1) << uint(b)
				}
				h = strconv.AppendUint(append(h[:0], `"0x`...), rv, 16)
				h = append(h, '"')
				if k > 0 {
					out.WriteByte(',')
				}
				out.Write(h)
				if out.err != nil {
					return nil, out.err
				}
			}
			fmt.Fprintf(out, `],"num_bits":%d}`, len(reg.Bits))
		}
		fmt.Fprintf(out, `},"metadata":{"shots":%d,"circuit_metadata":{}}}`, p.shots)
	}
	dev, _ := json.Marshal(s.opts.Device)
	fmt.Fprintf(out, `],"metadata":{"execution":{"backend":%s,"seed_simulator":%d},"version":2}}`, dev, j.seed)
	if out.err != nil {
		return nil, out.err
	}
	return out.Bytes(), nil
}

// executeEstimator runs an estimator job: each pub's observables' values
// on its circuit's final state, exact (precision 0) or estimated from
// ⌈1/precision²⌉ shots per term, with their standard errors.
func (s *Server) executeEstimator(ctx context.Context, j *job) ([]byte, error) {
	type pubResult struct {
		Data struct {
			Evs  any `json:"evs"`
			Stds any `json:"stds"`
			// EnsembleStandardError equals stds: one estimate per term.
			EnsembleStandardError any `json:"ensemble_standard_error"`
		} `json:"data"`
		Metadata map[string]any `json:"metadata"`
	}
	n := len(j.epubs)
	results := make([]pubResult, n)
	opsLeft := s.opts.MaxOps
	var shotQubits int64
	for i, p := range j.epubs {
		j.progress(fmt.Sprintf("parsing pub %d of %d", i+1, n))
		c, err := s.parsePub(ctx, i, p.Circuit, p.Params, p.Named, opsLeft)
		if err != nil {
			return nil, err
		}
		opsLeft -= len(c.Ops)
		terms := 0
		for _, h := range p.Observables {
			terms += len(h)
			if err := h.Validate(c.Qubits); err != nil {
				return nil, fmt.Errorf("pub %d: observable of %d qubits on a %d-qubit circuit", i, len(h[0].Pauli), c.Qubits)
			}
		}
		// An exact term costs a pass over the state: count it as a shot.
		shotQubits += int64(max(j.shots[i], 1)) * int64(terms) * int64(max(c.Qubits, 1))
		if shotQubits > s.opts.MaxShotQubits {
			return nil, fmt.Errorf("pubs 0 to %d: %d shots × terms × qubits; this server takes at most %d per job (mec serve qpu --max-shot-qubits)", i, shotQubits, s.opts.MaxShotQubits)
		}
		j.progress(fmt.Sprintf("estimating pub %d of %d", i+1, n))
		sm, err := sim.New(sim.Options{Backend: s.opts.Backend, Fuse: s.opts.Fuse, Seed: j.seed + uint64(i)})
		if err != nil {
			return nil, err
		}
		est, err := sm.Observe(ctx, c, p.Observables, j.shots[i])
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("pub %d: %w", i, err)
		}
		evs, stds := make([]float64, len(est)), make([]float64, len(est))
		for k, e := range est {
			evs[k], stds[k] = e.Exact, 0
			if j.shots[i] > 0 {
				evs[k], stds[k] = e.Mean, e.StdErr
			}
		}
		r := &results[i]
		if p.List {
			r.Data.Evs, r.Data.Stds, r.Data.EnsembleStandardError = evs, stds, stds
		} else {
			r.Data.Evs, r.Data.Stds, r.Data.EnsembleStandardError = evs[0], stds[0], stds[0]
		}
		r.Metadata = map[string]any{"target_precision": p.Precision, "shots": j.shots[i], "circuit_metadata": map[string]any{}}
	}
	doc := map[string]any{"results": results, "metadata": map[string]any{"execution": map[string]any{"backend": s.opts.Device, "seed_simulator": j.seed}, "version": 2}}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > s.opts.MaxResultBytes {
		return nil, fmt.Errorf("the result takes %d bytes; this server returns at most %d per job (mec serve qpu --max-result-bytes)", len(b), s.opts.MaxResultBytes)
	}
	return b, nil
}

// shotValues runs c shots times (sim.Simulator.Shots: sampled from one
// state when the measurements are terminal, branched at mid-circuit
// measurements otherwise) and returns each shot's classical register as a
// number (clbit j is bit j), in shot order.
func shotValues(ctx context.Context, sm *sim.Simulator, c *circuit.Circuit, shots int) ([]uint64, error) {
	r, err := sm.Shots(ctx, c, shots)
	if err != nil {
		return nil, err
	}
	values := make([]uint64, shots)
	for k := range values {
		if values[k], err = r.Value(k); err != nil {
			return nil, err
		}
	}
	return values, nil
}

// describeParseError names the server's own limit when qasm stopped at
// the operations budget (the job's limit, not qasm's environment).
func (s *Server) describeParseError(err error) string {
	var le *qasm.LimitError
	if errors.As(err, &le) && le.Limit == "MaxOps" {
		at := ""
		var qe *qasm.Error
		if errors.As(err, &qe) {
			at = " at " + qe.Pos.String()
		}
		return fmt.Sprintf("%s%s: more than the %s left of this server's limit of %d operations per job (mec serve qpu --max-ops)", le.What, at, le.Max, s.opts.MaxOps)
	}
	return err.Error()
}

// cappedBuffer is a bytes.Buffer that stops growing at max bytes and
// then reports the result limit.
type cappedBuffer struct {
	bytes.Buffer
	max int64
	err error
}

func (b *cappedBuffer) room(n int) bool {
	if b.err == nil && int64(b.Len()+n) > b.max {
		b.err = fmt.Errorf("the result is larger than this server's limit of %d bytes per job (mec serve qpu --max-result-bytes)", b.max)
	}
	return b.err == nil
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if !b.room(len(p)) {
		return 0, b.err
	}
	return b.Buffer.Write(p)
}

func (b *cappedBuffer) WriteString(s string) (int, error) {
	if !b.room(len(s)) {
		return 0, b.err
	}
	return b.Buffer.WriteString(s)
}

func (b *cappedBuffer) WriteByte(c byte) error {
	if !b.room(1) {
		return b.err
	}
	return b.Buffer.WriteByte(c)
}

// ServeHTTP implements the job API:
//
//	POST   /api/v1/jobs               create a sampler job (JobRequest) → {"id", "backend"}
//	GET    /api/v1/jobs/{id}          its status (JobStatus)
//	GET    /api/v1/jobs/{id}/results  its result, once Completed
//	POST   /api/v1/jobs/{id}/cancel   cancel it (204)
//	DELETE /api/v1/jobs/{id}          cancel and forget it (204)
//
// Errors are {"errors": [{"code": HTTP status, "message": ...}]}. A job of
// another client is answered as a job that does not exist (404).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	client, ok := s.authenticate(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="mec-qpu"`)
		writeError(w, http.StatusUnauthorized, "missing or invalid bearer token")
		return
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
		s.create(w, r, client)
	case len(parts) == 1 && r.Method == http.MethodGet:
		s.status(w, parts[0], client)
	case len(parts) == 1 && r.Method == http.MethodDelete:
		s.cancelJob(w, parts[0], client, true)
	case len(parts) == 2 && parts[1] == "results" && r.Method == http.MethodGet:
		s.results(w, parts[0], client)
	case len(parts) == 2 && parts[1] == "cancel" && r.Method == http.MethodPost:
		s.cancelJob(w, parts[0], client, false)
	default:
		writeError(w, http.StatusNotFound, "no such endpoint")
	}
}

// authenticate returns the client a request's bearer token names. Every
// token is compared, in constant time, whatever matches.
func (s *Server) authenticate(r *http.Request) (string, bool) {
	if len(s.tokens) == 0 {
		return "", true
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || got == "" {
		return "", false
	}
	name, found := "", 0
	for _, t := range s.tokens {
		if subtle.ConstantTimeCompare([]byte(got), t.token) == 1 {
			name, found = t.name, 1
		}
	}
	return name, found == 1
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

// Programs a Server runs.
const (
	ProgramSampler   = "sampler"
	ProgramEstimator = "estimator"
)

// DefaultPrecision is an estimator pub's target precision when neither the
// pub nor the options give one (Qiskit Runtime's default): each term is
// then measured ⌈1/precision²⌉ times.
const DefaultPrecision = 0.015625

// incoming is a job request with its pubs not yet decoded (their shape
// depends on the program).
type incoming struct {
	ProgramID string `json:"program_id"`
	Backend   string `json:"backend,omitempty"`
	Params    struct {
		Pubs      []json.RawMessage `json:"pubs"`
		Version   int               `json:"version"`
		Shots     int               `json:"shots,omitempty"`
		Precision *float64          `json:"precision,omitempty"`
		Options   *JobOptions       `json:"options,omitempty"`
	} `json:"params"`
}

// create checks what needs no parsing and queues the job.
func (s *Server) create(w http.ResponseWriter, r *http.Request, client string) {
	var in incoming
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, s.opts.MaxRequestBytes))
	if err := dec.Decode(&in); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than this server's limit of %d bytes (mec serve qpu --max-request-bytes)", s.opts.MaxRequestBytes))
			return
		}
		writeError(w, http.StatusBadRequest, "invalid job request: "+err.Error())
		return
	}
	req := JobRequest{ProgramID: in.ProgramID, Backend: in.Backend, Params: JobParams{Version: in.Params.Version, Shots: in.Params.Shots, Options: in.Params.Options}}
	j := &job{id: newID(), owner: client, created: time.Now().UTC(), program: in.ProgramID, status: StatusQueued, done: make(chan struct{})}
	switch in.ProgramID {
	case ProgramSampler:
		for i, raw := range in.Params.Pubs {
			var p Pub
			if err := json.Unmarshal(raw, &p); err != nil {
				writeError(w, http.StatusBadRequest, fmt.Sprintf("pub %d: %v", i, err))
				return
			}
			req.Params.Pubs = append(req.Params.Pubs, p)
		}
		if msg := s.checkRequest(&req); msg != "" {
			writeError(w, http.StatusBadRequest, msg)
			return
		}
		j.pubs = req.Params.Pubs
		for _, p := range req.Params.Pubs {
			j.shots = append(j.shots, pubShots(&req, p))
		}
	case ProgramEstimator:
		if msg := s.checkVersion(&req, len(in.Params.Pubs)); msg != "" {
			writeError(w, http.StatusBadRequest, msg)
			return
		}
		for i, raw := range in.Params.Pubs {
			var p EstimatorPub
			if err := json.Unmarshal(raw, &p); err != nil {
				writeError(w, http.StatusBadRequest, fmt.Sprintf("pub %d: %v", i, err))
				return
			}
			prec := DefaultPrecision
			if in.Params.Precision != nil {
				prec = *in.Params.Precision
			}
			if p.HasPrec {
				prec = p.Precision
			}
			shots := 0 // exact
			if prec > 0 {
				shots = int(math.Ceil(1 / (prec * prec)))
			}
			if !(prec >= 0) || shots > s.opts.MaxShots || shots < 0 {
				writeError(w, http.StatusBadRequest, fmt.Sprintf("pub %d: precision %v takes %d shots per term; this server takes at most %d (mec serve qpu --max-shots)", i, prec, shots, s.opts.MaxShots))
				return
			}
			p.Precision = prec
			j.epubs = append(j.epubs, p)
			j.shots = append(j.shots, shots)
		}
	default:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("program_id %q: this server runs %q and %q", truncate(in.ProgramID, 64), ProgramSampler, ProgramEstimator))
		return
	}
	if o := req.Params.Options; o != nil && o.Simulator != nil && o.Simulator.SeedSimulator != nil {
		j.seed = *o.Simulator.SeedSimulator
	} else {
		var b [8]byte
		_, _ = rand.Read(b[:])
		for _, x := range b {
			j.seed = j.seed<<8 | uint64(x)
		}
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
		writeError(w, http.StatusTooManyRequests, fmt.Sprintf("job queue full (%d jobs waiting; mec serve qpu --queue)", s.opts.QueueSize))
		return
	}
	s.jobs[j.id] = j
	s.order = append(s.order, j.id)
	s.forgetOld()
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, JobCreated{ID: j.id, Backend: s.opts.Device})
}

// checkRequest returns what is wrong with a request before any parsing
// ("" if nothing is).
func (s *Server) checkRequest(req *JobRequest) string {
	if req.ProgramID != ProgramSampler {
		return fmt.Sprintf("program_id %q: the sampler's requests say %q", truncate(req.ProgramID, 64), ProgramSampler)
	}
	if msg := s.checkVersion(req, len(req.Params.Pubs)); msg != "" {
		return msg
	}
	for i, p := range req.Params.Pubs {
		if shots := pubShots(req, p); shots < 1 || shots > s.opts.MaxShots {
			return fmt.Sprintf("pub %d: %d shots; this server takes 1 to %d per pub (mec serve qpu --max-shots)", i, shots, s.opts.MaxShots)
		}
	}
	return ""
}

// checkVersion checks a request's primitive version and number of pubs.
func (s *Server) checkVersion(req *JobRequest, pubs int) string {
	switch {
	case req.Params.Version != 0 && req.Params.Version != 2:
		return fmt.Sprintf("%s version %d: only version 2 is available", req.ProgramID, req.Params.Version)
	case pubs == 0:
		return "params.pubs is empty"
	case pubs > s.opts.MaxPubs:
		return fmt.Sprintf("%d pubs; this server takes at most %d per job (mec serve qpu --max-pubs)", pubs, s.opts.MaxPubs)
	}
	return ""
}

// pubShots is a pub's shots: its own, else the options' default, else the
// request's, else 4096.
func pubShots(req *JobRequest, p Pub) int {
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
	return shots
}

// forgetOld drops the oldest finished jobs beyond MaxJobs or
// MaxRetainedBytes; s.mu is held.
func (s *Server) forgetOld() {
	for len(s.order) > s.opts.MaxJobs || s.retained > s.opts.MaxRetainedBytes {
		dropped := false
		for i, id := range s.order {
			j := s.jobs[id]
			if st, _ := j.snapshot(); finished(st) {
				s.drop(i, j)
				dropped = true
				break
			}
		}
		if !dropped {
			return
		}
	}
}

// drop forgets s.order[i], which is j; s.mu is held.
func (s *Server) drop(i int, j *job) {
	delete(s.jobs, j.id)
	s.order = append(s.order[:i], s.order[i+1:]...)
	j.mu.Lock()
	s.retained -= int64(len(j.result))
	j.result = nil
	j.mu.Unlock()
}

func hasMeasure(c *circuit.Circuit) bool {
	for _, op := range c.Ops {
		if op.Kind == circuit.KindMeasure {
			return true
		}
	}
	return false
}

// lookup returns the client's job id, or answers 404: for a job of
// another client too, so that job ids cannot be probed.
func (s *Server) lookup(w http.ResponseWriter, id, client string) *job {
	s.mu.Lock()
	j := s.jobs[id]
	s.mu.Unlock()
	if j == nil || j.owner != client {
		writeError(w, http.StatusNotFound, fmt.Sprintf("job %q not found", truncate(id, 64)))
		return nil
	}
	return j
}

func (s *Server) status(w http.ResponseWriter, id, client string) {
	j := s.lookup(w, id, client)
	if j == nil {
		return
	}
	st, reason := j.snapshot()
	writeJSON(w, http.StatusOK, JobStatus{ID: j.id, Backend: s.opts.Device, Status: st,
		State: JobState{Status: st, Reason: reason}, Created: j.created.Format(time.RFC3339Nano)})
}

func (s *Server) results(w http.ResponseWriter, id, client string) {
	j := s.lookup(w, id, client)
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
	w.Header().Set("Content-Length", strconv.Itoa(len(res)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(res)
}

func (s *Server) cancelJob(w http.ResponseWriter, id, client string, forget bool) {
	j := s.lookup(w, id, client)
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
		for i, x := range s.order {
			if x == j.id {
				s.drop(i, j)
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

// ErrInsecureListen is matched (errors.Is) by ListenAndServe's error for
// an address that is not loopback, when TLS or a token is missing and
// ServerOptions.Insecure is not set.
var ErrInsecureListen = errors.New("qpu server: refusing to serve beyond loopback without TLS and a token")

// ListenAndServe serves the job API on addr until ctx is cancelled, then
// shuts down gracefully (in-flight requests get up to 5 s) and cancels the
// remaining jobs. ready, when not nil, receives the bound address.
//
// An address that is not loopback (0.0.0.0, a LAN address) is refused
// unless the server has both TLS (ServerOptions.TLS) and tokens, or
// ServerOptions.Insecure is set. Connections are bounded by MaxConns and
// the read, write, header and idle timeouts of ServerOptions.
func (s *Server) ListenAndServe(ctx context.Context, addr string, ready func(net.Addr)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("qpu server: %w", err)
	}
	if err := s.checkExposure(ln.Addr()); err != nil {
		ln.Close()
		return err
	}
	return s.Serve(ctx, ln, ready)
}

// checkExposure applies ListenAndServe's rule for addresses that are not
// loopback.
func (s *Server) checkExposure(a net.Addr) error {
	ta, ok := a.(*net.TCPAddr)
	if !ok || ta.IP.IsLoopback() || s.opts.Insecure {
		return nil
	}
	var missing []string
	if s.opts.TLS == nil {
		missing = append(missing, "TLS (--tls-cert, --tls-key)")
	}
	if len(s.tokens) == 0 {
		missing = append(missing, "tokens (--clients or --token-file)")
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s is not a loopback address and the server has no %s; add them, or pass --insecure to serve anyway",
		ErrInsecureListen, a, strings.Join(missing, " and no "))
}

// Serve is ListenAndServe on a listener the caller opened (no address
// check): TLS when ServerOptions.TLS is set, at most MaxConns connections,
// the timeouts of ServerOptions.
func (s *Server) Serve(ctx context.Context, ln net.Listener, ready func(net.Addr)) error {
	lim := &limitListener{Listener: ln, sem: make(chan struct{}, s.opts.MaxConns)}
	var l net.Listener = lim
	if s.opts.TLS != nil {
		cfg := s.opts.TLS.Clone()
		if cfg.MinVersion < tls.VersionTLS13 {
			cfg.MinVersion = tls.VersionTLS13
		}
		l = tls.NewListener(lim, cfg)
	}
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: s.opts.ReadHeaderTimeout,
		ReadTimeout:       s.opts.ReadTimeout,
		WriteTimeout:      s.opts.WriteTimeout,
		IdleTimeout:       s.opts.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          s.opts.ErrorLog,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	if ready != nil {
		ready(ln.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(l) }()
	select {
	case err := <-errc:
		s.Close()
		return fmt.Errorf("qpu server: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := hs.Shutdown(sctx)
	if err != nil {
		hs.Close()
	}
	s.Close()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("qpu server: shutdown: %w", err)
	}
	return nil
}

// limitListener accepts at most cap(sem) connections at once; one more is
// closed as soon as it is accepted.
type limitListener struct {
	net.Listener
	sem chan struct{}
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.sem <- struct{}{}:
			return &limitConn{Conn: c, release: func() { <-l.sem }}, nil
		default:
			c.Close()
		}
	}
}

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// JobIDs lists the remembered jobs, oldest first (for tests and listings).
func (s *Server) JobIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := append([]string(nil), s.order...)
	sort.SliceStable(ids, func(a, b int) bool { return s.jobs[ids[a]].created.Before(s.jobs[ids[b]].created) })
	return ids
}
