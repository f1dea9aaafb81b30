package qpu

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"
)

// allocBytes is the heap allocated by this process so far (cumulative, so
// a bound on what a stretch of work allocated bounds its peak too).
func allocBytes() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// serverWith starts a Server behind httptest on loopback and returns it
// and an HTTPClient for token (no retries, so limits are seen as they are).
func serverWith(t *testing.T, opts ServerOptions, token string) (*Server, *HTTPClient, string) {
	t.Helper()
	srv, err := NewServer(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { hs.Close(); srv.Close() })
	cl, err := NewClient(Config{URL: hs.URL, Kind: KindMec, Token: token, Retries: -1, PollInterval: 2 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return srv, cl, hs.URL
}

// waitJob waits (bounded) until job id is in a final state and returns
// its status.
func waitJob(t *testing.T, cl Client, id string, bound time.Duration) JobStatus {
	t.Helper()
	deadline := time.Now().Add(bound)
	for {
		st, err := cl.Status(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if finished(st.Phase()) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still %s (%s) after %v", id, st.Phase(), st.State.Reason, bound)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// jobDone returns the channel closed when the server's worker is done
// with job id.
func jobDone(t *testing.T, srv *Server, id string) chan struct{} {
	t.Helper()
	srv.mu.Lock()
	defer srv.mu.Unlock()
	j := srv.jobs[id]
	if j == nil {
		t.Fatalf("no job %s", id)
	}
	return j.done
}

func sampler(pubs ...Pub) JobRequest {
	return JobRequest{ProgramID: "sampler", Params: JobParams{Pubs: pubs, Version: 2}}
}

// gateBomb is issue 17 item 4's request: gate gN a { gN-1 a; gN-1 a; }
// nested depth deep, called once: 2^depth operations from under 1 KB.
func gateBomb(depth int) string {
	var b strings.Builder
	b.WriteString("OPENQASM 3.0;\nqubit[1] q;\nbit[1] c;\ngate g0 a { U(0.1, 0.2, 0.3) a; }\n")
	for k := 1; k <= depth; k++ {
		fmt.Fprintf(&b, "gate g%d a { g%d a; g%d a; }\n", k, k-1, k-1)
	}
	fmt.Fprintf(&b, "g%d q[0];\nc[0] = measure q[0];\n", depth)
	return b.String()
}

// TestServerGateBomb is issue 17 item 4: the 951-byte nested-gate request
// grew the server to 5 GB inside the handler. The handler must answer at
// once (it does not parse), and the job must fail on the operations limit,
// naming --max-ops, with little memory and in bounded time.
func TestServerGateBomb(t *testing.T) {
	srv, cl, _ := serverWith(t, ServerOptions{Token: testToken}, testToken)
	src := gateBomb(30)
	t.Logf("request circuit: %d bytes", len(src))
	before := allocBytes()
	start := time.Now()
	id, err := cl.Submit(t.Context(), sampler(Pub{Circuit: src, Shots: 10}))
	if err != nil {
		t.Fatal(err)
	}
	st := waitJob(t, cl, id, 20*time.Second)
	took, alloc := time.Since(start), allocBytes()-before
	t.Logf("job %s in %v, %d KiB allocated: %s", st.Phase(), took.Round(time.Millisecond), alloc>>10, st.State.Reason)
	if st.Phase() != StatusFailed || !strings.Contains(st.State.Reason, "--max-ops") || !strings.Contains(st.State.Reason, "pub 0") {
		t.Fatalf("job %s: %q", st.Phase(), st.State.Reason)
	}
	// Bounds: 64 MiB of allocation (the bomb would need 2^30 ops, about
	// 200 GiB) and 20 s (it used to grow for minutes).
	if alloc > 64<<20 {
		t.Errorf("the bomb allocated %d MiB", alloc>>20)
	}
	<-jobDone(t, srv, id)
}

// TestServerPubAndResultLimits is issue 17 item 5: 100 pubs × 10^6 shots
// peaked at 5.2 GB and held 694 MB. Pubs per job, shots × qubits and
// result bytes per job are bounded, each error naming its flag, and the
// jobs and result bytes remembered are bounded.
func TestServerPubAndResultLimits(t *testing.T) {
	srv, cl, _ := serverWith(t, ServerOptions{Token: testToken, MaxJobs: 4, MaxRetainedBytes: 4000}, testToken)
	_, small16, _ := serverWith(t, ServerOptions{MaxResultBytes: 16 << 20}, "")
	circ := "OPENQASM 3.0; include \"stdgates.inc\"; qubit[20] q; bit[20] c; h q; c = measure q;"
	oneBit := "OPENQASM 3.0; include \"stdgates.inc\"; qubit[20] q; bit[1] c; h q; c[0] = measure q[0];"
	many := make([]Pub, 100)
	for i := range many {
		many[i] = Pub{Circuit: circ, Shots: 1_000_000}
	}
	manyOneBit := make([]Pub, 16)
	for i := range manyOneBit {
		manyOneBit[i] = Pub{Circuit: oneBit, Shots: 1_000_000}
	}
	before := allocBytes()
	_, err := cl.Submit(t.Context(), sampler(many...))
	var he *HTTPError
	if !errors.As(err, &he) || he.StatusCode != 400 || !strings.Contains(he.Message, "--max-pubs") {
		t.Fatalf("100 pubs: %v", err)
	}
	// 16 pubs of 10^6 shots on 20 qubits: 3.2×10^8 shots × qubits.
	id, err := cl.Submit(t.Context(), sampler(manyOneBit...))
	if err != nil {
		t.Fatal(err)
	}
	st := waitJob(t, cl, id, 20*time.Second)
	if st.Phase() != StatusFailed || !strings.Contains(st.State.Reason, "--max-shot-qubits") {
		t.Fatalf("16 × 10^6 shots: %s %q", st.Phase(), st.State.Reason)
	}
	// 3 pubs of 10^6 shots on 20 qubits: within shots × qubits, but the
	// samples would take about 33 MB, over a 16 MiB result limit.
	id, err = small16.Submit(t.Context(), sampler(many[:3]...))
	if err != nil {
		t.Fatal(err)
	}
	st = waitJob(t, small16, id, 20*time.Second)
	if st.Phase() != StatusFailed || !strings.Contains(st.State.Reason, "--max-result-bytes") {
		t.Fatalf("3 × 10^6 shots: %s %q", st.Phase(), st.State.Reason)
	}
	alloc := allocBytes() - before
	t.Logf("three refused jobs: %d KiB allocated", alloc>>10)
	if alloc > 64<<20 {
		t.Errorf("refusing the jobs allocated %d MiB", alloc>>20)
	}
	// Remembered jobs: at most 4, and results of at most 4000 bytes
	// together (each of these is about 1.3 KB).
	small := "OPENQASM 3.0; include \"stdgates.inc\"; qubit[2] q; bit[2] c; h q; c = measure q;"
	var ids []string
	for i := 0; i < 6; i++ {
		id, err := cl.Submit(t.Context(), sampler(Pub{Circuit: small, Shots: 200}))
		if err != nil {
			t.Fatal(err)
		}
		waitJob(t, cl, id, 20*time.Second)
		ids = append(ids, id)
	}
	srv.mu.Lock()
	n, retained, sum := len(srv.jobs), srv.retained, 0
	for _, j := range srv.jobs {
		j.mu.Lock()
		sum += len(j.result)
		j.mu.Unlock()
	}
	srv.mu.Unlock()
	if n > 4 || retained > 4000 || retained != int64(sum) {
		t.Fatalf("%d jobs remembered holding %d result bytes (counted %d)", n, sum, retained)
	}
	if _, err := cl.Result(t.Context(), ids[5]); err != nil {
		t.Fatalf("the newest job's result: %v", err)
	}
	if _, err := cl.Status(t.Context(), ids[0]); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("the oldest job was not forgotten: %v", err)
	}
}

// longCircuit is a 20-qubit circuit of about 12,000 gates: seconds of
// simulation inside one fused run (no measurement until the end).
func longCircuit() string {
	var b strings.Builder
	b.WriteString("OPENQASM 3.0;\ninclude \"stdgates.inc\";\nqubit[20] q;\nbit[20] c;\n")
	for layer := 0; layer < 300; layer++ {
		for k := 0; k < 20; k++ {
			fmt.Fprintf(&b, "rx(%d.%d) q[%d];\n", layer%3, k, k)
		}
		for k := 0; k+1 < 20; k++ {
			fmt.Fprintf(&b, "cx q[%d], q[%d];\n", k, k+1)
		}
	}
	b.WriteString("c = measure q;\n")
	return b.String()
}

// longRun is a 4-qubit circuit of 2n gates with no measurement until the
// end: one long run of small gates, where gate fusion and lowering, not
// the state, take the time.
func longRun(n int) string {
	var b strings.Builder
	b.WriteString("OPENQASM 3.0;\ninclude \"stdgates.inc\";\nqubit[4] q;\nbit[4] c;\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "rx(0.%d) q[%d];\ncx q[%d], q[%d];\n", i%10, i%4, i%4, (i+1)%4)
	}
	b.WriteString("c = measure q;\n")
	return b.String()
}

// TestServerCancelStopsWork is issue 17 item 6: cancel answered 204 but
// the work went on (fusion never checked the context) and the next job
// stayed queued. The worker must be done with a cancelled job within a
// second or so, and the next job must run: on a 20-qubit state (gates
// are slow) and on a long run of small gates (fusion is slow).
func TestServerCancelStopsWork(t *testing.T) {
	long := map[string]string{"20 qubits": longCircuit(), "long run": longRun(120_000)}
	for _, name := range []string{"20 qubits", "long run"} {
		t.Run(name, func(t *testing.T) { testCancelStopsWork(t, long[name]) })
	}
}

func testCancelStopsWork(t *testing.T, circ string) {
	srv, cl, _ := serverWith(t, ServerOptions{Token: testToken, Workers: 1}, testToken)
	idA, err := cl.Submit(t.Context(), sampler(Pub{Circuit: circ, Shots: 100}))
	if err != nil {
		t.Fatal(err)
	}
	small := "OPENQASM 3.0; include \"stdgates.inc\"; qubit[2] q; bit[2] c; h q; c = measure q;"
	idB, err := cl.Submit(t.Context(), sampler(Pub{Circuit: small, Shots: 100}))
	if err != nil {
		t.Fatal(err)
	}
	// Wait until A is simulating, then let it work a little.
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		st, err := cl.Status(t.Context(), idA)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(st.State.Reason, "simulating") {
			break
		}
		if finished(st.Phase()) || time.Now().After(deadline) {
			t.Fatalf("job A: %s %q", st.Phase(), st.State.Reason)
		}
	}
	time.Sleep(300 * time.Millisecond)
	done := jobDone(t, srv, idA)
	select {
	case <-done:
		t.Fatal("job A finished before it was cancelled: make its circuit longer")
	default:
	}
	start := time.Now()
	if err := cl.Cancel(t.Context(), idA); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the worker still runs job A 30 s after it was cancelled")
	}
	stopped := time.Since(start)
	t.Logf("the worker stopped job A %v after the cancel", stopped.Round(time.Millisecond))
	// The target is a second (it is milliseconds on an idle machine); the
	// bound leaves room for a loaded one.
	if stopped > 3*time.Second {
		t.Errorf("job A ran on for %v after the cancel", stopped)
	}
	if st := waitJob(t, cl, idB, 20*time.Second); st.Phase() != StatusCompleted {
		t.Fatalf("job B after A's cancel: %s %q", st.Phase(), st.State.Reason)
	}
	if st, _ := cl.Status(t.Context(), idA); st.Phase() != StatusCancelled {
		t.Fatalf("job A: %s", st.Phase())
	}
}

// TestServerJobTimeLimit: a job that runs past MaxJobTime fails, naming
// --max-job-time, and the worker is freed.
func TestServerJobTimeLimit(t *testing.T) {
	srv, cl, _ := serverWith(t, ServerOptions{MaxJobTime: 300 * time.Millisecond}, "")
	id, err := cl.Submit(t.Context(), sampler(Pub{Circuit: longCircuit(), Shots: 100}))
	if err != nil {
		t.Fatal(err)
	}
	st := waitJob(t, cl, id, 30*time.Second)
	if st.Phase() != StatusFailed || !strings.Contains(st.State.Reason, "--max-job-time") {
		t.Fatalf("%s %q", st.Phase(), st.State.Reason)
	}
	<-jobDone(t, srv, id)
}

// TestServerJobOwnership is issue 17 item 7 (ownership): with per-client
// tokens a client can read, cancel or delete only its own jobs; another
// client's job is "not found".
func TestServerJobOwnership(t *testing.T) {
	clients := map[string]string{"alice": "alice-token-0123456789", "bob": "bob-token-9876543210ab"}
	_, alice, url := serverWith(t, ServerOptions{Clients: clients}, clients["alice"])
	bob, _ := NewClient(Config{URL: url, Token: clients["bob"], Retries: -1})
	nobody, _ := NewClient(Config{URL: url, Retries: -1})
	small := "OPENQASM 3.0; include \"stdgates.inc\"; qubit[2] q; bit[2] c; h q; c = measure q;"
	id, err := alice.Submit(t.Context(), sampler(Pub{Circuit: small, Shots: 100}))
	if err != nil {
		t.Fatal(err)
	}
	waitJob(t, alice, id, 20*time.Second)
	is404 := func(what string, err error) {
		var he *HTTPError
		if !errors.As(err, &he) || he.StatusCode != 404 {
			t.Errorf("bob %s alice's job: %v, want 404", what, err)
		}
	}
	_, err = bob.Status(t.Context(), id)
	is404("reads", err)
	_, err = bob.Result(t.Context(), id)
	is404("fetches the result of", err)
	is404("cancels", bob.Cancel(t.Context(), id))
	is404("deletes", bob.do(t.Context(), http.MethodDelete, "/api/v1/jobs/"+id, nil, nil))
	if _, err := nobody.Status(t.Context(), id); !errors.Is(err, ErrAuth) {
		t.Errorf("no token: %v", err)
	}
	if _, err := alice.Result(t.Context(), id); err != nil {
		t.Fatalf("alice's own result: %v", err)
	}
	if err := alice.do(t.Context(), http.MethodDelete, "/api/v1/jobs/"+id, nil, nil); err != nil {
		t.Fatalf("alice deletes her job: %v", err)
	}
	// A bad clients file is refused with the line, never the token.
	dir := t.TempDir()
	for _, tc := range []struct{ text, want string }{
		{"alice short\n", "at least 16"},
		{"alice alice-token-0123456789\nalice another-token-0123456\n", "listed twice"},
		{"alice alice-token-0123456789\nbob alice-token-0123456789\n", "same token"},
		{"al ice tok-0123456789abcdef\n", "NAME TOKEN"},
		{"# nobody\n", "no client"},
	} {
		p := filepath.Join(dir, "clients")
		if err := os.WriteFile(p, []byte(tc.text), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := ReadClientsFile(p)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "0123456789") {
			t.Errorf("%q: %v, want %q", tc.text, err, tc.want)
		}
	}
	p := filepath.Join(dir, "clients")
	os.WriteFile(p, []byte("# lab\nalice alice-token-0123456789\n\nbob\tbob-token-9876543210ab\n"), 0o600)
	got, err := ReadClientsFile(p)
	if err != nil || len(got) != 2 || got["bob"] != clients["bob"] {
		t.Fatalf("clients file: %v %v", got, err)
	}
	os.Chmod(p, 0o640)
	if _, err := ReadClientsFile(p); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("group-readable clients file: %v", err)
	}
}

// TestServerBodyLimit: a request body over MaxRequestBytes is refused with
// 413, naming --max-request-bytes.
func TestServerBodyLimit(t *testing.T) {
	_, _, url := serverWith(t, ServerOptions{MaxRequestBytes: 1000}, "")
	body := `{"program_id":"sampler","params":{"version":2,"pubs":[["` + strings.Repeat("x", 2000) + `"]]}}`
	resp, err := http.Post(url+"/api/v1/jobs", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(msg), "--max-request-bytes") {
		t.Fatalf("%d %s", resp.StatusCode, msg)
	}
}

// selfSigned writes a self-signed certificate for 127.0.0.1 and its key
// (PEM) into dir and returns the files and the tls.Certificate.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, cert tls.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mec serve qpu test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	cp := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	kp := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	if err := os.WriteFile(certFile, cp, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, kp, 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err = tls.X509KeyPair(cp, kp)
	if err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, cert
}

