// mec-params: gamma=0.8 beta=0.3
OPENQASM 3.0;
include "stdgates.inc";
input float[64] beta;
input float[64] gamma;
gate rzz(_gate_p_0) _gate_q_0, _gate_q_1 {
  cx _gate_q_0, _gate_q_1;
  rz(_gate_p_0) _gate_q_1;
  cx _gate_q_0, _gate_q_1;
}
bit[4] meas;
qubit[4] q;
h q[0];
h q[1];
h q[2];
h q[3];
rzz(2*gamma) q[0], q[1];
rzz(2*gamma) q[1], q[2];
rzz(2*gamma) q[2], q[3];
rzz(2*gamma) q[3], q[0];
rx(2*beta) q[0];
rx(2*beta) q[1];
rx(2*beta) q[2];
rx(2*beta) q[3];
barrier q[0], q[1], q[2], q[3];
meas[0] = measure q[0];
meas[1] = measure q[1];
meas[2] = measure q[2];
meas[3] = measure q[3];
