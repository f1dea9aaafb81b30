package qpu

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prismai/mec/backend"
)

func fastConfig(url string) Config {
	return Config{URL: url, Token: testToken, Backoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, PollInterval: time.Millisecond}
}

func TestRetryOn5xxAnd429(t *testing.T) {
	var n atomic.Int32
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) {
		case 1:
			w.WriteHeader(http.StatusServiceUnavailable)
		case 2:
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
		case 3:
			w.WriteHeader(http.StatusBadGateway)
		default:
			fmt.Fprint(w, `{"id":"j","status":"Running"}`)
		}
	}))
	defer hs.Close()
	cl, _ := NewClient(fastConfig(hs.URL))
	st, err := cl.Status(t.Context(), "j")
	if err != nil || st.Phase() != StatusRunning || n.Load() != 4 {
		t.Fatalf("status %+v, err %v after %d requests", st, err, n.Load())
	}
}

func TestRetryGivesUp(t *testing.T) {
	var n atomic.Int32
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"errors":[{"code":429,"message":"job queue full"}]}`)
	}))
	defer hs.Close()
	cfg := fastConfig(hs.URL)
	cfg.Retries = 3
	cl, _ := NewClient(cfg)
	_, err := cl.Submit(t.Context(), JobRequest{ProgramID: "sampler"})
	if !errors.Is(err, ErrQueueFull) || n.Load() != 4 {
		t.Fatalf("err %v after %d requests", err, n.Load())
	}
}

func TestNoRetryOnAuthOr4xx(t *testing.T) {
	for _, code := range []int{401, 403, 400, 404} {
		var n atomic.Int32
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			w.WriteHeader(code)
		}))
		cl, _ := NewClient(fastConfig(hs.URL))
		_, err := cl.Status(t.Context(), "j")
		hs.Close()
		if n.Load() != 1 {
			t.Errorf("HTTP %d retried: %d requests", code, n.Load())
		}
		if (code == 401 || code == 403) != errors.Is(err, ErrAuth) {
			t.Errorf("HTTP %d: %v", code, err)
		}
	}
}

func TestRetryOnNetworkError(t *testing.T) {
	var n atomic.Int32
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= 2 {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close() // drop the connection without an answer
			}
			return
		}
		fmt.Fprint(w, `{"id":"j","state":{"status":"Completed"}}`)
	}))
	defer hs.Close()
	cl, _ := NewClient(fastConfig(hs.URL))
	st, err := cl.Status(t.Context(), "j")
	if err != nil || st.Phase() != StatusCompleted {
		t.Fatalf("%+v %v after %d", st, err, n.Load())
	}
}

func TestRequestTimeout(t *testing.T) {
	release := make(chan struct{})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer hs.Close()
	defer close(release)
	cfg := fastConfig(hs.URL)
	cfg.Timeout = 20 * time.Millisecond
	cfg.Retries = 2
	cl, _ := NewClient(cfg)
	start := time.Now()
	_, err := cl.Status(t.Context(), "j")
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("timeout: %v after %v", err, time.Since(start))
	}
	t.Logf("gave up after %v: %v", time.Since(start).Round(time.Millisecond), err)
}

func TestContextCancelDuringBackoff(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer hs.Close()
	cfg := fastConfig(hs.URL)
	cfg.Backoff, cfg.MaxBackoff, cfg.Retries = time.Hour, time.Hour, 10
	cl, _ := NewClient(cfg)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := cl.Status(ctx, "j")
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("%v after %v", err, time.Since(start))
	}
}

func TestBackoffGrowsWithJitter(t *testing.T) {
	cl, _ := NewClient(Config{URL: "http://127.0.0.1:1", Backoff: 100 * time.Millisecond, MaxBackoff: time.Second})
	seen := map[time.Duration]bool{}
	for a := 0; a < 6; a++ {
		capd := min(100*time.Millisecond<<a, time.Second)
		for i := 0; i < 50; i++ {
			d := cl.backoff(a)
			if d < capd/2 || d > capd {
				t.Fatalf("attempt %d: %v outside [%v, %v]", a, d, capd/2, capd)
			}
			seen[d] = true
		}
	}
	if len(seen) < 100 {
		t.Fatalf("backoff has no jitter: %d distinct waits", len(seen))
	}
}

// TestCredentialsNeverShown: a hostile endpoint echoes the request's
// headers back in its error; no error, Config formatting or Device string
// may contain a credential.
func TestCredentialsNeverShown(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"errors":[{"code":400,"message":"bad request with %s and %s"}]}`, r.Header.Get("Authorization"), r.Header.Get("Service-CRN"))
	}))
	defer hs.Close()
	cfg := fastConfig(hs.URL)
	cfg.Token = "tok-SECRET-abc123"
	cfg.Kind = KindIBM
	cfg.Instance = "crn:SECRET-instance"
	cl, _ := NewClient(cfg)
	_, err := cl.Submit(t.Context(), JobRequest{ProgramID: "sampler"})
	if err == nil {
		t.Fatal("no error")
	}
	b := NewWithClient(cfg, cl)
	for _, s := range []string{err.Error(), fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg), b.Device()} {
		if strings.Contains(s, "SECRET") {
			t.Fatalf("credential shown: %s", s)
		}
	}
	if !strings.Contains(err.Error(), "[redacted]") {
		t.Fatalf("expected a redacted message: %v", err)
	}
}

