package qpu

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Client speaks the job API. The one implementation, HTTPClient, serves both
// IBM Qiskit Runtime and mec's own endpoint; tests may substitute others.
type Client interface {
	// Submit creates a job and returns its id.
	Submit(ctx context.Context, req JobRequest) (string, error)
	// Status returns the job's current status.
	Status(ctx context.Context, id string) (JobStatus, error)
	// Result returns a completed job's result.
	Result(ctx context.Context, id string) (*Result, error)
	// Cancel asks for the job to be cancelled.
	Cancel(ctx context.Context, id string) error
}

// HTTPClient is a Client over HTTP with timeouts, retries with exponential
// backoff and jitter on 429, 5xx and network errors (never on other 4xx
// answers, authentication failures included), and (kind ibm) IAM token
// exchange with caching until a minute before expiry. A POST retried after a
// network error may create a second job if the first request did arrive;
// endpoints answer 429 before queueing, so that case needs a broken
// connection. Credentials are redacted from every error. It is safe for
// concurrent use.
type HTTPClient struct {
	cfg  Config
	http *http.Client

	mu      sync.Mutex
	iam     string // current IAM access token
	iamExp  time.Time
	secrets []string // values redacted from every error message
}

// NewClient returns an HTTPClient for cfg.
func NewClient(cfg Config) (*HTTPClient, error) {
	if cfg.URL == "" {
		return nil, fmt.Errorf("%w: no URL", ErrNotConfigured)
	}
	if err := CheckURL(cfg.URL); err != nil {
		return nil, err
	}
	cfg.URL = strings.TrimRight(cfg.URL, "/")
	if cfg.Kind == "" {
		cfg.Kind = KindMec
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 50 * time.Millisecond
	}
	if cfg.Retries == 0 {
		cfg.Retries = 4
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 200 * time.Millisecond
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 5 * time.Second
	}
	if cfg.Kind == KindIBM && cfg.IAMURL == "" {
		cfg.IAMURL = DefaultIAMURL
	}
	if cfg.Kind == KindIBM && cfg.APIVersion == "" {
		cfg.APIVersion = DefaultIBMAPIVersion
	}
	hc := &http.Client{Timeout: cfg.Timeout}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("qpu: CA file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("qpu: CA file %s holds no PEM certificate", cfg.CAFile)
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		hc.Transport = tr
	}
	c := &HTTPClient{cfg: cfg, http: hc}
	for _, s := range []string{cfg.Token, cfg.APIKey, cfg.Instance} {
		if s != "" {
			c.secrets = append(c.secrets, s)
		}
	}
	return c, nil
}

// Config returns the client's configuration.
func (c *HTTPClient) Config() Config { return c.cfg }

// redact removes every credential from s.
func (c *HTTPClient) redact(s string) string {
	c.mu.Lock()
	secrets := append([]string(nil), c.secrets...)
	c.mu.Unlock()
	for _, v := range secrets {
		if len(v) >= 4 {
			s = strings.ReplaceAll(s, v, "[redacted]")
		}
	}
	return s
}

// redactErr rewrites err's message without credentials, keeping its chain
// for errors.Is.
func (c *HTTPClient) redactErr(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if r := c.redact(msg); r != msg {
		return &redactedError{msg: r, err: err}
	}
	return err
}

type redactedError struct {
	msg string
	err error
}

// Error is the redacted message.
func (e *redactedError) Error() string { return e.msg }

// Unwrap keeps the original chain for errors.Is and errors.As.
func (e *redactedError) Unwrap() error { return e.err }

// Submit implements Client.
func (c *HTTPClient) Submit(ctx context.Context, req JobRequest) (string, error) {
	if req.Backend == "" {
		req.Backend = c.cfg.Device
	}
	body, err := json.Marshal(req)
	if err != nil {
		return "", fmt.Errorf("qpu: encoding job: %w", err)
	}
	var out JobCreated
	if err := c.do(ctx, http.MethodPost, "/api/v1/jobs", body, &out); err != nil {
		return "", err
	}
	if out.ID == "" {
		return "", fmt.Errorf("qpu: POST /api/v1/jobs: answer has no job id")
	}
	return out.ID, nil
}

// Status implements Client.
func (c *HTTPClient) Status(ctx context.Context, id string) (JobStatus, error) {
	var st JobStatus
	err := c.do(ctx, http.MethodGet, "/api/v1/jobs/"+url.PathEscape(id), nil, &st)
	return st, err
}

