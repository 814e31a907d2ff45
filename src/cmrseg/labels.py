"""The one label convention of cmrseg (ACDC): 0 background, 1 RV, 2 myocardium, 3 LV."""

from __future__ import annotations

from enum import IntEnum

import numpy as np

__all__ = [
    "Label",
    "LABEL_NAMES",
    "LABEL_COLOURS",
    "FOREGROUND",
    "unknown_label_values",
    "is_label_map",
    "enclosure",
    "check_label_convention",
]


class Label(IntEnum):
    """Class indices of a cmrseg label map (ACDC convention)."""

    BACKGROUND = 0
    RV = 1
    MYO = 2
    LV = 3


LABEL_NAMES: dict[int, str] = {
    Label.BACKGROUND: "background",
    Label.RV: "RV",
    Label.MYO: "MYO",
    Label.LV: "LV",
}

FOREGROUND: tuple[Label, ...] = (Label.RV, Label.MYO, Label.LV)

#: RGB colours in [0, 1] for overlays.
LABEL_COLOURS: dict[int, tuple[float, float, float]] = {
    Label.BACKGROUND: (0.0, 0.0, 0.0),
    Label.RV: (0.15, 0.45, 1.0),
    Label.MYO: (0.1, 0.85, 0.2),
    Label.LV: (1.0, 0.25, 0.2),
}


def unknown_label_values(array: np.ndarray) -> list[int]:
    """The values of ``array`` that are not cmrseg classes (0 background, 1 RV, 2 MYO, 3 LV), sorted.

    Parameters
    ----------
    array : numpy.ndarray
        A label map of any shape.

    Returns
    -------
    list of int
        Empty for a valid cmrseg label map.
    """
    return sorted(set(np.unique(np.asarray(array)).tolist()) - {int(v) for v in Label})


def is_label_map(array: np.ndarray) -> bool:
    """Whether ``array`` holds only cmrseg label values (so it is a label map, not an image).

    Parameters
    ----------
    array : numpy.ndarray
        Any shape.

    Returns
    -------
    bool
        True when every value is 0, 1, 2 or 3.
    """
    return not unknown_label_values(array)


#: below this fraction of myocardium around it, label 3 is not an LV cavity
_ENCLOSED = 0.5


def enclosure(labels: np.ndarray, value: int) -> float:
    """Fraction of the pixels bordering ``value`` (in-plane 4-neighbours) that are myocardium.

    Counted only on the 2D planes holding both ``value`` and myocardium. An LV cavity in the cmrseg
    convention scores near 1 (0.98-1.0 on the 160 ACDC reference volumes), an RV under 0.5 (0.43 at
    most there).

    Parameters
    ----------
    labels : numpy.ndarray
        ``(X, Y[, ...])`` label map.
    value : int
        The label whose border is examined.

    Returns
    -------
    float
        The fraction in [0, 1]; NaN when no plane holds both ``value`` and myocardium.

    Raises
    ------
    ValueError
        When ``labels`` has fewer than 2 dimensions.
    """
    arr = np.asarray(labels)
    if arr.ndim < 2:
        raise ValueError(f"a label map has 2 or more dimensions, got shape {arr.shape}")
    planes = arr.reshape(arr.shape[0], arr.shape[1], -1)
    inside, myo = planes == value, planes == Label.MYO
    both = inside.any((0, 1)) & myo.any((0, 1))
    if not both.any():
        return float("nan")
    inside, myo = inside[:, :, both], myo[:, :, both]
    near = np.zeros_like(inside)
    near[1:] |= inside[:-1]
    near[:-1] |= inside[1:]
    near[:, 1:] |= inside[:, :-1]
    near[:, :-1] |= inside[:, 1:]
    ring = near & ~inside
    return float(myo[ring].mean()) if ring.any() else float("nan")


def check_label_convention(labels: np.ndarray) -> str | None:
    """A one-line warning when ``labels`` look like another label convention, else None.

    In the cmrseg (ACDC) convention the myocardium (2) encloses the LV cavity (3). When it does
    not (:func:`enclosure` under 0.5), the map most likely uses another order, e.g. raw M&Ms
    (1 LV, 2 MYO, 3 RV), whose LV and RV would be swapped in every volume and function figure.
    Maps without myocardium, or without label 3 next to it, cannot tell and give None.

    Parameters
    ----------
    labels : numpy.ndarray
        ``(X, Y[, ...])`` label map.

    Returns
    -------
    str or None
        The warning, naming the conversion to apply; None when the map is in the cmrseg convention or
        cannot tell.

    Raises
    ------
    ValueError
        When ``labels`` has fewer than 2 dimensions.
    """
    lv = enclosure(labels, Label.LV)
    if not lv < _ENCLOSED:  # NaN (cannot tell) or enclosed
        return None
    rv = enclosure(labels, Label.RV)
    hint = f", label 1 (RV) on {rv:.0%}" if rv >= _ENCLOSED else ""
    return (
        f"label 3 (LV) has myocardium (2) on only {lv:.0%} of its border{hint}: the map looks like another "
        "label convention (e.g. raw M&Ms: 1 LV, 2 MYO, 3 RV); convert it (cmrseg convert mnms2) or relabel it "
        "to 0 background, 1 RV, 2 MYO, 3 LV"
    )
