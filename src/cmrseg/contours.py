"""Mask -> smooth endo/epicardial contours, as in the mapping-segmentation paper, and back.

Pipeline per slice: OpenCV contours with Teh-Chin dominant points (``CHAIN_APPROX_TC89_L1``);
among several candidates keep those whose bounding box is within 1:3, then the largest; an
endocardial contour that is C-shaped (its area falls short of its convex hull's by more than
``hull_tolerance``) is replaced by its hull; a periodic B-spline (scipy ``splprep``) gives a
dense smooth closed curve. Points are ``(i, j)`` array indices of the ``(X, Y)`` slice (row,
column of the 2D array); :func:`to_patient_mm` maps them to scanner coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.interpolate import splev, splprep

from cmrseg.labels import Label

__all__ = [
    "ContourSteps",
    "densify",
    "mask_contour",
    "slice_contours",
    "contour_to_mask",
    "to_patient_mm",
    "contours_to_labels",
]


@dataclass(frozen=True)
class ContourSteps:
    """Which post-processing steps to apply (the paper's Table 8 ablation switches them on in turn)."""

    dominant_points: bool = True
    aspect_filter: bool = True
    convex_hull: bool = True
    spline: bool = True
    max_aspect: float = 3.0
    hull_tolerance: float = 0.1
    spline_points: int = 200
    smoothing: float = 0.5  # spline smoothing per point, in pixels^2


def _candidates(mask: np.ndarray, steps: ContourSteps) -> list[np.ndarray]:
    method = cv2.CHAIN_APPROX_TC89_L1 if steps.dominant_points else cv2.CHAIN_APPROX_NONE
    found, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, method)
    return [c[:, 0, :].astype(float) for c in found if len(c) >= 3]


def _aspect_ok(c: np.ndarray, max_aspect: float) -> bool:
    w, h = np.ptp(c[:, 0]) + 1, np.ptp(c[:, 1]) + 1
    return max(w, h) / min(w, h) <= max_aspect


def _area(c: np.ndarray) -> float:
    return float(cv2.contourArea(c.astype(np.float32)))


def _spline(c: np.ndarray, steps: ContourSteps) -> np.ndarray:
    if len(c) < 4:
        return c
    closed = np.vstack([c, c[:1]])
    try:
        tck, _ = splprep([closed[:, 0], closed[:, 1]], s=steps.smoothing * len(c), per=True, k=3)
    except (ValueError, TypeError):
        return c
    x, y = splev(np.linspace(0, 1, steps.spline_points, endpoint=False), tck)
    return np.stack([x, y], 1)


def mask_contour(mask: np.ndarray, steps: ContourSteps = ContourSteps(), hull: bool = False) -> np.ndarray | None:
    """The contour ``(N, 2)`` of a 2D boolean mask in ``(i, j)`` indices, or None if empty.

    Parameters
    ----------
    mask : numpy.ndarray
        ``(X, Y)`` mask of one slice (cast to bool).
    steps : ContourSteps
        The post-processing steps to apply (default: all of them).
    hull : bool
        Allow the C-shape -> convex hull replacement (used for the endocardium; only with
        ``steps.convex_hull``).

    Returns
    -------
    numpy.ndarray or None
        ``(N, 2)`` float ``(i, j)`` points of the closed contour of the largest candidate
        (``steps.spline_points`` points once the spline is fitted); None when the mask has no contour
        of 3 or more points.
    """
    cands = _candidates(np.asarray(mask, bool), steps)
    if steps.aspect_filter:
        cands = [c for c in cands if _aspect_ok(c, steps.max_aspect)] or cands
    if not cands:
        return None
    c = max(cands, key=_area)
    if hull and steps.convex_hull:
        h = cv2.convexHull(c.astype(np.float32))[:, 0, :].astype(float)
        if _area(h) > 0 and (_area(h) - _area(c)) / _area(h) > steps.hull_tolerance:
            c = h
    if steps.spline:
        c = _spline(c, steps)
    return c[:, ::-1].copy()  # OpenCV (x=column, y=row) -> (i=row, j=column)


def slice_contours(labels: np.ndarray, steps: ContourSteps = ContourSteps()) -> dict[str, np.ndarray | None]:
    """``{"endo": LV cavity contour, "epi": LV cavity + myocardium contour}`` of one 2D slice.

    Parameters
    ----------
    labels : numpy.ndarray
        ``(X, Y)`` label map of one slice.
    steps : ContourSteps
        The post-processing steps to apply (default: all of them); the endocardium may be replaced by
        its convex hull.

    Returns
    -------
    dict of str to numpy.ndarray or None
        ``(N, 2)`` ``(i, j)`` contours from :func:`mask_contour`; None where the region is empty.

    Raises
    ------
    ValueError
        When ``labels`` is not 2D.
    """
    if labels.ndim != 2:
        raise ValueError(f"contours need one 2D slice, got shape {labels.shape}")
    endo = mask_contour(labels == Label.LV, steps, hull=True)
    epi = mask_contour((labels == Label.LV) | (labels == Label.MYO), steps)
    return {"endo": endo, "epi": epi}


