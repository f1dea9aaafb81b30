OPENQASM 3.0;
include "stdgates.inc";
// Flip a fair quantum coin until it shows 1: tries is geometric,
// P(tries = k) = 2^-k.
qubit coin;
bit m = 0;
int[8] tries = 0;
while (m == 0) {
  reset coin;
  h coin;
  m = measure coin;
  tries += 1;
}
