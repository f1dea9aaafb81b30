OPENQASM 3.0;
include "stdgates.inc";
// Ops in a while condition run only for the shots still in the loop: the
// loop ends when flip measures w in 0, and nothing flips w after that.
def flip(qubit a) -> bit { h a; return measure a; }
qubit w;
qubit m;
qubit r;
while (flip(w)) { x w; }
bit done = measure w;
// A float assigned only under a run-time condition drives a rotation.
h m;
bit b = measure m;
float[64] th = 0;
if (b) th = pi;
rx(th) r;
bit flipped = measure r;
// Integer literals compare and divide by their exact values, never
// wrapped to the other operand's width first.
int[8] v = 5;
if (b) v = 6;
bool small = v < 1000;
uint[4] k = 3;
if (b) k = 4;
bool nineteen = k == 19;
uint[8] u = 250;
if (b) u = 251;
uint[8] tiny = u / 300;
bool above = u > -1;
