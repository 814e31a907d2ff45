"""Quality-control flags of a study's results: pure checks on label maps, probabilities and values.

Every check returns a :class:`QcCheck`: its name, ``flagged`` (True: look at this result before
trusting it) and a one-line reason, whether flagged or not. A flag never changes a result; it
marks the results a reader should look at first.

Plausibility ranges (:data:`PLAUSIBLE_RANGES`) flag values that point at a failed segmentation
or fit. They are deliberately wide and are **not normal ranges**: a diseased heart can lie well
outside normal values and still inside these (an EF of 15% in heart failure is not flagged, an
LV mass of 0 g is). Native myocardial T1 800-1500 ms covers MOLLI at 1.5 T and 3 T; post-contrast
200-700 ms covers the usual 10-30 minutes after a gadolinium dose.

The model's own uncertainty is the mean softmax entropy in its predicted myocardium, normalised
by log C (0: certain, 1: uniform over the C classes). Threshold :data:`ENTROPY_MAX` = 0.25 was set
on the shipped model's own figures (measured once; no benchmark script prints them yet): 0.13-0.21 on
bright-blood cines it segments well (M&Ms-2 example, Sunnybrook ED/ES, 8 MyoPS C0 volumes, Dice
0.65-0.80), 0.25-0.37 on the 8 matching MyoPS black-blood T2 volumes it fails on (myocardium Dice
0.00-0.40), 0.18-0.29 on LGE (flagged: 4 of 8, Dice 0.22-0.52).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from cmrseg.labels import FOREGROUND, LABEL_NAMES, Label

__all__ = [
    "QcCheck",
    "PLAUSIBLE_RANGES",
    "MIN_LV_SLICES",
    "FIT_MEAN_R2_MIN",
    "FIT_LOW_R2",
    "FIT_LOW_R2_FRACTION_MAX",
    "ENTROPY_MAX",
    "check_classes_present",
    "check_lv_coverage",
    "check_mid_slice",
    "check_plausible",
    "check_function",
    "check_t1",
    "check_fit_quality",
    "normalised_entropy",
    "myocardial_entropy",
    "check_uncertainty",
    "qc_table",
    "flagged_names",
]

#: quantity -> (low, high, unit): plausibility ranges for flagging, not normal ranges (module notes)
PLAUSIBLE_RANGES: dict[str, tuple[float, float, str]] = {
    "lv_ef_percent": (10.0, 85.0, "%"),
    "lv_edv_ml": (40.0, 400.0, "mL"),
    "lv_mass_g": (30.0, 300.0, "g"),
    "native_t1_ms": (800.0, 1500.0, "ms"),
    "post_t1_ms": (200.0, 700.0, "ms"),
    "ecv_percent": (15.0, 60.0, "%"),
}
MIN_LV_SLICES = 3  #: contiguous slices holding LV blood pool that a short-axis stack should have
FIT_MEAN_R2_MIN = 0.9  #: mean myocardial R² below this flags the fit
FIT_LOW_R2 = 0.95  #: a pixel with R² below this (or NaN, a failed fit) counts as poorly fitted
FIT_LOW_R2_FRACTION_MAX = 0.10  #: more poorly fitted myocardial pixels than this flags the fit
ENTROPY_MAX = 0.25  #: mean normalised softmax entropy in the myocardium above this flags it


@dataclass(frozen=True)
class QcCheck:
    """One quality check: ``name``, ``flagged`` (True: suspect) and a one-line ``reason``."""

    name: str
    flagged: bool
    reason: str

    def to_dict(self) -> dict[str, bool | str]:
        """``{"flagged": ..., "reason": ...}``, JSON-ready."""
        return {"flagged": bool(self.flagged), "reason": self.reason}


def _stack(labels: np.ndarray) -> np.ndarray:
    """``(X, Y)`` or ``(X, Y, Z)`` labels as ``(X, Y, Z)``; ValueError otherwise."""
    arr = np.asarray(labels)
    if arr.ndim == 2:
        return arr[:, :, None]
    if arr.ndim != 3:
        raise ValueError(f"expected a label map (X, Y) or (X, Y, Z), got shape {arr.shape}")
    return arr


def check_classes_present(labels: np.ndarray, classes: Iterable[int] = FOREGROUND) -> QcCheck:
    """Flag a label map missing any of ``classes`` (default RV, myocardium and LV).

    Parameters
    ----------
    labels : np.ndarray
        Integer label map of any shape (cmrseg classes: 0 background, 1 RV, 2 MYO, 3 LV).
    classes : iterable of int
        The classes that must appear.

    Returns
    -------
    QcCheck
        ``classes_present``, naming the missing classes when flagged.
    """
    present = set(np.unique(np.asarray(labels)).tolist())
    missing = [LABEL_NAMES.get(int(c), str(c)) for c in classes if int(c) not in present]
    if missing:
        return QcCheck("classes_present", True, f"no {', '.join(missing)} in the label map")
    return QcCheck("classes_present", False, "every class present")


def check_lv_coverage(labels: np.ndarray, min_slices: int = MIN_LV_SLICES) -> QcCheck:
    """Flag a short-axis stack whose LV blood pool covers too few slices, or has a gap.

    Parameters
    ----------
    labels : np.ndarray
        ``(X, Y, Z)`` label map of one frame (slices along the last axis).
    min_slices : int
        Fewest slices that must hold LV blood pool, contiguously.

    Returns
    -------
    QcCheck
        ``lv_coverage``; flagged also when no slice holds LV blood pool.

    Raises
    ------
    ValueError
        When ``labels`` is not ``(X, Y)`` or ``(X, Y, Z)``.

    Notes
    -----
    A gap is a slice without LV blood pool between two slices with it: a missed slice in the
    middle of the ventricle, which the slice summation of volumes would silently skip.
    """
    lv = np.flatnonzero((_stack(labels) == Label.LV).any((0, 1)))
    if lv.size == 0:
        return QcCheck("lv_coverage", True, "no slice holds LV blood pool")
    gaps = sorted(set(range(lv[0], lv[-1] + 1)) - set(lv.tolist()))
    if gaps:
        return QcCheck("lv_coverage", True, f"LV on slices {lv[0]}-{lv[-1]} but not on {gaps} (a gap in the stack)")
    if lv.size < min_slices:
        return QcCheck("lv_coverage", True, f"LV on {lv.size} slice(s); a short-axis stack needs >= {min_slices}")
    return QcCheck("lv_coverage", False, f"LV on {lv.size} contiguous slices ({lv[0]}-{lv[-1]})")


def check_mid_slice(labels: np.ndarray) -> QcCheck:
    """Flag a stack whose mid-ventricular slice lacks the LV blood pool or the RV.

    The mid-ventricular slice is the middle one of the LV blood pool's slice extent of the
    ``(X, Y, Z)`` label map; both ventricles appear on it in any short-axis stack.

    Parameters
    ----------
    labels : np.ndarray
        ``(X, Y, Z)`` label map of one frame (or one ``(X, Y)`` slice).

    Returns
    -------
    QcCheck
        ``mid_slice_lv_rv``; flagged also when no slice holds LV blood pool.

    Raises
    ------
    ValueError
        When ``labels`` is not ``(X, Y)`` or ``(X, Y, Z)``.
    """
    arr = _stack(labels)
    lv = np.flatnonzero((arr == Label.LV).any((0, 1)))
    if lv.size == 0:
        return QcCheck("mid_slice_lv_rv", True, "no LV blood pool, so no mid-ventricular slice")
    z = int((lv[0] + lv[-1]) // 2)
    missing = [name for name, c in (("LV", Label.LV), ("RV", Label.RV)) if not (arr[:, :, z] == c).any()]
    if missing:
        return QcCheck("mid_slice_lv_rv", True, f"no {' or '.join(missing)} on the mid-ventricular slice {z}")
    return QcCheck("mid_slice_lv_rv", False, f"LV and RV on the mid-ventricular slice {z}")


def check_plausible(quantity: str, value: float, name: str | None = None) -> QcCheck:
    """Flag ``value`` outside the plausibility range of ``quantity`` (:data:`PLAUSIBLE_RANGES`).

    Parameters
    ----------
    quantity : str
        A key of :data:`PLAUSIBLE_RANGES`, e.g. ``"lv_ef_percent"``; its unit is the range's.
    value : float
        The value in that unit; NaN or infinite is flagged.
    name : str, optional
        The check's name (default ``quantity``).

    Returns
    -------
    QcCheck
        Named ``name`` (default ``quantity``); flagged when the value is outside the range or not finite.

    Raises
    ------
    ValueError
        When ``quantity`` is not a key of :data:`PLAUSIBLE_RANGES`.
    """
    if quantity not in PLAUSIBLE_RANGES:
        raise ValueError(f"unknown quantity {quantity!r}; valid: {sorted(PLAUSIBLE_RANGES)}")
    low, high, unit = PLAUSIBLE_RANGES[quantity]
    span = f"{low:g}-{high:g} {unit}"
    if not np.isfinite(value):
        return QcCheck(name or quantity, True, f"{quantity} is not a number")
    if not low <= value <= high:
        return QcCheck(name or quantity, True, f"{quantity} {value:.1f} {unit} is outside the plausible {span}")
    return QcCheck(name or quantity, False, f"{quantity} {value:.1f} {unit} within the plausible {span}")


def check_function(values: Mapping[str, float]) -> list[QcCheck]:
    """Plausibility of LV EF (%), EDV (mL) and mass (g) from ``values``.

    Parameters
    ----------
    values : mapping of str to float
        Keys as :class:`cmrseg.function.CardiacFunction` (``lv_ef_percent``, ``lv_edv_ml``,
        ``lv_mass_g``); the keys it lacks are not checked.

    Returns
    -------
    list of QcCheck
        One :func:`check_plausible` check per key present, named by the key.
    """
    return [check_plausible(k, float(values[k])) for k in ("lv_ef_percent", "lv_edv_ml", "lv_mass_g") if k in values]


def check_t1(value_ms: float, post_contrast: bool) -> QcCheck:
    """Plausibility of a myocardial T1 (ms): native 800-1500 ms, or post-contrast 200-700 ms.

    Parameters
    ----------
    value_ms : float
        Myocardial T1 in ms; NaN or infinite is flagged.
    post_contrast : bool
        Judge against the post-contrast range (``post_t1_ms``) rather than the native one (``native_t1_ms``).

    Returns
    -------
    QcCheck
        ``myo_t1_ms``.
    """
    return check_plausible("post_t1_ms" if post_contrast else "native_t1_ms", value_ms, "myo_t1_ms")


def check_fit_quality(r2: np.ndarray, mask: np.ndarray) -> QcCheck:
    """Flag a poor pixel-wise fit inside ``mask`` (e.g. the myocardium).

    Parameters
    ----------
    r2 : np.ndarray
        Coefficient of determination per pixel, any shape; NaN where the fit failed.
    mask : np.ndarray
        Boolean, same shape: the pixels judged.

    Returns
    -------
    QcCheck
        ``fit_quality``; flagged also when no pixel of ``mask`` has a finite R².

    Raises
    ------
    ValueError
        When ``r2`` and ``mask`` differ in shape.

    Notes
    -----
    Flagged when the mean R² (over finite values) is below :data:`FIT_MEAN_R2_MIN`, or more than
    :data:`FIT_LOW_R2_FRACTION_MAX` of the pixels have R² below :data:`FIT_LOW_R2` (failed fits
    count as below).
    """
    r2, mask = np.asarray(r2, float), np.asarray(mask, bool)
    if r2.shape != mask.shape:
        raise ValueError(f"R² map {r2.shape} and mask {mask.shape} must have one shape")
    inside = r2[mask]
    if inside.size == 0 or not np.isfinite(inside).any():
        return QcCheck("fit_quality", True, "no fitted pixel in the myocardium")
    mean, low = float(np.nanmean(inside)), float(np.mean(~(inside >= FIT_LOW_R2)))
    text = f"mean R² {mean:.3f}, {low:.0%} of {inside.size} pixels below {FIT_LOW_R2}"
    if mean < FIT_MEAN_R2_MIN or low > FIT_LOW_R2_FRACTION_MAX:
        limits = f"limits: mean >= {FIT_MEAN_R2_MIN}, <= {FIT_LOW_R2_FRACTION_MAX:.0%} below"
        return QcCheck("fit_quality", True, f"{text} ({limits})")
    return QcCheck("fit_quality", False, text)


def normalised_entropy(probabilities: np.ndarray) -> np.ndarray:
    """Softmax entropy per pixel divided by log C: ``(N, C, H, W)`` -> ``(N, H, W)`` in [0, 1].

    Parameters
    ----------
    probabilities : np.ndarray
        ``(N, C, H, W)`` class probabilities, ``C >= 2`` (clipped to [1e-12, 1]).

    Returns
    -------
    np.ndarray
        ``(N, H, W)`` float: 0 certain, 1 uniform over the C classes.

    Raises
    ------
    ValueError
        When ``probabilities`` is not ``(N, C, H, W)`` with ``C >= 2``.
    """
    p = np.asarray(probabilities, float)
    if p.ndim != 4 or p.shape[1] < 2:
        raise ValueError(f"expected probabilities (N, C, H, W) with C >= 2, got shape {p.shape}")
    p = np.clip(p, 1e-12, 1.0)
    return -(p * np.log(p)).sum(1) / np.log(p.shape[1])


def myocardial_entropy(probabilities: np.ndarray, labels: np.ndarray | None = None) -> float:
    """Mean :func:`normalised_entropy` over the predicted myocardium; NaN when there is none.

    Parameters
    ----------
    probabilities : np.ndarray
        ``(N, C, H, W)`` class probabilities, ``C >= 2``.
    labels : np.ndarray, optional
        ``(N, H, W)``: the final labels (default: the argmax of ``probabilities``).

    Returns
    -------
    float
        In [0, 1], or NaN.

    Raises
    ------
    ValueError
        When ``probabilities`` is not ``(N, C, H, W)`` with ``C >= 2``, or ``labels`` is not its ``(N, H, W)``.
    """
    h = normalised_entropy(probabilities)
    lab = np.asarray(probabilities).argmax(1) if labels is None else np.asarray(labels)
    if lab.shape != h.shape:
        raise ValueError(f"labels {lab.shape} must be (N, H, W) of the probabilities {h.shape}")
    myo = lab == Label.MYO
    return float(h[myo].mean()) if myo.any() else float("nan")


def check_uncertainty(
    probabilities: np.ndarray, labels: np.ndarray | None = None, threshold: float = ENTROPY_MAX
) -> QcCheck:
    """Flag a segmentation the model itself is unsure of, or one without myocardium.

    Flagged when :func:`myocardial_entropy` is above ``threshold`` or no myocardium is predicted.

    Parameters
    ----------
    probabilities : np.ndarray
        ``(N, C, H, W)`` class probabilities, ``C >= 2``.
    labels : np.ndarray, optional
        ``(N, H, W)``: the final labels (default: the argmax of ``probabilities``).
    threshold : float
        Highest mean normalised entropy (0-1) not flagged; module notes for the default.

    Returns
    -------
    QcCheck
        ``uncertainty``.

    Raises
    ------
    ValueError
        When ``probabilities`` is not ``(N, C, H, W)`` with ``C >= 2``, or ``labels`` is not its ``(N, H, W)``.
    """
    h = myocardial_entropy(probabilities, labels)
    if not np.isfinite(h):
        return QcCheck("uncertainty", True, "no myocardium predicted to judge the model's certainty")
    text = f"mean normalised entropy in the myocardium {h:.3f}"
    if h > threshold:
        return QcCheck("uncertainty", True, f"{text} > {threshold:g}: the model is unsure")
    return QcCheck("uncertainty", False, f"{text} <= {threshold:g}")


def qc_table(checks: Iterable[QcCheck]) -> dict[str, dict[str, bool | str]]:
    """``{name: {"flagged": bool, "reason": str}}`` of ``checks`` (a later check of a name wins).

    Parameters
    ----------
    checks : iterable of QcCheck
        The checks of one study.

    Returns
    -------
    dict of str to dict
        JSON-ready, keyed by check name.
    """
    return {c.name: c.to_dict() for c in checks}


def flagged_names(checks: Iterable[QcCheck]) -> list[str]:
    """Names of the flagged checks, in order.

    Parameters
    ----------
    checks : iterable of QcCheck
        The checks of one study.

    Returns
    -------
    list of str
        The names of the checks whose ``flagged`` is True.
    """
    return [c.name for c in checks if c.flagged]
