"""h5py side of mec's HDF5 tests (internal/hdf5).

  h5tree.py dump FILE           print FILE's tree as JSON
  h5tree.py write FILE [latest] write a sample tree with h5py's defaults (or
                                libver="latest": version 2 object headers,
                                compact links), then print its tree as JSON

The JSON maps each path to {"kind": "group"} or {"kind": "dataset",
"dtype": numpy's name, "shape": [...], "values": [...] flattened}; strings
are decoded as UTF-8 and h5py's bool enum is "bool".
"""
import json
import sys

import h5py
import numpy as np


def dtype_name(d):
    if h5py.check_string_dtype(d.dtype) is not None:
        info = h5py.check_string_dtype(d.dtype)
        return "vlen-string" if info.length is None else "fixed-string"
    return str(d.dtype)


def value(x):
    if isinstance(x, bytes):
        return x.decode("utf8")
    if isinstance(x, (np.bool_, bool)):
        return bool(x)
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating,)):
        return float(x)
    return x


def dump(path):
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Group):
                out["/" + name] = {"kind": "group"}
            else:
                a = np.asarray(obj[()])
                out["/" + name] = {"kind": "dataset", "dtype": dtype_name(obj),
                                   "shape": list(obj.shape),
                                   "values": [value(x) for x in a.reshape(-1)]}
        f.visititems(visit)
    return out


def write(path, latest):
    kw = {"libver": "latest"} if latest else {}
    z = {} if latest else {"compression": "gzip"}
    with h5py.File(path, "w", **kw) as f:
        f.create_dataset("version", data="1.0", dtype=h5py.string_dtype())
        g = f.create_group("g")
        g.create_dataset("f64", data=np.linspace(-1, 1, 7))
        g.create_dataset("f32", data=np.arange(12, dtype=np.float32).reshape(3, 4) / 3, **z)
        g.create_dataset("i32", data=np.array([-5, 0, 7], dtype=np.int32), **z)
        g.create_dataset("u8", data=np.array([0, 200, 255], dtype=np.uint8))
        g.create_dataset("b", data=True)
        g.create_dataset("fixed", data=np.array([b"ab", b"cde"], dtype="S3"))
        g.create_dataset("empty", data=np.zeros((0,), dtype=np.float64))
        s = f.create_group("s")
        s.create_dataset("names", data=[("a", "b"), ("b", "ü")])
        s.create_group("empty")
        if not latest:
            g.create_dataset("shuffled", data=np.arange(1000, dtype=np.int64).reshape(40, 25),
                             chunks=(7, 9), shuffle=True, compression="gzip")
            big = f.create_group("big")
            for i in range(300):
                big.create_dataset("n%03d" % i, data=float(i))
    return dump(path)


if __name__ == "__main__":
    if sys.argv[1] == "dump":
        print(json.dumps(dump(sys.argv[2])))
    else:
        print(json.dumps(write(sys.argv[2], len(sys.argv) > 3 and sys.argv[3] == "latest")))
