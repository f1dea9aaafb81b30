package cli_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prismai/mec/runtime/ledger"
	"github.com/prismai/mec/runtime/ledger/witness"
	"github.com/prismai/mec/runtime/telemetry"
)

// witnessedDir builds a ledger whose size-8 checkpoint two of three
// witnesses co-signed (through package witness, with a consistency proof
// from size 4) and returns it and the three witness key files.
func witnessedDir(t *testing.T) (dir string, keyFiles []string) {
	dir = t.TempDir()
	logS, err := ledger.NewSignerFromSeed("node-1.example/ledger", sha256.Sum256([]byte("node-1")))
	if err != nil {
		t.Fatal(err)
	}
	var notes [][]byte
	l, err := ledger.Open(dir, ledger.Options{Signer: logS, CheckpointEvery: 1 << 20, CheckpointInterval: time.Hour,
		OnCheckpoint: func(n []byte, _ *ledger.Checkpoint) { notes = append(notes, n) }})
	if err != nil {
		t.Fatal(err)
	}
	appendN := func(from, to int) {
		for i := from; i < to; i++ {
			e := telemetry.FusionEvent{Timestamp: time.Unix(5, int64(i)), FusionEnergy: float64(i), ParentBlock: telemetry.NoParent}
			if _, err := l.Append(context.Background(), e); err != nil {
				t.Fatal(err)
			}
		}
	}
	appendN(0, 4)
	l.Close() // checkpoint at 4
	if l, err = ledger.Open(dir, ledger.Options{Signer: logS, CheckpointEvery: 1 << 20, CheckpointInterval: time.Hour,
		OnCheckpoint: func(n []byte, _ *ledger.Checkpoint) { notes = append(notes, n) }}); err != nil {
		t.Fatal(err)
	}
	appendN(4, 8)
	if err := l.Close(); err != nil { // checkpoint at 8
		t.Fatal(err)
	}
	if len(notes) != 2 {
		t.Fatalf("%d checkpoints", len(notes))
	}
	l, err = ledger.Open(dir, ledger.Options{Signer: logS})
	if err != nil {
		t.Fatal(err)
	}
	proof, err := l.ConsistencyProof(4, 8)
	l.Close()
	if err != nil {
		t.Fatal(err)
	}
	var wvs []*ledger.Verifier
	var cosigned [][]byte
	for _, name := range []string{"w1.example", "w2.example", "w3.example"} {
		ws, err := ledger.NewSignerFromSeed(name, sha256.Sum256([]byte(name)))
		if err != nil {
			t.Fatal(err)
		}
		wvs = append(wvs, ws.Verifier())
		f := filepath.Join(t.TempDir(), name+".pub")
		if err := os.WriteFile(f, []byte(ws.Verifier().String()+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		keyFiles = append(keyFiles, f)
		if name == "w3.example" {
			continue // w3 never co-signs
		}
		w, err := witness.New(t.TempDir(), ws, []*ledger.Verifier{logS.Verifier()})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Add(logS.Verifier(), notes[0], 0, nil); err != nil {
			t.Fatal(err)
		}
		c, err := w.Add(logS.Verifier(), notes[1], 4, proof)
		if err != nil {
			t.Fatal(err)
		}
		cosigned = append(cosigned, c)
	}
	merged, err := ledger.MergeCosignatures(cosigned...)
	if err != nil {
		t.Fatal(err)
	}
	if saved, err := ledger.SaveWitnessed(dir, merged, logS.Verifier(), wvs, 2); err != nil || !saved {
		t.Fatalf("save: %v %v", saved, err)
	}
	return dir, keyFiles
}

func TestVerifyWitnesses(t *testing.T) {
	dir, keys := witnessedDir(t)
	w1, w2, w3 := keys[0], keys[1], keys[2]
	out, err := run("ledger", "verify", dir, "--witness", w1, "--witness", w2)
	if err != nil || !strings.Contains(out, "witnessed:   size 8, co-signed by w1.example, w2.example (2 of 2 keys given, 2 required)") {
		t.Fatalf("%v\n%s", err, out)
	}
	out, err = run("ledger", "verify", dir, "--json", "--witness", w1, "--witness", w2, "--witness", w3, "--min-witnesses", "2")
	var v struct {
		OK     bool
		Report ledger.Report
	}
	if err != nil || json.Unmarshal([]byte(out), &v) != nil || !v.OK || v.Report.Witnessed == nil ||
		v.Report.Witnessed.Checkpoint.Size != 8 || !slices.Equal(v.Report.Witnessed.Cosigners, []string{"w1.example", "w2.example"}) ||
		v.Report.Witnessed.Required != 2 {
		t.Fatalf("%v\n%s", err, out)
	}
	// Too few: all three required by default.
	out, err = run("ledger", "verify", dir, "--witness", w1, "--witness", w2, "--witness", w3)
	if err == nil || !strings.Contains(err.Error(), "2 of the 3 required witness co-signatures (valid: w1.example, w2.example)") {
		t.Fatalf("too few: %v\n%s", err, out)
	}
	out, err = run("ledger", "verify", dir, "--json", "--witness", w3, "--min-witnesses", "1")
	if err == nil || !strings.Contains(out, `"ok": false`) || !strings.Contains(out, "0 of the 1 required") {
		t.Fatalf("too few json: %v\n%s", err, out)
	}
	// Flag misuse names the problem.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--min-witnesses", "1"}, "--min-witnesses needs --witness"},
		{[]string{"--witness", w1, "--min-witnesses", "2"}, "exceeds the 1 --witness keys"},
		{[]string{"--witness", w1, "--min-witnesses", "-1"}, "must be >= 0"},
		{[]string{"--witness", filepath.Join(dir, "nope.pub")}, "--witness"},
		{[]string{"--witness", filepath.Join(dir, ledger.LogFile)}, "--witness " + filepath.Join(dir, ledger.LogFile)},
	} {
		if _, err := run(append([]string{"ledger", "verify", dir}, c.args...)...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v", c.args, err)
		}
	}
	// Without --witness the file is not looked at.
	if out, err := run("ledger", "verify", dir); err != nil || strings.Contains(out, "witnessed") {
		t.Fatalf("%v\n%s", err, out)
	}
	// Rewrite the ledger after it was witnessed: records 6 and 7 replaced
	// and re-signed with the same key. The witnessed checkpoint no longer
	// matches and verify says so.
	logS, _ := ledger.NewSignerFromSeed("node-1.example/ledger", sha256.Sum256([]byte("node-1")))
	var off int64
	ledger.Scan(dir, func(r ledger.Record) error {
		if r.Index == 6 {
			off = r.Offset
		}
		return nil
	})
	if err := os.Truncate(filepath.Join(dir, ledger.LogFile), off); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, ledger.HistoryFile))
	os.Remove(filepath.Join(dir, ledger.CheckpointFile))
	l, err := ledger.Open(dir, ledger.Options{Signer: logS})
	if err != nil {
		t.Fatal(err)
	}
	for i := 6; i < 8; i++ {
		if _, err := l.Append(context.Background(), telemetry.SystemEvent{Timestamp: time.Unix(6, int64(i)), Source: "x", Kind: "forged"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if out, err := run("ledger", "verify", dir); err != nil {
		t.Fatalf("the rewritten ledger alone verifies: %v\n%s", err, out)
	}
	out, err = run("ledger", "verify", dir, "--witness", w1, "--witness", w2)
	if err == nil || !strings.Contains(err.Error(), "checkpoint.witnessed") || !strings.Contains(err.Error(), "size 8 does not match") {
		t.Fatalf("rewritten: %v\n%s", err, out)
	}
	out, err = run("ledger", "verify", dir, "--json", "--witness", w1, "--witness", w2)
	if err == nil || !strings.Contains(out, `"file": "checkpoint.witnessed"`) {
		t.Fatalf("rewritten json: %v\n%s", err, out)
	}
}
