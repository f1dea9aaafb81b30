OPENQASM 3.0;
include "stdgates.inc";
gate ecr _gate_q_0, _gate_q_1 {
  s _gate_q_0;
  sx _gate_q_1;
  cx _gate_q_0, _gate_q_1;
  x _gate_q_0;
}
bit[2] c;
rz(pi/2) $0;
sx $0;
rz(pi/2) $0;
rz(-pi/2) $1;
ecr $0, $1;
x $0;
barrier $0, $1;
c[0] = measure $0;
c[1] = measure $1;
