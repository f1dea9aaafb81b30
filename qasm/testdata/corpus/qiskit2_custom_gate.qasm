OPENQASM 2.0;
include "qelib1.inc";
gate rzx(param0) q0,q1 { h q1; cx q0,q1; rz(param0) q1; cx q0,q1; h q1; }
gate mygate q0,q1,q2 { ccx q0,q1,q2; u3(0.1,0.2,0.3) q2; }
qreg q[3];
creg c[3];
h q[0];
h q[1];
rzx(0.35) q[0],q[1];
mygate q[0],q[1],q[2];
measure q -> c;
