"""Masks of a label map: the nested heart regions, signed distances, stacks of slices.

Pure numerics on arrays; label values are ACDC's (:class:`cmrseg.labels.Label`).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from cmrseg.labels import Label

__all__ = ["signed_distance", "regions", "labels_from_regions", "as_stack", "midwall_mask", "check_midwall_offset"]


def as_stack(array: np.ndarray) -> np.ndarray:
    """A 2D ``(X, Y)`` slice as a one-slice stack ``(X, Y, 1)``; arrays of 3 or more dimensions unchanged.

    Parameters
    ----------
    array : numpy.ndarray
        ``(X, Y)``, ``(X, Y, Z)`` or ``(X, Y, Z, T)``.

    Returns
    -------
    numpy.ndarray
        A view with at least 3 dimensions.
    """
    return array[:, :, None] if array.ndim == 2 else array


def signed_distance(mask: np.ndarray) -> np.ndarray:
    """Signed Euclidean distance in pixels: negative inside ``mask``, positive outside.

    An empty mask is "far away everywhere" (the image diagonal), a full one the reverse.

    Parameters
    ----------
    mask : numpy.ndarray
        2D ``(H, W)`` mask (cast to bool).

    Returns
    -------
    numpy.ndarray
        float32 distances of the mask's shape; boundary pixels sit at -0.5 (inside) and +0.5 (outside),
        so the zero level lies between them.
    """
    mask = mask.astype(bool)
    far = float(np.hypot(*mask.shape))
    if not mask.any():
        return np.full(mask.shape, far, np.float32)
    if mask.all():
        return np.full(mask.shape, -far, np.float32)
    inside = ndimage.distance_transform_edt(mask)
    outside = ndimage.distance_transform_edt(~mask)
    # boundary pixels sit at -0.5 (inside) and +0.5 (outside), so the zero level is between them
    return np.where(mask, 0.5 - inside, outside - 0.5).astype(np.float32)


def regions(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The nested regions of a label map: ``(LV cavity, LV cavity + myocardium, RV)`` as bool arrays.

    Parameters
    ----------
    labels : numpy.ndarray
        Label map of any shape.

    Returns
    -------
    tuple of (numpy.ndarray, numpy.ndarray, numpy.ndarray)
        The endocardium, epicardium and RV masks, each of the shape of ``labels``.
    """
    endo = labels == Label.LV
    return endo, endo | (labels == Label.MYO), labels == Label.RV


def labels_from_regions(endo: np.ndarray, epi: np.ndarray, rv: np.ndarray) -> np.ndarray:
    """Inverse of :func:`regions`: ACDC labels (the LV wins over myocardium, the epicardium over the RV).

    Parameters
    ----------
    endo, epi, rv : numpy.ndarray
        Boolean masks of one shape: LV cavity, LV cavity + myocardium, RV. The LV is labelled only
        where ``endo`` lies inside ``epi``.

    Returns
    -------
    numpy.ndarray
        uint8 label map of that shape.
    """
    out = np.zeros(endo.shape, np.uint8)
    out[rv & ~epi] = Label.RV
    out[epi] = Label.MYO
    out[endo & epi] = Label.LV
    return out


def check_midwall_offset(offset: float) -> float:
    """``offset`` as a float, checked to be a fraction of the wall thickness in [0, 0.5).

    Parameters
    ----------
    offset : float
        Fraction of the wall left out on each side (0: the whole myocardium).

    Returns
    -------
    float
        ``offset``.

    Raises
    ------
    ValueError
        When ``offset`` is not finite or not in [0, 0.5).
    """
    if not np.isfinite(offset) or not 0.0 <= offset < 0.5:
        raise ValueError(f"the mid-wall offset is a fraction of the wall thickness in [0, 0.5), got {offset}")
    return float(offset)


def midwall_mask(labels: np.ndarray, offset: float = 0.25, min_pixels: int = 5) -> np.ndarray:
    """The myocardium without its borders: the conservative region for map values.

    Partial volume with the blood pool (T1 1500-2000 ms native at 1.5-3 T) and epicardial fat biases
    map values in the pixels on the myocardium's borders, so T1 / T2 / ECV are read in a region drawn
    inside the wall (the SCMR / EACVI mapping consensus, Messroghli et al., JCMR 2017: conservative
    regions away from the blood pool and the epicardium). Per slice, a myocardial pixel's relative
    depth is ``d_endo / (d_endo + d_epi)``, its distances (pixels) to the nearest LV blood pool
    pixel and to the nearest pixel outside the LV (background or RV); the pixels with depth strictly
    between ``offset`` and ``1 - offset`` are kept: 0.25 keeps the middle half of the wall, whatever
    its thickness.

    Parameters
    ----------
    labels : numpy.ndarray
        ``(X, Y)`` slice or ``(X, Y, Z, ...)`` stack of ACDC labels (in-plane pixels taken as square).
    offset : float
        Fraction of the wall thickness left out on each side, in [0, 0.5); 0: the whole myocardium.
    min_pixels : int
        A slice where fewer pixels remain (a thin or broken wall) keeps its whole myocardium; so does
        a slice without a blood pool (the apical cap), eroded by 1 pixel where that leaves enough.

    Returns
    -------
    numpy.ndarray
        bool mask of the shape of ``labels``, inside the myocardium.

    Raises
    ------
    ValueError
        When ``offset`` is not in [0, 0.5).
    """
    check_midwall_offset(offset)
    lab = as_stack(np.asarray(labels))
    out = lab == Label.MYO
    if offset == 0.0:
        return out.reshape(np.shape(labels))
    for index in np.ndindex(*lab.shape[2:]):
        at = (slice(None), slice(None), *index)
        myo, lv = out[at], lab[at] == Label.LV
        if myo.sum() < min_pixels:
            continue
        if lv.any():
            d_endo = ndimage.distance_transform_edt(~lv)
            d_epi = ndimage.distance_transform_edt(myo | lv)
            depth = d_endo / np.maximum(d_endo + d_epi, 1e-6)
            keep = myo & (depth > offset) & (depth < 1.0 - offset)
        else:
            keep = ndimage.binary_erosion(myo)
        out[at] = keep if keep.sum() >= min_pixels else myo
    return out.reshape(np.shape(labels))
