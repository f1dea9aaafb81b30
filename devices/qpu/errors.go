package qpu

import (
	"errors"
	"fmt"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrAuth reports rejected or missing credentials (HTTP 401/403, or a
	// failed IAM token exchange). It is never retried.
	ErrAuth = errors.New("qpu: authentication failed")
	// ErrQueueFull reports that the endpoint would not take another job
	// (HTTP 429 after every retry).
	ErrQueueFull = errors.New("qpu: job queue full")
	// ErrJobFailed reports a job that ended in the Failed state.
	ErrJobFailed = errors.New("qpu: job failed")
	// ErrJobCancelled reports a job that ended in the Cancelled state.
	ErrJobCancelled = errors.New("qpu: job cancelled")
	// ErrNotConfigured reports a missing setting.
	ErrNotConfigured = errors.New("qpu: not configured")
)

// HTTPError is an unexpected HTTP answer of the job API. Message is the
// server's own message with any credential redacted.
type HTTPError struct {
	Method, Path string
	StatusCode   int
	Message      string
}

// Error describes the request and the answer.
func (e *HTTPError) Error() string {
	return fmt.Sprintf("qpu: %s %s: HTTP %d: %s", e.Method, e.Path, e.StatusCode, e.Message)
}

// Is makes HTTPError match ErrAuth for 401/403 and ErrQueueFull for 429.
func (e *HTTPError) Is(target error) bool {
	switch target {
	case ErrAuth:
		return e.StatusCode == 401 || e.StatusCode == 403
	case ErrQueueFull:
		return e.StatusCode == 429
	}
	return false
}

// JobError reports a job that failed or was cancelled.
type JobError struct {
	ID     string
	Status string // StatusFailed or StatusCancelled
	Reason string
}

// Error names the job, its final state and the reason.
func (e *JobError) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("qpu: job %s %s", e.ID, e.Status)
	}
	return fmt.Sprintf("qpu: job %s %s: %s", e.ID, e.Status, e.Reason)
}

// Is makes JobError match ErrJobFailed or ErrJobCancelled.
func (e *JobError) Is(target error) bool {
	return (target == ErrJobFailed && e.Status == StatusFailed) ||
		(target == ErrJobCancelled && e.Status == StatusCancelled)
}
