package ledger_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/prismai/mec/runtime/ledger"
	"github.com/prismai/mec/runtime/telemetry"
)

// Example creates a ledger in a temporary directory, appends a system event
// and two fusion events (each fusion step naming its parent record), closes
// it (which signs a final checkpoint) and verifies it. It then damages one
// byte of the log, which verification detects.
func Example() {
	dir, err := os.MkdirTemp("", "mec-ledger-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// With no Options.Signer the ledger generates its own signing key, and
	// with no Options.Origin it is named ledger.DefaultOrigin.
	l, err := ledger.Open(dir, ledger.Options{})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := l.Append(ctx, telemetry.SystemEvent{Timestamp: t0, Source: "example", Kind: "start",
		Fields: map[string]telemetry.Value{"qubits": telemetry.Num(6)}}); err != nil {
		log.Fatal(err)
	}
	var parent uint64 = telemetry.NoParent // the first step has no parent
	for i := range 2 {
		idx, err := l.Append(ctx, telemetry.FusionEvent{
			Timestamp:        t0.Add(time.Duration(i+1) * time.Millisecond),
			CoherenceEntropy: 0.99 - 0.01*float64(i), AvgPhaseDiff: 0.3, FusionEnergy: 1.6,
			ParentBlock: parent,
		})
		if err != nil {
			log.Fatal(err)
		}
		parent = idx
	}
	fmt.Println("size:", l.Size())
	if err := l.Close(); err != nil {
		log.Fatal(err)
	}

	rep, err := ledger.Verify(dir, ledger.VerifyOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("verified %d records of %s; latest checkpoint covers %d, unsigned %d\n",
		rep.Records, rep.Origin, rep.Latest.Size, rep.Unsigned)

	err = ledger.Scan(dir, func(r ledger.Record) error {
		switch e := r.Event.(type) {
		case telemetry.SystemEvent:
			fmt.Printf("record %d: system %s/%s\n", r.Index, e.Source, e.Kind)
		case telemetry.FusionEvent:
			fmt.Printf("record %d: fusion step, H_coh %.4f\n", r.Index, e.CoherenceEntropy)
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}

	// Flip the last byte of the log (part of the last record's chain hash).
	path := filepath.Join(dir, ledger.LogFile)
	b, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	b[len(b)-1] ^= 1
	if err := os.WriteFile(path, b, 0o600); err != nil {
		log.Fatal(err)
	}
	if _, err := ledger.Verify(dir, ledger.VerifyOptions{}); err != nil {
		fmt.Println("tampered ledger fails verification")
	}
	// Output:
	// size: 3
	// verified 3 records of mec.local/ledger; latest checkpoint covers 3, unsigned 0
	// record 0: system example/start
	// record 1: fusion step, H_coh 0.9900
	// record 2: fusion step, H_coh 0.9800
	// tampered ledger fails verification
}
