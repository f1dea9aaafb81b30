package ledger

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/prismai/mec/runtime/telemetry"
)

// Message batches: every message sent on the bus is a leaf of an RFC 6962
// Merkle tree whose leaves and root are fields of one record (BatchFields;
// the runtime puts them in its "tick" records, and a run's last messages
// in a "messages" record), so that any one message can be proven in two
// steps: into its batch's root, and the batch's record into the ledger.

// MessagesKind is the Kind of a record that holds only a message batch.
const MessagesKind = "messages"

// MessageLeaf is the RFC 6962 leaf hash SHA-256(0x00 ‖ envelope) of a
// sealed bus message (its COSE_Sign1 bytes).
func MessageLeaf(envelope []byte) Hash { return Hash(leafHash(envelope)) }

// BatchFields returns the fields of a message batch: "msg.count", the
// batch root "msg.root", and for message i its leaf "msg.leaf.i" (base64)
// and sender "msg.origin.i", in sending order.
func BatchFields(origins []string, leaves []Hash) (map[string]telemetry.Value, error) {
	if len(origins) != len(leaves) || len(leaves) == 0 {
		return nil, fmt.Errorf("ledger: message batch of %d leaves and %d origins", len(leaves), len(origins))
	}
	raw := make([][32]byte, len(leaves))
	for i, l := range leaves {
		raw[i] = l
	}
	root, err := NewTree(raw).Root(uint64(len(raw)))
	if err != nil {
		return nil, err
	}
	f := map[string]telemetry.Value{"msg.count": telemetry.Num(float64(len(leaves))), "msg.root": telemetry.Str(root.String())}
	for i, l := range leaves {
		f["msg.leaf."+strconv.Itoa(i)] = telemetry.Str(l.String())
		f["msg.origin."+strconv.Itoa(i)] = telemetry.Str(origins[i])
	}
	return f, nil
}

// MessageProof proves one bus message: Batch proves its leaf into the
// root of its tick's batch, Record proves the batch's record into the
// ledger's tree.
type MessageProof struct {
	// Origin is the sending module; Tick the "tick" field of the batch's
	// record (0 when it has none).
	Origin string `json:"origin"`
	Tick   uint64 `json:"tick"`
	// Batch is the message's inclusion proof in the batch tree.
	Batch *InclusionProof `json:"batch"`
	// Record is the batch record's inclusion proof in the ledger.
	Record *InclusionProof `json:"record"`
}

// ErrMessageNotFound is returned by ProveMessage for a leaf in no batch.
var ErrMessageNotFound = errors.New("ledger: message not in any batch record")

// ProveMessage finds the batch record holding the message leaf in the
// ledger at dir (its first, if a message were batched twice), rebuilds
// the batch tree from the record's leaves, checks the record's root, and
// returns both inclusion proofs, verified, against the tree of all
// records.
func ProveMessage(dir string, leaf Hash) (*MessageProof, error) {
	var (
		found *MessageProof
		rec   uint64
	)
	want := leaf.String()
	err := Scan(dir, func(r Record) error {
		e, ok := r.Event.(telemetry.SystemEvent)
		if found != nil || !ok {
			return nil
		}
		cnt, ok := e.Fields["msg.count"]
		if !ok {
			return nil
		}
		n := int(cnt.Num)
		at := -1
		var ls [][32]byte
		for i := 0; i < n; i++ {
			s := e.Fields["msg.leaf."+strconv.Itoa(i)].Str
			var h Hash
			if err := h.UnmarshalText([]byte(s)); err != nil {
				return fmt.Errorf("ledger: batch record %d: leaf %d: %w", r.Index, i, err)
			}
			ls = append(ls, h)
			if s == want && at < 0 {
				at = i
			}
		}
		if at < 0 {
			return nil
		}
		t := NewTree(ls)
		p, err := t.ProveInclusion(uint64(at), 0)
		if err != nil {
			return err
		}
		if p.Root.String() != e.Fields["msg.root"].Str {
			return fmt.Errorf("ledger: batch record %d: its leaves hash to %s, it says %s", r.Index, p.Root, e.Fields["msg.root"].Str)
		}
		found = &MessageProof{Origin: e.Fields["msg.origin."+strconv.Itoa(at)].Str, Tick: uint64(e.Fields["tick"].Num), Batch: p}
		rec = r.Index
		return nil
	})
	if err != nil {
		return nil, err
	}
	if found == nil {
		return nil, ErrMessageNotFound
	}
	tree, err := ReadTree(dir)
	if err != nil {
		return nil, err
	}
	if found.Record, err = tree.ProveInclusion(rec, 0); err != nil {
		return nil, err
	}
	return found, nil
}
