package bench

import (
	"context"
	"os"
	"testing"

	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/qsimfile"
)

// TestFuseNoMoreBlocksThanQsim is issue 12 item 3: at every block size
// 2…6, mec's fusion gives no more blocks (passes over the state) than
// qsim's fuser on the same circuit file: $MEC_QSIM_CIRCUIT (such as
// qsim's circuits/circuit_q24), else the random circuit on 16 qubits
// written in qsim's format. Needs $MEC_QSIM.
func TestFuseNoMoreBlocksThanQsim(t *testing.T) {
	bin := qsimBin(t)
	file := os.Getenv("MEC_QSIM_CIRCUIT")
	var c *circuit.Circuit
	if file == "" {
		c = RandomCircuit(16, 100, 1257, 1)
		file = t.TempDir() + "/random16.qsim"
		fh, err := os.Create(file)
		if err != nil {
			t.Fatal(err)
		}
		if err := qsimfile.Write(fh, c); err != nil {
			t.Fatal(err)
		}
		if err := fh.Close(); err != nil {
			t.Fatal(err)
		}
	} else {
		fh, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		defer fh.Close()
		if c, err = qsimfile.Parse(context.Background(), fh, file, 0); err != nil {
			t.Fatal(err)
		}
	}
	var gates []circuit.Gate
	for i := range c.Ops {
		g, err := c.Ops[i].Lower()
		if err != nil {
			t.Fatal(err)
		}
		gates = append(gates, g)
	}
	for _, f := range qsimFuses {
		q, err := RunQsim(context.Background(), bin, file, 1, f)
		if err != nil {
			t.Fatal(err)
		}
		fused, err := circuit.Fuse(gates, f)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("fuse %d: mec %d blocks, qsim %d", f, len(fused), q.Blocks)
		if q.Blocks == 0 || len(fused) > q.Blocks {
			t.Errorf("fuse %d: mec %d blocks, qsim %d", f, len(fused), q.Blocks)
		}
	}
}
