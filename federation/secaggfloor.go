package federation

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// SecAggFile holds, in a node's data directory, the last secure-
// aggregation round the node used (an edge: sent shares in; a relay:
// opened). Pair masks are PRG(s_ab, round): a round used twice with the
// same pair secrets would let the relay difference two masked vectors,
// so the floor is written before a round is used and read back at start,
// whatever the streams still hold.
const SecAggFile = "secagg.json"

type secaggFloor struct {
	Relay string `json:"relay"`
	Epoch uint64 `json:"epoch"`
	Round uint64 `json:"round"`
}

// loadFloor reads the persisted floor; a floor of another relay or epoch
// (other pair secrets) does not apply.
func (g *groupState) loadFloor() error {
	n := g.n
	if g.relay == "" || n.cfg.Dir == "" {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(n.cfg.Dir, SecAggFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("federation: secure aggregation floor: %w", err)
	}
	var f secaggFloor
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("federation: secure aggregation floor in %s: %w", SecAggFile, err)
	}
	if f.Relay != g.relay || f.Epoch != n.roster.Learning.SecAgg.Epoch {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.ownMax = max(g.ownMax, f.Round)
	if n.self.Role == Relay {
		g.lastOpen = max(g.lastOpen, f.Round)
	}
	return nil
}

// saveFloor records round as used before it is (write-ahead).
func (g *groupState) saveFloor(round uint64) error {
	n := g.n
	if n.cfg.Dir == "" {
		return nil
	}
	b, err := json.Marshal(secaggFloor{Relay: g.relay, Epoch: n.roster.Learning.SecAgg.Epoch, Round: round})
	if err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(n.cfg.Dir, SecAggFile), b); err != nil {
		return fmt.Errorf("federation: secure aggregation floor (round %d not used): %w", round, err)
	}
	return nil
}
