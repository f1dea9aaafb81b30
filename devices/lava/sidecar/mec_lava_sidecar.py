#!/usr/bin/env python3
"""mec Lava sidecar: runs a mec network on Lava in lockstep with a Go client.

The Go client (package github.com/prismai/mec/devices/lava) sends a NETWORK
frame (the JSON of its Model: one Injector, LIF processes, Dense/Sparse
processes, one Extractor per LIF) and then one STEP frame per Lava time
step; this program answers each STEP with a SPIKES frame. The byte layout of
the frames is documented in devices/lava/doc.go and implemented here in
encode_frame / decode_frame.

Two engines:

* real Lava (lava-nc), when ``import lava`` works and --fake is not given:
  the network is built from lava.proc.lif / dense / sparse / io processes and
  run with Loihi2SimCfg(select_tag="fixed_pt"), one RunSteps(1) per STEP.
  THIS PATH HAS NOT BEEN RUN in mec's development environment (Lava is not
  installable there); it is written against lava-nc's documented API.
* the fake (--fake, or whenever Lava is missing): a pure-Python model of the
  same fixed-point arithmetic as Lava's bit-accurate LIF (PyLifModelBitAcc)
  and Dense (PyDenseModelBitAcc) process models. It is NOT Lava; it lets the
  Go side test the protocol and its fixed-point reference without Lava.

The HELLO reply names the engine ("mec-lava-sidecar/1 engine=fake" or
"... engine=lava").

Usage:
  mec_lava_sidecar.py [--fake] --listen unix:PATH | tcp:HOST:PORT [--exit-on-stdin-eof [--remove-dir DIR]]

Standard library only (numpy only on the real-Lava path, which needs it anyway).
"""

import argparse
import json
import os
import shutil
import socket
import struct
import sys
import threading
import zlib

MAGIC = b"MECL"
VERSION = 1
HEADER = struct.Struct("<4sBBHII")  # magic, version, type, flags, length, crc32
HEADER_SIZE = HEADER.size  # 16
MAX_PAYLOAD = 64 << 20
MAX_TEXT = 4096

HELLO, NETWORK, STEP, SPIKES, ERROR, CLOSE = 1, 2, 3, 4, 5, 6
TYPE_NAMES = {1: "HELLO", 2: "NETWORK", 3: "STEP", 4: "SPIKES", 5: "ERROR", 6: "CLOSE"}
FLAG_VOLTAGES = 1

CODE_PROTOCOL, CODE_NETWORK, CODE_STEP, CODE_INTERNAL = 1, 2, 3, 4

# Lava bit-accurate constants (see devices/lava/fixed.go).
DECAY_UNITY = 4096
DECAY_SHIFT = 12
DS_OFFSET = 1
VTH_SHIFT = 6
ACT_SHIFT = 6
STATE_LIMIT = 1 << 23
MODEL_FORMAT = "mec-lava-model/1"


class ProtocolError(Exception):
    """A malformed or unexpected frame (answered with ERROR code 1)."""

    code = CODE_PROTOCOL


class NetworkError(Exception):
    """A NETWORK that cannot be built (ERROR code 2)."""

    code = CODE_NETWORK


class StepError(Exception):
    """A STEP that cannot be executed (ERROR code 3)."""

    code = CODE_STEP


# ---------------------------------------------------------------- framing

def encode_frame(ftype, payload=b"", flags=0):
    """Header (16 bytes, little-endian) followed by the payload."""
    return HEADER.pack(MAGIC, VERSION, ftype, flags, len(payload),
                       zlib.crc32(payload) & 0xFFFFFFFF) + payload


