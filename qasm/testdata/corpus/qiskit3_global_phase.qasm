OPENQASM 3.0;
include "stdgates.inc";
bit[2] c;
qubit[2] q;
gphase(pi/4);
U(pi/2, 0, pi) q[0];
cp(pi/3) q[0], q[1];
crx(0.5) q[0], q[1];
c = measure q;
