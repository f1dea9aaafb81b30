// Generated from Cirq v1.3.0

OPENQASM 3.0;
include "stdgates.inc";


// Qubits: [q(0), q(1)]
qubit[2] q;
bit[2] m_result;


h q[0];
cx q[0],q[1];

// Gate: cirq.MeasurementGate(2, cirq.MeasurementKey(name='result'), ())
m_result[0] = measure q[0];
m_result[1] = measure q[1];