def parse_header(h):
    """Check a 16-byte header; return (type, flags, length, crc)."""
    if len(h) != HEADER_SIZE:
        raise ProtocolError("truncated header: %d bytes" % len(h))
    magic, version, ftype, flags, length, crc = HEADER.unpack(h)
    if magic != MAGIC:
        raise ProtocolError("bad magic %r" % magic)
    if version != VERSION:
        raise ProtocolError("unsupported protocol version %d" % version)
    if ftype not in TYPE_NAMES:
        raise ProtocolError("unknown frame type %d" % ftype)
    if flags & ~FLAG_VOLTAGES or (flags and ftype not in (STEP, SPIKES)):
        raise ProtocolError("unknown flags %#x on %s" % (flags, TYPE_NAMES[ftype]))
    limit = MAX_PAYLOAD
    if ftype in (HELLO, ERROR):
        limit = MAX_TEXT
    elif ftype == CLOSE:
        limit = 0
    if length > limit:
        raise ProtocolError("%s payload of %d bytes exceeds %d" % (TYPE_NAMES[ftype], length, limit))
    return ftype, flags, length, crc


def decode_frame(b):
    """Decode exactly one frame; return (type, flags, payload)."""
    ftype, flags, length, crc = parse_header(bytes(b[:HEADER_SIZE]))
    payload = bytes(b[HEADER_SIZE:])
    if len(payload) != length:
        raise ProtocolError("payload has %d bytes, header says %d" % (len(payload), length))
    if zlib.crc32(payload) & 0xFFFFFFFF != crc:
        raise ProtocolError("payload CRC mismatch")
    return ftype, flags, payload


def _indices(p, what):
    if len(p) < 4:
        raise ProtocolError("%s: missing count" % what)
    (n,) = struct.unpack_from("<I", p, 0)
    if 4 + 4 * n > len(p):
        raise ProtocolError("%s: count %d needs %d bytes, %d left" % (what, n, 4 * n, len(p) - 4))
    idx = list(struct.unpack_from("<%dI" % n, p, 4))
    for k in range(1, n):
        if idx[k] <= idx[k - 1]:
            raise ProtocolError("%s: indices not strictly ascending at %d" % (what, k))
    return idx, p[4 + 4 * n:]


def encode_step(step, inputs, want_v=False):
    p = struct.pack("<QI", step, len(inputs)) + struct.pack("<%dI" % len(inputs), *inputs)
    return encode_frame(STEP, p, FLAG_VOLTAGES if want_v else 0)


def decode_step(payload):
    """STEP payload -> (step, inputs); strict length check."""
    if len(payload) < 8:
        raise ProtocolError("STEP payload of %d bytes" % len(payload))
    (step,) = struct.unpack_from("<Q", payload, 0)
    idx, rest = _indices(payload[8:], "STEP")
    if rest:
        raise ProtocolError("STEP has %d trailing bytes" % len(rest))
    return step, idx


def encode_spikes(step, indices, v=None):
    p = struct.pack("<QI", step, len(indices)) + struct.pack("<%dI" % len(indices), *indices)
    flags = 0
    if v is not None:
        flags = FLAG_VOLTAGES
        p += struct.pack("<I", len(v)) + struct.pack("<%di" % len(v), *v)
    return encode_frame(SPIKES, p, flags)


def decode_spikes(payload, flags):
    """SPIKES payload -> (step, indices, voltages or None)."""
    if len(payload) < 8:
        raise ProtocolError("SPIKES payload of %d bytes" % len(payload))
    (step,) = struct.unpack_from("<Q", payload, 0)
    idx, rest = _indices(payload[8:], "SPIKES")
    v = None
    if flags & FLAG_VOLTAGES:
        if len(rest) < 4:
            raise ProtocolError("SPIKES: missing voltage count")
        (n,) = struct.unpack_from("<I", rest, 0)
        if len(rest) != 4 + 4 * n:
            raise ProtocolError("SPIKES: %d voltages need %d bytes" % (n, 4 * n))
        v = list(struct.unpack_from("<%di" % n, rest, 4))
        rest = b""
    if rest:
        raise ProtocolError("SPIKES has %d trailing bytes" % len(rest))
    return step, idx, v


