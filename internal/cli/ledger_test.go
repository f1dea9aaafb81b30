// The `mec ledger` subcommands end to end, from outside package cli (the
// tests call cli.Execute as cmd/mec does).

package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prismai/mec/internal/cli"
	"github.com/prismai/mec/runtime/ledger"
	"github.com/prismai/mec/runtime/telemetry"
)

func run(args ...string) (string, error) {
	var out, errb bytes.Buffer
	err := cli.Execute(context.Background(), args, &out, &errb)
	return out.String() + errb.String(), err
}

func makeLedger(t *testing.T) string {
	dir := t.TempDir()
	l, err := ledger.Open(dir, ledger.Options{CheckpointEvery: 4})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		var e telemetry.Event = telemetry.FusionEvent{Timestamp: time.Unix(1, int64(i)), FusionEnergy: float64(i), ParentBlock: telemetry.NoParent}
		if i%3 == 0 {
			e = telemetry.SystemEvent{Timestamp: time.Unix(2, 0), Source: "gov", Kind: "rollback", Fields: map[string]telemetry.Value{"step": telemetry.Num(float64(i))}}
		}
		if _, err := l.Append(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestVerify(t *testing.T) {
	dir := makeLedger(t)
	out, err := run("ledger", "verify", dir)
	if err != nil || !strings.Contains(out, "records:     10") {
		t.Fatalf("%v\n%s", err, out)
	}
	out, err = run("ledger", "verify", dir, "--json", "--pub", filepath.Join(dir, ledger.PublicKeyFile))
	var v struct {
		OK     bool
		Report ledger.Report
	}
	if err != nil || json.Unmarshal([]byte(out), &v) != nil || !v.OK || v.Report.Records != 10 {
		t.Fatalf("%v\n%s", err, out)
	}
	// Damage record 4's payload: verify fails, naming it.
	var off int64
	ledger.Scan(dir, func(r ledger.Record) error {
		if r.Index == 4 {
			off = r.Offset
		}
		return nil
	})
	p := filepath.Join(dir, ledger.LogFile)
	b, _ := os.ReadFile(p)
	b[off+12] ^= 1
	os.WriteFile(p, b, 0o644)
	out, err = run("ledger", "verify", dir)
	if err == nil || !strings.Contains(err.Error(), "record 4 at offset") {
		t.Fatalf("damaged ledger: %v\n%s", err, out)
	}
	out, err = run("ledger", "verify", dir, "--json")
	if err == nil || !strings.Contains(out, `"index": 4`) {
		t.Fatalf("damaged ledger json: %v\n%s", err, out)
	}
	if _, err := run("ledger", "verify", filepath.Join(dir, "nope")); err == nil {
		t.Fatal("missing dir verified")
	}
}

func TestProofConsistencyTail(t *testing.T) {
	dir := makeLedger(t)
	out, err := run("ledger", "proof", dir, "--index", "3")
	if err != nil || !strings.Contains(out, "verified:  yes (root matches the latest signed checkpoint)") {
		t.Fatalf("%v\n%s", err, out)
	}
	out, err = run("ledger", "proof", dir, "--index", "3", "--size", "5", "--json")
	var pr struct {
		Proof    ledger.InclusionProof
		Verified bool
	}
	if err != nil || json.Unmarshal([]byte(out), &pr) != nil || pr.Proof.Size != 5 || pr.Proof.Verify() != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if _, err := run("ledger", "proof", dir, "--index", "10"); err == nil {
		t.Fatal("out-of-range index accepted")
	}
	if _, err := run("ledger", "proof", dir); err == nil {
		t.Fatal("missing --index accepted")
	}
	out, err = run("ledger", "consistency", dir, "--from", "3", "--to", "10", "--json")
	var cp struct{ Proof ledger.ConsistencyProof }
	if err != nil || json.Unmarshal([]byte(out), &cp) != nil || cp.Proof.Verify() != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if _, err := run("ledger", "consistency", dir, "--from", "5", "--to", "3"); err == nil {
		t.Fatal("from > to accepted")
	}
	out, err = run("ledger", "tail", dir, "-n", "2")
	if err != nil || strings.Count(out, "\n") != 2 || !strings.HasPrefix(out, "8 ") || !strings.Contains(out, "parent_block=none") {
		t.Fatalf("%v\n%s", err, out)
	}
	out, err = run("ledger", "tail", dir, "-n", "4", "--json")
	var recs []map[string]any
	if err != nil || json.Unmarshal([]byte(out), &recs) != nil || len(recs) != 4 {
		t.Fatalf("%v\n%s", err, out)
	}
	if ev := recs[0]["event"].(map[string]any); ev["type"] != "system" || ev["kind"] != "rollback" {
		t.Fatalf("tail json event %v", ev)
	}
}
