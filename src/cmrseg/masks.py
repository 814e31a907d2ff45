"""Masks of a label map: the nested heart regions, signed distances, stacks of slices.

Pure numerics on arrays; label values are ACDC's (:class:`cmrseg.labels.Label`).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from cmrseg.labels import Label

__all__ = ["signed_distance", "regions", "labels_from_regions", "as_stack"]


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
