package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/prismai/mec/federation"
	"github.com/prismai/mec/runtime/ledger"
	"github.com/prismai/mec/runtime/telemetry"
)

func init() { subcommands = append(subcommands, newLedgerCmd) }

func newLedgerCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ledger",
		Short: "Inspect and verify a signed telemetry ledger",
		Long: "The telemetry ledger is an append-only, hash-chained, RFC 6962 Merkle-tree log of\n" +
			"telemetry events with ML-DSA-65 signed checkpoints (see package ledger).\n" +
			"These commands only read the ledger directory; none modifies it.",
	}
	cmd.AddCommand(newLedgerVerifyCmd(), newLedgerProofCmd(), newLedgerConsistencyCmd(), newLedgerTailCmd())
	return cmd
}

func newLedgerVerifyCmd() *cobra.Command {
	var asJSON bool
	var pubFile string
	var witnessFiles []string
	var minWitnesses int
	var rosterPath, nodeName string
	cmd := &cobra.Command{
		Use:   "verify DIR [--witness FILE...] [--min-witnesses K]",
		Short: "Verify the whole ledger: frames, chain, tree and every checkpoint signature",
		Long: "Verify recomputes the hash chain and the Merkle tree from every record and checks\n" +
			"every signed checkpoint against them. It never modifies files; a torn tail left by a\n" +
			"crash is reported (opening the ledger for appends repairs it). By default the key in\n" +
			"DIR/ledger.pub is trusted; --pub names an independently held verifier key file.\n\n" +
			"With --witness (repeatable: witness verifier key files, the ledger.pub format) it\n" +
			"also checks DIR/checkpoint.witnessed, the newest checkpoint the node saw co-signed by\n" +
			"its witnesses: it must carry valid co-signatures by at least --min-witnesses of them\n" +
			"(default: all) and match the records at its size, so a ledger rewritten after it was\n" +
			"witnessed fails.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var opts ledger.VerifyOptions
			if pubFile != "" {
				b, err := os.ReadFile(pubFile)
				if err != nil {
					return fmt.Errorf("ledger verify: --pub: %w", err)
				}
				if opts.Verifier, err = ledger.ParseVerifier(string(b)); err != nil {
					return fmt.Errorf("ledger verify: --pub %s: %w", pubFile, err)
				}
			}
			if minWitnesses < 0 {
				return fmt.Errorf("ledger verify: --min-witnesses %d: must be >= 0", minWitnesses)
			}
			if minWitnesses > 0 && len(witnessFiles) == 0 {
				return errors.New("ledger verify: --min-witnesses needs --witness key files")
			}
			if minWitnesses > len(witnessFiles) {
				return fmt.Errorf("ledger verify: --min-witnesses %d exceeds the %d --witness keys given", minWitnesses, len(witnessFiles))
			}
			for _, f := range witnessFiles {
				b, err := os.ReadFile(f)
				if err != nil {
					return fmt.Errorf("ledger verify: --witness: %w", err)
				}
				w, err := ledger.ParseVerifier(string(b))
				if err != nil {
					return fmt.Errorf("ledger verify: --witness %s: %w", f, err)
				}
				opts.Witnesses = append(opts.Witnesses, w)
			}
			opts.MinWitnesses = minWitnesses
			if rosterPath != "" || nodeName != "" {
				// A federated node's ledger: its key and its witnesses' from
				// the roster (the other cores; quorum as the node keeps it).
				if rosterPath == "" || nodeName == "" || pubFile != "" || len(witnessFiles) > 0 {
					return errors.New("ledger verify: --roster and --node go together, instead of --pub and --witness")
				}
				r, err := federation.LoadRoster(rosterPath)
				if err != nil {
					return fmt.Errorf("ledger verify: %w", err)
				}
				if opts.Verifier, err = r.LedgerKey(nodeName); err != nil {
					return fmt.Errorf("ledger verify: %w", err)
				}
				keys, quorum, err := r.Witnesses(nodeName)
				if err != nil {
					return fmt.Errorf("ledger verify: %w", err)
				}
				if minWitnesses > 0 {
					quorum = minWitnesses
				}
				if quorum > 0 {
					opts.Witnesses, opts.MinWitnesses = keys, quorum
				}
			}
			rep, err := ledger.Verify(args[0], opts)
			if err != nil {
				if asJSON {
					_ = writeJSON(cmd.OutOrStdout(), map[string]any{"ok": false, "error": err.Error(), "damage": corruptDetail(err)})
				}
				return fmt.Errorf("ledger verify %s: FAILED: %w", args[0], err)
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), map[string]any{"ok": true, "report": rep})
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "OK %s\n", args[0])
			fmt.Fprintf(w, "origin:      %s (key ID %s, ML-DSA-65)\n", rep.Origin, rep.KeyID)
			fmt.Fprintf(w, "records:     %d\n", rep.Records)
			fmt.Fprintf(w, "root:        %s\n", rep.Root)
			fmt.Fprintf(w, "chain:       %s %s\n", rep.ChainHash, rep.Chain)
			fmt.Fprintf(w, "checkpoints: %d verified", rep.Checkpoints)
			if rep.Latest != nil {
				fmt.Fprintf(w, ", latest at size %d", rep.Latest.Size)
			}
			fmt.Fprintln(w)
			if wr := rep.Witnessed; wr != nil {
				fmt.Fprintf(w, "witnessed:   size %d, co-signed by %s (%d of %d keys given, %d required)\n",
					wr.Checkpoint.Size, strings.Join(wr.Cosigners, ", "), len(wr.Cosigners), len(opts.Witnesses), wr.Required)
			}
			if rep.Unsigned > 0 {
				fmt.Fprintf(w, "warning:     %d records after the latest signed checkpoint (not reopened since a crash?)\n", rep.Unsigned)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&pubFile, "pub", "", "trusted verifier key file (default: DIR/ledger.pub)")
	cmd.Flags().StringArrayVar(&witnessFiles, "witness", nil, "trusted witness verifier key file (repeatable)")
	cmd.Flags().IntVar(&minWitnesses, "min-witnesses", 0, "witness co-signatures required (default: all --witness keys)")
	cmd.Flags().StringVar(&rosterPath, "roster", "", "a federated node's ledger: take its key and its witnesses' (the other cores) from this roster (with --node)")
	cmd.Flags().StringVar(&nodeName, "node", "", "the node whose ledger DIR is (with --roster)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// corruptDetail returns the structured part of a *ledger.CorruptError.
func corruptDetail(err error) any {
	var ce *ledger.CorruptError
	if !errors.As(err, &ce) {
		return nil
	}
	return map[string]any{"file": ce.File, "offset": ce.Offset, "index": ce.Index, "torn": ce.Torn}
}

func newLedgerProofCmd() *cobra.Command {
	var asJSON bool
	var index, size uint64
	var message, envelope string
	cmd := &cobra.Command{
		Use:   "proof DIR --index I | --message LEAF | --envelope FILE",
		Short: "Print and check the inclusion proof of record I, or of one bus message",
		Long: "Proof builds the RFC 6962 inclusion proof of record I in the tree of --size records\n" +
			"(default: all records), verifies it, and prints the leaf hash, tree size, root and\n" +
			"proof hashes (standard base64). When a signed checkpoint has that size its root is\n" +
			"compared too.\n\n" +
			"--message LEAF (a bus message's RFC 6962 leaf hash, base64, as listed in a\n" +
			"\"messages\" record) or --envelope FILE (the sealed message itself) proves one bus\n" +
			"message instead: into the Merkle root of its tick's message batch, and that batch's\n" +
			"record into the ledger; both proofs are verified.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if message != "" || envelope != "" {
				return proveMessage(cmd, args[0], message, envelope, asJSON)
			}
			if !cmd.Flags().Changed("index") {
				return errors.New("ledger proof: --index, --message or --envelope is required")
			}
			tree, err := ledger.ReadTree(args[0])
			if err != nil {
				return fmt.Errorf("ledger proof: %w", err)
			}
			p, err := tree.ProveInclusion(index, size)
			if err != nil {
				return fmt.Errorf("ledger proof: %w", err)
			}
			signed, err := signedAt(args[0], p.Size, p.Root)
			if err != nil {
				return fmt.Errorf("ledger proof: %w", err)
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), map[string]any{"proof": p, "verified": true, "signed_checkpoint": signed})
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "index:     %d\ntree size: %d\nleaf hash: %s\nroot:      %s\n", p.Index, p.Size, p.Leaf, p.Root)
			printHashes(w, p.Hashes)
			fmt.Fprintf(w, "verified:  yes%s\n", signedNote(signed))
			return nil
		},
	}
	cmd.Flags().Uint64Var(&index, "index", 0, "record index")
	cmd.Flags().StringVar(&message, "message", "", "prove the bus message of this leaf hash (base64)")
	cmd.Flags().StringVar(&envelope, "envelope", "", "prove the bus message sealed in this file")
	cmd.Flags().Uint64Var(&size, "size", 0, "tree size (default: all records)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// proveMessage is mec ledger proof --message/--envelope.
func proveMessage(cmd *cobra.Command, dir, message, envelope string, asJSON bool) error {
	if message != "" && envelope != "" {
		return errors.New("ledger proof: --message and --envelope are exclusive")
	}
	var leaf ledger.Hash
	if envelope != "" {
		raw, err := readInput("bus message", envelope)
		if err != nil {
			return fmt.Errorf("ledger proof: %w", err)
		}
		leaf = ledger.MessageLeaf(raw)
	} else if err := leaf.UnmarshalText([]byte(message)); err != nil {
		return fmt.Errorf("ledger proof: --message %q: %w", message, err)
	}
	p, err := ledger.ProveMessage(dir, leaf)
	if err != nil {
		return fmt.Errorf("ledger proof: message %s: %w", leaf, err)
	}
	signed, err := signedAt(dir, p.Record.Size, p.Record.Root)
	if err != nil {
		return fmt.Errorf("ledger proof: %w", err)
	}
	if asJSON {
		return writeJSON(cmd.OutOrStdout(), map[string]any{"message": p, "verified": true, "signed_checkpoint": signed})
	}
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "message:   %s from %s, tick %d\n", leaf, p.Origin, p.Tick)
	fmt.Fprintf(w, "batch:     leaf %d of %d, root %s\n", p.Batch.Index, p.Batch.Size, p.Batch.Root)
	printHashes(w, p.Batch.Hashes)
	fmt.Fprintf(w, "record:    index %d, tree size %d, root %s\n", p.Record.Index, p.Record.Size, p.Record.Root)
	printHashes(w, p.Record.Hashes)
	fmt.Fprintf(w, "verified:  yes%s\n", signedNote(signed))
	return nil
}