func TestTokenFilePermissions(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "token")
	if err := os.WriteFile(f, []byte("file-SECRET-token\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(f, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadTokenFile(f)
	if err == nil || !strings.Contains(err.Error(), "chmod 600") || strings.Contains(err.Error(), "SECRET") {
		t.Fatalf("0644 token file: %v", err)
	}
	if err := os.Chmod(f, 0o600); err != nil {
		t.Fatal(err)
	}
	tok, err := ReadTokenFile(f)
	if err != nil || tok != "file-SECRET-token" {
		t.Fatalf("0600 token file: %q %v", tok, err)
	}
	t.Setenv(EnvURL, "http://127.0.0.1:1")
	t.Setenv(EnvToken, "")
	t.Setenv(EnvTokenFile, f)
	cfg, err := FromEnv()
	if err != nil || cfg.Token != "file-SECRET-token" || cfg.Kind != KindMec {
		t.Fatalf("FromEnv: %v %v", cfg, err)
	}
}

func TestFromEnv(t *testing.T) {
	for _, k := range []string{EnvURL, EnvKind, EnvToken, EnvTokenFile, EnvAPIKey, EnvAPIKeyFile, EnvInstance, EnvIAMURL, EnvDevice, EnvBasis, EnvCoupling} {
		t.Setenv(k, "")
	}
	if _, err := FromEnv(); !errors.Is(err, ErrNotConfigured) {
		t.Fatalf("unset: %v", err)
	}
	t.Setenv(EnvURL, "https://qpu.example/")
	t.Setenv(EnvKind, "ibm")
	if _, err := FromEnv(); !errors.Is(err, ErrNotConfigured) {
		t.Fatalf("ibm without key: %v", err)
	}
	t.Setenv(EnvAPIKey, "k-SECRET")
	t.Setenv(EnvInstance, "crn:x")
	t.Setenv(EnvDevice, "ibm_x")
	t.Setenv(EnvCoupling, "0-1, 1-2")
	t.Setenv(EnvBasis, "rz,sx,x,ecr")
	cfg, err := FromEnv()
	if err != nil || cfg.URL != "https://qpu.example" || cfg.IAMURL != DefaultIAMURL || cfg.APIVersion != DefaultIBMAPIVersion || cfg.Target == nil ||
		cfg.Target.TwoQubit != BasisECR || len(cfg.Target.Coupling) != 2 {
		t.Fatalf("%v %+v", err, cfg.Target)
	}
	t.Setenv(EnvBasis, "rz,sx,cz")
	if _, err := FromEnv(); err == nil {
		t.Fatal("cz basis accepted")
	}
	t.Setenv(EnvKind, "dwave")
	if _, err := FromEnv(); err == nil {
		t.Fatal("unknown kind accepted")
	}
}

func TestDriverSkippedUnlessConfigured(t *testing.T) {
	t.Setenv(EnvURL, "")
	_, err := driver{}.Init()
	if !errors.Is(err, backend.ErrSkip) || !strings.Contains(err.Error(), "not configured: set MEC_QPU_URL") {
		t.Fatalf("unconfigured driver: %v", err)
	}
	t.Setenv(EnvURL, "http://127.0.0.1:1")
	t.Setenv(EnvKind, "mec")
	b, err := driver{}.Init()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := b.(backend.StateVector); ok {
		t.Fatal("the QPU claims a state vector")
	}
	if caps := backend.Capabilities(b); len(caps) != 1 || caps[0] != CapabilityName {
		t.Fatalf("capabilities %v", caps)
	}
}
