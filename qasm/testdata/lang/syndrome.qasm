OPENQASM 3.0;
include "stdgates.inc";
// The three-qubit bit-flip code: an optional error on data qubit err
// (input; -1 for none), two parity checks, and a switch on the syndrome
// that corrects it. The data always reads 000; the syndrome names the
// flipped qubit (0 without an error).
input int err;
qubit[3] d;
qubit[2] chk;
bit[2] syn;
bit[3] data;
if (err >= 0) x d[err];
cx d[0], chk[0];
cx d[1], chk[0];
cx d[1], chk[1];
cx d[2], chk[1];
syn = measure chk;
switch (int(syn)) {
  case 1 { x d[0]; }
  case 3 { x d[1]; }
  case 2 { x d[2]; }
}
data = measure d;
