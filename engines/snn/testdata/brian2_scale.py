#!/usr/bin/python3
"""Brian2 twin of snn.CUBAScaled: the CUBA network (Vogels & Abbott 2005; Brette et al. 2007)
with N neurons (80% excitatory) and connection probability p, for the scale benchmark
(BenchmarkScale: 10^5 neurons, p = 0.001, 10^7 synapses).

tau_m = 20 ms, tau_e = 5 ms, tau_i = 10 ms, V_t = -50 mV, V_r = -60 mV, E_l = -49 mV,
refractory 5 ms, w_e = 1.62 mV, w_i = -9 mV, dt = 0.1 ms, exact integration, V(0) uniform in
[V_r, V_t).

Usage: /usr/bin/python3 brian2_scale.py [--target numpy|cython|cpp_standalone] [--neurons N]
       [--p P] [--duration S] [--seed N]
Prints one JSON object: synapses, sim_loop_s (C++ standalone: Brian's own measure of the
compiled simulation loop, without code generation and compilation; other targets: the wall
time of run()), spikes, syn_events (the synaptic events delivered: each spike times its
neuron's out-degree), mean_rate_hz, mean_cv_isi (neurons with at least 3 spikes), frac_active.
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
ap.add_argument("--target", default="cpp_standalone", choices=["numpy", "cython", "cpp_standalone"])
ap.add_argument("--neurons", type=int, default=100000)
ap.add_argument("--p", type=float, default=0.001)
ap.add_argument("--duration", type=float, default=1.0, help="biological seconds")
ap.add_argument("--seed", type=int, default=1)
a = ap.parse_args()

outdir = tempfile.mkdtemp(prefix="scale_")
if a.target == "cpp_standalone":
    b2.set_device("cpp_standalone", directory=outdir, build_on_run=False)
else:
    b2.prefs.codegen.target = a.target
b2.seed(a.seed)
b2.defaultclock.dt = 0.1 * b2.ms

N = a.neurons
Ne = N * 4 // 5
taum, taue, taui = 20 * b2.ms, 5 * b2.ms, 10 * b2.ms
Vt, Vr, El = -50 * b2.mV, -60 * b2.mV, -49 * b2.mV
eqs = """
dv/dt  = (ge+gi-(v-El))/taum : volt (unless refractory)
dge/dt = -ge/taue : volt
dgi/dt = -gi/taui : volt
"""
P = b2.NeuronGroup(N, eqs, threshold="v>Vt", reset="v = Vr", refractory=5 * b2.ms, method="exact")
P.v = "Vr + rand() * (Vt - Vr)"
P.ge = 0 * b2.mV
P.gi = 0 * b2.mV
Ce = b2.Synapses(P[:Ne], P, on_pre="ge += 1.62*mV")
Ci = b2.Synapses(P[Ne:], P, on_pre="gi += -9*mV")
Ce.connect(p=a.p)
Ci.connect(p=a.p)
mon = b2.SpikeMonitor(P)

t0 = time.perf_counter()
b2.run(a.duration * b2.second)
if a.target == "cpp_standalone":
    b2.device.build(directory=outdir, run=True, compile=True, clean=True)
    loop = float(b2.device._last_run_time)
else:
    loop = time.perf_counter() - t0

idx = np.asarray(mon.i[:])
ts = np.asarray(mon.t[:] / b2.ms)
counts = np.bincount(idx, minlength=N)
outdeg = np.bincount(np.concatenate([np.asarray(Ce.i[:]), np.asarray(Ci.i[:]) + Ne]), minlength=N)
order = np.lexsort((ts, idx))
si, st = idx[order], ts[order]
starts = np.searchsorted(si, np.arange(N))
ends = np.searchsorted(si, np.arange(N), side="right")
cvs = []
for n in np.nonzero(counts >= 3)[0]:
    isi = np.diff(st[starts[n]:ends[n]])
    cvs.append(isi.std() / isi.mean())
print(json.dumps({
    "peer": "brian2 " + b2.__version__, "target": a.target, "neurons": N, "p": a.p,
    "synapses": int(len(Ce) + len(Ci)), "duration_s": a.duration, "sim_loop_s": loop,
    "spikes": int(len(idx)), "syn_events": int(np.dot(counts.astype(np.int64), outdeg.astype(np.int64))),
    "mean_rate_hz": round(len(idx) / N / a.duration, 3),
    "mean_cv_isi": round(float(np.mean(cvs)), 3) if cvs else None,
    "frac_active": round(int(np.count_nonzero(counts)) / N, 3),
}))
