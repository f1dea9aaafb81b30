OPENQASM 3.0;
include "stdgates.inc";
// Recursion that ends as the program is read, and a rotation by its value.
def fib(int n) -> int {
  if (n < 2) { return n; }
  return fib(n - 1) + fib(n - 2);
}
qubit q;
int f = fib(10);
rx(f * pi / 55) q;
bit b = measure q;