// serve runs srv.ListenAndServe on addr until the test ends; it returns
// the bound address, or the error ListenAndServe returned at once.
func serve(t *testing.T, srv *Server, addr string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	bound := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- srv.ListenAndServe(ctx, addr, func(a net.Addr) { bound <- a.String() }) }()
	select {
	case a := <-bound:
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("shutdown: %v", err)
			}
		})
		return a, nil
	case err := <-done:
		cancel()
		return "", err
	}
}

// TestServerListenPolicy is issue 17 item 7: an address that is not
// loopback is refused without TLS and tokens, unless Insecure.
func TestServerListenPolicy(t *testing.T) {
	_, _, cert := selfSigned(t, t.TempDir())
	tlsCfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	for _, tc := range []struct {
		name string
		opts ServerOptions
		ok   bool
		want string
	}{
		{"nothing", ServerOptions{}, false, "no TLS (--tls-cert, --tls-key) and no tokens"},
		{"token only", ServerOptions{Token: testToken}, false, "no TLS"},
		{"TLS only", ServerOptions{TLS: tlsCfg}, false, "no tokens"},
		{"insecure", ServerOptions{Insecure: true}, true, ""},
		{"TLS and tokens", ServerOptions{TLS: tlsCfg, Clients: map[string]string{"a": "a-token-0123456789ab"}}, true, ""},
	} {
		srv, err := NewServer(t.Context(), tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		_, err = serve(t, srv, "0.0.0.0:0")
		if tc.ok != (err == nil) || (err != nil && (!errors.Is(err, ErrInsecureListen) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "--insecure"))) {
			t.Errorf("%s on 0.0.0.0: %v", tc.name, err)
		}
		if err != nil {
			srv.Close()
		}
	}
	// Loopback needs neither.
	srv, err := NewServer(t.Context(), ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := serve(t, srv, "127.0.0.1:0"); err != nil {
		t.Fatalf("loopback: %v", err)
	}
}

// TestServerTLSHybridKEM: over TLS the key exchange is the hybrid
// post-quantum X25519MLKEM768 (Go's default), and the qpu client runs a
// job against a self-signed server through Config.CAFile.
func TestServerTLSHybridKEM(t *testing.T) {
	certFile, _, cert := selfSigned(t, t.TempDir())
	srv, err := NewServer(t.Context(), ServerOptions{Token: testToken, TLS: &tls.Config{Certificates: []tls.Certificate{cert}},
		ErrorLog: log.New(io.Discard, "", 0)}) // the handshakes below fail on purpose
	if err != nil {
		t.Fatal(err)
	}
	addr, err := serve(t, srv, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool})
	if err != nil {
		t.Fatal(err)
	}
	cs := conn.ConnectionState()
	conn.Close()
	t.Logf("TLS %x, key exchange %v, cipher %s", cs.Version, cs.CurveID, tls.CipherSuiteName(cs.CipherSuite))
	if cs.Version != tls.VersionTLS13 || cs.CurveID != tls.X25519MLKEM768 {
		t.Fatalf("TLS %x with key exchange %v, want TLS 1.3 with X25519MLKEM768", cs.Version, cs.CurveID)
	}
	// Plain HTTP to the TLS port gets nowhere.
	if resp, err := http.Get("http://" + addr + "/api/v1/jobs/x"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("plain HTTP answered %d", resp.StatusCode)
		}
	}
	b, err := New(Config{URL: "https://" + addr, Kind: KindMec, Token: testToken, CAFile: certFile, PollInterval: 2 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	seed := uint64(5)
	counts, err := b.SampleCircuit(t.Context(), withMeasure(ghz(3)), 1000, &seed)
	if err != nil {
		t.Fatal(err)
	}
	if counts["000"]+counts["111"] != 1000 {
		t.Fatalf("GHZ over TLS: %v", counts)
	}
	// Without the CA the client refuses the certificate.
	nb, _ := New(Config{URL: "https://" + addr, Token: testToken, Retries: -1})
	if _, err := nb.SampleCircuit(t.Context(), withMeasure(ghz(2)), 10, nil); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("untrusted certificate: %v", err)
	}
}

