"""A vectorised separable least-squares fitter (variable projection) for relaxometry.

Every model here is linear in its amplitudes given one nonlinear time constant ``tau``, and
each basis column is ``alpha + beta * e`` with ``e = exp(-t / tau)``:

=====================  ==========================  ==================
model                  signal                      columns (alpha, beta)
=====================  ==========================  ==================
MOLLI (3 parameters)   ``A - B e``                 (1, 0), (0, -1)
inversion recovery     ``A (1 - 2 e)``             (1, -2)
decay                  ``S0 e``                    (0, 1)
decay with offset      ``S0 e + C``                (0, 1), (1, 0)
=====================  ==========================  ==================

So the normal equations of any ``tau`` need only the sums ``N, sum e, sum e^2, sum y,
sum e*y``. We (1) score a log-spaced grid of ``tau`` for all pixels with one ``(P, N) @ (N, G)``
product, (2) refine ``tau`` per pixel by golden-section search in the bracket around the best
grid point, all pixels in lock step. This is the exact least-squares optimum of the full model,
with no initial guess and no per-pixel loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

__all__ = ["FitFailure", "SeparableFit", "fit_separable", "MOLLI", "IR", "DECAY", "DECAY_OFFSET"]

_GOLDEN = (np.sqrt(5.0) - 1.0) / 2.0

#: basis columns (alpha, beta): column = alpha + beta * exp(-t / tau)
MOLLI = np.array([[1.0, 0.0], [0.0, -1.0]])
IR = np.array([[1.0, -2.0]])
DECAY = np.array([[0.0, 1.0]])
DECAY_OFFSET = np.array([[0.0, 1.0], [1.0, 0.0]])


class FitFailure(IntEnum):
    """Per-pixel failure codes of a fit (0 = success)."""

    OK = 0
    NOT_CONVERGED = 1  # optimum at the edge of the search range
    OUT_OF_BOUNDS = 2  # parameters outside physical bounds
    TOO_FEW_POINTS = 3
    NON_POSITIVE_SIGNAL = 4  # all samples <= 0 (or not finite)


@dataclass(frozen=True)
class SeparableFit:
    """``tau`` (P,), ``coef`` (P, m), ``flips`` (P,) samples negated, ``sse`` and ``r2`` (P,), ``failed`` (P,)."""

    tau: np.ndarray
    coef: np.ndarray
    flips: np.ndarray
    sse: np.ndarray
    r2: np.ndarray
    failed: np.ndarray


def _lin(a: float, x, b: float, z):  # noqa: ANN001, ANN202 - a*x + b*z, skipping zero terms
    if a == 0:
        return b * z
    if b == 0:
        return a * x
    return a * x + b * z


def _solve(cols: np.ndarray, n: int, se, see, sy, sey, amplitudes: bool = True):  # noqa: ANN001, ANN202
    """Amplitudes and the explained sum of squares ``c'X'y`` from the five sums.

    Columns are ``alpha + beta e`` (1 or 2 of them); all arguments broadcast.
    """
    a, b = cols[:, 0], cols[:, 1]
    rhs = [_lin(a[j], sy, b[j], sey) for j in range(len(cols))]
    g = [
        [a[j] * a[k] * n + (a[j] * b[k] + b[j] * a[k]) * se + b[j] * b[k] * see for k in range(len(cols))]
        for j in range(len(cols))
    ]
    if len(cols) == 1:
        inv = 1.0 / np.maximum(g[0][0], 1e-30)
        return [rhs[0] * inv], rhs[0] * rhs[0] * inv
    det = g[0][0] * g[1][1] - g[0][1] ** 2
    inv = 1.0 / np.where(np.abs(det) < 1e-30, 1e-30, det)
    explained = (g[1][1] * inv) * rhs[0] ** 2 - (2 * g[0][1] * inv) * (rhs[0] * rhs[1]) + (g[0][0] * inv) * rhs[1] ** 2
    if not amplitudes:
        return [], explained
    c0 = (g[1][1] * rhs[0] - g[0][1] * rhs[1]) * inv
    c1 = (g[0][0] * rhs[1] - g[0][1] * rhs[0]) * inv
    return [c0, c1], explained


def _sse(
    cols: np.ndarray,
    t: np.ndarray,
    y: np.ndarray,
    sy: np.ndarray,
    yy: np.ndarray,
    tau: np.ndarray,
    amplitudes: bool = False,
) -> tuple[np.ndarray, list[np.ndarray]]:
    e = np.exp(-t / tau[:, None])
    coef, explained = _solve(
        cols, len(t), np.einsum("pn->p", e), np.einsum("pn,pn->p", e, e), sy, np.einsum("pn,pn->p", e, y), amplitudes
    )
    return np.maximum(yy - explained, 0.0), coef


def _grid_search(cols: np.ndarray, t: np.ndarray, y: np.ndarray, sy: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Index of the best grid ``tau`` per row (largest explained sum of squares)."""
    e = np.exp(-t[:, None] / grid[None, :])  # (N, G), shared by all pixels
    scale = np.float32(1.0 / max(float(np.abs(y).max()), 1e-30))  # float32-safe magnitudes
    sey = (y * scale).astype(np.float32) @ e.astype(np.float32)  # (P, G)
    se, see = e.sum(0)[None].astype(np.float32), (e * e).sum(0)[None].astype(np.float32)
    _, explained = _solve(cols, len(t), se, see, (sy * scale).astype(np.float32)[:, None], sey, amplitudes=False)
    return np.argmax(explained, axis=1)


