// Generated from Cirq v1.3.0

OPENQASM 2.0;
include "qelib1.inc";


// Qubits: [q(0), q(1), q(2)]
qreg q[3];
creg m_a[1];
creg m_b[2];


rx(pi*0.5) q[0];
ry(pi*0.25) q[1];
rz(pi*-0.125) q[2];
u3(pi*0.5,0,pi*1.0) q[0];
sx q[1];

// Gate: CZ**0.5
cu1(pi*0.5) q[0],q[1];

// Gate: CNOT**0.5
ry(pi*-0.25) q[2];
cu1(pi*0.5) q[1],q[2];
ry(pi*0.25) q[2];
u3(0,0,pi*0.25) q[1];
swap q[0],q[2];
measure q[0] -> m_a[0];
measure q[1] -> m_b[0];
measure q[2] -> m_b[1];