def densify(points: np.ndarray, step: float = 0.25) -> np.ndarray:
    """Points along a closed polygon's edges at most ``step`` apart.

    For distances to the curve rather than to its vertices (dominant-point contours keep few vertices).

    Parameters
    ----------
    points : numpy.ndarray
        ``(N, 2)`` vertices of the closed polygon, e.g. ``(i, j)`` contour points; the last joins the first.
    step : float
        Largest distance between consecutive points, in the unit of ``points`` (pixels for contours).

    Returns
    -------
    numpy.ndarray
        ``(M, 2)`` float points: each vertex followed by the points inserted along its edge to the next.
    """
    pts = np.asarray(points, float)
    closed = np.vstack([pts, pts[:1]])
    out = []
    for a, b in zip(closed[:-1], closed[1:], strict=True):
        n = max(int(np.ceil(np.hypot(*(b - a)) / step)), 1)
        out.append(a + (b - a) * np.arange(n)[:, None] / n)
    return np.vstack(out)


def contour_to_mask(points_ij: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Fill a closed ``(i, j)`` contour on a 2D grid of ``shape``; points outside are an error.

    Parameters
    ----------
    points_ij : numpy.ndarray
        ``(N, 2)`` ``(i, j)`` points of the closed contour, ``N >= 3``.
    shape : tuple of int
        ``(X, Y)`` of the grid.

    Returns
    -------
    numpy.ndarray
        Boolean mask of ``shape``: the pixels whose area the polygon touches, boundary included (the
        contours run through the centres of border pixels), to 4 bits of sub-pixel precision.

    Raises
    ------
    ValueError
        When ``points_ij`` is not ``(N, 2)`` with ``N >= 3``, or a point lies outside the grid (more than
        half a pixel beyond the centres of its edge pixels).
    """
    pts = np.asarray(points_ij, float)
    if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) < 3:
        raise ValueError(f"a contour needs >= 3 (i, j) points, got shape {pts.shape}")
    if pts.min() < -0.5 or np.any(pts.max(0) > np.asarray(shape) - 0.5):
        raise ValueError(f"contour points fall outside the {shape} image")
    # pixels whose area the polygon touches, boundary included (contours run through the
    # centres of border pixels); 4 bits of sub-pixel precision
    canvas = np.zeros(shape, np.uint8)
    xy = np.round(pts[:, ::-1] * 16).astype(np.int32)
    cv2.fillPoly(canvas, [xy], 1, lineType=cv2.LINE_8, shift=4)
    return canvas.astype(bool)


def to_patient_mm(points_ij: np.ndarray, affine: np.ndarray, slice_index: int) -> np.ndarray:
    """``(N, 3)`` scanner coordinates (mm) of ``(i, j)`` contour points on slice ``slice_index``.

    Parameters
    ----------
    points_ij : numpy.ndarray
        ``(N, 2)`` ``(i, j)`` contour points.
    affine : numpy.ndarray
        4x4 voxel -> patient (mm) matrix of the stack, as NIfTI stores it.
    slice_index : int
        The slice ``k`` the points lie on.

    Returns
    -------
    numpy.ndarray
        ``(N, 3)`` coordinates in mm, in the frame of ``affine``.
    """
    n = len(points_ij)
    vox = np.column_stack([points_ij, np.full(n, slice_index), np.ones(n)])
    return (affine @ vox.T).T[:, :3]


def contours_to_labels(contours: dict[int, dict[str, np.ndarray | None]], shape: tuple[int, int, int]) -> np.ndarray:
    """``(X, Y, Z)`` uint8 labels from per-slice ``(i, j)`` endocardial and epicardial contours.

    Inside the epicardium MYO, inside the endocardium LV (an endocardium without epicardium gives LV
    only). Slices missing from ``contours`` stay background.

    Parameters
    ----------
    contours : dict of int to dict
        Slice index -> ``{"endo": (N, 2), "epi": (M, 2)}`` ``(i, j)`` contours; a missing or None
        contour is left out.
    shape : tuple of int
        ``(X, Y, Z)`` of the label map.

    Returns
    -------
    numpy.ndarray
        ``(X, Y, Z)`` uint8 label map (0 background, 2 MYO, 3 LV).

    Raises
    ------
    ValueError
        When ``shape`` is not ``(X, Y, Z)``, a slice index lies outside the grid, or a contour has fewer
        than 3 points or points outside the grid.
    """
    if len(shape) != 3:
        raise ValueError(f"shape must be (X, Y, Z), got {shape}")
    out = np.zeros(shape, np.uint8)
    for z, cs in contours.items():
        if not 0 <= z < shape[2]:
            raise ValueError(f"contours on slice {z}, but the grid has {shape[2]} slices")
        for name, value in (("epi", Label.MYO), ("endo", Label.LV)):
            pts = cs.get(name)
            if pts is not None:
                out[:, :, z][contour_to_mask(pts, shape[:2])] = value
    return out
