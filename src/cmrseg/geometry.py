"""Geometry of a short-axis stack: which way the apex lies and each slice's level.

Pure numerics on arrays (an affine, a label map); no file I/O.
"""

from __future__ import annotations

import numpy as np

from cmrseg.labels import Label

__all__ = ["LEVELS", "apex_side", "slice_levels"]

#: the slice levels of the 17-segment model, base to apex
LEVELS: tuple[str, ...] = ("basal", "mid", "apical")


def apex_side(affine: np.ndarray | None) -> int | None:
    """Which way the apex lies along the slice index of a short-axis stack: +1, -1 or None.

    +1 when the slice index grows towards the apex, -1 towards the base, None when the geometry
    cannot tell.

    The apex lies inferior to the base, so the sign of the slice normal's superior component
    decides. That component is the same in RAS and LPS, so files that mix up the two (common in
    converted NIfTI) still read right. Axis-aligned affines (synthetic, e.g. identity) and slice
    normals within ~12 degrees of horizontal give None.

    Parameters
    ----------
    affine : numpy.ndarray or None
        4x4 voxel -> patient (mm) matrix of the stack; its third column is the slice direction.

    Returns
    -------
    int or None
        +1, -1, or None (also without an affine, or with a zero or non-finite slice direction).
    """
    if affine is None:
        return None
    n = np.asarray(affine, float)[:3, 2]
    if not np.all(np.isfinite(n)) or np.linalg.norm(n) == 0:
        return None
    n = n / np.linalg.norm(n)
    if np.abs(n).max() > 0.95 or abs(n[2]) < 0.2:
        return None
    return 1 if n[2] < 0 else -1


def slice_levels(reference: np.ndarray, apex: int | None = None) -> list[str]:
    """Basal / mid / apical per slice of an ``(X, Y, Z)`` label map, thirds of its LV extent.

    Parameters
    ----------
    reference : numpy.ndarray
        ``(X, Y, Z)`` label map; its LV extent is the slices holding LV cavity or myocardium.
    apex : int, optional
        +1 when the slice index grows towards the apex, -1 towards the base
        (:func:`apex_side` of the file's affine). Without it the base is the end of the LV extent
        whose two slices hold more labelled heart (LV, myocardium and RV): right on all 160 ACDC
        reference volumes, which run base first.

    Returns
    -------
    list of str
        One of ``basal``, ``mid``, ``apical`` per slice, ``outside`` beyond the LV extent (every slice
        when there is no LV).
    """
    lv = ((reference == Label.LV) | (reference == Label.MYO)).sum((0, 1))
    levels = ["outside"] * reference.shape[2]
    idx = np.flatnonzero(lv)
    if len(idx) == 0:
        return levels
    first, last = idx[0], idx[-1]
    if apex is None:
        heart = (reference > 0).sum((0, 1))
        base_first = heart[first : first + 2].mean() >= heart[max(last - 1, first) : last + 1].mean()
    else:
        base_first = apex > 0
    n = last - first + 1
    for z in range(first, last + 1):
        from_base = z - first if base_first else last - z
        levels[z] = LEVELS[min(int(3 * from_base / n), 2)]
    return levels
