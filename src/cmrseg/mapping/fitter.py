"""A vectorised separable least-squares fitter (variable projection) for relaxometry.

Every model (:class:`cmrseg.mapping.models.SeparableModel`) is linear in its amplitudes given
one nonlinear time constant ``tau``, and each basis column is ``alpha + beta * e`` with
``e = exp(-t / tau)``:

=====================  ==========================  ==================
model                  signal                      columns (alpha, beta)
=====================  ==========================  ==================
MOLLI (3 parameters)   ``A - B e``                 (1, 0), (0, -1)
inversion recovery     ``A (1 - 2 e)``             (1, -2)
decay                  ``S0 e``                    (0, 1)
decay with offset      ``S0 e + C``                (0, 1), (1, 0)
=====================  ==========================  ==================

With the amplitudes eliminated, the residual sum of squares of a given ``tau`` is
``SSE = y'y - h(tau)``, ``h`` the squared norm of the projection of ``y`` onto the span of the
columns. That span is ``{w}`` with ``w = alpha + beta e`` (one column) or ``{1, e}`` (two
columns), so ``h = (1'y)^2 / N + (w'y)^2 / (w'w)`` with ``w = e - mean(e)`` in the second case.
We (1) score a log-spaced grid of ``tau`` for every row and every sign-flip candidate with one
``(K P, N) @ (N, G)`` product, (2) refine ``tau`` of the promising candidates by a safeguarded
Newton iteration on ``dh/dlog(tau) = 0`` inside the bracket around the best grid point, with
analytic first and second derivatives, all rows in lock step. The result is the least-squares
optimum of the full model, with no initial guess and no per-pixel loop.

Polarity (magnitude data of an inversion recovery): the samples before the zero crossing were
negative. Every crossing position is a candidate: the first ``k`` samples (in time order)
negated, ``k = 0 .. N``. ``k = N`` is ``k = 0`` with all amplitudes negated (the same SSE), so
``N`` patterns are fitted and a ``k = 0`` fit with a negative first amplitude is reported as
``k = N``. All ``N`` are scored on the grid; the ``refine`` best by grid SSE are refined; then
every other candidate whose SSE predicted by a parabola through the three grid points around
its grid maximum, less twice that parabola's rise above the grid value (a sharp peak between
grid points is less certain), is within ``_VERIFY_MARGIN`` (25%) of the best refined SSE is
refined too (the verification pass), so every candidate that could be the best, or within the
ambiguity margin, is refined. On the 6 whole T1NET slices (98,304 pixels), 240,000 simulated
MOLLI curves (5(3)3, 4(1)3(1)2, T1 50-4000 ms, SNR 5-300) and 60,000 IR curves this chose the
same pattern, SSE and failure code as refining all ``N`` candidates in every row
(tests/test_mapping.py checks the T1NET slices and 12,000 simulated curves).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from cmrseg.mapping.models import SeparableModel

__all__ = [
    "AMBIGUOUS_SSE_MARGIN",
    "AMBIGUOUS_VALUE_RATIO",
    "FitFailure",
    "SeparableFit",
    "fit_separable",
]

#: AMBIGUOUS when another flip position has SSE <= (1 + this) * best SSE ... With the noise
#: variance estimated as SSE / (N - 3), for MOLLI 5(3)3 (N = 8) 10% is an SSE difference under
#: 0.5 sigma^2: a likelihood ratio under 1.3 : 1 for the chosen polarity. In T1NET myocardium
#: the nearest alternative with a T1 > 10% away has >= 1.8 x the best SSE (none flagged).
AMBIGUOUS_SSE_MARGIN = 0.10
#: ... and a physically valid value differing from the best (valid) one by more than this fraction.
AMBIGUOUS_VALUE_RATIO = 0.10

_VERIFY_MARGIN = 0.25  # relative slack on the parabolic SSE prediction of unrefined candidates
_EDGE = 1e-3  # NOT_CONVERGED: refined log(tau) this close to an end of the search range
_BLOCK = 1 << 17  # rows * N * G per matrix product: small enough for single-threaded BLAS

#: ``value(tau (R,), coef (R, m)) -> (value (R,), valid (R,) bool)``: the reported parameter
#: (e.g. Look-Locker-corrected T1) and whether it is physically admissible.
ValueFn = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


class FitFailure(IntEnum):
    """Per-pixel failure codes of a fit (0 = success).

    ``NOT_CONVERGED`` (1): the optimum lies at an end of the ``tau`` search range.
    ``OUT_OF_BOUNDS`` (2): parameters outside physical bounds (e.g. T1 < 1 ms, A <= 0).
    ``TOO_FEW_POINTS`` (3): fewer samples than the model needs (reserved: the fits in
    :mod:`cmrseg.mapping.fits` raise ``ValueError`` instead).
    ``NON_POSITIVE_SIGNAL`` (4): all samples <= 0, or a sample not finite.
    ``AMBIGUOUS`` (5): polarity restoration only; two flip positions fit almost equally well
    (SSE within :data:`AMBIGUOUS_SSE_MARGIN` of the best) with physically valid values more than
    :data:`AMBIGUOUS_VALUE_RATIO` apart, so the sign of the samples near the zero crossing, and
    with it the value, is not determined by the data.
    """

    OK = 0
    NOT_CONVERGED = 1
    OUT_OF_BOUNDS = 2
    TOO_FEW_POINTS = 3
    NON_POSITIVE_SIGNAL = 4
    AMBIGUOUS = 5


@dataclass(frozen=True)
class SeparableFit:
    """Per-row results of :func:`fit_separable`, P rows.

    ``tau`` (P,) in the unit of ``t``; ``coef`` (P, m) amplitudes; ``flips`` (P,) number of
    leading samples negated; ``sse`` and ``r2`` (P,) of the signed fit; ``failed`` (P,) uint8
    :class:`FitFailure` codes.
    """

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


def _solve(cols: np.ndarray, n: int, se, see, sy, sey):  # noqa: ANN001, ANN202
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
    c0 = (g[1][1] * rhs[0] - g[0][1] * rhs[1]) * inv
    c1 = (g[0][0] * rhs[1] - g[0][1] * rhs[0]) * inv
    return [c0, c1], explained


def _rowsum(x: np.ndarray) -> np.ndarray:
    """Sum over the last axis of a ``(R, N)`` array; einsum is several times faster than ``sum`` for small N."""
    return np.einsum("pn->p", x)


def _sse(cols: np.ndarray, t: np.ndarray, y: np.ndarray, yy: np.ndarray, tau: np.ndarray) -> tuple[np.ndarray, list]:
    """SSE (R,) and amplitudes of rows ``y`` (R, N) at ``tau`` (R,)."""
    e = np.exp(-t / tau[:, None])
    coef, explained = _solve(
        cols, len(t), _rowsum(e), np.einsum("pn,pn->p", e, e), _rowsum(y), np.einsum("pn,pn->p", e, y)
    )
    return np.maximum(yy - explained, 0.0), coef


def _directions(cols: np.ndarray, t: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """``(N, G)`` unit vectors ``w / |w|`` of each grid ``tau`` (see the module docstring)."""
    e = np.exp(-t[:, None] / tau[None, :])
    w = e - e.mean(0) if len(cols) == 2 else cols[0, 0] + cols[0, 1] * e
    return w / np.maximum(np.linalg.norm(w, axis=0), 1e-300)


def _grid_scores(y: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(y'u)^2`` at the best grid point and that point's index, per row of ``y`` (R, N).

    The product runs in float32 on rescaled rows, in blocks: OpenBLAS and MKL run blocks this
    small on one thread, which on a loaded machine is ~20x faster than their threaded kernels.
    """
    scale = 1.0 / max(float(np.abs(y).max(initial=0.0)), 1e-300)
    y32, u32 = (y * scale).astype(np.float32), u.astype(np.float32)
    z = np.empty((len(y), u.shape[1]), np.float32)
    step = max(1, _BLOCK // (u.size))
    for i in range(0, len(y), step):
        np.matmul(y32[i : i + step], u32, out=z[i : i + step])
    np.square(z, out=z)
    gi = z.argmax(1)
    rows = np.arange(len(y))
    near = np.stack([z[rows, np.maximum(gi - 1, 0)], z[rows, gi], z[rows, np.minimum(gi + 1, u.shape[1] - 1)]])
    return near.astype(float) / scale**2, gi


def _parabola_peak(near: np.ndarray) -> np.ndarray:
    """Peak of the parabola through three equally spaced values ``near`` (3, R) (>= the middle one)."""
    lo, mid, hi = near
    curv = lo - 2 * mid + hi
    with np.errstate(divide="ignore", invalid="ignore"):
        peak = mid - (hi - lo) ** 2 / (8 * curv)
    return np.where(curv < 0, np.maximum(peak, mid), mid)


def _h_derivatives(cols: np.ndarray, t: np.ndarray, y: np.ndarray, sy: np.ndarray, x: np.ndarray):  # noqa: ANN202
    """First and second derivatives of ``h`` by ``x = log(tau)`` (rows of ``y``, R each)."""
    r = t * np.exp(-x)[:, None]  # t / tau; de/dx = e r, d(e r)/dx = e r (r - 1)
    e = np.exp(-r)
    e1 = e * r
    e2 = e1 * (r - 1)
    ee1, ee2 = 2 * np.einsum("pn,pn->p", e, e1), 2 * (np.einsum("pn,pn->p", e1, e1) + np.einsum("pn,pn->p", e, e2))
    ey, ey1, ey2 = np.einsum("pn,pn->p", e, y), np.einsum("pn,pn->p", e1, y), np.einsum("pn,pn->p", e2, y)
    s, s1, s2, see = _rowsum(e), _rowsum(e1), _rowsum(e2), np.einsum("pn,pn->p", e, e)
    n = len(t)
    if len(cols) == 2:  # w = e - mean(e)
        p, p1, p2 = ey - s * sy / n, ey1 - s1 * sy / n, ey2 - s2 * sy / n
        q, q1, q2 = see - s * s / n, ee1 - 2 * s * s1 / n, ee2 - 2 * (s1 * s1 + s * s2) / n
    else:  # w = alpha + beta e
        a, b = cols[0]
        p, p1, p2 = a * sy + b * ey, b * ey1, b * ey2
        q, q1, q2 = a * a * n + 2 * a * b * s + b * b * see, 2 * a * b * s1 + b * b * ee1, 2 * a * b * s2 + b * b * ee2
    q = np.maximum(q, 1e-300)
    h1 = 2 * p * p1 / q - p * p * q1 / q**2
    h2 = 2 * (p1 * p1 + p * p2) / q - 4 * p * p1 * q1 / q**2 - p * p * q2 / q**2 + 2 * p * p * q1 * q1 / q**3
    return h1, h2


def _refine(
    cols: np.ndarray, t: np.ndarray, y: np.ndarray, x: np.ndarray, lo: np.ndarray, hi: np.ndarray, iterations: int
) -> np.ndarray:
    """Safeguarded Newton on ``dh/dx = 0`` in ``[lo, hi]`` (log tau), all rows in lock step.

    A Newton step that leaves the bracket, or a point where ``h`` is not concave, falls back to
    bisection; the bracket shrinks toward the side where ``h`` increases.
    """
    x, lo, hi = x.copy(), lo.copy(), hi.copy()
    sy = _rowsum(y)
    active = np.arange(len(x))  # rows still moving
    for _ in range(iterations):
        xa, la, ha = x[active], lo[active], hi[active]
        h1, h2 = _h_derivatives(cols, t, y[active], sy[active], xa)
        up = h1 > 0
        la, ha = np.where(up, xa, la), np.where(up, ha, xa)
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = xa - h1 / h2
        ok = (h2 < 0) & (newton > la) & (newton < ha)
        x[active], lo[active], hi[active] = np.where(ok, newton, (la + ha) / 2), la, ha
        step = np.abs(x[active] - xa)
        # quadratic convergence: after a Newton step of d the error is ~ d^2, below 1e-8 in log(tau)
        active = active[(step > 1e-4) | (~ok & (step > 1e-10))]
        if len(active) == 0:
            break
    return x


def _flip_signs(n: int) -> np.ndarray:
    """``(n, n)`` sign patterns; row ``k`` negates the first ``k`` samples (k = 0 .. n - 1).

    ``k = n`` (all negated) is ``k = 0`` with the amplitudes negated: same SSE, not fitted twice.
    """
    return np.where(np.arange(n)[None, :] < np.arange(n)[:, None], -1.0, 1.0)


def _refine_rows(
    cols: np.ndarray,
    t: np.ndarray,
    y: np.ndarray,
    yy: np.ndarray,
    near: np.ndarray,
    gi: np.ndarray,
    log_grid: np.ndarray,
    iterations: int,
) -> tuple[np.ndarray, np.ndarray, list]:
    """Refined ``tau``, SSE and amplitudes of rows ``y`` (R, N) from their grid maxima."""
    last = len(log_grid) - 1
    lo, hi = log_grid[np.maximum(gi - 1, 0)], log_grid[np.minimum(gi + 1, last)]
    curv = near[0] - 2 * near[1] + near[2]
    with np.errstate(divide="ignore", invalid="ignore"):
        offset = np.where(curv < 0, (near[0] - near[2]) / (2 * curv), 0.0)
    step = log_grid[1] - log_grid[0] if last > 0 else 0.0
    x0 = np.clip(log_grid[gi] + np.clip(np.nan_to_num(offset), -1, 1) * step, lo, hi)
    tau = np.exp(_refine(cols, t, y, x0, lo, hi, iterations))
    sse, coef = _sse(cols, t, y, yy, tau)
    return tau, sse, coef


def fit_separable(
    signal: np.ndarray,
    t_ms: np.ndarray,
    model: SeparableModel,
    tau_range_ms: tuple[float, float],
    polarity: bool = False,
    grid_points: int = 32,
    iterations: int = 12,
    value: ValueFn | None = None,
    refine: int = 2,
) -> SeparableFit:
    """Fit ``S = sum_j c_j (alpha_j + beta_j exp(-t/tau))`` to every row of ``signal`` (P, N).

    Parameters
    ----------
    signal : np.ndarray
        ``(P, N)`` samples.
    t_ms : np.ndarray
        ``(N,)`` sample times, sorted ascending, in ms.
    model : SeparableModel
        The signal model, one or two amplitudes (e.g. :data:`cmrseg.mapping.models.MOLLI`).
    tau_range_ms : (float, float)
        Search range of the time constant.
    polarity : bool
        Magnitude data: restore the sign of the samples before the zero crossing. Every
        crossing position (the first k samples negated, k = 0 .. N) is a candidate; the one with
        the lowest SSE is kept (see the module docstring).
    grid_points, iterations : int
        Log-spaced grid of ``tau`` over ``tau_range_ms``; maximum Newton iterations.
    value : callable, optional
        ``value(tau, coef) -> (value, valid)``, e.g. the Look-Locker T1 and whether it is
        physical. With ``polarity``, rows where another flip position has an SSE within
        :data:`AMBIGUOUS_SSE_MARGIN` of the best and a valid value more than
        :data:`AMBIGUOUS_VALUE_RATIO` away from the (valid) best are marked ``AMBIGUOUS``.
    refine : int
        Candidates per row refined before the verification pass.

    Returns
    -------
    SeparableFit
        ``failed``: 1 optimum at the edge of the ``tau`` range, 4 non-positive or non-finite
        signal, 5 ambiguous polarity, else 0 (physical bounds are the caller's to check).
    """
    cols = model.basis
    if cols.ndim != 2 or cols.shape[1] != 2 or len(cols) not in (1, 2):
        raise ValueError(f"cols must be (1, 2) or (2, 2) (alpha, beta) rows, got shape {cols.shape}")
    if len(cols) == 2 and abs(np.linalg.det(cols)) < 1e-12:
        raise ValueError(f"the two columns {cols.tolist()} are linearly dependent")
    raw = np.asarray(signal, float)
    y, t = np.nan_to_num(raw), np.asarray(t_ms, float)
    p, n = y.shape
    signs = _flip_signs(n) if polarity else np.ones((1, n))
    ys = (signs[:, None, :] * y[None]).reshape(-1, n)  # candidates stacked: (K * P, N)
    log_grid = np.linspace(np.log(tau_range_ms[0]), np.log(tau_range_ms[1]), grid_points)
    tau_k, sse_k, coef_k = _fit_candidates(cols, t, ys, p, log_grid, iterations, refine)
    negative = np.zeros(p, bool)
    if polarity:  # k = 0 with a negative first amplitude is k = n (all negated): report it so
        negative = coef_k[0, :, 0] < 0
        coef_k[0, negative] *= -1
    best = sse_k.argmin(0)
    pix = np.arange(p)
    tau, sse, coef = tau_k[best, pix], sse_k[best, pix], coef_k[best, pix]
    yy = np.einsum("pn,pn->p", y, y)
    sst = yy - np.square(ys.reshape(len(signs), p, n)[best, pix].sum(1)) / n
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(sst > 0, 1.0 - sse / sst, np.nan)
    failed = np.zeros(p, np.uint8)
    if polarity and value is not None:
        failed[_ambiguous(value, tau_k, sse_k, coef_k, best, yy)] = FitFailure.AMBIGUOUS
    x = np.log(tau)
    failed[(x < log_grid[0] + _EDGE) | (x > log_grid[-1] - _EDGE)] = FitFailure.NOT_CONVERGED
    failed[~np.all(np.isfinite(raw), 1) | np.all(y <= 0, 1)] = FitFailure.NON_POSITIVE_SIGNAL
    flips = np.where((best == 0) & negative, n, best) if polarity else np.zeros(p, np.int64)
    return SeparableFit(tau, coef, flips, sse, r2, failed)


def _fit_candidates(
    cols: np.ndarray, t: np.ndarray, ys: np.ndarray, p: int, log_grid: np.ndarray, iterations: int, refine: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Grid-score all K candidates of ``ys`` (K * P, N), refine the promising ones.

    Returns ``tau``, ``sse`` (K, P) (NaN and inf where not refined) and ``coef`` (K, P, m).
    """
    nk, n = len(ys) // p, ys.shape[1]
    yy = np.einsum("pn,pn->p", ys, ys)
    const = np.square(_rowsum(ys)) / n if len(cols) == 2 else np.zeros(len(ys))
    near, gi = _grid_scores(ys, _directions(cols, t, np.exp(log_grid)))
    grid_sse = (yy - const - near[1]).reshape(nk, p)
    predicted = (yy - const - _parabola_peak(near)).reshape(nk, p)
    tau_k, sse_k = np.full((nk, p), np.nan), np.full((nk, p), np.inf)
    coef_k = np.full((nk, p, len(cols)), np.nan)

    def run(rows: np.ndarray) -> None:  # flat candidate rows, k * P + pixel
        if len(rows):
            tau, sse, coef = _refine_rows(cols, t, ys[rows], yy[rows], near[:, rows], gi[rows], log_grid, iterations)
            tau_k.flat[rows], sse_k.flat[rows] = tau, sse
            coef_k.reshape(-1, len(cols))[rows] = np.stack(coef, -1)

    order = np.argsort(grid_sse, axis=0, kind="stable")[: max(1, min(refine, nk))]
    run((order * p + np.arange(p)).ravel())
    slack = sse_k.min(0) * (1 + _VERIFY_MARGIN) + 1e-12 * yy[:p]
    lower = predicted - 2 * (grid_sse - predicted)  # a sharp peak between grid points: less sure
    run(np.flatnonzero(~np.isfinite(sse_k) & (lower <= slack)))  # the verification pass
    return tau_k, sse_k, coef_k


def _ambiguous(
    value: ValueFn, tau_k: np.ndarray, sse_k: np.ndarray, coef_k: np.ndarray, best: np.ndarray, yy: np.ndarray
) -> np.ndarray:
    """``(P,)`` rows where another candidate fits within the SSE margin with a different valid value."""
    pix = np.arange(sse_k.shape[1])
    best_sse = sse_k[best, pix]
    close = sse_k <= best_sse * (1 + AMBIGUOUS_SSE_MARGIN) + 1e-12 * yy
    close[best, pix] = False
    k, q = np.nonzero(close)
    if len(k) == 0:
        return np.zeros(len(pix), bool)
    v_best, ok_best = value(tau_k[best[q], q], coef_k[best[q], q])
    v_alt, ok_alt = value(tau_k[k, q], coef_k[k, q])
    with np.errstate(invalid="ignore"):
        differ = ok_best & ok_alt & (np.abs(v_alt - v_best) > AMBIGUOUS_VALUE_RATIO * np.abs(v_best))
    out = np.zeros(len(pix), bool)
    out[q[differ]] = True
    return out
