OPENQASM 3.0;
include "stdgates.inc";
// A logical bit in a three-qubit repetition code, read by a majority vote
// that the host computes (extern), then copied to a target qubit.
extern majority(bit[3]) -> bit;
input float theta;
qubit[3] code;
qubit target;
bit[3] raw;
bit logical;
bit copy;
ry(theta) code[0];
cx code[0], code[1];
cx code[0], code[2];
raw = measure code;
logical = majority(raw);
if (logical) x target;
copy = measure target;
