"""Independent MOLLI T1 reference fits, shared by tests/test_mapping.py and benchmarks/mapping.py.

Deliberately written apart from :mod:`cmrseg.mapping` (scipy per pixel, or a plain vectorised
Levenberg-Marquardt), so that agreeing with them tests the fitter rather than restating it.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit, least_squares


def careful_fit(curve: np.ndarray, tis: np.ndarray) -> tuple[float, float]:
    """Per-pixel reference: scipy curve_fit of A - B exp(-TI/T1*), every sign-flip k, best SSE; -> (T1, SSE)."""
    order = np.argsort(tis)
    t, y = tis[order], curve[order].astype(float)
    best = (np.nan, np.inf)
    for k in range(len(t) + 1):
        ys = y.copy()
        ys[:k] *= -1
        p0 = (ys.max(), 2 * ys.max(), max(t[np.abs(ys).argmin()] / np.log(2), 50.0))
        try:
            with warnings.catch_warnings(), np.errstate(over="ignore"):
                warnings.simplefilter("ignore", OptimizeWarning)
                p, _ = curve_fit(lambda tt, a, b, ts: a - b * np.exp(-tt / ts), t, ys, p0=p0, maxfev=2000)
        except (RuntimeError, ValueError):
            continue
        sse = float(np.sum((ys - (p[0] - p[1] * np.exp(-t / p[2]))) ** 2))
        if sse < best[1] and p[0] > 0 and p[2] > 0:
            best = (p[2] * (p[1] / p[0] - 1), sse)
    return best


STARTS_MS = (100.0, 400.0, 1200.0, 3000.0)  # T1* starts of the exhaustive fits


def _signed(curves: np.ndarray, tis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(P, N + 1, N)`` curves sorted by TI with the first k samples negated (k = 0 .. N), and TI sorted."""
    order = np.argsort(tis)
    t, y = np.asarray(tis, float)[order], np.asarray(curves, float).reshape(-1, len(tis))[:, order]
    n = len(t)
    signs = np.where(np.arange(n)[None, :] < np.arange(n + 1)[:, None], -1.0, 1.0)
    return signs[None] * y[:, None, :], t


def _best(t1: np.ndarray, sse: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lowest-SSE solution over flip positions and starts: ``(T1, SSE, flips)``, each (P,)."""
    flat = np.where(np.isfinite(sse), sse, np.inf).reshape(len(sse), -1)
    i = flat.argmin(1)
    rows = np.arange(len(sse))
    t1 = np.where(np.isfinite(flat[rows, i]), t1.reshape(len(sse), -1)[rows, i], np.nan)
    return t1, flat[rows, i], i // sse.shape[2]


def exhaustive_fit(curves: np.ndarray, tis: np.ndarray, starts: tuple = STARTS_MS) -> tuple:
    """Independent per-pixel reference: ``scipy.optimize.least_squares`` (MINPACK LM) of
    ``A - B exp(-TI/T1*)`` on every flip position k = 0 .. N from every T1* start, lowest SSE kept.

    ``curves`` (P, N) magnitudes in ``tis`` order; returns ``(T1, SSE, flips)``, each (P,), with
    Look-Locker ``T1 = T1* (B/A - 1)`` in ms (NaN where no start converged to T1* > 0).
    """
    ys, t = _signed(curves, tis)
    t1 = np.full(ys.shape[:2] + (len(starts),), np.nan)
    sse = np.full_like(t1, np.inf)

    def res(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return x[0] - x[1] * np.exp(-t / x[2]) - y

    def jac(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        e = np.exp(-t / x[2])
        return np.stack([np.ones_like(t), -e, -x[1] * e * t / x[2] ** 2], 1)

    for p, k, s in np.ndindex(t1.shape):
        y = ys[p, k]
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            r = least_squares(
                res, [y[-1], 2 * y[-1], starts[s]], jac=jac, args=(y,), method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15
            )
        if r.x[2] > 0 and np.isfinite(r.cost):
            t1[p, k, s], sse[p, k, s] = r.x[2] * (r.x[1] / r.x[0] - 1.0), 2 * r.cost
    return _best(t1, sse)


def exhaustive_fit_vectorised(
    curves: np.ndarray, tis: np.ndarray, starts: tuple = STARTS_MS, iterations: int = 60
) -> tuple:
    """:func:`exhaustive_fit` for all pixels at once: Levenberg-Marquardt on (A, B, log T1*) of
    every (pixel, flip position, start), each with its own damping; same return values.

    The amplitudes of each start are the linear least squares at its T1*. Agrees with
    :func:`exhaustive_fit` to < 1e-6 ms on T1NET myocardium (tests/test_mapping.py checks a subset);
    on ill-conditioned low-SNR curves it can stop short of the optimum (slow progress along the
    A-B-T1* valley), so use :func:`exhaustive_fit` where that matters.
    """
    ys, t = _signed(curves, tis)
    shape = ys.shape[:2] + (len(starts),)
    y = np.repeat(ys[:, :, None, :], len(starts), 2).reshape(-1, len(t))
    x = np.zeros((len(y), 3))
    x[:, 2] = np.log(np.broadcast_to(np.asarray(starts, float), shape).ravel())
    e = np.exp(-t / np.exp(x[:, 2:]))
    basis = np.stack([np.ones_like(e), -e], -1)
    gram, rhs = np.einsum("mni,mnj->mij", basis, basis), np.einsum("mni,mn->mi", basis, y)
    x[:, :2] = np.linalg.solve(gram, rhs[..., None])[..., 0]

    def residual(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            return x[:, :1] - x[:, 1:2] * np.exp(-t / np.exp(x[:, 2:])) - y

    r = residual(x, y)
    sse, lam, active = np.einsum("mn,mn->m", r, r), np.full(len(y), 1e-3), np.arange(len(y))
    for _ in range(iterations):
        xa = x[active]
        e = np.exp(-t / np.exp(xa[:, 2:]))
        jac = np.stack([np.ones_like(e), -e, -xa[:, 1:2] * e * t / np.exp(xa[:, 2:])], -1)
        jtj, grad = np.einsum("mni,mnj->mij", jac, jac), np.einsum("mni,mn->mi", jac, r[active])
        damp = lam[active, None] * (np.diagonal(jtj, axis1=1, axis2=2) + 1e-12)
        step = -np.linalg.solve(jtj + damp[:, :, None] * np.eye(3), grad[..., None])[..., 0]
        rn = residual(xa + step, y[active])
        ssen = np.einsum("mn,mn->m", rn, rn)
        better = np.isfinite(ssen) & (ssen <= sse[active])
        gain = np.where(better, sse[active] - np.where(better, ssen, 0.0), 0.0)
        idx = active[better]
        x[idx], r[idx], sse[idx] = xa[better] + step[better], rn[better], ssen[better]
        lam[idx] /= 3
        lam[active[~better]] *= 4
        settled = (gain <= 1e-13 * sse[active]) | (np.abs(step).max(1) < 1e-10)
        done = (better & settled & (lam[active] < 1e-2)) | (lam[active] > 1e12)  # Gauss-Newton regime
        active = active[~done]
        if len(active) == 0:
            break
    with np.errstate(all="ignore"):
        t1 = np.exp(x[:, 2]) * (x[:, 1] / x[:, 0] - 1.0)
    return _best(t1.reshape(shape), sse.reshape(shape))
