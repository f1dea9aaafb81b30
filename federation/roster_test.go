package federation

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
