// mec-params: theta=0.7 phi=-1.2
OPENQASM 3.0;
include "stdgates.inc";
input float[64] phi;
input float[64] theta;
bit[2] c;
qubit[2] q;
ry(theta) q[0];
ry(theta) q[1];
cx q[0], q[1];
rz(phi) q[1];
ry(theta / 2) q[0];
c[0] = measure q[0];
c[1] = measure q[1];
