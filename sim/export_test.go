package sim

import "context"

// NewCountdownCtx returns a context whose Err reports Canceled from its
// n-th call (countdownCtx), for the tests of package sim_test.
func NewCountdownCtx(n int) context.Context {
	return &countdownCtx{Context: context.Background(), n: n}
}
