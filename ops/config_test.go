package ops

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

const fullConfig = `# a core node
data: /var/lib/mec
roster: /etc/mec/federation.yaml
role: core
scenario: /etc/mec/scenario.yaml
nats: [tls://nats-0.nats:4222, tls://nats-1.nats:4222]
join:
  - tls://mec-core-1.mec-core:6222
listen_host: 0.0.0.0
http:
  listen: ":8443"
  tls: true
ticks: 0
tick_interval: 250ms
wait_peers: 30s
seed: 7
report: /var/lib/mec/report.json
status: /var/lib/mec/status.json
log:
  format: json
  level: debug
`

func TestNodeConfigFromFile(t *testing.T) {
	c, origins, err := LoadNodeConfig(Layers{File: "node.yaml", Data: []byte(fullConfig)})
	if err != nil {
		t.Fatal(err)
	}
	want := NodeConfig{Data: "/var/lib/mec", Roster: "/etc/mec/federation.yaml", Role: "core", Scenario: "/etc/mec/scenario.yaml",
		NATS: []string{"tls://nats-0.nats:4222", "tls://nats-1.nats:4222"}, Join: []string{"tls://mec-core-1.mec-core:6222"},
		ListenHost: "0.0.0.0", HTTP: HTTPConfig{Listen: ":8443", TLS: true}, TickInterval: 250 * time.Millisecond, WaitPeers: 30 * time.Second, Seed: 7,
		Report: "/var/lib/mec/report.json", Status: "/var/lib/mec/status.json", Log: LogConfig{Format: "json", Level: "debug"}}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("got  %+v\nwant %+v", c, want)
	}
	for key, line := range map[string]int{"data": 2, "nats": 6, "join": 8, "http.listen": 11, "http.tls": 12, "wait_peers": 15, "seed": 16, "log.level": 21} {
		o := origins.Of(key)
		if o.Kind != OriginFile || o.File != "node.yaml" || o.Line != line {
			t.Errorf("origin of %s: %v, want node.yaml:%d", key, o, line)
		}
	}
}

func TestNodeConfigPrecedence(t *testing.T) {
	file := "data: /from/file\nroster: /file/roster.yaml\nticks: 5\nrole: edge\nlog: {level: warn}\n"
	env := map[string]string{"MEC_NODE_DATA": "/from/env", "MEC_NODE_TICKS": "6", "PRISM_NODE_ROLE": "relay", "MEC_NATS_URL": "tls://a:4222, tls://b:4222",
		"MEC_NODE_LOG_LEVEL": ""} // empty: unset
	flags := map[string]string{"ticks": "7", "http": "127.0.0.1:9443"}
	c, o, err := LoadNodeConfig(Layers{File: "node.yaml", Data: []byte(file), LookupEnv: LookupEnvMap(env), Flags: flags})
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		key    string
		got    any
		want   any
		origin string
	}{
		{"data", c.Data, "/from/env", "env MEC_NODE_DATA"},         // env > file
		{"roster", c.Roster, "/file/roster.yaml", "node.yaml:2:9"}, // file only
		{"ticks", c.Ticks, 7, "--ticks"},                           // flag > env > file
		{"role", c.Role, "relay", "env PRISM_NODE_ROLE"},           // env > file
		{"nats", strings.Join(c.NATS, " "), "tls://a:4222 tls://b:4222", "env MEC_NATS_URL"},
		{"http.listen", c.HTTP.Listen, "127.0.0.1:9443", "--http"}, // flag > default
		{"http.tls", c.HTTP.TLS, true, "default"},                  // default
		{"log.level", c.Log.Level, "warn", "node.yaml:5:14"},       // empty env does not override
	}
	for _, ck := range checks {
		if !reflect.DeepEqual(ck.got, ck.want) {
			t.Errorf("%s = %v, want %v", ck.key, ck.got, ck.want)
		}
		if s := o.Of(ck.key).String(); s != ck.origin {
			t.Errorf("origin of %s: %s, want %s", ck.key, s, ck.origin)
		}
	}
	if o.Set("seed") {
		t.Error("seed reported as set")
	}

	// The file comes from $MEC_NODE_CONFIG when no path is given: here a
	// missing file, which must be named.
	_, _, err = LoadNodeConfig(Layers{LookupEnv: LookupEnvMap(map[string]string{ConfigEnv: "/nonexistent/node.yaml"})})
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/node.yaml") {
		t.Fatalf("missing config file from %s: %v", ConfigEnv, err)
	}
}

