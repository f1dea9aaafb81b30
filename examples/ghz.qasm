// A 5-qubit GHZ state, measured: about half 00000 and half 11111.
OPENQASM 3.0;
include "stdgates.inc";
qubit[5] q;
bit[5] c;
h q[0];
cx q[0], q[1];
cx q[1], q[2];
ctrl @ x q[2], q[3];
cx q[3], q[4];
c = measure q;