// TestServerSlowConnections is issue 17 item 8: 500 authenticated
// connections sending one byte a second stayed open indefinitely. Here 40
// connections trickle their headers or body: at most MaxConns are held,
// the rest closed at once, and every one is closed by ReadTimeout (plus
// margin); the server then still answers.
func TestServerSlowConnections(t *testing.T) {
	const conns, maxConns = 40, 8
	readTimeout := 2 * time.Second
	srv, err := NewServer(t.Context(), ServerOptions{Token: testToken, MaxConns: maxConns,
		ReadHeaderTimeout: readTimeout / 2, ReadTimeout: readTimeout, IdleTimeout: readTimeout})
	if err != nil {
		t.Fatal(err)
	}
	addr, err := serve(t, srv, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	closedAfter := make([]time.Duration, conns)
	var wg sync.WaitGroup
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				closedAfter[i] = time.Since(start)
				return
			}
			defer c.Close()
			head := "POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + testToken + "\r\nContent-Length: 100000\r\n\r\n"
			if i%2 == 0 {
				head = head[:20] // slow headers
			}
			if _, err := c.Write([]byte(head)); err != nil {
				closedAfter[i] = time.Since(start)
				return
			}
			// One byte every 100 ms until the server closes the
			// connection (a read sees it) or 20 s pass.
			gone := make(chan struct{})
			go func() {
				io.Copy(io.Discard, c)
				close(gone)
			}()
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-gone:
					closedAfter[i] = time.Since(start)
					return
				case <-tick.C:
					c.Write([]byte("x"))
				case <-time.After(20 * time.Second):
					closedAfter[i] = -1
					return
				}
			}
		}()
	}
	wg.Wait()
	early := 0
	var last time.Duration
	for i, d := range closedAfter {
		if d < 0 {
			t.Errorf("connection %d still open after 20 s", i)
			continue
		}
		if d < readTimeout/2 {
			early++
		}
		last = max(last, d)
	}
	t.Logf("%d connections: %d closed at once (over the limit of %d), the last after %v (read timeout %v)", conns, early, maxConns, last.Round(time.Millisecond), readTimeout)
	if early < conns-maxConns {
		t.Errorf("only %d connections closed at once; at most %d may be held", early, maxConns)
	}
	// Bound: the read timeout and a margin for a loaded machine.
	if last > readTimeout+4*time.Second {
		t.Errorf("a connection stayed open %v with a %v read timeout", last, readTimeout)
	}
	// The server still serves.
	cl, _ := NewClient(Config{URL: "http://" + addr, Token: testToken})
	if _, err := cl.Status(t.Context(), "none"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("after the slow connections: %v", err)
	}
}

