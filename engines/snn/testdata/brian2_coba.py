#!/usr/bin/python3
"""Brian2 twin of testdata/coba.yaml: the COBA benchmark network (Vogels & Abbott 2005; Brette et al.
2007, benchmark 1) as Brian2's benchmark scripts write it, with a constant drive.

4000 neurons (3200 excitatory, 800 inhibitory), p = 0.02, tau_m = 20 ms, tau_e = 5 ms, tau_i = 10 ms,
V_t = -50 mV, V_r = -60 mV, E_l = -60 mV, E_e = 0 mV, E_i = -80 mV, I = 20 mV, refractory 5 ms,
w_e = 0.6 and w_i = 6.7 (conductances in units of the leak conductance: 6 nS and 67 nS over 10 nS),
dt = 0.1 ms, forward Euler, V(0) uniform in [V_r, V_t), conductances start at 0.

Usage: /usr/bin/python3 brian2_coba.py [--target numpy|cython|cpp_standalone] [--duration S] [--seed N]
Prints one JSON object with the keys of brian2_cuba.py: synapses, sim_loop_s (C++ standalone only),
spikes, mean_rate_hz, mean_cv_isi (neurons with at least 3 spikes), frac_active.
Needs Debian's python3-brian and python3-numpy."""
import argparse
import json
import tempfile
import time
import warnings

warnings.filterwarnings("ignore")
import numpy as np  # noqa: E402
import brian2 as b2  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--target", default="numpy", choices=["numpy", "cython", "cpp_standalone"])
ap.add_argument("--duration", type=float, default=1.0, help="biological seconds")
ap.add_argument("--seed", type=int, default=1)
a = ap.parse_args()

outdir = tempfile.mkdtemp(prefix="coba_")
if a.target == "cpp_standalone":
    b2.set_device("cpp_standalone", directory=outdir, build_on_run=False)
else:
    b2.prefs.codegen.target = a.target
b2.seed(a.seed)
b2.defaultclock.dt = 0.1 * b2.ms

N, Ne = 4000, 3200
taum, taue, taui = 20 * b2.ms, 5 * b2.ms, 10 * b2.ms
Vt, Vr, El = -50 * b2.mV, -60 * b2.mV, -60 * b2.mV
Ee, Ei, I = 0 * b2.mV, -80 * b2.mV, 20 * b2.mV
we, wi = 6.0 / 10.0, 67.0 / 10.0
eqs = """
dv/dt = (ge*(Ee-v) + gi*(Ei-v) - (v-El) + I)/taum : volt (unless refractory)
dge/dt = -ge/taue : 1
dgi/dt = -gi/taui : 1
"""
P = b2.NeuronGroup(N, eqs, threshold="v>Vt", reset="v = Vr", refractory=5 * b2.ms, method="euler")
P.v = "Vr + rand() * (Vt - Vr)"
P.ge = 0
P.gi = 0
Ce = b2.Synapses(P[:Ne], P, on_pre="ge += we")
Ci = b2.Synapses(P[Ne:], P, on_pre="gi += wi")
Ce.connect(p=0.02)
Ci.connect(p=0.02)
mon = b2.SpikeMonitor(P)

t0 = time.perf_counter()
b2.run(a.duration * b2.second)
sim_time = None
if a.target == "cpp_standalone":
    b2.device.build(directory=outdir, run=True, compile=True, clean=True)
    sim_time = float(b2.device._last_run_time)
wall = time.perf_counter() - t0

idx = np.asarray(mon.i[:])
ts = np.asarray(mon.t[:] / b2.ms)
counts = np.bincount(idx, minlength=N)
order = np.lexsort((ts, idx))
si, st = idx[order], ts[order]
cvs = []
for n in np.nonzero(counts >= 3)[0]:
    isi = np.diff(st[np.searchsorted(si, n):np.searchsorted(si, n, side="right")])
    cvs.append(isi.std() / isi.mean())
print(json.dumps({
    "peer": "brian2 " + b2.__version__, "target": a.target, "neurons": N,
    "synapses": int(len(Ce) + len(Ci)), "duration_s": a.duration,
    "wall_s": round(wall, 3), "sim_loop_s": sim_time,
    "spikes": int(len(idx)), "mean_rate_hz": round(len(idx) / N / a.duration, 3),
    "mean_cv_isi": round(float(np.mean(cvs)), 3) if cvs else None,
    "frac_active": round(int(np.count_nonzero(counts)) / N, 3),
}))
