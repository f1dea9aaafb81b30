OPENQASM 3.0;
include "stdgates.inc";
// A state teleported along a chain of Bell pairs: each hop returns its
// two outcomes, and a switch applies the correction. Undoing the
// preparation at the far end gives 0.
const int pairs = 3;
def bell(qubit a, qubit b) {
  reset a;
  reset b;
  h a;
  cx a, b;
}
def hop(qubit src, qubit a, qubit b) -> bit[2] {
  bell(a, b);
  cx src, a;
  h src;
  bit[2] m;
  m[0] = measure src;
  m[1] = measure a;
  return m;
}
def fix(bit[2] r, qubit b) {
  switch (int(r)) {
    case 1 { z b; }
    case 2 { x b; }
    case 3 { x b; z b; }
    default { }
  }
}
qubit src;
qubit[2 * pairs] q;
bit out;
ry(pi / 3) src;
fix(hop(src, q[0], q[1]), q[1]);
for int i in [1:pairs - 1] {
  bit[2] r = hop(q[2 * i - 1], q[2 * i], q[2 * i + 1]);
  fix(r, q[2 * i + 1]);
}
ry(-pi / 3) q[2 * pairs - 1];
out = measure q[2 * pairs - 1];