// TestServerResultDocument: the streamed result document decodes as the
// job API's result and holds every shot.
func TestServerResultDocument(t *testing.T) {
	_, cl, _ := serverWith(t, ServerOptions{}, "")
	src := "OPENQASM 3.0; include \"stdgates.inc\"; qubit[3] q; bit[3] c; h q[0]; cx q[0], q[1]; c = measure q;"
	seed := uint64(3)
	req := sampler(Pub{Circuit: src, Shots: 500}, Pub{Circuit: src, Shots: 7})
	req.Params.Options = &JobOptions{Simulator: &SimulatorOptions{SeedSimulator: &seed}}
	id, err := cl.Submit(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if st := waitJob(t, cl, id, 20*time.Second); st.Phase() != StatusCompleted {
		t.Fatalf("%s %q", st.Phase(), st.State.Reason)
	}
	var raw json.RawMessage
	if err := cl.doRaw(t.Context(), http.MethodGet, "/api/v1/jobs/"+id+"/results", nil, func(r io.Reader) error {
		b, err := io.ReadAll(r)
		raw = b
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if !json.Valid(raw) {
		t.Fatalf("invalid JSON: %s", raw)
	}
	res, err := DecodeResult(bytes.NewReader(raw))
	if err != nil || len(res.Pubs) != 2 {
		t.Fatalf("%v %+v", err, res)
	}
	for i, want := range []int{500, 7} {
		counts, err := res.Pubs[i].Counts()
		if err != nil {
			t.Fatal(err)
		}
		if counts["000"]+counts["011"] != want {
			t.Fatalf("pub %d: %v", i, counts)
		}
	}
}