// Result implements Client.
func (c *HTTPClient) Result(ctx context.Context, id string) (*Result, error) {
	var res *Result
	err := c.doRaw(ctx, http.MethodGet, "/api/v1/jobs/"+url.PathEscape(id)+"/results", nil, func(r io.Reader) error {
		var err error
		res, err = DecodeResult(r)
		return err
	})
	return res, err
}

// Cancel implements Client.
func (c *HTTPClient) Cancel(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodPost, "/api/v1/jobs/"+url.PathEscape(id)+"/cancel", nil, nil)
}

func (c *HTTPClient) do(ctx context.Context, method, path string, body []byte, out any) error {
	return c.doRaw(ctx, method, path, body, func(r io.Reader) error {
		if out == nil {
			return nil
		}
		if err := json.NewDecoder(r).Decode(out); err != nil {
			return fmt.Errorf("qpu: %s %s: decoding answer: %w", method, path, err)
		}
		return nil
	})
}

// doRaw sends one request with retries and hands a 2xx body to read.
func (c *HTTPClient) doRaw(ctx context.Context, method, path string, body []byte, read func(io.Reader) error) error {
	var last error
	for attempt := 0; ; attempt++ {
		retry, wait, err := c.once(ctx, method, path, body, read)
		if err == nil {
			return nil
		}
		last = c.redactErr(err)
		if !retry || attempt >= c.cfg.Retries || ctx.Err() != nil {
			if ctx.Err() != nil && !errors.Is(last, ctx.Err()) {
				return fmt.Errorf("%w (last error: %v)", ctx.Err(), last)
			}
			return last
		}
		if wait <= 0 {
			wait = c.backoff(attempt)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), last)
		case <-t.C:
		}
	}
}

// backoff is the wait before retry attempt+1: full jitter over an
// exponentially growing cap.
func (c *HTTPClient) backoff(attempt int) time.Duration {
	capd := c.cfg.Backoff << min(attempt, 20)
	if capd > c.cfg.MaxBackoff || capd <= 0 {
		capd = c.cfg.MaxBackoff
	}
	return capd/2 + rand.N(capd/2+1)
}

// once sends one request; it reports whether the failure may be retried and
// any wait the server asked for (Retry-After).
func (c *HTTPClient) once(ctx context.Context, method, path string, body []byte, read func(io.Reader) error) (bool, time.Duration, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.cfg.URL+path, rd)
	if err != nil {
		return false, 0, fmt.Errorf("qpu: %s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if err := c.authorize(ctx, req); err != nil {
		return false, 0, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return false, 0, fmt.Errorf("qpu: %s %s: %w", method, path, ctx.Err())
		}
		return true, 0, fmt.Errorf("qpu: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		if err := read(io.LimitReader(resp.Body, 1<<30)); err != nil {
			return false, 0, err
		}
		return false, 0, nil
	}
	msg := errorMessage(resp)
	herr := &HTTPError{Method: method, Path: path, StatusCode: resp.StatusCode, Message: c.redact(msg)}
	if resp.StatusCode == http.StatusUnauthorized && c.cfg.Kind == KindIBM && c.cfg.APIKey != "" {
		c.mu.Lock()
		c.iam = "" // token may have expired: exchange again, once
		c.mu.Unlock()
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return true, retryAfter(resp.Header.Get("Retry-After"), c.cfg.MaxBackoff), herr
	}
	return false, 0, herr
}

// errorMessage extracts the message of an error answer.
func errorMessage(resp *http.Response) string {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var e apiError
	if json.Unmarshal(b, &e) == nil && len(e.Errors) > 0 {
		msgs := make([]string, len(e.Errors))
		for i, it := range e.Errors {
			msgs[i] = it.Message
		}
		return strings.Join(msgs, "; ")
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return http.StatusText(resp.StatusCode)
	}
	return truncate(s, 300)
}

func retryAfter(v string, max time.Duration) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return min(time.Duration(s)*time.Second, max)
	}
	return 0
}