def encode_error(code, msg):
    m = msg.encode("utf-8")[: MAX_TEXT - 2]
    m = m.decode("utf-8", "ignore").encode("utf-8")
    return encode_frame(ERROR, struct.pack("<H", code) + m)


def read_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            if not buf:
                return None
            raise ProtocolError("truncated frame: %d of %d bytes" % (len(buf), n))
        buf += chunk
    return bytes(buf)


def read_frame(sock):
    """Read one frame; None at a clean end of stream."""
    h = read_exact(sock, HEADER_SIZE)
    if h is None:
        return None
    _, _, length, _ = parse_header(h)
    p = read_exact(sock, length) if length else b""
    if p is None:
        raise ProtocolError("truncated frame: no payload")
    return decode_frame(h + p)


# ---------------------------------------------------------------- model

def _check_int(name, x, lo, hi):
    if not isinstance(x, int) or isinstance(x, bool) or x < lo or x > hi:
        raise NetworkError("%s = %r outside %d..%d" % (name, x, lo, hi))
    return x


def validate_model(m):
    """Check a decoded Model (same rules as Model.Validate in Go)."""
    if not isinstance(m, dict) or m.get("format") != MODEL_FORMAT:
        raise NetworkError("model format must be %r" % MODEL_FORMAT)
    inputs = m.get("inputs") or []
    pops = m.get("populations") or []
    conns = m.get("conns") or []
    off = 0
    for i, g in enumerate(inputs):
        if g.get("offset") != off:
            raise NetworkError("inputs[%d].offset %r, want %d" % (i, g.get("offset"), off))
        off += _check_int("inputs[%d].size" % i, g.get("size"), 1, 1 << 30)
    if m.get("n_inputs") != off:
        raise NetworkError("n_inputs %r, inputs cover %d" % (m.get("n_inputs"), off))
    off = 0
    for i, p in enumerate(pops):
        f = "populations[%d]" % i
        if p.get("offset") != off:
            raise NetworkError("%s.offset %r, want %d" % (f, p.get("offset"), off))
        n = _check_int(f + ".size", p.get("size"), 1, 1 << 30)
        _check_int(f + ".du", p.get("du"), 0, 4095)
        _check_int(f + ".dv", p.get("dv"), 0, 4095)
        _check_int(f + ".vth", p.get("vth"), 0, (1 << 17) - 1)
        _check_int(f + ".bias_mant", p.get("bias_mant"), -4096, 4095)
        _check_int(f + ".bias_exp", p.get("bias_exp"), 0, 7)
        vi = p.get("v_init")
        if not isinstance(vi, list) or len(vi) != n:
            raise NetworkError("%s.v_init must list %d values" % (f, n))
        for j, v in enumerate(vi):
            _check_int("%s.v_init[%d]" % (f, j), v, -STATE_LIMIT + 1, STATE_LIMIT - 1)
        off += n
    for i, c in enumerate(conns):
        f = "conns[%d]" % i
        kind = c.get("src_kind")
        src = c.get("src")
        if kind == "input":
            _check_int(f + ".src", src, 0, len(inputs) - 1)
            ns = inputs[src]["size"]
        elif kind == "population":
            _check_int(f + ".src", src, 0, len(pops) - 1)
            ns = pops[src]["size"]
        else:
            raise NetworkError("%s.src_kind %r" % (f, kind))
        dst = _check_int(f + ".dst", c.get("dst"), 0, len(pops) - 1)
        nt = pops[dst]["size"]
        _check_int(f + ".weight_exp", c.get("weight_exp"), -8, 7)
        for k, s in enumerate(c.get("synapses") or []):
            if not isinstance(s, list) or len(s) != 3:
                raise NetworkError("%s.synapses[%d] must be [src, dst, mant]" % (f, k))
            _check_int("%s.synapses[%d][0]" % (f, k), s[0], 0, ns - 1)
            _check_int("%s.synapses[%d][1]" % (f, k), s[1], 0, nt - 1)
            _check_int("%s.synapses[%d][2]" % (f, k), s[2], -256, 254)
            if s[2] % 2:
                raise NetworkError("%s.synapses[%d] mantissa %d is odd" % (f, k, s[2]))
    return m


