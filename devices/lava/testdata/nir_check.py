"""Cross-check of mec's .nir files against nir.write's layout (devices/lava).

  nir_check.py MEC.nir GRAPH.nir.json REF.nir

GRAPH.nir.json is the same graph in mec's JSON form. The script writes
REF.nir from it with nir.write when the nir package is importable, else with
h5py following nir.write's rules (nir/serialization.py: strings as
variable-length UTF-8, numpy arrays with their dtype, other values through
h5py's defaults, one group per dict, no group for empty metadata). Then it
compares MEC.nir with REF.nir: the same groups and datasets, each with the
same dtype, shape and values (/version: dtype and shape only, as nir.write
writes its own package version). With the nir package it also reads
MEC.nir back with nir.read. Prints JSON {"ok": bool, "reference": ...,
"paths": N, "diffs": [...]}; exits 1 when they differ.
"""
import json
import sys

import h5py
import numpy as np

try:
    import nir
except ImportError:
    nir = None

FLOAT_FIELDS = ("weight", "bias", "tau", "tau_syn", "tau_mem", "r", "v_leak",
                "v_threshold", "v_reset", "w_in", "delay", "scale", "threshold")


def metadata(md):
    """mec's metadata numbers are float64 (JSON does not keep 2 vs 2.0)."""
    out = {}
    for k, v in md.items():
        if isinstance(v, bool) or isinstance(v, str):
            out[k] = v
        elif isinstance(v, (int, float)):
            out[k] = float(v)
        elif isinstance(v, list):
            out[k] = [float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else x for x in v]
        elif isinstance(v, dict):
            out[k] = metadata(v)
        else:
            out[k] = v
    return out


CONV_INT_FIELDS = ("stride", "padding", "dilation", "input_shape")


def node_dict(nd):
    """The dict NIRNode.to_dict() gives for a node of the JSON graph.

    Conv nodes hold Python ints and tuples as NIR's dataclasses do:
    Conv1d's stride, padding, dilation and input_shape are ints, Conv2d's
    tuples (its __post_init__ turns ints into pairs); groups is an int and
    padding may be the string "same" or "valid".
    """
    d = {"type": nd["type"], "metadata": metadata(nd.get("metadata", {}))}
    conv = nd["type"] in ("Conv1d", "Conv2d")
    for k, v in nd.items():
        if k in FLOAT_FIELDS:
            d[k] = np.asarray(v, dtype=np.float64)
        elif k == "shape":
            d[k] = np.asarray(v, dtype=np.int64)
        elif conv and k == "groups":
            d[k] = int(v)
        elif conv and k in CONV_INT_FIELDS:
            if isinstance(v, str):
                d[k] = v
            elif nd["type"] == "Conv1d":
                d[k] = int(v[0] if isinstance(v, list) else v)
            else:
                v = v if isinstance(v, list) else [v]
                d[k] = tuple(int(x) for x in (v * 2 if len(v) == 1 else v))
    return d


def write_like_nir(path, doc):
    """nir.write's write_recursive, on the dict NIRGraph.to_dict() gives."""
    g = doc["node"]
    graph = {"type": "NIRGraph",
             "nodes": {k: node_dict(v) for k, v in g["nodes"].items()},
             "edges": list(zip(g["edges"]["src"], g["edges"]["dst"])),
             "metadata": metadata(g.get("metadata", {}))}

    def rec(group, node):
        for k, v in node.items():
            if k == "metadata":
                if v != {}:
                    rec(group.create_group(k), v)
            elif isinstance(v, str):
                group.create_dataset(k, data=v, dtype=h5py.string_dtype())
            elif isinstance(v, np.ndarray):
                group.create_dataset(k, data=v, dtype=v.dtype, compression="gzip")
            elif isinstance(v, dict):
                rec(group.create_group(str(k)), v)
            else:
                group.create_dataset(k, data=v)

    with h5py.File(path, "w") as f:
        f.create_dataset("version", data=doc["version"], dtype=h5py.string_dtype())
        rec(f.create_group("node"), graph)


def write_with_nir(path, doc):
    g = doc["node"]
    nodes = {}
    for name, nd in g["nodes"].items():
        d = node_dict(nd)
        t, md = d.pop("type"), d.pop("metadata")
        if t == "Input":
            nodes[name] = nir.Input(input_type={"input": d["shape"]}, metadata=md)
        elif t == "Output":
            nodes[name] = nir.Output(output_type={"output": d["shape"]}, metadata=md)
        else:
            nodes[name] = getattr(nir, t)(**d, metadata=md)
    edges = list(zip(g["edges"]["src"], g["edges"]["dst"]))
    # The layout is under test, not NIR's type inference.
    graph = nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata(g.get("metadata", {})), type_check=False)
    nir.write(path, graph, compression="gzip")


def tree(path):
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Group):
                out[name] = ("group", None, None, None)
            else:
                info = h5py.check_string_dtype(obj.dtype)
                dt = str(obj.dtype) if info is None else "string(%s, %s)" % (info.encoding, info.length)
                out[name] = ("dataset", dt, obj.shape, obj[()])
        f.visititems(visit)
    return out


def same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype == object or b.dtype == object:
        return a.shape == b.shape and all(x == y for x, y in zip(a.reshape(-1), b.reshape(-1)))
    if a.dtype.kind == "f" and b.dtype.kind == "f":
        return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    return a.shape == b.shape and np.array_equal(a, b)


def main(mec, graph, ref):
    with open(graph, encoding="utf-8") as f:
        doc = json.load(f)
    if nir is not None:
        write_with_nir(ref, doc)
        reference = "nir.write (nir %s)" % getattr(nir, "version", "?")
        nir.read(mec, type_check=False)
    else:
        write_like_nir(ref, doc)
        reference = "h5py, following nir.write (nir package not importable)"
    got, want = tree(mec), tree(ref)
    diffs = []
    for p in sorted(set(got) | set(want)):
        if p not in got:
            diffs.append("%s: missing in mec's file" % p)
        elif p not in want:
            diffs.append("%s: not in nir.write's layout" % p)
        else:
            g, w = got[p], want[p]
            if g[:3] != w[:3]:
                diffs.append("%s: %s %s %s, want %s %s %s" % (p, g[0], g[1], g[2], w[0], w[1], w[2]))
            elif g[0] == "dataset" and p != "version" and not same(g[3], w[3]):
                diffs.append("%s: values differ" % p)
    print(json.dumps({"ok": not diffs, "reference": reference, "paths": len(got), "diffs": diffs[:20]}))
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
