#!/usr/bin/env python3
"""Independent transcription of specs/rng.md (v1 stream, musl-log / quadrant-turn Box–Muller)
in plain Python floats (IEEE binary64, no FMA). Prints the f64 bits of the first normal draws
for seed 42, tensor `dense.kernel`, pinned in src/init/mod.rs (`pinned_f64_normals`).

Usage: python3 tools/rng_reference.py
"""
import hashlib
import math
import struct

M = 0xFFFFFFFF


def philox(ctr, key):
    c = list(ctr)
    k0, k1 = key
    for r in range(10):
        if r:
            k0 = (k0 + 0x9E3779B9) & M
            k1 = (k1 + 0xBB67AE85) & M
        p0 = 0xD2511F53 * c[0]
        p1 = 0xCD9E8D57 * c[2]
        c = [((p1 >> 32) ^ c[1] ^ k0) & M, p1 & M, ((p0 >> 32) ^ c[3] ^ k1) & M, p0 & M]
    return c


def stream(seed, name):
    h = hashlib.sha256(b"initc.philox4x32.v1\0" + struct.pack("<Q", seed) + name.encode()).digest()
    w = struct.unpack("<4I", h[:16])
    return (w[0], w[1]), (w[2], w[3])


def f(bits):
    return struct.unpack("<d", struct.pack("<Q", bits))[0]


def b(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


LN2_HI, LN2_LO = f(0x3FE62E42FEE00000), f(0x3DEA39EF35793C76)
LG = [f(x) for x in (0x3FE5555555555593, 0x3FD999999997FA04, 0x3FD2492494229359, 0x3FCC71C51D8E78AF,
                     0x3FC7466496CB03DE, 0x3FC39A09D078C69F, 0x3FC2F112DF3E5244)]
S = [f(x) for x in (0xBFC5555555555549, 0x3F8111111110F8A6, 0xBF2A01A019C161D5, 0x3EC71DE357B1FE7D,
                    0xBE5AE5E68A2B9CEB, 0x3DE5D93A5ACFD57C)]
C = [f(x) for x in (0x3FA555555555554C, 0xBF56C16C16C15177, 0x3EFA01A019CB1590, 0xBE927E4F809C52AD,
                    0x3E21EE9EBDB4B1C4, 0xBDA8FAE9BE8838D4)]


def musl_log(x):
    ui = b(x)
    hx = ((ui >> 32) + 0x3FF00000 - 0x3FE6A09E) & M
    k = (hx >> 20) - 0x3FF
    hx = (hx & 0xFFFFF) + 0x3FE6A09E
    x = f((hx << 32) | (ui & M))
    fx = x - 1.0
    hfsq = 0.5 * fx * fx
    s = fx / (2.0 + fx)
    z = s * s
    w = z * z
    t1 = w * (LG[1] + w * (LG[3] + w * LG[5]))
    t2 = z * (LG[0] + w * (LG[2] + w * (LG[4] + w * LG[6])))
    r = t2 + t1
    dk = float(k)
    return s * (hfsq + r) + dk * LN2_LO - hfsq + fx + dk * LN2_HI


def ksin(x):
    z = x * x
    w = z * z
    r = S[1] + z * (S[2] + z * S[3]) + z * w * (S[4] + z * S[5])
    v = z * x
    return x + v * (S[0] + z * r)


def kcos(x):
    z = x * x
    w = z * z
    r = z * (C[0] + z * (C[1] + z * C[2])) + w * w * (C[3] + z * (C[4] + z * C[5]))
    hz = 0.5 * z
    w = 1.0 - hz
    return w + (((1.0 - w) - hz) + z * r)


def normal_pair(w):
    k1 = ((w[0] << 32) | w[1]) >> 11
    u1 = (k1 + 1) * 2.0 ** -53
    radius = math.sqrt(-2.0 * musl_log(u1))
    k = ((w[2] << 32) | w[3]) >> 11
    n = (k + (1 << 50)) >> 51
    x = float(k - (n << 51)) * (math.pi / 2 / 2.0 ** 51)
    s, c = ksin(x), kcos(x)
    q = n & 3
    cos_t, sin_t = (s, c) if q & 1 else (c, s)
    if q in (1, 2):
        cos_t = -cos_t
    if q in (2, 3):
        sin_t = -sin_t
    return radius * cos_t, radius * sin_t


if __name__ == "__main__":
    key, high = stream(42, "dense.kernel")
    values = []
    for block in range(3):
        values.extend(normal_pair(philox([block, 0, high[0], high[1]], key)))
    print("f64 bits:", ", ".join(hex(b(v)) for v in values))
    print("values:  ", values)