func newLedgerConsistencyCmd() *cobra.Command {
	var asJSON bool
	var from, to uint64
	cmd := &cobra.Command{
		Use:   "consistency DIR --from A --to B",
		Short: "Print and check the consistency proof between tree sizes A and B",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("from") || !cmd.Flags().Changed("to") {
				return errors.New("ledger consistency: --from and --to are required")
			}
			tree, err := ledger.ReadTree(args[0])
			if err != nil {
				return fmt.Errorf("ledger consistency: %w", err)
			}
			p, err := tree.ProveConsistency(from, to)
			if err != nil {
				return fmt.Errorf("ledger consistency: %w", err)
			}
			signed, err := signedAt(args[0], p.Size2, p.Root2)
			if err != nil {
				return fmt.Errorf("ledger consistency: %w", err)
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), map[string]any{"proof": p, "verified": true, "signed_checkpoint": signed})
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "from:      %d %s\nto:        %d %s\n", p.Size1, p.Root1, p.Size2, p.Root2)
			printHashes(w, p.Hashes)
			fmt.Fprintf(w, "verified:  yes%s\n", signedNote(signed))
			return nil
		},
	}
	cmd.Flags().Uint64Var(&from, "from", 0, "older tree size (required)")
	cmd.Flags().Uint64Var(&to, "to", 0, "newer tree size (required)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// signedAt reports whether the latest signed checkpoint has tree size size;
// if it does, its root must equal root.
func signedAt(dir string, size uint64, root ledger.Hash) (bool, error) {
	b, err := os.ReadFile(filepath.Join(dir, ledger.PublicKeyFile))
	if err != nil {
		return false, nil // no key: nothing to compare with
	}
	v, err := ledger.ParseVerifier(string(b))
	if err != nil {
		return false, err
	}
	c, err := ledger.ReadCheckpoint(dir, v)
	if err != nil {
		return false, nil
	}
	if c.Size != size {
		return false, nil
	}
	if c.Root != root {
		return false, fmt.Errorf("signed checkpoint at size %d has root %s, records give %s", size, c.Root, root)
	}
	return true, nil
}

func signedNote(signed bool) string {
	if signed {
		return " (root matches the latest signed checkpoint)"
	}
	return ""
}

func printHashes(w io.Writer, hs []ledger.Hash) {
	fmt.Fprintf(w, "proof:     %d hashes\n", len(hs))
	for i, h := range hs {
		fmt.Fprintf(w, "  %2d %s\n", i, h)
	}
}

func newLedgerTailCmd() *cobra.Command {
	var asJSON bool
	var n int
	cmd := &cobra.Command{
		Use:   "tail DIR",
		Short: "Print the last records, decoded",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if n < 0 {
				return fmt.Errorf("ledger tail: -n %d: must be >= 0", n)
			}
			recs, err := ledger.Tail(args[0], n)
			if err != nil {
				return fmt.Errorf("ledger tail: %w", err)
			}
			if asJSON {
				if recs == nil {
					recs = []ledger.Record{}
				}
				return writeJSON(cmd.OutOrStdout(), recs)
			}
			w := cmd.OutOrStdout()
			for _, r := range recs {
				fmt.Fprintf(w, "%d %s\n", r.Index, formatEvent(r.Event))
			}
			return nil
		},
	}
	cmd.Flags().IntVarP(&n, "n", "n", 10, "number of records")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func formatEvent(e telemetry.Event) string {
	ts := e.Time().UTC().Format("2006-01-02T15:04:05.000000000Z")
	switch e := e.(type) {
	case telemetry.FusionEvent:
		parent := fmt.Sprint(e.ParentBlock)
		if e.ParentBlock == telemetry.NoParent {
			parent = "none"
		}
		return fmt.Sprintf("%s fusion coherence_entropy=%g avg_phase_diff=%g fusion_energy=%g parent_block=%s",
			ts, e.CoherenceEntropy, e.AvgPhaseDiff, e.FusionEnergy, parent)
	case telemetry.SystemEvent:
		var sb strings.Builder
		fmt.Fprintf(&sb, "%s system source=%q kind=%q", ts, e.Source, e.Kind)
		keys := make([]string, 0, len(e.Fields))
		for k := range e.Fields {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fmt.Fprintf(&sb, " %s=%s", k, e.Fields[k])
		}
		return sb.String()
	}
	return fmt.Sprintf("%s %v", ts, e.Type())
}
