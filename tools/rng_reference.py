#!/usr/bin/env python3
"""Independent transcription of specs/rng.md (v1 stream): the f64 Box–Muller (musl log,
quadrant turn) in plain Python floats (IEEE binary64, no FMA), and the f32 Box–Muller (Cephes
logf/sinf/cosf) in numpy float32 scalars (IEEE binary32, one rounding per operation). Prints the
first normal draws for seed 42, tensor `dense.kernel`, pinned in src/init/mod.rs
(`pinned_f64_normals`, `pinned_first_values`, `pinned_truncated_redraw`).

Usage: python3 tools/rng_reference.py   (needs numpy)
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


def rotate(q, s, c):
    """(cos, sin) of the angle in quarter turn q, from the kernels' sin and cos of the remainder."""
    cos_t, sin_t = (s, c) if q & 1 else (c, s)
    if q in (1, 2):
        cos_t = -cos_t
    if q in (2, 3):
        sin_t = -sin_t
    return cos_t, sin_t


def normal_pair(w):
    k1 = ((w[0] << 32) | w[1]) >> 11
    u1 = (k1 + 1) * 2.0 ** -53
    radius = math.sqrt(-2.0 * musl_log(u1))
    k = ((w[2] << 32) | w[3]) >> 11
    n = (k + (1 << 50)) >> 51
    x = float(k - (n << 51)) * (math.pi / 2 / 2.0 ** 51)
    s, c = ksin(x), kcos(x)
    cos_t, sin_t = rotate(n & 3, s, c)
    return radius * cos_t, radius * sin_t


F32 = None  # numpy.float32, imported in main so the f64 part needs nothing installed


def f32_bits(x):
    return struct.unpack("<I", struct.pack("<f", float(x)))[0]


def f32_from(bits):
    return F32(struct.unpack("<f", struct.pack("<I", bits & M))[0])


LOGF_P = [7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1,
          -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1]
SINF_P = [-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1]
COSF_P = [2.443315711809948e-5, -1.388731625493765e-3, 4.166664568298827e-2]


def cephes_logf(x):
    bits = (f32_bits(x) + 0x3F800000 - 0x3F3504F3) & M
    k = F32((bits >> 23) - 127)
    m = f32_from((bits & 0x7FFFFF) + 0x3F3504F3)
    fx = m - F32(1.0)
    z = fx * fx
    p = F32(LOGF_P[0])
    for c in LOGF_P[1:]:
        p = p * fx + F32(c)
    y = p * fx * z + F32(-2.12194440e-4) * k - F32(0.5) * z
    return (fx + y) + F32(0.693359375) * k


def normal_pair_f32(radius_word, angle_word):
    u = F32((radius_word >> 8) + 1) * F32(2.0 ** -24)
    radius = np.sqrt(F32(-2.0) * cephes_logf(u))
    k = angle_word >> 8
    n = (k + (1 << 21)) >> 22
    x = F32(k - (n << 22)) * (F32(math.pi / 2) / F32(4194304.0))
    z = x * x
    s = ((F32(SINF_P[0]) * z + F32(SINF_P[1])) * z + F32(SINF_P[2])) * z * x + x
    c = ((F32(COSF_P[0]) * z + F32(COSF_P[1])) * z + F32(COSF_P[2])) * z * z - F32(0.5) * z + F32(1.0)
    cos_t, sin_t = rotate(n & 3, s, c)
    return radius * cos_t, radius * sin_t


def normals_f32(key, high, block, attempt=0):
    w = philox([block & M, ((attempt << 48) | block) >> 32, high[0], high[1]], key)
    return [*normal_pair_f32(w[0], w[1]), *normal_pair_f32(w[2], w[3])]


if __name__ == "__main__":
    key, high = stream(42, "dense.kernel")
    values = []
    for block in range(3):
        values.extend(normal_pair(philox([block, 0, high[0], high[1]], key)))
    print("f64 bits:", ", ".join(hex(b(v)) for v in values))
    print("values:  ", values)

    import numpy as np
    F32 = np.float32
    singles = [z for block in range(10) for z in normals_f32(key, high, block)]
    print("f32 bits of elements 0-3:", [f32_bits(z) for z in singles[:4]])
    print("f32 values 0-3:", [float(z) for z in singles[:4]])
    beyond = next(i for i, z in enumerate(singles) if abs(float(z)) >= 2.0)
    redraw = normals_f32(key, high, beyond // 4, attempt=1)[beyond % 4]
    print(f"first |z| >= 2: element {beyond} (z = {float(singles[beyond])}); "
          f"attempt 1 gives {float(redraw)} (bits {f32_bits(redraw)})")
