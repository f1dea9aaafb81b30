package qpu

import (
	"errors"
	"strings"
	"testing"

	"github.com/prismai/mec/backend"
)

// TestEndpointURLMustBeHTTP is issue 17 item 13: MEC_QPU_URL=file:///etc/passwd
// showed the QPU as loaded. A URL that is not http(s) with a host skips
// the driver with a reason naming the variable, never a password.
func TestEndpointURLMustBeHTTP(t *testing.T) {
	t.Setenv(EnvKind, "mec")
	t.Setenv(EnvToken, "")
	t.Setenv(EnvTokenFile, "")
	for _, tc := range []struct{ url, why string }{
		{"file:///etc/passwd", `has scheme "file"`},
		{"ftp://host/x", `has scheme "ftp"`},
		{"unix:/tmp/sock", `has scheme "unix"`},
		{"localhost:8742", `has scheme "localhost"`},
		{"/api", "has no scheme"},
		{"http://", "has no host"},
		{"https://user:hunter2@:443", "has no host"},
		{"http://host:1/?x=1", "query or fragment"},
		{"http://a b", "does not parse"},
	} {
		t.Setenv(EnvURL, tc.url)
		_, err := driver{}.Init()
		if !errors.Is(err, backend.ErrSkip) || !strings.Contains(err.Error(), EnvURL) || !strings.Contains(err.Error(), tc.why) {
			t.Errorf("%s: %v, want a skip saying %q", tc.url, err, tc.why)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: password in %v", tc.url, err)
		}
		if _, err := NewClient(Config{URL: tc.url}); !errors.Is(err, ErrBadURL) {
			t.Errorf("NewClient(%s): %v", tc.url, err)
		}
	}
	for _, ok := range []string{"http://127.0.0.1:8742", "https://qpu.example.com/base", "http://[::1]:1"} {
		if err := CheckURL(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}
