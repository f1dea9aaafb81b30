OPENQASM 3.0;
include "stdgates.inc";
bit[2] c;
qubit[3] q;
h q[0];
h q[1];
c[0] = measure q[0];
c[1] = measure q[1];
if (c == 3) {
  x q[2];
}
bit[1] out;
out[0] = measure q[2];
