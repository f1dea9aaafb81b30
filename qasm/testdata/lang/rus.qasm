OPENQASM 3.0;
include "stdgates.inc";
// Repeat until success (Nielsen and Chuang, exercise 4.41): an attempt
// succeeds with probability 5/8 and then applies a z rotation whose
// cosine is 3/5 (up to pi); a failed attempt leaves psi unchanged. The
// final rotation and h undo the whole, so out is always 0.
def attempt(qubit[2] anc, qubit psi) -> bool {
  reset anc;
  h anc;
  ccx anc[0], anc[1], psi;
  s psi;
  ccx anc[0], anc[1], psi;
  z psi;
  h anc;
  bit[2] m = measure anc;
  return m == 0;
}
qubit psi;
qubit[2] anc;
bit out;
bool done = false;
int[8] tries = 0;
h psi;
while (!done) {
  done = attempt(anc, psi);
  tries += 1;
}
rz(pi - arccos(3.0 / 5)) psi;
h psi;
out = measure psi;