def _decay(x, d):
    """x*(4096-d)/4096 rounded toward zero, as Lava: sign(x)*(|x*(4096-d)| >> 12)."""
    p = x * (DECAY_UNITY - d)
    if p < 0:
        return -((-p) >> DECAY_SHIFT)
    return p >> DECAY_SHIFT


def _shift(acc, exp):
    return acc << exp if exp > 0 else acc >> (-exp)


class FakeEngine:
    """Pure-Python model of Lava's bit-accurate LIF + Dense dynamics.

    Not Lava. Per step, as Lava's LoihiProtocol orders it: each Dense sends
    the activation accumulated in the previous step; each LIF decays u
    (du + ds_offset), adds a_in << 6 with 24-bit wrap, decays v (dv), adds u
    and bias_mant << bias_exp, clips v to +-(2^23 - 1), spikes where
    v > vth << 6 and resets v to 0; each Dense accumulates this step's
    spikes and applies weight_exp.
    """

    name = "fake"

    def __init__(self, m):
        self.m = validate_model(m)
        self.pops = m["populations"]
        self.inputs = m.get("inputs") or []
        self.n_inputs = m["n_inputs"]
        self.n = sum(p["size"] for p in self.pops)
        self.t = 0
        self.u = [0] * self.n
        self.v = [0] * self.n
        for p in self.pops:
            self.v[p["offset"]:p["offset"] + p["size"]] = list(p["v_init"])
        self.conns = []
        for c in m.get("conns") or []:
            if c["src_kind"] == "input":
                g = self.inputs[c["src"]]
            else:
                g = self.pops[c["src"]]
            by_src = [[] for _ in range(g["size"])]
            for s, d, w in c["synapses"]:
                by_src[s].append((d, w))
            self.conns.append({
                "c": c, "src_off": g["offset"], "src_size": g["size"],
                "dst_off": self.pops[c["dst"]]["offset"],
                "buf": [0] * self.pops[c["dst"]]["size"], "by_src": by_src,
            })

    def step(self, inputs):
        self.t += 1
        ain = [0] * self.n
        for cc in self.conns:
            o = cc["dst_off"]
            for j, a in enumerate(cc["buf"]):
                ain[o + j] += a
        spikes = []
        for p in self.pops:
            vth = p["vth"] << VTH_SHIFT
            bias = p["bias_mant"] << p["bias_exp"]
            du = p["du"] + DS_OFFSET
            dv = p["dv"]
            for i in range(p["offset"], p["offset"] + p["size"]):
                u = _decay(self.u[i], du) + (ain[i] << ACT_SHIFT)
                if u > STATE_LIMIT:
                    u -= 2 * STATE_LIMIT
                elif u <= -STATE_LIMIT:
                    u += 2 * STATE_LIMIT
                self.u[i] = u
                v = _decay(self.v[i], dv) + u + bias
                v = min(max(v, -STATE_LIMIT + 1), STATE_LIMIT - 1)
                if v > vth:
                    spikes.append(i)
                    v = 0
                self.v[i] = v
        for cc in self.conns:
            src = inputs if cc["c"]["src_kind"] == "input" else spikes
            acc = [0] * len(cc["buf"])
            lo, hi = cc["src_off"], cc["src_off"] + cc["src_size"]
            for g in src:
                if lo <= g < hi:
                    for d, w in cc["by_src"][g - lo]:
                        acc[d] += w
            e = cc["c"]["weight_exp"]
            cc["buf"] = [_shift(a, e) for a in acc]
        return spikes

    def voltages(self):
        return list(self.v)

    def close(self):
        pass


