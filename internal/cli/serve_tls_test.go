package cli

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/devices/qpu"
)

// TestServeQPURefusesExposedAddress is issue 17 item 7 at the command
// line: --listen 0.0.0.0 without TLS and tokens fails (it only warned),
// naming what is missing and --insecure.
func TestServeQPURefusesExposedAddress(t *testing.T) {
	_, err := run(t, "serve", "qpu", "--listen", "0.0.0.0:0", "--backend", "cpu")
	if !errors.Is(err, qpu.ErrInsecureListen) || !strings.Contains(err.Error(), "--insecure") || !strings.Contains(err.Error(), "--tls-cert") {
		t.Fatalf("0.0.0.0 without TLS or tokens: %v", err)
	}
	if _, err := run(t, "serve", "qpu", "--tls-cert", "x.pem"); err == nil || !strings.Contains(err.Error(), "--tls-key") {
		t.Fatalf("--tls-cert alone: %v", err)
	}
}

// writeSelfSigned writes a self-signed certificate for 127.0.0.1 and its
// key into dir.
func writeSelfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "mec serve qpu"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature, BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	return certFile, keyFile
}

// TestServeQPUTLSClients: `mec serve qpu` with --clients and TLS on an
// address beyond loopback; a client that trusts the certificate
// (MEC_QPU_CA_FILE) samples through it, and another client cannot see its
// job.
func TestServeQPUTLSClients(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := writeSelfSigned(t, dir)
	clients := filepath.Join(dir, "clients")
	if err := os.WriteFile(clients, []byte("# test clients\nalice alice-token-0123456789\nbob bob-token-0123456789ab\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- Execute(ctx, []string{"serve", "qpu", "--listen", "0.0.0.0:0", "--backend", "cpu", "--clients", clients,
			"--tls-cert", certFile, "--tls-key", keyFile, "--max-pubs", "2"}, &out, &errb)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve qpu: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("serve qpu did not shut down")
		}
	})
	re := regexp.MustCompile(`listening on https://\S+:(\d+)`)
	var port string
	for deadline := time.Now().Add(10 * time.Second); port == ""; time.Sleep(5 * time.Millisecond) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			port = m[1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve qpu did not start:\n%s\n%s", out.String(), errb.String())
		}
	}
	if strings.Contains(errb.String(), "warning") {
		t.Errorf("warnings with TLS and tokens: %s", errb.String())
	}
	url := "https://127.0.0.1:" + port
	alice, err := qpu.New(qpu.Config{URL: url, Kind: qpu.KindMec, Token: "alice-token-0123456789", CAFile: certFile, PollInterval: 2 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	c := circuit.New(2)
	c.Append("h", nil, 0).Append("cx", nil, 0, 1)
	c.Clbits = 2
	c.Measure(0, 0).Measure(1, 1)
	seed := uint64(4)
	counts, err := alice.SampleCircuit(t.Context(), c, 500, &seed)
	if err != nil || counts["00"]+counts["11"] != 500 {
		t.Fatalf("alice over TLS: %v %v", counts, err)
	}
	src, _ := alice.Prepare(c)
	id, err := alice.Client().Submit(t.Context(), qpu.JobRequest{ProgramID: "sampler", Params: qpu.JobParams{Version: 2, Pubs: []qpu.Pub{{Circuit: src, Shots: 10}}}})
	if err != nil {
		t.Fatal(err)
	}
	bob, _ := qpu.NewClient(qpu.Config{URL: url, Token: "bob-token-0123456789ab", CAFile: certFile, Retries: -1})
	if _, err := bob.Status(t.Context(), id); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("bob reads alice's job: %v", err)
	}
	three := qpu.JobRequest{ProgramID: "sampler", Params: qpu.JobParams{Version: 2, Pubs: []qpu.Pub{{Circuit: src}, {Circuit: src}, {Circuit: src}}}}
	if _, err := bob.Submit(t.Context(), three); err == nil || !strings.Contains(err.Error(), "--max-pubs") {
		t.Fatalf("3 pubs with --max-pubs 2: %v", err)
	}
}
