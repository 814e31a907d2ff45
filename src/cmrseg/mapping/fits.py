"""Pixel-wise relaxometry fits over whole images: MOLLI T1, IR T1, T2 and T1rho.

``signal`` is ``(..., N)`` (e.g. ``(H, W, N)``), times ``(N,)`` in ms in the same order as the
images (any order; sorted internally). Results are maps of shape ``(...)``; failed pixels
carry a :class:`FitFailure` code and NaN parameters, never silent zeros.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cmrseg.mapping.fitter import FitFailure, fit_separable
from cmrseg.mapping.models import DECAY, DECAY_OFFSET, IR, MOLLI

__all__ = ["MappingResult", "fit_t1_molli", "fit_t1_ir", "fit_t2", "fit_t1rho", "validate_times"]

T1_STAR_RANGE_MS = (5.0, 8000.0)
T1_BOUNDS_MS = (1.0, 10000.0)
DECAY_RANGE_MS = (1.0, 5000.0)


@dataclass(frozen=True)
class MappingResult:
    """Maps of one fit, each of shape ``(...)`` of the input.

    ``value``: the fitted relaxation time in ms (T1, T2 or T1rho; NaN where ``failed``);
    ``a``/``b``: amplitudes (MOLLI: A and B; decays: S0 and offset or NaN); ``t1_star``: the
    apparent T1* (MOLLI only); ``r2``: coefficient of determination; ``failed``: uint8 codes
    of :class:`FitFailure` (0 ok, 1 not converged, 2 out of bounds, 3 too few points,
    4 non-positive signal, 5 ambiguous polarity); ``flips``: samples whose polarity was restored;
    ``quantity``: what ``value`` is (``"T1"``, ``"T2"`` or ``"T1rho"``). The named views ``t1``,
    ``t2`` and ``t1rho`` exist only for their own quantity: a MOLLI fit has no ``t2``.
    """

    value: np.ndarray
    a: np.ndarray
    b: np.ndarray
    r2: np.ndarray
    failed: np.ndarray
    t1_star: np.ndarray | None = None
    flips: np.ndarray | None = None
    quantity: str = ""

    def _named(self, quantity: str) -> np.ndarray:
        if self.quantity != quantity:
            raise AttributeError(
                f"this is a {self.quantity or 'unnamed'} fit, so it has no .{quantity.lower()}; "
                "its value is .value (ms)"
            )
        return self.value

    @property
    def t1(self) -> np.ndarray:
        """T1 in ms (T1 fits only)."""
        return self._named("T1")

    @property
    def t2(self) -> np.ndarray:
        """T2 in ms (T2 fits only)."""
        return self._named("T2")

    @property
    def t1rho(self) -> np.ndarray:
        """T1rho in ms (T1rho fits only)."""
        return self._named("T1rho")


def validate_times(signal: np.ndarray, times_ms: np.ndarray, name: str, minimum: int) -> tuple[np.ndarray, np.ndarray]:
    """Check shapes and times; return ``(signal (P, N) sorted by time, times sorted)``.

    Parameters
    ----------
    signal : np.ndarray
        ``(..., N)`` weighted images.
    times_ms : np.ndarray
        ``(N,)`` times in ms (TI, TE or TSL), in image order.
    name : str
        The model's name in the error messages.
    minimum : int
        Fewest images the model needs.

    Returns
    -------
    tuple of (np.ndarray, np.ndarray)
        ``(P, N)`` float signal, one row per pixel of ``(...)``, columns in time order, and the ``(N,)``
        sorted times in ms.

    Raises
    ------
    ValueError
        When the numbers of times and images differ, there are fewer than ``minimum`` images, a time is
        negative, not finite or repeated, or the images are all zero or NaN.
    """
    signal = np.asarray(signal, float)
    times = np.asarray(times_ms, float).ravel()
    if signal.ndim < 1 or signal.shape[-1] != len(times):
        raise ValueError(
            f"{name}: {len(times)} times given for {signal.shape[-1] if signal.ndim else 0} images "
            f"(signal shape {signal.shape}); they must match"
        )
    if len(times) < minimum:
        raise ValueError(f"{name}: {len(times)} images; this model needs at least {minimum}")
    if not np.all(np.isfinite(times)) or np.any(times < 0):
        raise ValueError(f"{name}: times must be finite and >= 0 ms, got {times.tolist()}")
    if len(np.unique(times)) != len(times):
        raise ValueError(f"{name}: duplicate times {times.tolist()}")
    if not np.any(np.isfinite(signal)) or np.nanmax(np.abs(signal)) == 0:
        raise ValueError(f"{name}: the images are all zero or NaN")
    order = np.argsort(times)
    return signal.reshape(-1, len(times))[:, order], times[order]


def fit_t1_molli(signal: np.ndarray, ti_ms: np.ndarray, magnitude: bool = True) -> MappingResult:
    """Three-parameter MOLLI fit ``S = A - B exp(-TI/T1*)`` with Look-Locker correction.

    Parameters
    ----------
    signal : np.ndarray
        ``(..., N)`` T1-weighted images (magnitude unless ``magnitude=False``).
    ti_ms : np.ndarray
        ``(N,)`` inversion times in ms, in image order.
    magnitude : bool
        Restore polarity: the first k (by TI) samples negated for every k = 0 .. N, the
        least-squares best kept.

    Returns
    -------
    MappingResult
        ``t1 = T1* (B/A - 1)`` in ms, ``a``, ``b``, ``t1_star``, ``r2``, ``failed``, ``flips``.
        ``failed`` is 2 (out of bounds) unless ``A > 0``, ``B > A`` and 1 ms <= T1 <= 10 s,
        and 5 (ambiguous) where another flip position fits within 10% of the best SSE with a
        valid T1 more than 10% away (:data:`~cmrseg.mapping.fitter.AMBIGUOUS_SSE_MARGIN`).
    """
    y, t = validate_times(signal, ti_ms, "MOLLI", 4)
    fit = fit_separable(y, t, MOLLI, T1_STAR_RANGE_MS, polarity=magnitude, value=_molli_t1)
    t1, valid = _molli_t1(fit.tau, fit.coef)
    failed = fit.failed.copy()
    failed[(failed == 0) & ~valid] = FitFailure.OUT_OF_BOUNDS
    return _result(signal, t1, fit.coef[:, 0], fit.coef[:, 1], fit.r2, failed, fit.tau, fit.flips, "T1")


def _molli_t1(t1_star: np.ndarray, coef: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Look-Locker ``T1 = T1* (B/A - 1)`` (R,) from ``coef`` (R, 2) = (A, B), and where it is physical."""
    a, b = coef[:, 0], coef[:, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = t1_star * (b / a - 1.0)
        valid = (a > 0) & (b > a) & np.isfinite(t1) & (t1 >= T1_BOUNDS_MS[0]) & (t1 <= T1_BOUNDS_MS[1])
    return t1, valid


def _ir_t1(t1: np.ndarray, coef: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``T1`` of the two-parameter inversion recovery, valid where ``A > 0``."""
    return t1, coef[:, 0] > 0


def fit_t1_ir(signal: np.ndarray, ti_ms: np.ndarray, magnitude: bool = True) -> MappingResult:
    """Two-parameter inversion recovery ``S = A (1 - 2 exp(-TI/T1))`` (ideal inversion, full recovery).

    Parameters
    ----------
    signal : np.ndarray
        ``(..., N)`` T1-weighted images (magnitude unless ``magnitude=False``).
    ti_ms : np.ndarray
        ``(N,)`` inversion times in ms, in image order; at least 3.
    magnitude : bool
        Restore polarity, as in :func:`fit_t1_molli`.

    Returns
    -------
    MappingResult
        ``t1`` in ms (searched over 1-10000 ms), ``a`` = A, ``b`` NaN, ``r2``, ``failed``, ``flips``;
        ``failed`` (:class:`FitFailure` codes) is also 2 where ``A <= 0``, 5 where the polarity is ambiguous.

    Raises
    ------
    ValueError
        When the times do not fit the images (:func:`validate_times`).
    """
    y, t = validate_times(signal, ti_ms, "IR", 3)
    fit = fit_separable(y, t, IR, T1_BOUNDS_MS, polarity=magnitude, value=_ir_t1)
    a = fit.coef[:, 0]
    failed = fit.failed.copy()
    failed[(failed == 0) & (a <= 0)] = FitFailure.OUT_OF_BOUNDS
    return _result(signal, fit.tau, a, np.full_like(a, np.nan), fit.r2, failed, None, fit.flips, "T1")


def _fit_decay(signal: np.ndarray, t_ms: np.ndarray, name: str, offset: bool) -> MappingResult:
    y, t = validate_times(signal, t_ms, name, 3 if offset else 2)
    if offset and len(t) < 4:
        raise ValueError(f"{name}: the offset model needs at least 4 images, got {len(t)}")
    fit = fit_separable(y, t, DECAY_OFFSET if offset else DECAY, DECAY_RANGE_MS)
    s0 = fit.coef[:, 0]
    c = fit.coef[:, 1] if offset else np.full_like(s0, np.nan)
    failed = fit.failed.copy()
    failed[(failed == 0) & (s0 <= 0)] = FitFailure.OUT_OF_BOUNDS
    return _result(signal, fit.tau, s0, c, fit.r2, failed, None, None, name)


def fit_t2(signal: np.ndarray, te_ms: np.ndarray, offset: bool = False) -> MappingResult:
    """Mono-exponential T2 ``S = S0 exp(-TE/T2)`` (+ C with ``offset``); ``a`` = S0, ``b`` = C.

    Parameters
    ----------
    signal : np.ndarray
        ``(..., N)`` T2-weighted images.
    te_ms : np.ndarray
        ``(N,)`` echo (or T2-preparation) times in ms, in image order; at least 2, 4 with ``offset``.
    offset : bool
        Fit a constant offset C as well.

    Returns
    -------
    MappingResult
        ``t2`` in ms (searched over 1-5000 ms), ``a`` = S0, ``b`` = C (NaN without ``offset``), ``r2`` and
        ``failed`` (:class:`FitFailure` codes; 2 where ``S0 <= 0``).

    Raises
    ------
    ValueError
        When the times do not fit the images (:func:`validate_times`), or ``offset`` is given with fewer
        than 4 images.
    """
    return _fit_decay(signal, te_ms, "T2", offset)


def fit_t1rho(signal: np.ndarray, tsl_ms: np.ndarray, offset: bool = False) -> MappingResult:
    """Mono-exponential T1rho ``S = S0 exp(-TSL/T1rho)`` (+ C with ``offset``); ``a`` = S0, ``b`` = C.

    Parameters
    ----------
    signal : np.ndarray
        ``(..., N)`` T1rho-weighted images.
    tsl_ms : np.ndarray
        ``(N,)`` spin-lock times in ms, in image order; at least 2, 4 with ``offset``.
    offset : bool
        Fit a constant offset C as well.

    Returns
    -------
    MappingResult
        ``t1rho`` in ms (searched over 1-5000 ms), ``a`` = S0, ``b`` = C (NaN without ``offset``), ``r2``
        and ``failed`` (:class:`FitFailure` codes; 2 where ``S0 <= 0``).

    Raises
    ------
    ValueError
        When the times do not fit the images (:func:`validate_times`), or ``offset`` is given with fewer
        than 4 images.
    """
    return _fit_decay(signal, tsl_ms, "T1rho", offset)


def _result(
    signal: np.ndarray,
    value: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    r2: np.ndarray,
    failed: np.ndarray,
    t1_star: np.ndarray | None,
    flips: np.ndarray | None,
    quantity: str,
) -> MappingResult:
    shape = np.asarray(signal).shape[:-1]
    value = np.where(failed == 0, value, np.nan)

    def r(x: np.ndarray | None, dtype: type = np.float32) -> np.ndarray | None:
        return None if x is None else np.asarray(x).astype(dtype).reshape(shape)

    return MappingResult(
        r(value), r(a), r(b), r(r2), r(failed, np.uint8), r(t1_star), r(flips, np.uint8), quantity=quantity
    )
