"""MOLLI T1 fitting: accuracy (simulated and real), speed against per-pixel curve_fit; T2/T1rho accuracy.

Usage: python benchmarks/mapping.py [--quick]

(a) Simulated MOLLI 5(3)3 and 4(1)3(1)2 (RR 1000 ms, first TIs 100/180/260 ms):
    * the ideal Look-Locker signal S = A - B exp(-TI/T1*) (what the fitter must invert exactly),
      noise-free and at SNR 50 (Rician magnitude noise, SNR = A / sigma);
    * a discrete Look-Locker simulation of the sequence (FLASH-approximated readouts of 50
      pulses at 35 degrees, TR 2.8 ms, centred on each TI, pauses between inversions): the
      bias of MOLLI itself, which no fitter removes.
(b) Real T1NET MOLLI series (3 slices pre, 3 post): inside each slice's myoMask, our map
    against an independent exhaustive fit (``tests/reference_fits.py``: scipy least_squares on
    every sign-flip position k = 0..N from several T1* starts, lowest SSE kept; ``--quick``: its
    vectorised twin) and against the shipped reference map; the TI shift / scale that would
    reproduce the reference.
(c) Speed: our fitter on whole 128 x 128 x 8 slices against curve_fit per pixel (every flip
    position) on the same data, in the same run, reported as per-pixel throughput ratio.
(d) T2 and T1rho (decays, no polarity) against an independent scipy least_squares fit on
    simulated Rician-noise curves (no real multi-echo data is available).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from scipy.optimize import least_squares

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DATA, REPO  # noqa: E402

from cmrseg.io.datasets.t1net import load_t1net  # noqa: E402
from cmrseg.mapping import fit_t1_molli, fit_t1rho, fit_t2  # noqa: E402
from cmrseg.mapping.models import molli_signal  # noqa: E402

sys.path.insert(0, str(REPO))
from tests.reference_fits import STARTS_MS, careful_fit, exhaustive_fit, exhaustive_fit_vectorised  # noqa: E402

SCHEMES = {"5(3)3": [(100.0, 5), (180.0, 3)], "4(1)3(1)2": [(100.0, 4), (180.0, 3), (260.0, 2)]}
PAUSES = {"5(3)3": [3], "4(1)3(1)2": [1, 1]}
RR = 1000.0


def scheme_tis(name: str) -> np.ndarray:
    return np.array([ti + k * RR for ti, n in SCHEMES[name] for k in range(n)])


def ideal_curves(t1: np.ndarray, tis: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a, b = np.ones_like(t1), 1.9 * np.ones_like(t1)
    return molli_signal(tis, a, b, t1 / (b / a - 1.0)), a, b


def look_locker_sim(
    t1: np.ndarray, name: str, flip_deg: float = 10.0, n_pulses: int = 40, tr: float = 2.8
) -> np.ndarray:
    """Signals (len(t1), N) in the order of :func:`scheme_tis`.

    Perfect inversions; each image is a train of ``n_pulses`` readout pulses centred on its TI
    (FLASH approximation of the bSSFP readout with a small effective flip angle); the next
    inversion is timed so its first image falls ``n + pause`` heartbeats after the previous
    set's first image.
    """
    alpha = np.deg2rad(flip_deg)
    mz, t_now = np.ones_like(t1), 0.0
    signals: list[np.ndarray] = []

    def relax(m: np.ndarray, dt: float) -> np.ndarray:
        return 1.0 - (1.0 - m) * np.exp(-dt / t1)

    first_image = None
    for s, (ti, n) in enumerate(SCHEMES[name]):
        t_inv = 0.0 if first_image is None else first_image + (prev_n + PAUSES[name][s - 1]) * RR - ti  # noqa: F821
        mz, t_now = -relax(mz, t_inv - t_now), t_inv
        for k in range(n):
            start = t_inv + ti + k * RR - n_pulses / 2 * tr
            mz, t_now = relax(mz, start - t_now), start
            for p in range(n_pulses):
                if p == n_pulses // 2:
                    signals.append(mz * np.sin(alpha))
                mz, t_now = relax(mz * np.cos(alpha), tr), t_now + tr
        first_image, prev_n = t_inv + ti, n  # noqa: F841
    return np.stack(signals, -1)


def simulate(quick: bool) -> None:
    rng = np.random.default_rng(0)
    t1s = np.array([200.0, 500.0, 1000.0, 1500.0, 2000.0])
    n = 200 if quick else 2000
    print("(a) simulated MOLLI, median T1 error in % (ideal model: fitter accuracy; LL simulation: MOLLI bias)")
    print(f"{'scheme':10s} {'T1 ms':>6s} {'noise-free':>11s} {'SNR 50 bias':>12s} {'SNR 50 IQR':>11s} {'LL-sim':>8s}")
    for name in SCHEMES:
        tis = scheme_tis(name)
        for t1 in t1s:
            clean, a, _ = ideal_curves(np.full(1, t1), tis)
            r0 = fit_t1_molli(np.abs(clean), tis)
            noisy = clean + rng.normal(0, 1 / 50, (n, len(tis))) + 1j * rng.normal(0, 1 / 50, (n, len(tis)))
            rn = fit_t1_molli(np.abs(noisy), tis)
            err = rn.t1 / t1 - 1
            sim = fit_t1_molli(np.abs(look_locker_sim(np.full(1, t1), name)), tis)
            q1, q3 = np.nanpercentile(err, [25, 75])
            print(
                f"{name:10s} {t1:6.0f} {100 * (r0.t1[0] / t1 - 1):+10.4f}% {100 * np.nanmedian(err):+11.3f}% "
                f"{100 * (q3 - q1):10.2f}% {100 * (sim.t1[0] / t1 - 1):+7.1f}%"
            )


def real(quick: bool) -> None:
    print("\n(b) T1NET: myocardial T1 inside myoMask, per slice (ms); exhaustive = least_squares on every")
    print(f"    flip position from {len(STARTS_MS)} T1* starts ({'vectorised LM' if quick else 'scipy, per pixel'})")
    print(
        f"{'slice':12s} {'n px':>5s} {'ours':>7s} {'exhaustive':>10s} {'reference':>9s} {'|ours-exh| max':>14s} "
        f"{'ours-ref':>9s} {'(%)':>7s} {'TI shift / scale to match ref':>30s}"
    )
    reference_fit = exhaustive_fit_vectorised if quick else exhaustive_fit
    diffs, failed = [], []
    for contrast in ("pre", "post"):
        d = load_t1net(DATA / "t1net" / f"{contrast}contrast_testsets.mat")
        for k in range(d["input"].shape[0]):
            series, tis = d["input"][k].astype(float), d["TI"][k].astype(float)
            mask, ref = d["myoMask"][k] > 0, d["T1"][k].astype(float)
            ours = fit_t1_molli(series, tis)
            o, r = ours.t1[mask], ref[mask]
            exh = reference_fit(series[mask], tis)[0]
            diffs.append(np.where(np.isfinite(o), np.abs(o - exh), np.inf))
            failed.append(ours.failed[mask])
            shift = _match_reference(series[mask], tis, r, "shift")
            scale = _match_reference(series[mask], tis, r, "scale")
            print(
                f"{contrast}_slice{k:<6d} {mask.sum():5d} {np.nanmedian(o):7.0f} {np.nanmedian(exh):10.0f} "
                f"{np.median(r):9.0f} {np.max(diffs[-1]):14.4f} {np.nanmedian(o - r):+9.0f} "
                f"{100 * np.nanmedian(o / r - 1):+6.1f}% {shift:+17.0f} ms {scale:8.4f}"
            )
    diff, failed = np.concatenate(diffs), np.concatenate(failed)
    p50, p95, p99 = np.percentile(diff, [50, 95, 99])
    print(
        f"    all {len(diff)} myocardial pixels, |ours - exhaustive| (ms): median {p50:.2e}, 95th {p95:.2e}, "
        f"99th {p99:.2e}, max {diff.max():.2e}; > 5 ms: {np.mean(diff > 5):.2%} ({np.sum(diff > 5)} pixels)"
    )
    print(f"    failure codes in myocardium (0..5): {np.bincount(failed, minlength=6).tolist()}")
    speed(quick)


def speed(quick: bool, repeats: int = 7) -> None:
    """Ours per 128 x 128 x 8 slice (the three pre-contrast slices) against curve_fit per pixel."""
    d = load_t1net(DATA / "t1net" / "precontrast_testsets.mat")
    times, cf_time, cf_pixels = [], 0.0, 0
    for k in range(d["input"].shape[0]):
        series, tis = d["input"][k].astype(float), d["TI"][k].astype(float)
        for _ in range(repeats):
            t0 = time.perf_counter()
            fit_t1_molli(series, tis)
            times.append(time.perf_counter() - t0)
        pix = np.argwhere(d["myoMask"][k] > 0)[: (60 if quick else None)]
        t0 = time.perf_counter()
        for i, j in pix:
            careful_fit(series[i, j], tis)
        cf_time, cf_pixels = cf_time + time.perf_counter() - t0, cf_pixels + len(pix)
    slice_s = float(np.median(times))
    ours_us, cf_us = slice_s / series[..., 0].size * 1e6, cf_time / cf_pixels * 1e6
    print(
        f"\n(c) speed: ours {1000 * slice_s:.1f} ms per 128x128x8 slice (median of {len(times)}; min "
        f"{1000 * min(times):.1f} ms), {ours_us:.2f} us/pixel"
    )
    print(f"    curve_fit (every flip position, per pixel) {cf_us:.0f} us/pixel; ratio {cf_us / ours_us:.0f}x")


def decay_reference(y: np.ndarray, t: np.ndarray, offset: bool, starts: tuple = (5.0, 20.0, 50.0, 150.0, 500.0)):
    """Independent per-curve fit of ``S0 exp(-t/T) (+ C)``: scipy least_squares (TRF, T in 0.1..1e5 ms)
    from several T starts, lowest SSE kept; -> (T in ms, SSE)."""
    best, tau = np.inf, np.nan
    for start in starts:
        e = np.exp(-t / start)
        x0 = [e @ y / (e @ e), start] + ([0.0] if offset else [])
        lb, ub = [-np.inf, 0.1] + [-np.inf] * offset, [np.inf, 1e5] + [np.inf] * offset
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            r = least_squares(
                lambda x: x[0] * np.exp(-t / x[1]) + (x[2] if offset else 0.0) - y,
                x0,
                bounds=(lb, ub),
                x_scale="jac",
                xtol=1e-14,
                ftol=1e-14,
                gtol=1e-14,
            )
        if 2 * r.cost < best:
            best, tau = 2 * r.cost, r.x[1]
    return tau, best


def decays(quick: bool) -> None:
    """T2 / T1rho fits against :func:`decay_reference` on simulated Rician-noise curves."""
    rng = np.random.default_rng(0)
    n = 60 if quick else 200
    truth = np.array([20.0, 35.0, 45.0, 60.0, 90.0, 150.0, 250.0])
    cases = [
        ("T2, TE 0/25/55 ms", fit_t2, np.array([0.0, 25.0, 55.0]), False),
        ("T2, 5 TEs 0-55 ms", fit_t2, np.array([0.0, 10.0, 25.0, 40.0, 55.0]), False),
        ("T2 + offset, 5 TEs", fit_t2, np.array([0.0, 10.0, 25.0, 40.0, 55.0]), True),
        ("T1rho, TSL 0-50 ms", fit_t1rho, np.array([0.0, 10.0, 20.0, 30.0, 50.0]), False),
        ("T1rho + offset", fit_t1rho, np.array([0.0, 10.0, 20.0, 30.0, 50.0]), True),
    ]
    print(f"\n(d) T2 / T1rho (no polarity) against scipy least_squares, {n} curves each, T {truth.tolist()} ms;")
    print("    |dT| of converged fits; 'SSE > ref': our SSE above the reference's (a worse optimum)")
    print(
        f"{'model':20s} {'SNR':>4s} {'failed':>7s} {'|dT| ms: median':>16s} {'95th':>9s} {'99th':>9s} "
        f"{'max':>9s} {'SSE > ref':>9s} {'failed: ref T at range end or S0<=0':>36s}"
    )
    for name, fit, t, offset in cases:
        for snr in (10, 30, 100):
            tau = rng.choice(truth, n)
            s0, c = np.ones(n), np.full(n, 0.05 if offset else 0.0)
            clean = s0[:, None] * np.exp(-t / tau[:, None]) + c[:, None]
            y = np.abs(clean + rng.normal(0, 1 / snr, clean.shape) + 1j * rng.normal(0, 1 / snr, clean.shape))
            ours = fit(y, t, offset=offset)
            ref, ref_sse = np.array([decay_reference(curve, t, offset) for curve in y]).T
            fitted = ours.a[:, None] * np.exp(-t / ours.value[:, None]) + (ours.b[:, None] if offset else 0.0)
            slack = 1e-6 * ref_sse + 1e-10 * np.square(y).sum(1)  # the maps are float32
            worse = np.square(fitted - y).sum(1) > ref_sse + slack
            ok = ours.failed == 0
            d = np.abs(ours.value[ok] - ref[ok])
            explained = (ours.failed[~ok] == 2) | (ref[~ok] >= 4990) | (ref[~ok] <= 1.0)
            print(
                f"{name:20s} {snr:4d} {np.mean(~ok):7.1%} {np.median(d):16.1e} {np.percentile(d, 95):9.1e} "
                f"{np.percentile(d, 99):9.1e} {d.max():9.1e} {worse[ok].sum():9d} "
                f"{f'{explained.sum()} of {(~ok).sum()}':>36s}"
            )


def _match_reference(curves: np.ndarray, tis: np.ndarray, ref: np.ndarray, how: str) -> float:
    """The TI offset (ms, ``how='shift'``) or factor (``'scale'``) that makes our median myocardial
    T1 equal the reference's, by bisection."""

    def gap(x: float) -> float:
        t = tis + x if how == "shift" else tis * x
        return float(np.nanmedian(fit_t1_molli(curves, t).t1 - ref))

    lo, hi = (-80.0, 80.0) if how == "shift" else (0.9, 1.1)
    if gap(lo) * gap(hi) > 0:
        return float("nan")
    for _ in range(24):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if gap(lo) * gap(mid) > 0 else (lo, mid)
    return (lo + hi) / 2


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--quick", action="store_true", help="fewer noise draws and curve_fit pixels, vectorised exhaustive fit"
    )
    args = ap.parse_args()
    simulate(args.quick)
    real(args.quick)
    decays(args.quick)


if __name__ == "__main__":
    main()
