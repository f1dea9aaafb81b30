package federation

import (
	"os"
	"path/filepath"
	"testing"
)

// TestSecAggFloorPersists: the last secure-aggregation round a node used
// survives a restart (a new process reads it back before any round), for
// the same relay and epoch only; a corrupt file is a clear error.
func TestSecAggFloorPersists(t *testing.T) {
	dir := t.TempDir()
	roster := &Roster{}
	roster.Learning.SecAgg.Epoch = 3
	node := func(role Role) *Node {
		return &Node{cfg: Config{Dir: dir}, roster: roster, self: &Member{Name: "x", Role: role, Relay: "r1"}}
	}
	edge := &groupState{n: node(Edge), relay: "r1"}
	if err := edge.saveFloor(41); err != nil {
		t.Fatal(err)
	}
	again := &groupState{n: node(Edge), relay: "r1"}
	if err := again.loadFloor(); err != nil || again.ownMax != 41 || again.lastOpen != 0 {
		t.Fatalf("edge after restart: ownMax %d lastOpen %d err %v, want 41 0", again.ownMax, again.lastOpen, err)
	}
	relay := &groupState{n: node(Relay), relay: "r1"}
	if err := relay.loadFloor(); err != nil || relay.lastOpen != 41 {
		t.Fatalf("relay after restart: lastOpen %d err %v, want 41", relay.lastOpen, err)
	}
	roster.Learning.SecAgg.Epoch = 4 // re-keyed: new pair secrets, rounds start over
	fresh := &groupState{n: node(Edge), relay: "r1"}
	if err := fresh.loadFloor(); err != nil || fresh.ownMax != 0 {
		t.Fatalf("another epoch: ownMax %d err %v, want 0", fresh.ownMax, err)
	}
	if err := os.WriteFile(filepath.Join(dir, SecAggFile), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := fresh.loadFloor(); err == nil {
		t.Error("a corrupt floor file was accepted")
	}
}
