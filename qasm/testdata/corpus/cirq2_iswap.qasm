// Generated from Cirq v1.3.0

OPENQASM 2.0;
include "qelib1.inc";


// Qubits: [q(0), q(1)]
qreg q[2];
creg m_out[2];


x q[0];

// Gate: ISWAP
cx q[0],q[1];
h q[0];
cx q[1],q[0];
s q[0];
cx q[1],q[0];
sdg q[0];
h q[0];
cx q[0],q[1];
measure q[0] -> m_out[0];
measure q[1] -> m_out[1];
