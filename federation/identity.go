package federation

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/cloudflare/circl/kem/mlkem/mlkem768"
	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/nats-io/nkeys"
	"go.yaml.in/yaml/v3"

	"github.com/prismai/mec/internal/strict"
	"github.com/prismai/mec/runtime/bus"
	"github.com/prismai/mec/runtime/ledger"
)

// The files of a node's data directory. Secret files are written with
// mode 0600 and refused when group or others can read them.
const (
	SigningKeyFile = "sign.key"    // ML-DSA-65 seed (32 bytes, base64)
	KEMKeyFile     = "kem.key"     // ML-KEM-768 seed (64 bytes, base64)
	NKeyFile       = "nkey.seed"   // NATS user seed
	TLSKeyFile     = "tls.key"     // ECDSA P-256 private key (PEM)
	TLSCertFile    = "tls.crt"     // self-signed certificate (PEM)
	MemberFile     = "member.yaml" // this node's public roster entry
)

// InitOptions describe a new node.
type InitOptions struct {
	// Name and Role of the node; Relay for an edge behind a relay.
	Name  string
	Role  Role
	Relay string
	// Client, Route and Leaf are the advertised listener URLs (see Member).
	Client, Route, Leaf string
	// SANs are extra host names and IP addresses for the certificate; the
	// hosts of the URLs, "localhost", 127.0.0.1 and ::1 are always in it.
	SANs []string
	// Validity of the certificate (default two years).
	Validity time.Duration
}

// Identity is a node's keys, loaded from its data directory. The private
// keys never leave the node.
type Identity struct {
	// Member is the node's public roster entry.
	Member Member

	signSeed [mldsa65.SeedSize]byte
	signSK   *mldsa65.PrivateKey
	kemSK    *mlkem768.PrivateKey
	nkey     nkeys.KeyPair
	cert     tls.Certificate
}

// Init creates the keys of a new node in dir (created 0700 if absent)
// and writes its public entry (member.yaml). It refuses to overwrite an
// existing identity.
func Init(dir string, o InitOptions) (*Identity, error) {
	m := Member{Name: o.Name, Role: o.Role, Relay: o.Relay, Client: o.Client, Route: o.Route, Leaf: o.Leaf}
	if !ValidName(m.Name) {
		return nil, fmt.Errorf("federation: init: name %q: want 1–63 of a–z, 0–9, '-'", m.Name)
	}
	if _, err := ParseRole(string(m.Role)); err != nil {
		return nil, fmt.Errorf("federation: init: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("federation: init: %w", err)
	}
	for _, f := range []string{SigningKeyFile, KEMKeyFile, NKeyFile, TLSKeyFile, TLSCertFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return nil, fmt.Errorf("federation: init: %s already holds a node identity (%s); refusing to overwrite it", dir, f)
		}
	}
	id := &Identity{}
	if _, err := rand.Read(id.signSeed[:]); err != nil {
		return nil, fmt.Errorf("federation: init: %w", err)
	}
	var kemSeed [mlkem768.KeySeedSize]byte
	if _, err := rand.Read(kemSeed[:]); err != nil {
		return nil, fmt.Errorf("federation: init: %w", err)
	}
	nk, err := nkeys.CreateUser()
	if err != nil {
		return nil, fmt.Errorf("federation: init: %w", err)
	}
	nseed, err := nk.Seed()
	if err != nil {
		return nil, fmt.Errorf("federation: init: %w", err)
	}
	certPEM, keyPEM, err := selfSignedCert(m, o.SANs, o.Validity)
	if err != nil {
		return nil, fmt.Errorf("federation: init: %w", err)
	}
	files := []struct {
		name string
		data []byte
	}{
		{SigningKeyFile, []byte(base64.StdEncoding.EncodeToString(id.signSeed[:]) + "\n")},
		{KEMKeyFile, []byte(base64.StdEncoding.EncodeToString(kemSeed[:]) + "\n")},
		{NKeyFile, append(nseed, '\n')},
		{TLSKeyFile, keyPEM},
		{TLSCertFile, certPEM},
	}
	for _, f := range files {
		if err := writeSecret(filepath.Join(dir, f.name), f.data); err != nil {
			return nil, fmt.Errorf("federation: init: %w", err)
		}
	}
	loaded, err := LoadIdentity(dir, m)
	if err != nil {
		return nil, err
	}
	b, err := yaml.Marshal(&loaded.Member)
	if err != nil {
		return nil, fmt.Errorf("federation: init: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, MemberFile), b, 0o644); err != nil {
		return nil, fmt.Errorf("federation: init: %w", err)
	}
	return loaded, nil
}

// writeSecret creates a 0600 file that must not exist yet.
func writeSecret(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// readSecret reads a secret file, refusing it when group or others may
// read it.
func readSecret(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s has mode %v: a private key must be readable by its owner only (chmod 600)", path, st.Mode().Perm())
	}
	if st.Size() > 64<<10 {
		return nil, fmt.Errorf("%s: %d bytes is not a key file", path, st.Size())
	}
	return os.ReadFile(path)
}

func decodeSeed(path string, b []byte, size int) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(b)))
	if err != nil || len(raw) != size {
		return nil, fmt.Errorf("%s: want base64 of %d bytes", path, size)
	}
	return raw, nil
}

