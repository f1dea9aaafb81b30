// Quantum Fourier transform of |5⟩ on 3 qubits (qubit k = bit k), with a
// user gate definition and modifiers.
OPENQASM 3.0;
include "stdgates.inc";
gate crot(k) a, b { ctrl @ p(2*pi/2**k) a, b; }
qubit[3] q;
x q[0];
x q[2];
h q[2];
crot(2) q[1], q[2];
crot(3) q[0], q[2];
h q[1];
crot(2) q[0], q[1];
h q[0];
swap q[0], q[2];
