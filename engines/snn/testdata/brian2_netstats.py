"""Spike statistics shared by the Brian2 twins brian2_izhikevich.py and brian2_adex.py (imported from
this directory; not a script): the JSON keys of brian2_coba.py, computed the same way."""
import numpy as np


def stats(mon, n, duration_s):
    """Returns spikes, mean_rate_hz, mean_cv_isi (neurons with at least 3 spikes) and frac_active of the
    SpikeMonitor mon over n neurons and duration_s biological seconds."""
    idx = np.asarray(mon.i[:])
    ts = np.asarray(mon.t_[:])  # seconds, unitless
    counts = np.bincount(idx, minlength=n)
    order = np.lexsort((ts, idx))
    si, st = idx[order], ts[order]
    cvs = []
    for k in np.nonzero(counts >= 3)[0]:
        isi = np.diff(st[np.searchsorted(si, k):np.searchsorted(si, k, side="right")])
        cvs.append(isi.std() / isi.mean())
    return {
        "spikes": int(len(idx)), "mean_rate_hz": round(len(idx) / n / duration_s, 3),
        "mean_cv_isi": round(float(np.mean(cvs)), 3) if cvs else None,
        "frac_active": round(int(np.count_nonzero(counts)) / n, 3),
    }