class LavaEngine:
    """The same Model on real Lava processes (untested where mec is built)."""

    name = "lava"

    def __init__(self, m):
        import numpy as np
        from lava.magma.core.run_conditions import RunSteps
        from lava.magma.core.run_configs import Loihi2SimCfg
        from lava.proc.dense.process import Dense
        from lava.proc.io.extractor import Extractor
        from lava.proc.io.injector import Injector
        from lava.proc.lif.process import LIF
        try:
            from lava.proc.sparse.process import Sparse
        except ImportError:  # older lava: Dense only
            Sparse = None
        self.np = np
        self.RunSteps = RunSteps
        self.cfg = Loihi2SimCfg(select_tag="fixed_pt")
        self.m = validate_model(m)
        self.n = sum(p["size"] for p in m["populations"])
        self.t = 0
        self.lifs = []
        self.extractors = []
        for p in m["populations"]:
            lif = LIF(shape=(p["size"],), du=p["du"], dv=p["dv"], vth=p["vth"],
                      bias_mant=p["bias_mant"], bias_exp=p["bias_exp"],
                      v=np.array(p["v_init"], dtype=np.int32), name=p["name"])
            ext = Extractor(shape=(p["size"],))
            lif.s_out.connect(ext.in_port)
            self.lifs.append(lif)
            self.extractors.append(ext)
        self.injector = None
        if m["n_inputs"] > 0:
            self.injector = Injector(shape=(m["n_inputs"],))
        for c in m.get("conns") or []:
            dst = m["populations"][c["dst"]]
            if c["src_kind"] == "input":
                g = m["inputs"][c["src"]]
                ns, col0, src_port = m["n_inputs"], g["offset"], self.injector.out_port
            else:
                g = m["populations"][c["src"]]
                ns, col0, src_port = g["size"], 0, self.lifs[c["src"]].s_out
            w = np.zeros((dst["size"], ns), dtype=np.int32)
            for s, d, mant in c["synapses"]:
                w[d, col0 + s] += mant
            kw = dict(weights=w, weight_exp=c["weight_exp"], num_weight_bits=8)
            if c["dense"] or Sparse is None:
                conn = Dense(**kw)
            else:
                import scipy.sparse
                kw["weights"] = scipy.sparse.csr_matrix(w)
                conn = Sparse(**kw)
            src_port.connect(conn.s_in)
            conn.a_out.connect(self.lifs[c["dst"]].a_in)
        self.root = self.lifs[0]

    def step(self, inputs):
        np = self.np
        if self.injector is not None:
            vec = np.zeros(self.m["n_inputs"])
            vec[list(inputs)] = 1
            self.injector.send(vec)
        self.root.run(condition=self.RunSteps(num_steps=1), run_cfg=self.cfg)
        self.t += 1
        spikes = []
        for p, ext in zip(self.m["populations"], self.extractors):
            s = ext.receive()
            spikes.extend(p["offset"] + int(i) for i in np.nonzero(s)[0])
        return spikes

    def voltages(self):
        out = []
        for lif in self.lifs:
            out.extend(int(x) for x in self.np.asarray(lif.v.get()).ravel())
        return out

    def close(self):
        try:
            self.root.stop()
        except Exception:  # noqa: BLE001 - best effort at shutdown
            pass


def lava_available():
    try:
        import lava.proc.lif.process  # noqa: F401
        return True
    except Exception:  # noqa: BLE001 - any import failure means "no Lava"
        return False


# ---------------------------------------------------------------- session