// authorize sets the Authorization (and, for IBM, Service-CRN and
// IBM-API-Version) headers.
func (c *HTTPClient) authorize(ctx context.Context, req *http.Request) error {
	tok := c.cfg.Token
	if c.cfg.Kind == KindIBM {
		if c.cfg.APIKey != "" {
			t, err := c.iamToken(ctx)
			if err != nil {
				return err
			}
			tok = t
		}
		req.Header.Set("Service-CRN", c.cfg.Instance)
		if c.cfg.APIVersion != "" {
			req.Header.Set("IBM-API-Version", c.cfg.APIVersion)
		}
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return nil
}

// iamToken returns a valid IAM access token, exchanging the API key when
// there is none or it expires within a minute.
func (c *HTTPClient) iamToken(ctx context.Context) (string, error) {
	c.mu.Lock()
	if c.iam != "" && time.Until(c.iamExp) > time.Minute {
		t := c.iam
		c.mu.Unlock()
		return t, nil
	}
	c.mu.Unlock()
	form := url.Values{"grant_type": {"urn:ibm:params:oauth:grant-type:apikey"}, "apikey": {c.cfg.APIKey}}
	var last error
	for attempt := 0; attempt <= max(c.cfg.Retries, 0); attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return "", fmt.Errorf("qpu: IAM token exchange: %w", ctx.Err())
			case <-time.After(c.backoff(attempt - 1)):
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.IAMURL, strings.NewReader(form.Encode()))
		if err != nil {
			return "", fmt.Errorf("qpu: IAM token exchange: %w", c.redactErr(err))
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		resp, err := c.http.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return "", fmt.Errorf("qpu: IAM token exchange: %w", ctx.Err())
			}
			last = fmt.Errorf("qpu: IAM token exchange: %w", c.redactErr(err))
			continue
		}
		var out struct {
			AccessToken string `json:"access_token"`
			ExpiresIn   int64  `json:"expires_in"`
		}
		status := resp.StatusCode
		var msg string
		if status == http.StatusOK {
			err = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&out)
		} else {
			msg = c.redact(errorMessage(resp))
		}
		resp.Body.Close()
		switch {
		case status == http.StatusOK && err == nil && out.AccessToken != "":
			c.mu.Lock()
			c.iam = out.AccessToken
			c.secrets = append(c.secrets, out.AccessToken)
			if out.ExpiresIn <= 0 {
				out.ExpiresIn = 3600
			}
			c.iamExp = time.Now().Add(time.Duration(out.ExpiresIn) * time.Second)
			c.mu.Unlock()
			return out.AccessToken, nil
		case status == http.StatusOK:
			return "", fmt.Errorf("%w: IAM token exchange: answer has no access_token", ErrAuth)
		case status == http.StatusTooManyRequests || status >= 500:
			last = fmt.Errorf("qpu: IAM token exchange: HTTP %d: %s", status, msg)
			continue
		default:
			return "", fmt.Errorf("%w: IAM token exchange: HTTP %d: %s", ErrAuth, status, msg)
		}
	}
	return "", last
}

// Run submits one circuit (OpenQASM 3) for shots shots, waits for the job and
// returns its counts (bit strings, classical bit 0 rightmost). A nil seed
// leaves the endpoint's randomness alone. When ctx is cancelled while the
// job is pending, Run asks the endpoint to cancel it.
func Run(ctx context.Context, c Client, qasm3 string, shots int, seed *uint64, poll time.Duration) (map[string]int, error) {
	if shots < 1 {
		return nil, fmt.Errorf("qpu: %d shots", shots)
	}
	req := JobRequest{ProgramID: "sampler", Params: JobParams{Pubs: []Pub{{Circuit: qasm3, Shots: shots}}, Version: 2}}
	if seed != nil {
		req.Params.Options = &JobOptions{Simulator: &SimulatorOptions{SeedSimulator: seed}}
	}
	id, err := c.Submit(ctx, req)
	if err != nil {
		return nil, err
	}
	if poll <= 0 {
		poll = 50 * time.Millisecond
	}
	wait := poll
	for {
		st, err := c.Status(ctx, id)
		if err != nil {
			if ctx.Err() != nil {
				cancelDetached(c, id)
			}
			return nil, fmt.Errorf("qpu: job %s: %w", id, err)
		}
		switch st.Phase() {
		case StatusCompleted:
			res, err := c.Result(ctx, id)
			if err != nil {
				return nil, fmt.Errorf("qpu: job %s: %w", id, err)
			}
			if len(res.Pubs) != 1 {
				return nil, fmt.Errorf("qpu: job %s: %d pub results, want 1", id, len(res.Pubs))
			}
			return res.Pubs[0].Counts()
		case StatusFailed, StatusCancelled:
			return nil, &JobError{ID: id, Status: st.Phase(), Reason: st.State.Reason}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			cancelDetached(c, id)
			return nil, fmt.Errorf("qpu: job %s: %w", id, ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// cancelDetached asks for a job's cancellation after the caller's context
// ended, bounded by its own short timeout.
func cancelDetached(c Client, id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = c.Cancel(ctx, id)
}