// LoadIdentity loads the keys in dir. The public entry is built from the
// keys; its name, role, relay and URLs are taken from base when base.Name
// is set, else from dir's member.yaml.
func LoadIdentity(dir string, base Member) (*Identity, error) {
	fail := func(err error) (*Identity, error) { return nil, fmt.Errorf("federation: identity in %s: %w", dir, err) }
	if base.Name == "" {
		b, err := os.ReadFile(filepath.Join(dir, MemberFile))
		if err != nil {
			return fail(err)
		}
		if err := strict.YAML(b, &base); err != nil {
			return fail(fmt.Errorf("%s: %w", MemberFile, err))
		}
	}
	id := &Identity{}
	read := func(name string, size int) ([]byte, error) {
		p := filepath.Join(dir, name)
		b, err := readSecret(p)
		if err != nil {
			return nil, err
		}
		if size == 0 {
			return b, nil
		}
		return decodeSeed(p, b, size)
	}
	s, err := read(SigningKeyFile, mldsa65.SeedSize)
	if err != nil {
		return fail(err)
	}
	copy(id.signSeed[:], s)
	pk, sk := mldsa65.NewKeyFromSeed(&id.signSeed)
	id.signSK = sk
	k, err := read(KEMKeyFile, mlkem768.KeySeedSize)
	if err != nil {
		return fail(err)
	}
	kpk, ksk := mlkem768.NewKeyFromSeed(k)
	id.kemSK = ksk
	ns, err := read(NKeyFile, 0)
	if err != nil {
		return fail(err)
	}
	if id.nkey, err = nkeys.FromSeed(bytes.TrimSpace(ns)); err != nil {
		return fail(fmt.Errorf("%s: %w", NKeyFile, err))
	}
	npub, err := id.nkey.PublicKey()
	if err != nil {
		return fail(err)
	}
	keyPEM, err := read(TLSKeyFile, 0)
	if err != nil {
		return fail(err)
	}
	certPEM, err := os.ReadFile(filepath.Join(dir, TLSCertFile))
	if err != nil {
		return fail(err)
	}
	if id.cert, err = tls.X509KeyPair(certPEM, keyPEM); err != nil {
		return fail(fmt.Errorf("%s/%s: %w", TLSCertFile, TLSKeyFile, err))
	}
	pkb, _ := pk.MarshalBinary()
	kpkb, _ := kpk.MarshalBinary()
	m := base
	m.SigningKey = base64.StdEncoding.EncodeToString(pkb)
	m.KEMKey = base64.StdEncoding.EncodeToString(kpkb)
	m.NKey = npub
	m.Cert = string(certPEM)
	if err := m.validate(); err != nil {
		return fail(err)
	}
	id.cert.Leaf = m.cert
	id.Member = m
	return id, nil
}

// Name returns the node name.
func (id *Identity) Name() string { return id.Member.Name }

// Seal signs a federated message body for subject (see the package doc):
// origin is the node, target the subject.
func (id *Identity) Seal(subject string, seq uint64, body []byte, now time.Time) ([]byte, error) {
	return bus.SealMessage(id.signSK, bus.Message{Origin: id.Member.Name, Target: subject, Timestamp: now, Sequence: seq, Body: body})
}

// LedgerSigner returns a signer of the node's identity key under a key
// name (the node's ledger origin, or its witness name).
func (id *Identity) LedgerSigner(name string) (*ledger.Signer, error) {
	return ledger.NewSignerFromSeed(name, id.signSeed)
}

// KEMPrivateKey returns the node's ML-KEM-768 private key.
func (id *Identity) KEMPrivateKey() *mlkem768.PrivateKey { return id.kemSK }

// selfSignedCert makes the node's TLS certificate: ECDSA P-256,
// self-signed, usable as its own root (the roster's certificates form
// the federation's trust pool), for both server and client auth.
func selfSignedCert(m Member, sans []string, validity time.Duration) (certPEM, keyPEM []byte, err error) {
	if validity <= 0 {
		validity = 2 * 365 * 24 * time.Hour
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, err
	}
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	for _, u := range []string{m.Client, m.Route, m.Leaf} {
		if p, err := url.Parse(u); err == nil && p.Hostname() != "" {
			hosts = append(hosts, p.Hostname())
		}
	}
	hosts = append(hosts, sans...)
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: m.Name, OrganizationalUnit: []string{string(m.Role)}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(validity),
		// Not a CA: the pools trust exactly these self-signed leaves (a
		// certificate found in the roots verifies as its own chain), and
		// no member can mint a certificate another node would accept.
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			if !slices.ContainsFunc(tmpl.IPAddresses, ip.Equal) {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			}
		} else if h != "" && !slices.Contains(tmpl.DNSNames, h) {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), nil
}

// certPin is the SHA-256 of a certificate's public key info, hex.
func certPin(c *x509.Certificate) [32]byte { return sha256.Sum256(c.RawSubjectPublicKeyInfo) }

// errNoIdentity reports a data directory without keys.
var errNoIdentity = errors.New("no node identity (run `mec node init`)")

// HasIdentity reports whether dir holds a node identity.
func HasIdentity(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, SigningKeyFile))
	return !errors.Is(err, fs.ErrNotExist)
}
