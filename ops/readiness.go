package ops

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// The readiness steps of a node (integration spec §17), in the order
// they must pass.
const (
	// StepConfig passes when the configuration has been loaded and
	// validated.
	StepConfig = "config"
	// StepFederationJoin passes when the node has joined its federation
	// (connected, streams found, caught up).
	StepFederationJoin = "federation-join"
	// StepPhaseLock passes when the phase-locking calibration has
	// converged.
	StepPhaseLock = "phase-lock"
)

// NodeSteps returns the readiness steps of a node, in order.
func NodeSteps() []string { return []string{StepConfig, StepFederationJoin, StepPhaseLock} }

// StepState is the state of one readiness step.
type StepState string

// The states of a step.
const (
	StepPending StepState = "pending"
	StepPassed  StepState = "passed"
	StepFailed  StepState = "failed"
)

// StepStatus is one step as /readyz reports it.
type StepStatus struct {
	Name  string    `json:"name"`
	State StepState `json:"state"`
	// Error is the failure (failed), or why a pass did not count
	// (pending after an out-of-order pass).
	Error string `json:"error,omitempty"`
	// Since is when the step entered its state (zero: never changed).
	Since time.Time `json:"since,omitzero"`
}

// ReadinessStatus is the body of /readyz.
type ReadinessStatus struct {
	Ready bool `json:"ready"`
	// ShuttingDown is set once the server has begun to shut down (then
	// Ready is false whatever the steps say).
	ShuttingDown bool         `json:"shutting_down,omitempty"`
	Steps        []StepStatus `json:"steps"`
}

// OrderError is returned by Pass for a step whose predecessors have not
// all passed: the pass does not count, and the step must pass again
// once they have.
type OrderError struct {
	// Step is the step that passed; Waiting the first earlier step that
	// has not.
	Step, Waiting string
}

// Error names both steps.
func (e *OrderError) Error() string {
	return fmt.Sprintf("readiness: step %q passed before step %q: it does not count until it passes again after %q", e.Step, e.Waiting, e.Waiting)
}

// Readiness tracks named steps that must pass in a fixed order. The node
// is ready when every step has passed, each after the ones before it. A
// step that fails (or is reset) sends every later step back to pending:
// they must pass again after it. Every transition is logged. It is safe
// for concurrent use.
type Readiness struct {
	log *slog.Logger

	mu    sync.Mutex
	steps []StepStatus
}

// NewReadiness returns a tracker of the given steps (in order), all
// pending. Names must be distinct and non-empty; log may be nil (no
// logging).
func NewReadiness(log *slog.Logger, steps ...string) (*Readiness, error) {
	if len(steps) == 0 {
		return nil, errors.New("readiness: no steps")
	}
	r := &Readiness{log: log}
	for i, s := range steps {
		if s == "" {
			return nil, fmt.Errorf("readiness: step %d has no name", i)
		}
		if slices.Contains(steps[:i], s) {
			return nil, fmt.Errorf("readiness: step %q named twice", s)
		}
		r.steps = append(r.steps, StepStatus{Name: s, State: StepPending})
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	return r, nil
}

func (r *Readiness) index(name string) (int, error) {
	for i := range r.steps {
		if r.steps[i].Name == name {
			return i, nil
		}
	}
	names := make([]string, len(r.steps))
	for i, s := range r.steps {
		names[i] = s.Name
	}
	return -1, fmt.Errorf("readiness: unknown step %q (steps: %v)", name, names)
}

// readyLocked reports whether every step has passed.
func (r *Readiness) readyLocked() bool {
	for _, s := range r.steps {
		if s.State != StepPassed {
			return false
		}
	}
	return true
}

// set changes step i's state and logs the transition.
func (r *Readiness) set(i int, st StepState, msg string, now time.Time) {
	s := &r.steps[i]
	from := s.State
	s.State, s.Error, s.Since = st, msg, now
	attrs := []any{"step", s.Name, "from", string(from), "to", string(st), "position", i + 1, "of", len(r.steps)}
	switch {
	case st == StepFailed:
		r.log.Error("readiness step failed", append(attrs, "err", msg)...)
	case st == StepPending && msg != "":
		r.log.Warn("readiness step back to pending", append(attrs, "reason", msg)...)
	default:
		r.log.Info("readiness step "+string(st), attrs...)
	}
}

// invalidateAfter sends every passed step after i back to pending.
func (r *Readiness) invalidateAfter(i int, why string, now time.Time) {
	for j := i + 1; j < len(r.steps); j++ {
		if r.steps[j].State == StepPassed {
			r.set(j, StepPending, why, now)
		}
	}
}

// Pass marks a step passed. It returns an *OrderError, and leaves the
// step pending, when an earlier step has not passed; passing a step that
// has already passed changes nothing.
func (r *Readiness) Pass(name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	i, err := r.index(name)
	if err != nil {
		return err
	}
	if r.steps[i].State == StepPassed {
		return nil
	}
	now := time.Now()
	for j := 0; j < i; j++ {
		if r.steps[j].State != StepPassed {
			oe := &OrderError{Step: name, Waiting: r.steps[j].Name}
			r.set(i, StepPending, oe.Error(), now)
			return oe
		}
	}
	r.set(i, StepPassed, "", now)
	if r.readyLocked() {
		r.log.Info("ready", "steps", len(r.steps))
	}
	return nil
}

// Fail marks a step failed with err (which /readyz shows); every later
// step that had passed goes back to pending.
func (r *Readiness) Fail(name string, err error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	i, ierr := r.index(name)
	if ierr != nil {
		return ierr
	}
	msg := "failed"
	if err != nil {
		msg = err.Error()
	}
	wasReady := r.readyLocked()
	now := time.Now()
	r.set(i, StepFailed, msg, now)
	r.invalidateAfter(i, fmt.Sprintf("step %q failed", name), now)
	if wasReady {
		r.log.Warn("no longer ready", "step", name, "err", msg)
	}
	return nil
}

// Reset sends a step back to pending (for instance when the federation
// connection is lost and must be re-established); every later step that
// had passed goes back to pending too.
func (r *Readiness) Reset(name, reason string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	i, err := r.index(name)
	if err != nil {
		return err
	}
	if reason == "" {
		reason = "reset"
	}
	wasReady := r.readyLocked()
	now := time.Now()
	if r.steps[i].State != StepPending || r.steps[i].Error != "" {
		r.set(i, StepPending, reason, now)
	}
	r.invalidateAfter(i, fmt.Sprintf("step %q was reset", name), now)
	if wasReady {
		r.log.Warn("no longer ready", "step", name, "reason", reason)
	}
	return nil
}

// Ready reports whether every step has passed in order.
func (r *Readiness) Ready() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.readyLocked()
}

// Status returns a copy of every step's state.
func (r *Readiness) Status() ReadinessStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	return ReadinessStatus{Ready: r.readyLocked(), Steps: slices.Clone(r.steps)}
}
