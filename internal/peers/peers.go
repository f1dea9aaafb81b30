// Package peers locates the independent reference tools ("peers") that mec is
// checked against (see shared/peers/README.md beside the repository) and lets
// tests skip with a clear message when one is absent.
//
// Layer: test tooling (kept out of the binary: cmd/mec's deps test checks
// that no testing code is linked). It imports no other mec package.
//
// Lookup order for the peers folder: $MEC_PEERS, then ../shared/peers and
// ../../shared/peers relative to the module root. The node modules and the
// compiled tools (fftw_bench, stream) live in $MEC_PEERS_NODE_DIR, default
// $HOME/.cache/mec-peers, where install.sh puts them.
package peers

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Dir returns the folder holding the peer scripts (qasm_sim.js, qutip_evolve.py, ...).
func Dir() (string, error) {
	if d := os.Getenv("MEC_PEERS"); d != "" {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return filepath.Abs(d)
		}
		return "", fmt.Errorf("peers: MEC_PEERS=%q is not a directory", d)
	}
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	for _, rel := range []string{"../shared/peers", "../../shared/peers", "shared/peers"} {
		d := filepath.Join(root, rel)
		if st, err := os.Stat(filepath.Join(d, "README.md")); err == nil && !st.IsDir() {
			return filepath.Clean(d), nil
		}
	}
	return "", errors.New("peers: no shared/peers folder beside the repository (set MEC_PEERS)")
}

// NodeDir returns the folder where install.sh put node_modules, fftw_bench and stream.
func NodeDir() string {
	if d := os.Getenv("MEC_PEERS_NODE_DIR"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ".cache/mec-peers"
	}
	return filepath.Join(home, ".cache", "mec-peers")
}

// ModuleRoot walks up from the working directory to the folder holding go.mod.
func ModuleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("peers: go.mod not found above the working directory")
		}
	}
}

// Python returns Debian's python3, which sees the python3-brian / python3-qutip packages.
func Python() (string, error) {
	for _, p := range []string{"/usr/bin/python3"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("peers: /usr/bin/python3 not found (Debian's python3 with python3-qutip/python3-brian)")
}

// Script returns the absolute path of a peer script, or an error naming what is missing.
func Script(name string) (string, error) {
	d, err := Dir()
	if err != nil {
		return "", err
	}
	p := filepath.Join(d, name)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("peers: %s not found in %s", name, d)
	}
	return p, nil
}

// Tool returns the absolute path of a compiled peer tool (fftw_bench, stream) in NodeDir.
func Tool(name string) (string, error) {
	p := filepath.Join(NodeDir(), name)
	if st, err := os.Stat(p); err != nil || st.Mode()&0o111 == 0 {
		return "", fmt.Errorf("peers: %s not built in %s (run shared/peers/install.sh)", name, NodeDir())
	}
	return p, nil
}

// NodeModule reports whether an npm package is installed in NodeDir.
func NodeModule(name string) error {
	if _, err := exec.LookPath("node"); err != nil {
		return errors.New("peers: node not on PATH")
	}
	if _, err := os.Stat(filepath.Join(NodeDir(), "node_modules", name)); err != nil {
		return fmt.Errorf("peers: npm package %s not installed in %s (run shared/peers/install.sh)", name, NodeDir())
	}
	return nil
}

// NodeEnv returns the environment for running a node peer (NODE_PATH set).
func NodeEnv() []string {
	return append(os.Environ(), "NODE_PATH="+filepath.Join(NodeDir(), "node_modules"))
}

// PythonModule returns Debian's python3 when it can import module (h5py,
// brian2, ...), or an error naming the module and the interpreter.
func PythonModule(module string) (string, error) {
	py, err := Python()
	if err != nil {
		return "", err
	}
	if out, err := exec.Command(py, "-c", "import "+module).CombinedOutput(); err != nil {
		return "", fmt.Errorf("peers: %s cannot import %s: %v: %s", py, module, err, lastLine(string(out)))
	}
	return py, nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
