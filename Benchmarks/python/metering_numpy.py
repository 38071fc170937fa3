#!/usr/bin/env python3
"""The metering computation of LoadGuard's engine, vectorised with numpy: the baseline that
MeteringBenchmark measures the Swift engine against, on the same recording, in the same run.

Same steps as Sources/Metering/MeteringEngine.swift for a CT-connected meter with phase
correction: calibration, fractional-delay phase correction (four-point Lagrange), the voltage
reference (2·V1 − V2 − V3)/3 through two moving averages, positive zero crossings with
hysteresis, 10-cycle windows, per-window RMS, active power and the fundamental (single-bin DFT
at the measured frequency) with cubic end weights, energy per window. The sample-wise stages are
whole-array numpy operations; the per-window stage loops over windows (about five per second),
each window a numpy expression.

Usage: metering_numpy.py RECORDING.wav GAIN_V GAIN_I LEAD_I_DEGREES NOMINAL_HZ
Prints one JSON object: the compute time (file loading excluded) and the results to compare.
"""

import json
import struct
import sys
import time

import numpy as np


def read_wav(path):
    with open(path, "rb") as f:
        head = f.read(1 << 16)
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise SystemExit(f"{path}: expected a RIFF/WAVE file")
    pos, channels, rate = 12, None, None
    while pos + 8 <= len(head):
        tag, size = head[pos:pos + 4], struct.unpack_from("<I", head, pos + 4)[0]
        if tag == b"fmt ":
            _, channels, rate = struct.unpack_from("<HHI", head, pos + 8)
        elif tag == b"data":
            data = np.fromfile(path, dtype="<f4", offset=pos + 8)
            frames = len(data) // channels
            return rate, data[: frames * channels].reshape(frames, channels)
        pos += 8 + size + (size & 1)
    raise SystemExit(f"{path}: expected a 'data' chunk")


def edge_weights(t0, t1, a, b):
    """Weights of samples a-2..a+1 and b-1..b+2 (inside: 1) for the piecewise cubic integral."""
    head, tail = np.zeros(4), np.zeros(4)

    def anti(x):
        x2, x3, x4 = x * x, x ** 3, x ** 4
        return np.array([
            -(x4 / 4 - x3 + x2) / 6,
            (x4 / 4 - 2 * x3 / 3 - x2 / 2 + 2 * x) / 2,
            -(x4 / 4 - x3 / 3 - x2) / 2,
            (x4 / 4 - x2 / 2) / 6,
        ])

    def add(m, p, q):
        w = anti(q) - anti(p)
        for j in range(4):
            k = m - 1 + j
            if k <= a + 1:
                head[k - (a - 2)] += w[j]
            elif k >= b - 1:
                tail[k - (b - 1)] += w[j]

    add(a - 1, t0 - (a - 1), 1.0)
    for m in range(a, a + 3):
        add(m, 0.0, 1.0)
    for m in range(b - 3, b):
        add(m, 0.0, 1.0)
    add(b, 0.0, t1 - b)
    return head, tail


