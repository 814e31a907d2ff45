"""Overlap and surface-distance metrics on label maps, distances in mm.

Pure functions on arrays; ``spacing`` is the voxel size in mm of the arrays' axes.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

__all__ = ["dice", "iou", "surface_distances", "hausdorff_mm", "mean_surface_distance_mm"]


def dice(pred: np.ndarray, ref: np.ndarray) -> float:
    """Dice of two boolean masks; 1.0 when both are empty (nothing to find, nothing found).

    Parameters
    ----------
    pred, ref : numpy.ndarray
        Masks of one shape (cast to bool).

    Returns
    -------
    float
        The Dice coefficient in [0, 1].
    """
    pred, ref = np.asarray(pred, bool), np.asarray(ref, bool)
    total = pred.sum() + ref.sum()
    return 1.0 if total == 0 else float(2 * np.logical_and(pred, ref).sum() / total)


def iou(pred: np.ndarray, ref: np.ndarray) -> float:
    """Intersection over union of two boolean masks; 1.0 when both are empty.

    Parameters
    ----------
    pred, ref : numpy.ndarray
        Masks of one shape (cast to bool).

    Returns
    -------
    float
        The IoU in [0, 1].
    """
    pred, ref = np.asarray(pred, bool), np.asarray(ref, bool)
    union = np.logical_or(pred, ref).sum()
    return 1.0 if union == 0 else float(np.logical_and(pred, ref).sum() / union)


def _surface(mask: np.ndarray) -> np.ndarray:
    return mask & ~ndimage.binary_erosion(mask, border_value=0)


def surface_distances(pred: np.ndarray, ref: np.ndarray, spacing: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Distances (mm) from each surface voxel of ``pred`` to ``ref``'s surface, and back.

    Parameters
    ----------
    pred, ref : numpy.ndarray
        Non-empty masks of one shape (cast to bool).
    spacing : tuple of float
        Voxel size in mm along each axis of the masks.

    Returns
    -------
    tuple of (numpy.ndarray, numpy.ndarray)
        Distances in mm from the surface voxels of ``pred`` to the surface of ``ref``, and from those of
        ``ref`` to the surface of ``pred``.

    Raises
    ------
    ValueError
        When either mask is empty.
    """
    pred, ref = np.asarray(pred, bool), np.asarray(ref, bool)
    if not pred.any() or not ref.any():
        raise ValueError("surface distances need two non-empty masks")
    sp, sr = _surface(pred), _surface(ref)
    to_ref = ndimage.distance_transform_edt(~sr, sampling=spacing)
    to_pred = ndimage.distance_transform_edt(~sp, sampling=spacing)
    return to_ref[sp], to_pred[sr]


def hausdorff_mm(pred: np.ndarray, ref: np.ndarray, spacing: tuple[float, ...], percentile: float = 100.0) -> float:
    """Symmetric Hausdorff distance in mm (``percentile`` < 100 gives e.g. HD95); NaN if a mask is empty.

    Parameters
    ----------
    pred, ref : numpy.ndarray
        Masks of one shape.
    spacing : tuple of float
        Voxel size in mm along each axis of the masks.
    percentile : float
        Percentile (0-100) of each direction's surface distances; the larger of the two is returned.

    Returns
    -------
    float
        The distance in mm.
    """
    if not np.any(pred) or not np.any(ref):
        return float("nan")
    a, b = surface_distances(pred, ref, spacing)
    return float(max(np.percentile(a, percentile), np.percentile(b, percentile)))


def mean_surface_distance_mm(pred: np.ndarray, ref: np.ndarray, spacing: tuple[float, ...]) -> float:
    """Symmetric mean surface distance in mm; NaN if a mask is empty.

    Parameters
    ----------
    pred, ref : numpy.ndarray
        Masks of one shape.
    spacing : tuple of float
        Voxel size in mm along each axis of the masks.

    Returns
    -------
    float
        The mean of the surface distances of both directions together, in mm.
    """
    if not np.any(pred) or not np.any(ref):
        return float("nan")
    a, b = surface_distances(pred, ref, spacing)
    return float((a.sum() + b.sum()) / (len(a) + len(b)))
