package qasm_test

import (
	"fmt"
	"log"
	"strings"

	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/qasm"
)

// Example parses an OpenQASM 3 Bell-pair program into a circuit, counts its
// operations, writes it back out as OpenQASM 3 with Export3 and reads the
// export again.
func Example() {
	const src = `OPENQASM 3.0;
include "stdgates.inc";
qubit[2] q;
bit[2] c;
h q[0];
cx q[0], q[1];
c = measure q;
`
	c, err := qasm.Parse(src)
	if err != nil {
		log.Fatal(err)
	}
	measures := 0
	for _, op := range c.Ops {
		if op.Kind == circuit.KindMeasure {
			measures++
		}
	}
	fmt.Printf("qubits %d, clbits %d, ops %d (gates %d, measurements %d)\n",
		c.Qubits, c.Clbits, len(c.Ops), c.GateCount(), measures)

	out, err := qasm.Export3(c)
	if err != nil {
		log.Fatal(err)
	}
	// Print the program's statements, leaving out the header and the
	// register declarations.
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		switch {
		case strings.HasPrefix(line, "OPENQASM"), strings.HasPrefix(line, "include"),
			strings.HasPrefix(line, "qubit"), strings.HasPrefix(line, "bit"):
			continue
		}
		fmt.Println(line)
	}

	back, err := qasm.Parse(out)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("round trip ops:", len(back.Ops))
	// Output:
	// qubits 2, clbits 2, ops 4 (gates 2, measurements 2)
	// h q[0];
	// cx q[0], q[1];
	// c[0] = measure q[0];
	// c[1] = measure q[1];
	// round trip ops: 4
}
