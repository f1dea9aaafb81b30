// Quantum teleportation of ry(theta)|0> from q[0] to q[2], with the
// classically controlled corrections of OpenQASM 3 (if on measured bits).
// Run: mec circuit run examples/teleport.qasm --param theta=1.1 --shots 4000
// c[2] is 1 with probability sin²(theta/2).
OPENQASM 3.0;
include "stdgates.inc";
input float[64] theta;
qubit[3] q;
bit[3] c;
ry(theta) q[0];
h q[1];
cx q[1], q[2];
cx q[0], q[1];
h q[0];
c[0] = measure q[0];
c[1] = measure q[1];
if (c[1]) x q[2];
if (c[0]) z q[2];
c[2] = measure q[2];
