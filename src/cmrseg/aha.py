"""AHA 16-segment model from short-axis labels.

The septum is located from where the RV touches the LV myocardium: the RV insertion points are
the two ends of that contact arc, and the septal midpoint is halfway between them along the arc.
Basal and mid slices get 6 segments of 60 degrees (1-6, 7-12: anterior, anteroseptal,
inferoseptal, inferior, inferolateral, anterolateral), apical slices 4 of 90 degrees (13-16:
anterior, septal, inferior, lateral). Segment numbers run counter-clockwise on the image as
displayed with rows downward (``direction=+1``, the convention of the T1NET masks); pass
``direction=-1`` for images stored mirrored.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from cmrseg.labels import Label

__all__ = [
    "septum_angle",
    "rv_insertion_points",
    "aha_segments",
    "aha_stack",
    "segment_values",
    "SegmentValue",
    "myocardial_values",
]

_FIRST = {"basal": 1, "mid": 7, "apical": 13}


def _angles(points: np.ndarray, centre: np.ndarray) -> np.ndarray:
    d = points - centre
    return np.arctan2(d[:, 0], d[:, 1])


def _centre(labels: np.ndarray) -> np.ndarray:
    return np.argwhere((labels == Label.LV) | (labels == Label.MYO)).mean(0)


def rv_insertion_points(labels: np.ndarray, contact_px: int = 2) -> tuple[np.ndarray, np.ndarray] | None:
    """The two ``(i, j)`` ends of the myocardium's contact arc with the RV, or None if they do not touch."""
    myo, rv = labels == Label.MYO, labels == Label.RV
    if not myo.any() or not rv.any():
        return None
    contact = myo & ndimage.binary_dilation(rv, iterations=contact_px)
    pts = np.argwhere(contact)
    if len(pts) < 2:
        return None
    ang = _angles(pts, _centre(labels))
    order = np.argsort(ang)
    a = ang[order]
    gaps = np.diff(np.concatenate([a, a[:1] + 2 * np.pi]))
    g = int(np.argmax(gaps))  # the largest gap is the free wall; the arc's ends border it
    return pts[order[(g + 1) % len(a)]], pts[order[g]]


def septum_angle(labels: np.ndarray, contact_px: int = 2) -> float | None:
    """Angle (radians, ``atan2(di, dj)`` about the LV centre) of the septal midpoint, or None without RV contact.

    RV and myocardium count as touching within ``contact_px`` pixels (raise it for conservative rings).
    """
    ends = rv_insertion_points(labels, contact_px)
    if ends is None:
        return None
    centre = _centre(labels)
    start, end = _angles(np.stack(ends), centre)
    span = (end - start) % (2 * np.pi)  # the contact arc, forward from its start to its end
    return float((start + span / 2 + np.pi) % (2 * np.pi) - np.pi)


def aha_segments(
    labels: np.ndarray, level: str, direction: int = 1, septum: float | None = None, contact_px: int = 2
) -> np.ndarray:
    """AHA segment number of every myocardial pixel of one 2D slice (0 elsewhere, or where no RV contact)."""
    if level not in _FIRST:
        raise ValueError(f"level must be one of {list(_FIRST)}, got {level!r}")
    out = np.zeros(labels.shape, np.uint8)
    phi = septum if septum is not None else septum_angle(labels, contact_px)
    myo = labels == Label.MYO
    if phi is None or not myo.any():
        return out
    pts = np.argwhere(myo)
    ang = _angles(pts, _centre(labels))
    n = 4 if level == "apical" else 6
    width = 2 * np.pi / n
    # segment s (0-based) is centred at phi + direction * (pi/2 - s * width)
    rel = (direction * (ang - phi) - np.pi / 2) % (2 * np.pi)  # 0 at the centre of the first segment
    s = (np.round(-rel / width) % n).astype(int)
    out[pts[:, 0], pts[:, 1]] = _FIRST[level] + s
    return out


def aha_stack(labels: np.ndarray, levels: list[str] | None = None, direction: int = 1) -> np.ndarray:
    """AHA segments for every slice of an ``(X, Y, Z)`` stack; levels from :func:`cmrseg.evaluate.slice_levels`."""
    if labels.ndim != 3:
        raise ValueError(f"expected an (X, Y, Z) stack, got {labels.shape}")
    if levels is None:
        from cmrseg.evaluate import slice_levels

        levels = slice_levels(labels)
    out = np.zeros(labels.shape, np.uint8)
    for z, level in enumerate(levels):
        if level in _FIRST:
            out[:, :, z] = aha_segments(labels[:, :, z], level, direction)
    return out


@dataclass(frozen=True)
class SegmentValue:
    median: float
    q1: float
    q3: float
    n: int


def _summary(v: np.ndarray) -> SegmentValue:
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return SegmentValue(float("nan"), float("nan"), float("nan"), 0)
    q1, med, q3 = np.percentile(v, [25, 50, 75])
    return SegmentValue(float(med), float(q1), float(q3), int(len(v)))


def segment_values(value_map: np.ndarray, segments: np.ndarray) -> dict[int, SegmentValue]:
    """Median and IQR of a map (e.g. T1 in ms) in each AHA segment present."""
    if value_map.shape != segments.shape:
        raise ValueError(f"map {value_map.shape} and segments {segments.shape} differ in shape")
    return {int(s): _summary(value_map[segments == s]) for s in np.unique(segments) if s > 0}


def myocardial_values(value_map: np.ndarray, labels: np.ndarray, erode_px: int = 0) -> SegmentValue:
    """Median and IQR of a map in the myocardium of one slice, optionally eroded by ``erode_px`` pixels
    to avoid partial volume with blood."""
    myo = labels == Label.MYO
    if erode_px > 0:
        myo = ndimage.binary_erosion(myo, iterations=erode_px)
    return _summary(value_map[myo])
