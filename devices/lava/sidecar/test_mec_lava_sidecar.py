"""Unit tests of the sidecar's framing and protocol handling (stdlib only).

Run: python3 -m unittest discover -s devices/lava/sidecar
"""

import json
import socket
import struct
import threading
import unittest
import zlib

import mec_lava_sidecar as sc


def tiny_model():
    # One input driving one LIF neuron with one synapse; a second neuron
    # receives the first's spikes.
    return {
        "format": sc.MODEL_FORMAT, "dt_ms": 0.1, "n_inputs": 1,
        "inputs": [{"name": "in", "offset": 0, "size": 1, "rate_hz": 0}],
        "populations": [{"name": "p", "offset": 0, "size": 2, "du": 4095, "dv": 0,
                         "vth": 10, "bias_mant": 0, "bias_exp": 0, "v_init": [0, 0],
                         "mv_per_unit": 1, "v_reset_mv": 0}],
        "conns": [
            {"src_kind": "input", "src": 0, "dst": 0, "dense": True, "weight_exp": 0,
             "synapses": [[0, 0, 20]]},
            {"src_kind": "population", "src": 0, "dst": 0, "dense": False, "weight_exp": 1,
             "synapses": [[0, 1, 10]]},
        ],
    }


class FramingTest(unittest.TestCase):
    def test_roundtrip_step(self):
        b = sc.encode_step(7, [1, 5, 9], want_v=True)
        t, fl, p = sc.decode_frame(b)
        self.assertEqual((t, fl), (sc.STEP, sc.FLAG_VOLTAGES))
        self.assertEqual(sc.decode_step(p), (7, [1, 5, 9]))

    def test_roundtrip_spikes(self):
        b = sc.encode_spikes(3, [0, 2], [-5, 7, 1 << 22])
        t, fl, p = sc.decode_frame(b)
        self.assertEqual(sc.decode_spikes(p, fl), (3, [0, 2], [-5, 7, 1 << 22]))

    def test_header_layout(self):
        b = sc.encode_frame(sc.CLOSE)
        self.assertEqual(b[:4], b"MECL")
        self.assertEqual(b[4], 1)
        self.assertEqual(b[5], sc.CLOSE)
        self.assertEqual(len(b), 16)
        self.assertEqual(struct.unpack("<I", b[12:16])[0], zlib.crc32(b""))

    def test_bad_frames(self):
        good = sc.encode_step(1, [2, 3])
        cases = {
            "magic": b"XECL" + good[4:],
            "version": good[:4] + b"\x02" + good[5:],
            "type": good[:5] + b"\x09" + good[6:],
            "flags": good[:6] + b"\x02\x00" + good[8:],
            "crc": good[:-1] + bytes([good[-1] ^ 1]),
            "short": good[:-2],
            "long": good + b"\x00",
        }
        for name, b in cases.items():
            with self.subTest(name):
                with self.assertRaises(sc.ProtocolError):
                    sc.decode_frame(b)
        with self.assertRaises(sc.ProtocolError):
            sc.decode_step(struct.pack("<QI", 1, 3) + struct.pack("<2I", 1, 2))
        with self.assertRaises(sc.ProtocolError):
            sc.decode_step(struct.pack("<QI", 1, 2) + struct.pack("<2I", 2, 2))
        with self.assertRaises(sc.ProtocolError):
            sc.parse_header(sc.HEADER.pack(b"MECL", 1, sc.HELLO, 0, 5000, 0))


