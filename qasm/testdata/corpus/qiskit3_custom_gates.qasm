OPENQASM 3.0;
include "stdgates.inc";
gate rzz(_gate_p_0) _gate_q_0, _gate_q_1 {
  cx _gate_q_0, _gate_q_1;
  rz(_gate_p_0) _gate_q_1;
  cx _gate_q_0, _gate_q_1;
}
gate rxx(_gate_p_0) _gate_q_0, _gate_q_1 {
  h _gate_q_0;
  h _gate_q_1;
  rzz(_gate_p_0) _gate_q_0, _gate_q_1;
  h _gate_q_0;
  h _gate_q_1;
}
bit[3] c;
qubit[3] q;
h q;
rzz(0.4) q[0], q[1];
rxx(0.9) q[1], q[2];
c = measure q;
