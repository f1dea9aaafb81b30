#!/usr/bin/python3
"""Brian2 twin of testdata/adex.yaml: a sparse AdEx network (Brette & Gerstner 2005).

800 adapting excitatory neurons (a = 4 nS, b = 0.0805 nA) and 200 tonic inhibitory ones (a = b = 0), all
with C = 281 pF, g_L = 30 nS (tau_m = C/g_L, R = 1/g_L), E_L = -70.6 mV, V_T = -50.4 mV, Delta_T = 2 mV,
tau_w = 144 ms, cutoff V_T + 5 Delta_T = -40.4 mV then v = E_L, w += b; V(0) uniform in [-70.6, -55) mV,
w(0) = 0. The synaptic drives Je (tau 5 ms) and Ji (tau 10 ms) are in mV and enter tau_m dv/dt: Je jumps
by 4 mV per spike of 1000 Poisson sources at 10 Hz (p = 0.1) and by 1 mV per excitatory spike, Ji by -4 mV
per inhibitory spike (recurrent p = 0.05). dt = 0.1 ms, forward Euler for every variable, as mec with
--method euler.

Usage: /usr/bin/python3 brian2_adex.py [--target numpy|cython|cpp_standalone] [--duration S] [--seed N]
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
from brian2 import ms, mV, nS, nA, pF, Hz  # noqa: E402
from brian2_netstats import stats  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--target", default="numpy", choices=["numpy", "cython", "cpp_standalone"])
ap.add_argument("--duration", type=float, default=1.0, help="biological seconds")
ap.add_argument("--seed", type=int, default=1)
args = ap.parse_args()

outdir = tempfile.mkdtemp(prefix="adex_")
if args.target == "cpp_standalone":
    b2.set_device("cpp_standalone", directory=outdir, build_on_run=False)
else:
    b2.prefs.codegen.target = args.target
b2.seed(args.seed)
b2.defaultclock.dt = 0.1 * ms

N, Ne = 1000, 800
C, gL = 281 * pF, 30 * nS
taum, R = C / gL, 1 / gL
EL, VT, DeltaT, Vcut = -70.6 * mV, -50.4 * mV, 2 * mV, -40.4 * mV
tauw, taue, taui = 144 * ms, 5 * ms, 10 * ms
eqs = """
dv/dt = (-(v - EL) + DeltaT*exp((v - VT)/DeltaT) - R*w + Je + Ji)/taum : volt
dw/dt = (a*(v - EL) - w)/tauw : amp
dJe/dt = -Je/taue : volt
dJi/dt = -Ji/taui : volt
a : siemens
b : amp
"""
P = b2.NeuronGroup(N, eqs, threshold="v >= Vcut", reset="v = EL; w += b", method="euler")
P.a[:Ne], P.b[:Ne] = 4 * nS, 0.0805 * nA
P.a[Ne:], P.b[Ne:] = 0 * nS, 0 * nA
P.v = "EL + rand()*(-55*mV - EL)"
P.w = 0 * nA
X = b2.PoissonGroup(1000, 10 * Hz)
Cx = b2.Synapses(X, P, on_pre="Je += 4*mV")
Ce = b2.Synapses(P[:Ne], P, on_pre="Je += 1*mV")
Ci = b2.Synapses(P[Ne:], P, on_pre="Ji -= 4*mV")
Cx.connect(p=0.1)
Ce.connect(p=0.05)
Ci.connect(p=0.05)
mon = b2.SpikeMonitor(P)

t0 = time.perf_counter()
b2.run(args.duration * b2.second)
sim_time = None
if args.target == "cpp_standalone":
    b2.device.build(directory=outdir, run=True, compile=True, clean=True)
    sim_time = float(b2.device._last_run_time)
wall = time.perf_counter() - t0

out = {
    "peer": "brian2 " + b2.__version__, "target": args.target, "neurons": N,
    "synapses": int(len(Cx) + len(Ce) + len(Ci)), "duration_s": args.duration,
    "wall_s": round(wall, 3), "sim_loop_s": sim_time,
}
out.update(stats(mon, N, args.duration))
print(json.dumps(out))
