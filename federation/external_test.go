package federation

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// TestExternalCluster: nodes run with --nats against a NATS server that
// is not theirs, configured from the roster (Roster.NATSConfig, the
// nodes' certificates as its CA file) with a certificate the roster's
// external_ca holds; they learn as with the embedded servers.
func TestExternalCluster(t *testing.T) {
	r, ids, dirs := testFederation(t, []spec{{"c1", Core, ""}, {"e1", Edge, ""}}, nil)
	// The operator's server certificate, for 127.0.0.1.
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "nats"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	r.ExternalCA = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	clients := x509.NewCertPool()
	if !clients.AppendCertsFromPEM([]byte(r.CertBundle())) {
		t.Fatal("no certificates in the roster's bundle")
	}
	o := &server.Options{}
	if err := o.ProcessConfigString(r.NATSConfig(nil, true, "")); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	o.Host, o.Port, o.JetStream, o.StoreDir, o.NoSigs = "127.0.0.1", port, true, t.TempDir(), true
	o.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clients}
	o.TLSVerify, o.TLSTimeout = true, 5
	s, err := server.NewServer(o)
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("the external server did not start")
	}
	defer s.Shutdown()
	url := fmt.Sprintf("tls://127.0.0.1:%d", port)
	nodes := startAll(t, r, ids, dirs, func(_ string, c *Config) { c.NATS = []string{url} })
	for _, n := range nodes {
		if n.Server() != nil {
			t.Fatal("a node started an embedded server with --nats")
		}
		waitFor(t, 20*time.Second, "liveness", func() bool { return len(n.Live()) == 2 })
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res := roundAll(t, ctx, "round 1", nodes, map[string][]float64{"c1": {0, 2}, "e1": {4, 2}})
	for name, rr := range res {
		if len(rr.Members) != 2 || math.Abs(rr.Theta[0]-2) > 1e-12 || math.Abs(rr.Theta[1]-2) > 1e-12 {
			t.Errorf("%s: %+v", name, rr)
		}
	}
	for name, n := range nodes {
		for _, l := range n.Links() {
			if l.Group != tls.X25519MLKEM768.String() {
				t.Errorf("%s: link %s negotiated %s", name, l.Kind, l.Group)
			}
		}
	}
}
