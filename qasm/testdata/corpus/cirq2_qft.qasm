// Generated from Cirq v1.3.0

OPENQASM 2.0;
include "qelib1.inc";


// Qubits: [q(0), q(1), q(2)]
qreg q[3];


h q[0];

// Gate: CZ**0.5
cu1(pi*0.5) q[1],q[0];

// Gate: CZ**0.25
cu1(pi*0.25) q[2],q[0];
h q[1];

// Gate: CZ**0.5
cu1(pi*0.5) q[2],q[1];
h q[2];
swap q[0],q[2];
