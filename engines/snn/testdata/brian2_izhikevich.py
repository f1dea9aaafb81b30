#!/usr/bin/python3
"""Brian2 twin of testdata/izhikevich.yaml: a sparse Izhikevich (2003) network.

800 regular-spiking (a = 0.02, b = 0.2, c = -65, d = 8) and 200 fast-spiking (a = 0.1, b = 0.2, c = -65,
d = 2) neurons, dv/dt = 0.04 v^2 + 5 v + 140 - u + Je + Ji and du/dt = a (b v - u) in Izhikevich's units
(mV, ms), cutoff v >= 30 then v = c, u += d; V(0) uniform in [-70, -60), u(0) = b V(0). Je (tau 5 ms)
jumps by 1 per spike of 1000 Poisson sources at 10 Hz (p = 0.1) and by 0.5 per excitatory spike,
Ji (tau 10 ms) by -2 per inhibitory spike (recurrent p = 0.05). dt = 0.1 ms, forward Euler for every
variable, as mec with --method euler.

Usage: /usr/bin/python3 brian2_izhikevich.py [--target numpy|cython|cpp_standalone] [--duration S] [--seed N]
Prints one JSON object with the keys of brian2_coba.py: synapses, sim_loop_s (C++ standalone only),
spikes, mean_rate_hz, mean_cv_isi (neurons with at least 3 spikes), frac_active.
Needs Debian's python3-brian and python3-numpy."""
import argparse
import json
import tempfile
import time
import warnings

warnings.filterwarnings("ignore")
import brian2 as b2  # noqa: E402
from brian2_netstats import stats  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--target", default="numpy", choices=["numpy", "cython", "cpp_standalone"])
ap.add_argument("--duration", type=float, default=1.0, help="biological seconds")
ap.add_argument("--seed", type=int, default=1)
a = ap.parse_args()

outdir = tempfile.mkdtemp(prefix="izh_")
if a.target == "cpp_standalone":
    b2.set_device("cpp_standalone", directory=outdir, build_on_run=False)
else:
    b2.prefs.codegen.target = a.target
b2.seed(a.seed)
b2.defaultclock.dt = 0.1 * b2.ms

N, Ne = 1000, 800
taue, taui = 5 * b2.ms, 10 * b2.ms
eqs = """
dv/dt = (0.04*v**2 + 5*v + 140 - u + Je + Ji)/ms : 1
du/dt = a*(b*v - u)/ms : 1
dJe/dt = -Je/taue : 1
dJi/dt = -Ji/taui : 1
a : 1
b : 1
c : 1
d : 1
"""
P = b2.NeuronGroup(N, eqs, threshold="v >= 30", reset="v = c; u += d", method="euler")
P.a[:Ne], P.d[:Ne] = 0.02, 8
P.a[Ne:], P.d[Ne:] = 0.1, 2
P.b, P.c = 0.2, -65
P.v = "-70 + 10*rand()"
P.u = "b*v"
X = b2.PoissonGroup(1000, 10 * b2.Hz)
Cx = b2.Synapses(X, P, on_pre="Je += 1")
Ce = b2.Synapses(P[:Ne], P, on_pre="Je += 0.5")
Ci = b2.Synapses(P[Ne:], P, on_pre="Ji -= 2")
Cx.connect(p=0.1)
Ce.connect(p=0.05)
Ci.connect(p=0.05)
mon = b2.SpikeMonitor(P)

t0 = time.perf_counter()
b2.run(a.duration * b2.second)
sim_time = None
if a.target == "cpp_standalone":
    b2.device.build(directory=outdir, run=True, compile=True, clean=True)
    sim_time = float(b2.device._last_run_time)
wall = time.perf_counter() - t0

out = {
    "peer": "brian2 " + b2.__version__, "target": a.target, "neurons": N,
    "synapses": int(len(Cx) + len(Ce) + len(Ci)), "duration_s": a.duration,
    "wall_s": round(wall, 3), "sim_loop_s": sim_time,
}
out.update(stats(mon, N, a.duration))
print(json.dumps(out))