def measure(rate, raw, gain_v, gain_i, lead_i, nominal):
    # Channel-major, contiguous: every stage below works on whole rows.
    x = raw.T.astype(np.float64)
    x[0:3] *= gain_v
    x[3:6] *= gain_i
    # Phase correction: delay each current channel by lead/360 of a nominal cycle (4-point Lagrange).
    base = 4
    history = 2 * base + 3
    count = x.shape[1] - history
    out = np.empty((6, count))
    for ch in range(6):
        d = base + (lead_i / 360 * rate / nominal if ch >= 3 else 0.0)
        whole = int(np.ceil(d))
        mu = whole - d
        k = history - whole  # out[n] interpolates between x[k + n] and x[k + n + 1]
        if mu == 0:
            out[ch] = x[ch, k:k + count]
        else:
            c = (-mu * (mu - 1) * (mu - 2) / 6, (mu + 1) * (mu - 1) * (mu - 2) / 2,
                 -(mu + 1) * mu * (mu - 2) / 2, (mu + 1) * mu * (mu - 1) / 6)
            out[ch] = (c[0] * x[ch, k - 1:k - 1 + count] + c[1] * x[ch, k:k + count]
                       + c[2] * x[ch, k + 1:k + 1 + count] + c[3] * x[ch, k + 2:k + 2 + count])
    v, i = out[0:3], out[3:6]

    # Reference and its linear-phase filter (two moving averages, by cumulative sums).
    alpha = (2 * v[0] - v[1] - v[2]) / 3
    l1, l2 = max(1, round(rate / (3 * nominal))), max(1, round(rate / (5 * nominal)))
    c1 = np.concatenate(([0.0], np.cumsum(alpha)))
    y1 = (c1[l1:] - c1[:-l1]) / l1
    c2 = np.concatenate(([0.0], np.cumsum(y1)))
    y = (c2[l2:] - c2[:-l2]) / l2
    # y[j] averages alpha around sample j + centre: the filter's constant group delay.
    centre = (l1 - 1) / 2 + (l2 - 1) / 2

    def boxcar_gain(length):
        s = np.pi * nominal / rate
        return abs(np.sin(s * length) / (length * np.sin(s)))

    hysteresis = 0.5 * 23 * np.sqrt(2) * boxcar_gain(l1) * boxcar_gain(l2)

    # Positive crossings, accepted when the signal went below −hysteresis since the last candidate.
    cand = np.nonzero((y[:-1] < 0) & (y[1:] >= 0))[0] + 1
    idx = np.arange(len(y))
    last_below = np.maximum.accumulate(np.where(y < -hysteresis, idx, -1))
    prev = np.concatenate(([-1], cand[:-1]))
    cand = cand[last_below[cand] > prev]
    pos = (cand - 1) + y[cand - 1] / (y[cand - 1] - y[cand]) + centre
    pos = pos[pos > 3]

    # Windows of 10 cycles; per window RMS, P, fundamental Q, energy.
    bounds = pos[::10]
    energy_wh, p_time, seconds, freqs = 0.0, 0.0, 0.0, []
    for t0, t1 in zip(bounds[:-1], bounds[1:]):
        a, b = int(np.ceil(t0)), int(np.floor(t1))
        head, tail = edge_weights(t0, t1, a, b)
        length = t1 - t0
        f = 10 * rate / length
        omega = 2 * np.pi * f / rate
        w = np.ones(b + 3 - (a - 2))
        w[:4] = head
        w[-4:] = tail
        phase = omega * (np.arange(a - 2, b + 3) - t0)
        kc, ks = w * np.cos(phase), -w * np.sin(phase)
        vs, cs = v[:, a - 2:b + 3], i[:, a - 2:b + 3]
        vv = (vs * vs) @ w
        ii = (cs * cs) @ w
        vi = (vs * cs) @ w
        scale = 2 / length
        v_re, v_im = (vs @ kc) * scale, (vs @ ks) * scale
        i_re, i_im = (cs @ kc) * scale, (cs @ ks) * scale
        p = vi / length
        q = (v_im * i_re - v_re * i_im) / 2
        vrms, irms = np.sqrt(vv / length), np.sqrt(ii / length)
        gated = (vrms >= 23) & (irms >= 0.1)
        p_total = float(np.sum(np.where(gated, p, 0.0)))
        _ = np.where(gated, q, 0.0), vrms * irms
        energy_wh += p_total * (length / rate) / 3600
        p_time += p_total * length / rate
        seconds += length / rate
        freqs.append(f)
    return {"energy_wh": energy_wh, "mean_power": p_time / seconds, "windows": len(freqs),
            "mean_frequency": float(np.mean(freqs)) if freqs else None}


def main():
    path, gain_v, gain_i, lead_i, nominal = sys.argv[1], *map(float, sys.argv[2:6])
    rate, raw = read_wav(path)
    start = time.perf_counter()
    result = measure(rate, raw, gain_v, gain_i, lead_i, nominal)
    result["compute_seconds"] = time.perf_counter() - start
    result["signal_seconds"] = len(raw) / rate
    result["numpy"] = np.__version__
    print(json.dumps(result))


if __name__ == "__main__":
    main()
