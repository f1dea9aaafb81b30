"""Independent reference for mec's noise channels: evolves one qubit's
density matrix through a list of steps with QuTiP and prints it as JSON.

Input (argv[1], JSON): {"steps": [...]} where each step is
  {"unitary": [[re, im] x 4]}   rho -> U rho U^dag (row-major 2x2)
  {"relax": G, "t": T}          Lindblad decay with collapse sqrt(G) sigma_minus for time T (mesolve)
  {"dephase": G, "t": T}        Lindblad dephasing with collapse sqrt(G) sigma_z for time T (mesolve)
  {"depolarize": p}             rho -> (1-p) rho + p I/2, as a Kraus map (qutip.kraus_to_super)
Output: {"rho": [[re, im] x 4]} row-major, basis |0>, |1>.
"""
import json
import sys

import numpy as np
import qutip as qt

spec = json.load(open(sys.argv[1]))
rho = qt.ket2dm(qt.basis(2, 0))
for s in spec["steps"]:
    if "unitary" in s:
        m = np.array([complex(a, b) for a, b in s["unitary"]]).reshape(2, 2)
        u = qt.Qobj(m)
        rho = u * rho * u.dag()
    elif "relax" in s:
        times = np.linspace(0, s["t"], 51)
        res = qt.mesolve(qt.qeye(2) * 0, rho, times, [np.sqrt(s["relax"]) * qt.destroy(2)], [],
                         options=qt.Options(atol=1e-12, rtol=1e-10))
        rho = res.states[-1]
    elif "dephase" in s:
        times = np.linspace(0, s["t"], 51)
        res = qt.mesolve(qt.qeye(2) * 0, rho, times, [np.sqrt(s["dephase"]) * qt.sigmaz()], [],
                         options=qt.Options(atol=1e-12, rtol=1e-10))
        rho = res.states[-1]
    elif "depolarize" in s:
        p = s["depolarize"]
        ks = [np.sqrt(1 - 3 * p / 4) * qt.qeye(2), np.sqrt(p / 4) * qt.sigmax(),
              np.sqrt(p / 4) * qt.sigmay(), np.sqrt(p / 4) * qt.sigmaz()]
        sup = qt.kraus_to_super(ks)
        rho = qt.vector_to_operator(sup * qt.operator_to_vector(rho))
    else:
        raise SystemExit("unknown step %r" % s)
m = rho.full()
print(json.dumps({"rho": [[float(v.real), float(v.imag)] for v in m.reshape(-1)]}))
