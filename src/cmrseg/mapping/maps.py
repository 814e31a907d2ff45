"""Fit every slice of a mapping series with its own times; the maps stacked ``(X, Y, Z)``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cmrseg.mapping.fits import MappingResult, fit_t1_molli, fit_t1rho, fit_t2
from cmrseg.mapping.series import MappingSeries

__all__ = ["SeriesMaps", "fit_series", "FITTERS"]

FITTERS = {"t1": (fit_t1_molli, "InversionTime"), "t2": (fit_t2, "EchoTime"), "t1rho": (fit_t1rho, "SpinLockTime")}


@dataclass(frozen=True)
class SeriesMaps:
    """Stacked per-slice results ``(X, Y, Z)`` of one series."""

    result: MappingResult
    series: MappingSeries


def fit_series(series: MappingSeries, quantity: str) -> SeriesMaps:
    """Fit every slice of ``series`` with its own times; ``quantity`` is t1, t2 or t1rho.

    Parameters
    ----------
    series : MappingSeries
        ``(X, Y, Z, N)`` weighted images and their ``(Z, N)`` times in ms.
    quantity : str
        ``t1`` (MOLLI, :func:`cmrseg.mapping.fits.fit_t1_molli`), ``t2`` or ``t1rho``.

    Returns
    -------
    SeriesMaps
        The per-slice results stacked ``(X, Y, Z)`` (values in ms), and ``series``.

    Raises
    ------
    ValueError
        When ``quantity`` is unknown, or a slice's times do not fit its images.
    """
    if quantity not in FITTERS:
        raise ValueError(f"unknown quantity {quantity!r}; valid: {sorted(FITTERS)}")
    fit, _ = FITTERS[quantity]
    arr = series.image.array
    per_slice = [fit(arr[:, :, z, :], series.times_ms[z]) for z in range(arr.shape[2])]

    def stack(name: str) -> np.ndarray | None:
        vals = [getattr(r, name) for r in per_slice]
        return None if vals[0] is None else np.stack(vals, 2)

    result = MappingResult(
        stack("value"),
        stack("a"),
        stack("b"),
        stack("r2"),
        stack("failed"),
        stack("t1_star"),
        stack("flips"),
        quantity=per_slice[0].quantity,
    )
    return SeriesMaps(result, series)
