// Generated from Cirq v1.3.0

OPENQASM 3.0;
include "stdgates.inc";


// Qubits: [q(0), q(1), q(2)]
qubit[3] q;
bit[3] m_m;


rx(pi*0.1) q[0];
ry(pi*0.2) q[1];
rz(pi*0.3) q[2];
p(pi*0.4) q[0];
cz q[0],q[2];
cp(pi*0.5) q[1],q[2];
swap q[0],q[1];
m_m[0] = measure q[0];
m_m[1] = measure q[1];
m_m[2] = measure q[2];