class Session:
    """Protocol state machine of one connection, independent of sockets.

    handle(ftype, flags, payload) returns the list of frames (bytes) to send
    and whether the connection should close afterwards.
    """

    def __init__(self, fake):
        self.fake = fake or not lava_available()
        self.engine = None
        self.greeted = False

    def hello_text(self):
        return "mec-lava-sidecar/1 engine=%s" % ("fake" if self.fake else "lava")

    def handle(self, ftype, flags, payload):
        try:
            return self._handle(ftype, flags, payload)
        except (ProtocolError, NetworkError, StepError) as e:
            return [encode_error(e.code, str(e))], True
        except Exception as e:  # noqa: BLE001 - reported to the client
            return [encode_error(CODE_INTERNAL, "%s: %s" % (type(e).__name__, e))], True

    def _handle(self, ftype, flags, payload):
        if ftype == CLOSE:
            if self.engine is not None:
                self.engine.close()
            return [encode_frame(CLOSE)], True
        if not self.greeted:
            if ftype != HELLO:
                raise ProtocolError("expected HELLO, got %s" % TYPE_NAMES[ftype])
            try:
                payload.decode("utf-8")
            except UnicodeDecodeError:
                raise ProtocolError("HELLO text is not UTF-8")
            self.greeted = True
            return [encode_frame(HELLO, self.hello_text().encode("utf-8"))], False
        if ftype == NETWORK:
            if self.engine is not None:
                raise ProtocolError("NETWORK sent twice")
            try:
                m = json.loads(payload.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as e:
                raise NetworkError("NETWORK is not JSON: %s" % e)
            validate_model(m)
            self.engine = FakeEngine(m) if self.fake else LavaEngine(m)
            return [encode_spikes(0, [], self.engine.voltages())], False
        if ftype == STEP:
            if self.engine is None:
                raise ProtocolError("STEP before NETWORK")
            step, inputs = decode_step(payload)
            if step != self.engine.t + 1:
                raise StepError("STEP %d, expected %d" % (step, self.engine.t + 1))
            if inputs and inputs[-1] >= self.engine.m["n_inputs"]:
                raise StepError("input index %d >= n_inputs %d" % (inputs[-1], self.engine.m["n_inputs"]))
            spikes = self.engine.step(inputs)
            v = self.engine.voltages() if flags & FLAG_VOLTAGES else None
            return [encode_spikes(step, spikes, v)], False
        raise ProtocolError("unexpected %s from client" % TYPE_NAMES[ftype])


def serve_conn(sock, fake):
    sess = Session(fake)
    try:
        while True:
            try:
                fr = read_frame(sock)
            except ProtocolError as e:
                sock.sendall(encode_error(e.code, str(e)))
                return
            if fr is None:
                return
            out, done = sess.handle(*fr)
            for b in out:
                sock.sendall(b)
            if done:
                return
    except OSError:
        return
    finally:
        if sess.engine is not None:
            sess.engine.close()
        sock.close()


def listen(spec):
    kind, _, addr = spec.partition(":")
    if kind == "unix":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(addr)
        shown = "unix:" + addr
    elif kind == "tcp":
        host, _, port = addr.rpartition(":")
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host or "127.0.0.1", int(port)))
        shown = "tcp:%s:%d" % s.getsockname()[:2]
    else:
        raise SystemExit("--listen must be unix:PATH or tcp:HOST:PORT")
    s.listen(8)
    return s, shown


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fake", action="store_true", help="use the pure-Python fake even if Lava is importable")
    ap.add_argument("--listen", help="unix:PATH or tcp:HOST:PORT (port 0: any)")
    ap.add_argument("--exit-on-stdin-eof", action="store_true", help="exit when stdin closes (spawned by Go)")
    ap.add_argument("--remove-dir", metavar="DIR",
                    help="with --exit-on-stdin-eof: remove DIR (the spawner's temporary directory) on exit")
    args = ap.parse_args(argv)
    if not args.listen:
        ap.error("--listen is required")
    srv, shown = listen(args.listen)
    engine = "fake" if args.fake or not lava_available() else "lava"
    print("LISTENING %s engine=%s" % (shown, engine), flush=True)
    if args.exit_on_stdin_eof:
        def watch():
            try:
                while sys.stdin.buffer.read(4096):
                    pass
            finally:
                if args.listen.startswith("unix:"):
                    try:
                        os.unlink(args.listen[5:])
                    except OSError:
                        pass
                if args.remove_dir:
                    shutil.rmtree(args.remove_dir, ignore_errors=True)
                os._exit(0)
        threading.Thread(target=watch, daemon=True).start()
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve_conn, args=(conn, args.fake), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