class SessionTest(unittest.TestCase):
    def frames(self, out):
        return [sc.decode_frame(b) for b in out]

    def test_hello_first(self):
        s = sc.Session(fake=True)
        out, done = s.handle(sc.STEP, 0, struct.pack("<QI", 1, 0))
        self.assertTrue(done)
        (t, _, p), = self.frames(out)
        self.assertEqual(t, sc.ERROR)
        self.assertEqual(struct.unpack("<H", p[:2])[0], sc.CODE_PROTOCOL)

    def test_lockstep(self):
        s = sc.Session(fake=True)
        out, _ = s.handle(sc.HELLO, 0, b"test")
        (t, _, p), = self.frames(out)
        self.assertEqual(t, sc.HELLO)
        self.assertIn(b"engine=fake", p)
        out, done = s.handle(sc.NETWORK, 0, json.dumps(tiny_model()).encode())
        self.assertFalse(done)
        (t, fl, p), = self.frames(out)
        self.assertEqual(sc.decode_spikes(p, fl), (0, [], [0, 0]))
        got = []
        for step in range(1, 6):
            inp = [0] if step == 1 else []
            out, done = s.handle(sc.STEP, sc.FLAG_VOLTAGES, struct.pack("<QI", step, len(inp)) +
                                 b"".join(struct.pack("<I", x) for x in inp))
            self.assertFalse(done)
            (t, fl, p), = self.frames(out)
            self.assertEqual(t, sc.SPIKES)
            got.append(sc.decode_spikes(p, fl))
        # step 1: the input spike is accumulated by the Dense; step 2: a_in=20,
        # u = 20<<6 = 1280 > vth<<6 = 640 -> neuron 0 spikes; step 3: neuron 1
        # gets a_in = 10<<1 = 20 and spikes too (u of neuron 0 decays to 0:
        # du+1 = 4096).
        self.assertEqual([g[1] for g in got], [[], [0], [1], [], []])
        self.assertEqual(got[0][2], [0, 0])
        # wrong step number
        out, done = s.handle(sc.STEP, 0, struct.pack("<QI", 9, 0))
        self.assertTrue(done)
        (t, _, p), = self.frames(out)
        self.assertEqual((t, struct.unpack("<H", p[:2])[0]), (sc.ERROR, sc.CODE_STEP))

    def test_bad_network(self):
        for mut in (lambda m: m.update(format="x"),
                    lambda m: m["populations"][0].update(du=4096),
                    lambda m: m["conns"][0]["synapses"].append([0, 5, 2]),
                    lambda m: m["conns"][0]["synapses"].append([0, 0, 3]),
                    lambda m: m["populations"][0].update(v_init=[0])):
            s = sc.Session(fake=True)
            s.handle(sc.HELLO, 0, b"")
            m = tiny_model()
            mut(m)
            out, done = s.handle(sc.NETWORK, 0, json.dumps(m).encode())
            self.assertTrue(done)
            (t, _, p), = self.frames(out)
            self.assertEqual((t, struct.unpack("<H", p[:2])[0]), (sc.ERROR, sc.CODE_NETWORK))
        s = sc.Session(fake=True)
        s.handle(sc.HELLO, 0, b"")
        out, done = s.handle(sc.NETWORK, 0, b"{not json")
        self.assertTrue(done)

    def test_input_range(self):
        s = sc.Session(fake=True)
        s.handle(sc.HELLO, 0, b"")
        s.handle(sc.NETWORK, 0, json.dumps(tiny_model()).encode())
        out, done = s.handle(sc.STEP, 0, struct.pack("<QII", 1, 1, 1))
        self.assertTrue(done)

    def test_decay_rounds_toward_zero(self):
        self.assertEqual(sc._decay(-4097, 1), -4095)
        self.assertEqual(sc._decay(4097, 1), 4095)
        self.assertEqual(sc._decay(-1, 1), 0)
        self.assertEqual(sc._shift(-3, -1), -2)  # arithmetic shift floors

    def test_wrap_and_clip(self):
        m = tiny_model()
        m["populations"][0].update(vth=(1 << 17) - 1, du=0)
        m["conns"][0].update(weight_exp=7, synapses=[[0, 0, 254]])
        e = sc.FakeEngine(m)
        for _ in range(300):
            e.step([0])
            self.assertTrue(-sc.STATE_LIMIT < e.u[0] <= sc.STATE_LIMIT)
            self.assertTrue(-sc.STATE_LIMIT < e.v[0] < sc.STATE_LIMIT)


class SocketTest(unittest.TestCase):
    def test_socketpair(self):
        a, b = socket.socketpair()
        th = threading.Thread(target=sc.serve_conn, args=(b, True))
        th.start()
        try:
            a.sendall(sc.encode_frame(sc.HELLO, b"unittest"))
            t, _, _ = sc.read_frame(a)
            self.assertEqual(t, sc.HELLO)
            a.sendall(b"garbage-garbage-")  # 16 bytes: a bad header
            t, _, p = sc.read_frame(a)
            self.assertEqual(t, sc.ERROR)
            self.assertIsNone(sc.read_frame(a))  # server closed
        finally:
            a.close()
            th.join(5)


if __name__ == "__main__":
    unittest.main()