def _polarity_candidates(y: np.ndarray) -> np.ndarray:
    """Two sign patterns per row: the first ``i`` and ``i + 1`` samples negated, ``i`` = argmin |y|.

    The smallest-magnitude sample marks the zero crossing of a recovery curve; its own sign is
    the only ambiguity (polarity restoration as in Barral et al., MRM 2010).
    """
    n = y.shape[1]
    i = np.abs(y).argmin(1)
    k = np.stack([i, np.minimum(i + 1, n)])  # (2, P) samples to negate
    return np.where(np.arange(n)[None, None, :] < k[..., None], -1.0, 1.0)  # (2, P, N)


def fit_separable(
    signal: np.ndarray,
    t_ms: np.ndarray,
    cols: np.ndarray,
    tau_range_ms: tuple[float, float],
    polarity: bool = False,
    grid_points: int = 32,
    iterations: int = 24,
) -> SeparableFit:
    """Fit ``S = sum_j c_j (alpha_j + beta_j exp(-t/tau))`` to every row of ``signal`` (P, N).

    Parameters
    ----------
    signal : np.ndarray
        ``(P, N)`` samples; ``t_ms`` (N,) sorted ascending, in ms.
    cols : np.ndarray
        ``(m, 2)`` basis columns ``(alpha, beta)``, m = 1 or 2 (e.g. :data:`MOLLI`).
    tau_range_ms : (float, float)
        Search range of the time constant.
    polarity : bool
        Magnitude data: restore the sign of the samples before the zero crossing (two
        candidate patterns around the smallest sample, both fitted, the better kept).
    """
    y = np.asarray(signal, float)
    t = np.asarray(t_ms, float)
    p, n = y.shape
    signs = _polarity_candidates(y) if polarity else np.ones((1, p, n))
    ys = (signs * y[None]).reshape(-1, n)  # candidates stacked: (C * P, N)
    ys = np.nan_to_num(ys)
    sy, yy = np.einsum("pn->p", ys), np.einsum("pn,pn->p", ys, ys)
    log_grid = np.linspace(np.log(tau_range_ms[0]), np.log(tau_range_ms[1]), grid_points)
    gi = _grid_search(cols, t, ys, sy, np.exp(log_grid))
    lo = log_grid[np.maximum(gi - 1, 0)]
    hi = log_grid[np.minimum(gi + 1, grid_points - 1)]
    x1, x2 = hi - _GOLDEN * (hi - lo), lo + _GOLDEN * (hi - lo)
    f1, f2 = _sse(cols, t, ys, sy, yy, np.exp(x1))[0], _sse(cols, t, ys, sy, yy, np.exp(x2))[0]
    for _ in range(iterations):  # golden-section search on log(tau), all rows in lock step
        left = f1 < f2
        hi = np.where(left, x2, hi)
        lo = np.where(left, lo, x1)
        x1n = np.where(left, hi - _GOLDEN * (hi - lo), x2)
        x2n = np.where(left, x1, lo + _GOLDEN * (hi - lo))
        fn = _sse(cols, t, ys, sy, yy, np.exp(np.where(left, x1n, x2n)))[0]
        f1, f2 = np.where(left, fn, f2), np.where(left, f1, fn)
        x1, x2 = x1n, x2n
    tau_all = np.exp((lo + hi) / 2)
    sse_all, coef_all = _sse(cols, t, ys, sy, yy, tau_all, amplitudes=True)
    best = sse_all.reshape(-1, p).argmin(0)  # candidate with the lower residual per pixel
    rows = best * p + np.arange(p)
    tau, sse, gi, ys = tau_all[rows], sse_all[rows], gi[rows], ys[rows]
    coef = np.stack([c[rows] for c in coef_all], -1)
    sst = np.square(ys - ys.mean(1, keepdims=True)).sum(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(sst > 0, 1.0 - sse / sst, np.nan)
    failed = np.zeros(p, np.uint8)
    failed[(gi == 0) | (gi == grid_points - 1)] = FitFailure.NOT_CONVERGED
    failed[~np.all(np.isfinite(y), 1) | np.all(np.nan_to_num(y) <= 0, 1)] = FitFailure.NON_POSITIVE_SIGNAL
    flips = (signs[best, np.arange(p)] < 0).sum(1) if polarity else np.zeros(p, np.int64)
    return SeparableFit(tau, coef, flips, sse, r2, failed)
