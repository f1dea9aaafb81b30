#!/usr/bin/python3
"""Brian2 twin of testdata/stdp_sma.yaml: Brian2's STDP example (Song, Miller & Abbott 2000).

1000 Poisson inputs at 15 Hz onto one neuron, dv/dt = (ge*(Ee-v) + El - v)/taum, dge/dt = -ge/taue
(taum = 10 ms, taue = 5 ms, Ee = 0 mV, El = -74 mV, threshold v > -54 mV, reset -60 mV, forward
Euler, dt = 0.1 ms), through synapses with pair-based additive STDP (taupre = taupost = 20 ms,
gmax = 0.01, dApre = 0.01*gmax, dApost = -1.05*dApre), initial weights rand()*gmax.
With --rule multiplicative the same network learns with mec's multiplicative rule instead: traces
jump by 1 (xpre at a source spike, xpost at a target spike), a source spike depresses
w -= aminus*xpost*w and a target spike potentiates w += aplus*xpre*(gmax - w) (--a-plus, --a-minus:
dimensionless fractions, default 0.01 and 0.0105).

Usage: /usr/bin/python3 brian2_stdp.py [--target numpy|cython|cpp_standalone] [--duration S] [--seed N]
       [--rule additive|multiplicative] [--a-plus A] [--a-minus A]
Prints one JSON object: sim_loop_s (C++ standalone: Brian's measure of the compiled loop; other
targets: the wall time of run()), post_spikes, post_rate_hz, the final weights' histogram over w/gmax in 10
bins of [0, 1] (hist), frac_low (w < 0.1 gmax), frac_high (w > 0.9 gmax), mean_w (w/gmax averaged),
std_w (its standard deviation).
Needs Debian's python3-brian and python3-numpy."""
import argparse
import json
import tempfile
import time
import warnings

warnings.filterwarnings("ignore")
import numpy as np  # noqa: E402
import brian2 as b2  # noqa: E402
from brian2 import ms, mV, Hz, second  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--target", default="cpp_standalone", choices=["numpy", "cython", "cpp_standalone"])
ap.add_argument("--duration", type=float, default=100.0, help="biological seconds")
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--rule", default="additive", choices=["additive", "multiplicative"])
ap.add_argument("--a-plus", type=float, default=0.01, help="multiplicative: potentiation fraction")
ap.add_argument("--a-minus", type=float, default=0.0105, help="multiplicative: depression fraction")
a = ap.parse_args()

outdir = tempfile.mkdtemp(prefix="stdp_")
if a.target == "cpp_standalone":
    b2.set_device("cpp_standalone", directory=outdir, build_on_run=False)
else:
    b2.prefs.codegen.target = a.target
b2.seed(a.seed)
b2.defaultclock.dt = 0.1 * ms

N = 1000
taum, taupre, taupost, taue = 10 * ms, 20 * ms, 20 * ms, 5 * ms
Ee, vt, vr, El = 0 * mV, -54 * mV, -60 * mV, -74 * mV
F, gmax = 15 * Hz, 0.01
dApre = 0.01 * gmax
dApost = -dApre * taupre / taupost * 1.05

eqs = """
dv/dt = (ge * (Ee-v) + El - v) / taum : volt
dge/dt = -ge / taue : 1
"""
inp = b2.PoissonGroup(N, rates=F)
neuron = b2.NeuronGroup(1, eqs, threshold="v>vt", reset="v = vr", method="euler")
neuron.v = El
if a.rule == "additive":
    S = b2.Synapses(inp, neuron,
                    """w : 1
                       dApre/dt = -Apre / taupre : 1 (event-driven)
                       dApost/dt = -Apost / taupost : 1 (event-driven)""",
                    on_pre="""ge += w
                              Apre += dApre
                              w = clip(w + Apost, 0, gmax)""",
                    on_post="""Apost += dApost
                               w = clip(w + Apre, 0, gmax)""")
else:
    aplus, aminus = a.a_plus, a.a_minus
    S = b2.Synapses(inp, neuron,
                    """w : 1
                       dxpre/dt = -xpre / taupre : 1 (event-driven)
                       dxpost/dt = -xpost / taupost : 1 (event-driven)""",
                    on_pre="""ge += w
                              xpre += 1
                              w = clip(w - aminus * xpost * w, 0, gmax)""",
                    on_post="""xpost += 1
                               w = clip(w + aplus * xpre * (gmax - w), 0, gmax)""")
S.connect()
S.w = "rand() * gmax"
mon = b2.SpikeMonitor(neuron)
t0 = time.perf_counter()
b2.run(a.duration * second)
if a.target == "cpp_standalone":
    b2.device.build(directory=outdir, run=True, compile=True, clean=True)
    loop = float(b2.device._last_run_time)
else:
    loop = time.perf_counter() - t0

w = np.asarray(S.w[:]) / gmax
hist, _ = np.histogram(w, bins=10, range=(0, 1))
print(json.dumps({
    "peer": "brian2 " + b2.__version__, "target": a.target, "rule": a.rule, "duration_s": a.duration, "sim_loop_s": loop,
    "post_spikes": int(mon.num_spikes), "post_rate_hz": mon.num_spikes / a.duration,
    "hist": [int(x) for x in hist], "frac_low": float(np.mean(w < 0.1)),
    "frac_high": float(np.mean(w > 0.9)), "mean_w": float(np.mean(w)), "std_w": float(np.std(w)),
}))
