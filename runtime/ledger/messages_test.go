package ledger

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/prismai/mec/runtime/telemetry"
)

// TestProveMessage: every message of every batch is proven into its
// batch root and the batch's record into the ledger; a leaf in no batch
// is ErrMessageNotFound; a batch whose root does not match its leaves is
// an error; a malformed batch is refused.
func TestProveMessage(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var all [][]Hash
	for tick := 1; tick <= 3; tick++ {
		if _, err := l.Append(ctx, sysEvent(tick)); err != nil {
			t.Fatal(err)
		}
		var leaves []Hash
		var origins []string
		for i := 0; i < 2+3*tick; i++ { // 5, 8, 11 messages: odd and even trees
			leaves = append(leaves, MessageLeaf([]byte(fmt.Sprintf("envelope %d/%d", tick, i))))
			origins = append(origins, fmt.Sprint("M", i))
		}
		f, err := BatchFields(origins, leaves)
		if err != nil {
			t.Fatal(err)
		}
		f["tick"] = telemetry.Num(float64(tick))
		ev := telemetry.SystemEvent{Timestamp: time.Unix(1700000000, 0), Source: "test", Kind: "tick", Fields: f}
		if _, err := l.Append(ctx, ev); err != nil {
			t.Fatal(err)
		}
		all = append(all, leaves)
	}
	// A batch whose root lies about its leaves.
	bf, _ := BatchFields([]string{"X"}, []Hash{MessageLeaf([]byte("liar"))})
	bf["msg.root"] = telemetry.Str(all[0][0].String())
	bad := telemetry.SystemEvent{Timestamp: time.Unix(1700000000, 0), Source: "test", Kind: MessagesKind, Fields: bf}
	if _, err := l.Append(ctx, bad); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for k, leaves := range all {
		for i, leaf := range leaves {
			p, err := ProveMessage(dir, leaf)
			if err != nil {
				t.Fatalf("tick %d message %d: %v", k+1, i, err)
			}
			if p.Tick != uint64(k+1) || p.Origin != fmt.Sprint("M", i) || p.Batch.Index != uint64(i) || p.Batch.Leaf != leaf ||
				p.Record.Index != uint64(2*k+1) || p.Record.Size != 7 {
				t.Fatalf("tick %d message %d: proof %+v", k+1, i, p)
			}
			if err := p.Batch.Verify(); err != nil {
				t.Fatal(err)
			}
			if err := p.Record.Verify(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := ProveMessage(dir, MessageLeaf([]byte("never sent"))); !errors.Is(err, ErrMessageNotFound) {
		t.Errorf("unknown message: %v", err)
	}
	if _, err := ProveMessage(dir, MessageLeaf([]byte("liar"))); err == nil {
		t.Error("a batch with a false root proved its message")
	}
	if _, err := BatchFields([]string{"a"}, nil); err == nil {
		t.Error("a batch of mismatched leaves and origins accepted")
	}
}
