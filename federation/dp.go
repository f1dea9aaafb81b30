package federation

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/prismai/mec/federation/privacy"
)

// PrivacyFile holds a node's privacy accountant in its data directory,
// so that a restart does not reset its spent budget.
const PrivacyFile = "privacy.json"

// dpState applies differential privacy to this node's outgoing updates
// and accounts for it: every update is clipped to L2 norm C and noised
// with N(0, (σC)²) per coordinate (package privacy), each release is one
// Gaussian-mechanism step in the Rényi accountant, and ε is reported at
// the roster's δ. The unit of privacy is this node's data in a round,
// under replacement: any clipped update may become any other, so the L2
// sensitivity is 2C and each release is accounted at multiplier σ/2.
type dpState struct {
	n    *Node
	mu   sync.Mutex
	acct *privacy.Accountant
	eps  float64
	err  error
}

func newDPState(n *Node) *dpState {
	d := &dpState{n: n, acct: privacy.NewAccountant()}
	if !n.roster.Learning.DP.Enabled || n.cfg.Dir == "" {
		return d
	}
	b, err := os.ReadFile(filepath.Join(n.cfg.Dir, PrivacyFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		d.err = fmt.Errorf("federation: privacy accountant: %w", err)
	default:
		if err := json.Unmarshal(b, d.acct); err != nil {
			d.err = fmt.Errorf("federation: privacy accountant in %s: %w", PrivacyFile, err)
		}
	}
	d.update()
	return d
}

func (d *dpState) update() {
	if d.acct.Rounds() == 0 {
		d.eps = 0
		return
	}
	eps, _, err := d.acct.Epsilon(d.n.roster.Learning.DP.Delta)
	if err != nil {
		d.err = err
		return
	}
	d.eps = eps
}

// privatize clips and noises delta in place and accounts for the release
// (the accountant is saved before the update leaves the node). Without
// DP it does nothing.
func (d *dpState) privatize(delta []float64) error {
	cfg := d.n.roster.Learning.DP
	if !cfg.Enabled {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return d.err
	}
	if _, err := (privacy.Gaussian{Clip: cfg.Clip, Multiplier: cfg.NoiseMultiplier}).Privatize(delta); err != nil {
		return fmt.Errorf("federation: %w", err)
	}
	if err := d.acct.Compose(cfg.NoiseMultiplier / 2); err != nil {
		return fmt.Errorf("federation: %w", err)
	}
	d.update()
	if d.n.cfg.Dir != "" {
		b, err := json.Marshal(d.acct)
		if err != nil {
			return fmt.Errorf("federation: privacy accountant: %w", err)
		}
		if err := writeAtomic(filepath.Join(d.n.cfg.Dir, PrivacyFile), b); err != nil {
			return fmt.Errorf("federation: saving the privacy accountant: %w", err)
		}
	}
	return d.err
}

// epsilon is the running ε at the roster's δ (0 without DP).
func (d *dpState) epsilon() float64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.eps
}

// writeAtomic replaces a file through a synced temporary file.
func writeAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
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
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
