"""Agreement statistics between two methods or readers, from pingouin (not hand-rolled).

* ICC: pingouin's ``intraclass_corr``; we report ICC(2,1) (pingouin's "ICC(A,1)": two-way random effects,
  absolute agreement, single rater), the form recommended for method comparison.
* Bland-Altman: bias (mean of A - B) and 95% limits of agreement (bias +- 1.96 SD of the
  differences, ddof = 1), as pingouin's ``plot_blandaltman`` computes them.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

__all__ = ["Agreement", "agreement", "paired_finite"]


@dataclass(frozen=True)
class Agreement:
    n: int
    icc: float
    icc_ci95: tuple[float, float]
    bias: float
    loa_low: float
    loa_high: float


def paired_finite(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Paired values ``(N,)`` with the non-finite pairs dropped.

    Parameters
    ----------
    a, b : numpy.ndarray
        Values of the two methods or readers, any shape (flattened); ``a[k]`` pairs with ``b[k]``.

    Returns
    -------
    tuple of (numpy.ndarray, numpy.ndarray)
        ``(N,)`` float arrays of the pairs in which both values are finite.

    Raises
    ------
    ValueError
        When ``a`` and ``b`` are not paired (different sizes) or fewer than 3 finite pairs are left.
    """
    a, b = np.asarray(a, float).ravel(), np.asarray(b, float).ravel()
    if a.shape != b.shape:
        raise ValueError(f"agreement needs paired values, got {a.size} and {b.size}")
    keep = np.isfinite(a) & np.isfinite(b)
    if keep.sum() < 3:
        raise ValueError("agreement needs at least 3 finite pairs")
    return a[keep], b[keep]


def agreement(a: np.ndarray, b: np.ndarray) -> Agreement:
    """ICC(2,1) with its 95% CI, and Bland-Altman bias and limits of agreement of paired values.

    Parameters
    ----------
    a, b : numpy.ndarray
        Paired values of methods or readers A and B, any shape (flattened); pairs holding a non-finite value
        are dropped (:func:`paired_finite`).

    Returns
    -------
    Agreement
        ``n``: the pairs used; ``icc`` and ``icc_ci95``: pingouin's "ICC(A,1)" and its 95% CI; ``bias``:
        mean of ``a - b``; ``loa_low``, ``loa_high``: bias -/+ 1.96 SD of the differences (ddof = 1), in
        the unit of the values.

    Raises
    ------
    ValueError
        When ``a`` and ``b`` are not paired or fewer than 3 finite pairs are left.
    """
    import pandas as pd
    import pingouin as pg

    a, b = paired_finite(a, b)
    n = len(a)
    long = pd.DataFrame(
        {"target": np.tile(np.arange(n), 2), "rater": np.repeat(["a", "b"], n), "value": np.concatenate([a, b])}
    )
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # identical readers: ICC is degenerate, not an error
        table = pg.intraclass_corr(long, targets="target", raters="rater", ratings="value").set_index("Type")
    icc = float(table.loc["ICC(A,1)", "ICC"])
    ci = tuple(float(v) for v in table.loc["ICC(A,1)", "CI95"])
    diff = a - b
    bias, sd = float(diff.mean()), float(diff.std(ddof=1))
    return Agreement(n, icc, ci, bias, bias - 1.96 * sd, bias + 1.96 * sd)
