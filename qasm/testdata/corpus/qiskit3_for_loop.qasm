OPENQASM 3.0;
include "stdgates.inc";
bit[4] c;
qubit[4] q;
h q[0];
for _loop_i_0 in [0:2] {
  cx q[_loop_i_0], q[_loop_i_0 + 1];
}
for uint _loop_i_1 in {0, 3} {
  rz(pi/4) q[_loop_i_1];
}
c = measure q;
