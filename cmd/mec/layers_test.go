package main

import (
	"os/exec"
	"strings"
	"testing"
)

// layer names the layer of a mec package (its path within the module), as
// README.md's Layout lists them: "leaf" for the shared leaves and test
// tooling under internal/, then "compute", "runtime", "devices" and
// "commands"; "" for what is in no layer (deploy).
func layer(rel string) string {
	under := func(dir string) bool { return rel == dir || strings.HasPrefix(rel, dir+"/") }
	switch {
	case under("cmd"), under("internal/cli"):
		return "commands"
	case under("internal"):
		return "leaf"
	case under("devices"):
		return "devices"
	case under("runtime"), under("federation"), under("ops"):
		return "runtime"
	case under("deploy"):
		return ""
	}
	return "compute"
}

// mayImport reports whether a package of layer from may import one of
// layer to: the leaves from anywhere (and only each other); the compute library from every layer;
// the runtime and the devices each from themselves, never from each other;
// anything from the commands.
func mayImport(from, to string) bool {
	switch {
	case from == "leaf":
		return to == "leaf"
	case to == "leaf" || to == "compute" || from == "commands":
		return true
	case from == "runtime" || from == "devices":
		return to == from
	}
	return false
}

// layerExceptions are the imports README.md names as exceptions.
var layerExceptions = map[string]string{
	"backend/all": "devices", // registers the device adapters
	"bench":       "runtime", // runs the federation workload
}

// TestLayers: every package's imports (tests excluded) respect the layers
// of README.md's Layout, so that the folders show the layers.
func TestLayers(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH to list the packages' imports")
	}
	const mod = "github.com/prismai/mec"
	out, err := exec.Command(goBin, "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, mod+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 20 {
		t.Fatalf("go list found %d packages", len(lines))
	}
	for _, line := range lines {
		f := strings.Fields(line)
		from := strings.TrimPrefix(f[0], mod+"/")
		for _, imp := range f[1:] {
			if !strings.HasPrefix(imp, mod+"/") {
				continue
			}
			to := strings.TrimPrefix(imp, mod+"/")
			lf, lt := layer(from), layer(to)
			if lf == "" || mayImport(lf, lt) || layerExceptions[from] == lt {
				continue
			}
			t.Errorf("%s (%s) imports %s (%s)", from, lf, to, lt)
		}
	}
}

// TestMayImport: the rule itself rejects what the layers forbid.
func TestMayImport(t *testing.T) {
	for _, c := range []struct {
		from, to string
		ok       bool
	}{
		{"fusion", "runtime/orchestrator", false},
		{"backend/cpu", "devices/qpu", false},
		{"runtime/orchestrator", "devices/qpu", false},
		{"devices/lava", "runtime/ledger", false},
		{"engines/snn", "internal/cli", false},
		{"runtime/orchestrator", "fusion", true},
		{"devices/lava", "engines/snn", true},
		{"internal/cli", "devices/qpu", true},
		{"runtime/bus", "internal/cbor", true},
		{"internal/strict", "circuit", false},
	} {
		if got := mayImport(layer(c.from), layer(c.to)); got != c.ok {
			t.Errorf("%s → %s: allowed %v, want %v", c.from, c.to, got, c.ok)
		}
	}
}
