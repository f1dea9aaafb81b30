// Package peertest is the test side of package peers: it turns a missing
// peer into a skip with the reason, or a failure in CI. It is imported by
// tests only, so that the testing package stays out of the mec binary.
//
// Layer: test tooling; only tests import it. It imports no other mec
// package.
package peertest

import (
	"os"
	"testing"
)

// Require skips t with a clear message when err is non-nil, unless
// MEC_REQUIRE_PEERS=1, in which case the missing peer fails the test
// (CI sets it, so a peer can never silently drop out of the checks).
func Require(t testing.TB, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("MEC_REQUIRE_PEERS") == "1" {
		t.Fatalf("peer required (MEC_REQUIRE_PEERS=1) but unavailable: %v", err)
	}
	t.Skipf("peer unavailable, skipping: %v", err)
}
