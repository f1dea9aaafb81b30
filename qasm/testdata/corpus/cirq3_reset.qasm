// Generated from Cirq v1.3.0

OPENQASM 3.0;
include "stdgates.inc";


// Qubits: [q(0), q(1)]
qubit[2] q;
bit[1] m_mid;
bit[2] m_end;


h q[0];
cx q[0],q[1];
m_mid[0] = measure q[1];
reset q[1];
h q[1];
m_end[0] = measure q[0];
m_end[1] = measure q[1];
