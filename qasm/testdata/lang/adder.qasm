OPENQASM 3.0;
include "stdgates.inc";
// Ripple-carry addition (Cuccaro et al.) of two 4-bit numbers given as
// constants: the sum is 5 + 9 = 14, in five bits with the carry.
gate maj a, b, c { cx c, b; cx c, a; ccx a, b, c; }
gate uma a, b, c { ccx a, b, c; cx c, a; cx a, b; }
const uint[4] xa = 5;
const uint[4] yb = 9;
qubit carry;
qubit[4] a;
qubit[4] b;
qubit cout;
bit[5] sum;
for uint k in [0:3] {
  if (bool(xa[k])) x a[k];
  if (yb[k] == 1) x b[k];
}
maj carry, b[0], a[0];
for uint k in [0:2] maj a[k], b[k + 1], a[k + 1];
cx a[3], cout;
for uint k in [2:-1:0] uma a[k], b[k + 1], a[k + 1];
uma carry, b[0], a[0];
sum[0:3] = measure b;
sum[4] = measure cout;
