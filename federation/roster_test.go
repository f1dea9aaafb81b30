package federation

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRosterErrors: a bad roster is refused with every problem named.
func TestRosterErrors(t *testing.T) {
	r, _, dirs := testFederation(t, []spec{{"c1", Core, ""}, {"e1", Edge, ""}}, nil)
	good, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseRoster(good); err != nil {
		t.Fatalf("round trip: %v", err)
	}
	cases := []struct{ from, to, want string }{
		{"version: 1\n", "version: 2\n", "protocol version 1"},
		{"federation: test\n", "federation: Bad Name\n", "federation \"Bad Name\""},
		{"  eta: 1\n", "  eta: 9\n", "learning.eta"},
		{"    enabled: false\n", "    enabled: true\n", "learning.dp"},
		{"  topology: complete\n", "  topology: star\n", "topology"},
		{"  - name: e1\n    role: edge\n", "  - name: e1\n    role: boss\n", "unknown role"},
		{"  - name: e1\n", "  - name: c1\n", "repeats"},
		{"phase:\n  epsilon: 0.5\n", "phase:\n  epsilon: 0.5\n  colour: red\n", "colour"},
		{"  - name: e1\n    role: edge\n", "  - name: e1\n    role: edge\n    relay: nobody\n", "relay"},
	}
	for _, c := range cases {
		bad := strings.Replace(string(good), c.from, c.to, 1)
		if bad == string(good) {
			t.Fatalf("case %q does not apply", c.from)
		}
		if _, err := ParseRoster([]byte(bad)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q → %q: error %v, want one naming %q", c.from, c.to, err, c.want)
		}
	}
	// Unknown keys name their line.
	_, err = ParseRoster([]byte("version: 1\nfederation: x\nmembers: []\nbogus: 1\n"))
	if err == nil || !strings.Contains(err.Error(), "line 4") {
		t.Errorf("unknown key: %v", err)
	}
	if _, err := ParseRoster(nil); err == nil {
		t.Error("empty roster accepted")
	}
	// A private key readable by others is refused.
	if err := os.Chmod(filepath.Join(dirs["e1"], SigningKeyFile), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadIdentity(dirs["e1"], Member{}); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("world-readable key: %v", err)
	}
	// init refuses to overwrite an identity.
	if _, err := Init(dirs["c1"], InitOptions{Name: "c1", Role: Core}); err == nil {
		t.Error("init overwrote an identity")
	}
}

// TestPermissions: what each role may publish in the generated NATS
// configuration.
func TestPermissions(t *testing.T) {
	r, _, _ := testFederation(t, []spec{{"c1", Core, ""}, {"r1", Relay, ""}, {"e1", Edge, "r1"}, {"e2", Edge, "r1"}, {"o1", Observer, ""}}, nil)
	has := func(name, subj string) bool {
		pub, _ := r.Permissions(r.Member(name))
		for _, p := range pub {
			if p == subj {
				return true
			}
		}
		return false
	}
	for _, c := range []struct {
		node, subj string
		want       bool
	}{
		{"e1", "mec.fed.e1.>", true}, {"e1", "mec.fed.c1.>", false}, {"r1", "mec.fed.e2.>", true},
		{"o1", "mec.fed.o1.report", true}, {"o1", "mec.fed.o1.>", false}, {"c1", "$JS.API.STREAM.CREATE.MEC_FED", true},
		{"e1", "$JS.API.STREAM.CREATE.MEC_FED", false}, {"o1", "$JS.mec.API.CONSUMER.CREATE.MEC_LEDGER.>", true},
	} {
		if got := has(c.node, c.subj); got != c.want {
			t.Errorf("%s may publish %s: %v, want %v", c.node, c.subj, got, c.want)
		}
	}
	cfg := r.NATSConfig(nil, true, "")
	for _, want := range []string{"jetstream: enabled", "system_account: SYS", r.Member("e1").NKey} {
		if !strings.Contains(cfg, want) {
			t.Errorf("NATS configuration lacks %q", want)
		}
	}
}

// TestMemberCannotMintCertificates: a member's certificate is no CA, so a
// certificate it signs for a name of its choosing does not verify
// against the roster's pool, while its own does.
func TestMemberCannotMintCertificates(t *testing.T) {
	r, ids, _ := testFederation(t, []spec{{"c1", Core, ""}, {"e1", Edge, ""}}, nil)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(r.CertBundle()))
	e1 := ids["e1"]
	own := e1.cert.Leaf
	if own == nil {
		var err error
		if own, err = x509.ParseCertificate(e1.cert.Certificate[0]); err != nil {
			t.Fatal(err)
		}
	}
	opts := x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if _, err := own.Verify(opts); err != nil {
		t.Fatalf("e1's own certificate: %v", err)
	}
	if own.IsCA {
		t.Error("a member certificate is a CA")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "c1"}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, own, &key.PublicKey, e1.cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	minted, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := minted.Verify(opts); err == nil {
		t.Error("a certificate e1 signed for \"c1\" verifies against the roster's pool")
	}
	if r.memberByCert(minted) != nil || r.isExternal([][]*x509.Certificate{{minted, own}}) {
		t.Error("the minted certificate maps to a member or to the external CA")
	}
}
