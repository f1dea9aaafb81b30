OPENQASM 3.0;
#pragma braket verbatim
include "stdgates.inc";
@annotation.backend fake
qubit[2] q;
bit[2] c;
sx q[0];
cy q[0], q[1];
c = measure q;
