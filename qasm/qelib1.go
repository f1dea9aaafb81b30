package qasm

// qelib1Prelude defines the gates of qelib1.inc that are sequences of
// other gates rather than one standard gate, with qelib1's own
// decompositions (so each has exactly qelib1's matrix, global phase
// included). It is parsed as gate definitions when an OpenQASM 2 program
// includes qelib1.inc; a program may define a gate of the same name
// itself, which then replaces the library's.
//
//   - u0(γ): qelib1's idle gate, the identity;
//   - rxx(θ), rzz(θ): exp(−iθ/2·X⊗X) and exp(−iθ/2·Z⊗Z) up to a global
//     phase (rzz is diag(1, e^{iθ}, e^{iθ}, 1));
//   - rccx, rc3x: Toffoli and 3-controlled X up to relative phases
//     (Margolus), cheaper than ccx and c3x;
//   - c3sqrtx: the 3-controlled √X.
const qelib1Prelude = `
gate u0(gamma) q { U(0, 0, 0) q; }
gate rzz(theta) a, b { cx a, b; u1(theta) b; cx a, b; }
gate rxx(theta) a, b {
  u3(pi/2, theta, 0) a; h b; cx a, b; u1(-theta) b; cx a, b; h b; u2(-pi, pi - theta) a;
}
gate rccx a, b, c {
  u2(0, pi) c; u1(pi/4) c; cx b, c; u1(-pi/4) c; cx a, c; u1(pi/4) c; cx b, c; u1(-pi/4) c; u2(0, pi) c;
}
gate rc3x a, b, c, d {
  u2(0, pi) d; u1(pi/4) d; cx c, d; u1(-pi/4) d; u2(0, pi) d; cx a, d; u1(pi/4) d; cx b, d; u1(-pi/4) d;
  cx a, d; u1(pi/4) d; cx b, d; u1(-pi/4) d; u2(0, pi) d; u1(pi/4) d; cx c, d; u1(-pi/4) d; u2(0, pi) d;
}
gate c3sqrtx a, b, c, d {
  h d; cu1(pi/8) a, d; h d; cx a, b; h d; cu1(-pi/8) b, d; h d; cx a, b; h d; cu1(pi/8) b, d; h d;
  cx b, c; h d; cu1(-pi/8) c, d; h d; cx a, c; h d; cu1(pi/8) c, d; h d; cx b, c; h d; cu1(-pi/8) c, d; h d;
  cx a, c; h d; cu1(pi/8) c, d; h d;
}
`
