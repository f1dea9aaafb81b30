package ops

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func newTestReadiness(t *testing.T) (*Readiness, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	r, err := NewReadiness(slog.New(slog.NewJSONHandler(&buf, nil)), NodeSteps()...)
	if err != nil {
		t.Fatal(err)
	}
	return r, &buf
}

func states(r *Readiness) string {
	var b []string
	for _, s := range r.Status().Steps {
		b = append(b, s.Name+"="+string(s.State))
	}
	return strings.Join(b, " ")
}

func TestReadinessInOrder(t *testing.T) {
	r, logs := newTestReadiness(t)
	if r.Ready() {
		t.Fatal("ready with every step pending")
	}
	for i, s := range NodeSteps() {
		if err := r.Pass(s); err != nil {
			t.Fatalf("Pass(%s): %v", s, err)
		}
		if got, want := r.Ready(), i == len(NodeSteps())-1; got != want {
			t.Fatalf("after %s: ready %v, want %v (%s)", s, got, want, states(r))
		}
	}
	// Every transition is logged, as JSON lines, and readiness once.
	var passed, ready int
	for line := range strings.SplitSeq(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		switch rec["msg"] {
		case "readiness step passed":
			passed++
		case "ready":
			ready++
		}
	}
	if passed != 3 || ready != 1 {
		t.Fatalf("logged %d passes and %d ready, want 3 and 1:\n%s", passed, ready, logs)
	}
}

func TestReadinessOutOfOrderDoesNotCount(t *testing.T) {
	r, logs := newTestReadiness(t)
	err := r.Pass(StepPhaseLock)
	var oe *OrderError
	if !errors.As(err, &oe) || oe.Step != StepPhaseLock || oe.Waiting != StepConfig {
		t.Fatalf("Pass(phase-lock) first: %v, want an OrderError waiting for config", err)
	}
	if err := r.Pass(StepConfig); err != nil {
		t.Fatal(err)
	}
	if err := r.Pass(StepFederationJoin); err != nil {
		t.Fatal(err)
	}
	if r.Ready() {
		t.Fatalf("ready although phase-lock passed before the steps ahead of it (%s)", states(r))
	}
	st := r.Status().Steps[2]
	if st.State != StepPending || !strings.Contains(st.Error, "passed before") {
		t.Fatalf("phase-lock: %+v, want pending with the reason", st)
	}
	if err := r.Pass(StepPhaseLock); err != nil {
		t.Fatal(err)
	}
	if !r.Ready() {
		t.Fatalf("not ready after passing again in order (%s)", states(r))
	}
	if !strings.Contains(logs.String(), "readiness step back to pending") {
		t.Fatalf("the out-of-order pass was not logged:\n%s", logs)
	}
}

func TestReadinessFailure(t *testing.T) {
	r, logs := newTestReadiness(t)
	for _, s := range NodeSteps() {
		if err := r.Pass(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Fail(StepFederationJoin, errors.New("NATS connection lost")); err != nil {
		t.Fatal(err)
	}
	if r.Ready() {
		t.Fatal("ready after a failure")
	}
	got := states(r)
	if want := "config=passed federation-join=failed phase-lock=pending"; got != want {
		t.Fatalf("states %q, want %q", got, want)
	}
	if e := r.Status().Steps[1].Error; e != "NATS connection lost" {
		t.Fatalf("failed step's error %q", e)
	}
	// A failed step stays failed: the later step cannot pass over it.
	if err := r.Pass(StepPhaseLock); err == nil || r.Ready() {
		t.Fatalf("phase-lock passed over a failed federation-join (err %v, %s)", err, states(r))
	}
	if err := r.Pass(StepFederationJoin); err != nil {
		t.Fatal(err)
	}
	if err := r.Pass(StepPhaseLock); err != nil {
		t.Fatal(err)
	}
	if !r.Ready() {
		t.Fatalf("not ready after recovering (%s)", states(r))
	}
	if err := r.Reset(StepConfig, "configuration reloaded"); err != nil {
		t.Fatal(err)
	}
	if got := states(r); got != "config=pending federation-join=pending phase-lock=pending" {
		t.Fatalf("after reset: %s", got)
	}
	for _, want := range []string{`"msg":"readiness step failed"`, `"err":"NATS connection lost"`, `"msg":"no longer ready"`} {
		if !strings.Contains(logs.String(), want) {
			t.Fatalf("log lacks %s:\n%s", want, logs)
		}
	}
}

func TestReadinessBadInput(t *testing.T) {
	if _, err := NewReadiness(nil); err == nil {
		t.Fatal("no steps accepted")
	}
	if _, err := NewReadiness(nil, "a", "a"); err == nil {
		t.Fatal("a repeated step accepted")
	}
	if _, err := NewReadiness(nil, "a", ""); err == nil {
		t.Fatal("an empty step name accepted")
	}
	r, err := NewReadiness(nil, "a")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []func() error{
		func() error { return r.Pass("b") },
		func() error { return r.Fail("b", nil) },
		func() error { return r.Reset("b", "") },
	} {
		if err := f(); err == nil || !strings.Contains(err.Error(), `unknown step "b"`) {
			t.Fatalf("unknown step: %v", err)
		}
	}
	if err := r.Fail("a", nil); err != nil || r.Status().Steps[0].Error != "failed" {
		t.Fatalf("Fail with a nil error: %v %+v", err, r.Status())
	}
}
