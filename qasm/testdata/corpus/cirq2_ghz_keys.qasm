// Generated from Cirq v1.3.0

OPENQASM 2.0;
include "qelib1.inc";


// Qubits: [q(0), q(1), q(2)]
qreg q[3];
creg m_z0[1];
creg m_z1[1];
creg m_z2[1];


h q[0];
cx q[0],q[1];
cx q[1],q[2];
measure q[0] -> m_z0[0];
measure q[1] -> m_z1[0];
measure q[2] -> m_z2[0];