func TestChangedFlags(t *testing.T) {
	fs := pflag.NewFlagSet("node", pflag.ContinueOnError)
	fs.String("data", "", "")
	fs.Int("ticks", 0, "")
	fs.StringSlice("nats", nil, "")
	fs.String("roster", "", "")
	if err := fs.Parse([]string{"--data", "/d", "--ticks", "3", "--nats", "tls://a:4222", "--nats", "tls://b:4222"}); err != nil {
		t.Fatal(err)
	}
	got := ChangedFlags(fs)
	want := map[string]string{"data": "/d", "ticks": "3", "nats": "tls://a:4222,tls://b:4222"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ChangedFlags = %v, want %v", got, want)
	}
	c := DefaultNodeConfig()
	if _, err := Load(&c, Layers{Flags: got}); err != nil {
		t.Fatal(err)
	}
	if c.Data != "/d" || c.Ticks != 3 || len(c.NATS) != 2 {
		t.Fatalf("from flags: %+v", c)
	}
	// Flags outside the configuration (--config, the global --backend) are
	// not its business.
	if o, err := Load(&c, Layers{Flags: map[string]string{"config": "x.yaml", "backend": "cpu"}}); err != nil || len(o) != 0 {
		t.Fatalf("flags outside the configuration: %v %v", o, err)
	}
}

// The file errors: each names the file, the line and the key.
func TestNodeConfigFileErrors(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		want       []string
	}{
		{"unknown key", "data: /d\nroster: /r\ntickz: 5\n", []string{`node.yaml:3:1: unknown key "tickz"`, "ticks"}},
		{"unknown nested key", "data: /d\nroster: /r\nhttp:\n  listen: :8443\n  tsl: true\n", []string{`node.yaml:5:3: unknown key "http.tsl" (known in http: listen, tls)`}},
		{"repeated key", "data: /d\nroster: /r\ndata: /e\n", []string{`node.yaml:3:1: key "data" repeated (first at line 1)`}},
		{"wrong type", "data: /d\nroster: /r\nticks: ten\n", []string{`node.yaml:3:8: ticks: want an integer, not "ten"`}},
		{"negative seed", "data: /d\nroster: /r\nseed: -1\n", []string{`node.yaml:3:7: seed: want an integer ≥ 0, not "-1"`}},
		{"bad duration", "data: /d\nroster: /r\ntick_interval: 5 minutes\n", []string{`node.yaml:3:16: tick_interval: want a duration`}},
		{"mapping for a leaf", "data: {a: 1}\nroster: /r\n", []string{`node.yaml:1:7: data: want a string, not a mapping`}},
		{"leaf for a mapping", "data: /d\nroster: /r\nlog: json\n", []string{`node.yaml:3:1: log: want a mapping, not the value "json"`}},
		{"list of lists", "data: /d\nroster: /r\nnats: [[tls://a:4222]]\n", []string{`node.yaml:3:7: nats: line 3: list items must be strings, not a list`}},
		{"not a mapping", "- data\n", []string{`node.yaml:1:1: the configuration must be a mapping of keys, not a list`}},
		{"two documents", "data: /d\n---\ndata: /e\n", []string{`node.yaml:2: a second YAML document`}},
		{"syntax", "data: /d\n  roster: [\n", []string{`node.yaml: yaml: line 2`}},
		{"anchored unknown key", "base: &b {listen: ':1'}\n", []string{`unknown key "base"`}},
		{"merge", "data: /d\nroster: /r\nhttp:\n  <<: {listen: ':1'}\n", []string{`node.yaml:4:3: keys must be plain names`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := LoadNodeConfig(Layers{File: "node.yaml", Data: []byte(tc.file)})
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// The validation errors: each names the key and where its value came from.
func TestNodeConfigValidationErrors(t *testing.T) {
	file := "data: /d\nroster: /r\nrole: coer\njoin: [tls://core-1:6222, nats://core-2:6222]\nlog: {format: xml}\n"
	env := map[string]string{"MEC_NODE_TICKS": "-2", "MEC_NODE_HTTP": "localhost"}
	flags := map[string]string{"nats": "tls://nats:99999", "listen-host": "bad host"}
	_, _, err := LoadNodeConfig(Layers{File: "node.yaml", Data: []byte(file), LookupEnv: LookupEnvMap(env), Flags: flags})
	if err == nil {
		t.Fatal("accepted")
	}
	for _, w := range []string{
		`node.yaml:3:7: role: unknown role "coer" (want core, edge, relay or observer)`,
		`node.yaml:4:7: join: item 2: "nats://core-2:6222": want tls://HOST:PORT`,
		`node.yaml:5:15: log.format: want auto, json or text, not "xml"`,
		`env MEC_NODE_TICKS: ticks: want ≥ 0 (0: run until SIGTERM), not -2`,
		`env MEC_NODE_HTTP: http.listen: "localhost": want HOST:PORT or :PORT`,
		`--nats: nats: item 1: "tls://nats:99999": port "99999": want 1–65535`,
		`--listen-host: listen_host: "bad host": not a host name or IP address`,
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, err)
		}
	}
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("not a FieldError: %T", err)
	}

	// Required keys left at their defaults.
	_, _, err = LoadNodeConfig(Layers{})
	for _, w := range []string{"data (default): the node's data directory is required", "roster (default): the federation's roster file is required"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("empty configuration: %v, want %q", err, w)
		}
	}
	// A type error from the environment and from a flag.
	_, _, err = LoadNodeConfig(Layers{Data: []byte("data: /d\nroster: /r\n"), LookupEnv: LookupEnvMap(map[string]string{"MEC_NODE_HTTP_TLS": "maybe"}),
		Flags: map[string]string{"tick-interval": "3"}})
	for _, w := range []string{`env MEC_NODE_HTTP_TLS: http.tls: want true or false, not "maybe"`, `--tick-interval: tick_interval: want a duration (e.g. 1.5s), not "3"`} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("%v, want %q", err, w)
		}
	}
}

