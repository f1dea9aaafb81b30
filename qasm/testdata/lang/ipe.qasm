OPENQASM 3.0;
include "stdgates.inc";
// Iterative phase estimation of phase(theta) on its eigenstate |1>, with
// theta = 2 pi 13/32: the least significant bit first, each round
// corrected by the bits already measured (an angle register shifted
// right), so c ends as exactly 13/32 of a turn.
const int n = 5;
const float[64] theta = 2 * pi * 13 / 32;
qubit anc;
qubit tgt;
angle[n] c = 0;
x tgt;
for int j in [n - 1:-1:0] {
  reset anc;
  h anc;
  ctrl @ pow(2 ** j) @ phase(theta) anc, tgt;
  phase(-(c >> 1)) anc;
  h anc;
  c >>= 1;
  c[n - 1] = measure anc;
}