func TestNodeConfigAccepts(t *testing.T) {
	for _, file := range []string{
		"",                                  // empty file: all defaults, then the required keys from env
		"# only a comment\n",                // idem
		"~\n",                               // a null document
		"data: /d\nseed: ~\n",               // a null value leaves the default
		"nats: tls://a:4222,tls://b:4222\n", // a list as one comma-separated string
		"http: {listen: '[::1]:0', tls: false}\n",
	} {
		env := LookupEnvMap(map[string]string{"MEC_NODE_DATA": "/d", "MEC_ROSTER": "/r"})
		if _, _, err := LoadNodeConfig(Layers{File: "n.yaml", Data: []byte(file), LookupEnv: env}); err != nil {
			t.Errorf("%q: %v", file, err)
		}
	}
}

func TestFieldsMatchTheNodeSurface(t *testing.T) {
	fs, err := Fields(&NodeConfig{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range fs {
		got[f.Flag] = f.Env
	}
	// The flags and variables of the `mec node` surface.
	for flag, env := range map[string]string{"data": "MEC_NODE_DATA", "roster": "MEC_ROSTER", "role": "PRISM_NODE_ROLE", "scenario": "MEC_NODE_SCENARIO",
		"nats": "MEC_NATS_URL", "join": "MEC_NODE_JOIN", "listen-host": "MEC_NODE_LISTEN_HOST", "http": "MEC_NODE_HTTP", "ticks": "MEC_NODE_TICKS",
		"seed": "MEC_NODE_SEED", "report": "MEC_NODE_REPORT", "wait-peers": "MEC_NODE_WAIT_PEERS", "tick-interval": "MEC_NODE_TICK_INTERVAL", "status": "MEC_NODE_STATUS", "log-format": "MEC_NODE_LOG_FORMAT", "log-level": "MEC_NODE_LOG_LEVEL"} {
		if got[flag] != env {
			t.Errorf("--%s: env %q, want %q", flag, got[flag], env)
		}
	}
	type bad struct {
		M map[string]int `yaml:"m"`
	}
	if _, err := Fields(bad{}); err == nil {
		t.Error("a map field accepted")
	}
	if _, err := Load(bad{}, Layers{}); err == nil {
		t.Error("Load of a non-pointer accepted")
	}
}

// FuzzNodeConfig feeds arbitrary files to the strict decoder and the
// validation: errors, never a panic; an accepted file sets only known
// keys, each with a line.
func FuzzNodeConfig(f *testing.F) {
	f.Add([]byte(fullConfig))
	f.Add([]byte("data: /d\nroster: /r\n"))
	f.Add([]byte("a: &x [1, *x]\n"))
	f.Add([]byte("http: {listen: ':8443', tls: yes}\nnats: [tls://a:1]\n"))
	f.Add([]byte("---\n...\n---\n"))
	f.Add([]byte("log: &l {format: json}\nhttp: *l\n"))
	known := map[string]bool{}
	fs, err := Fields(&NodeConfig{})
	if err != nil {
		f.Fatal(err)
	}
	for _, fi := range fs {
		known[fi.Key] = true
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c := DefaultNodeConfig()
		origins, err := Load(&c, Layers{File: "fuzz.yaml", Data: data})
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.yaml") {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		for k, o := range origins {
			if !known[k] || o.Kind != OriginFile || o.Line < 1 {
				t.Fatalf("origin %s = %+v", k, o)
			}
		}
		_ = c.Validate(origins)
	})
}
