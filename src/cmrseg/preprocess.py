"""Intensity normalisation, aspect-preserving resize + pad to the network size, and its inverse.

All functions work on single 2D slices ``(H, W)``; callers loop or batch over slices.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

__all__ = [
    "normalise_intensity",
    "invert_intensity",
    "SquareFit",
    "fit_square",
    "fit_square_labels",
    "restore_probabilities",
]


def normalise_intensity(image: np.ndarray, lower_percentile: float = 1.0, upper_percentile: float = 99.0) -> np.ndarray:
    """Clip to the given percentiles and rescale to [0, 1].

    Parameters
    ----------
    image : np.ndarray
        Any-shape array of intensities (scanner units).
    lower_percentile, upper_percentile : float
        Percentiles (0-100) mapped to 0 and 1.

    Returns
    -------
    np.ndarray
        float32 array of the same shape with values in [0, 1].

    Raises
    ------
    ValueError
        If the image holds NaN/inf, is empty, or is constant within the percentile range.
    """
    if image.size == 0:
        raise ValueError("image is empty")
    if not np.all(np.isfinite(image)):
        raise ValueError("image contains NaN or infinite values")
    lo, hi = np.percentile(image, [lower_percentile, upper_percentile])
    if hi <= lo:
        hi = float(image.max())
        lo = float(image.min())
    if hi <= lo:
        raise ValueError(f"image is constant (all values {lo}); nothing to segment")
    out = (np.clip(image.astype(np.float32), lo, hi) - lo) / (hi - lo)
    return out.astype(np.float32)


def invert_intensity(image: np.ndarray, background_percentile: float = 1.0) -> np.ndarray:
    """Polarity inversion of the inverted-CT paper: INV(x) = max(X) - x + min(X).

    Parameters
    ----------
    image : np.ndarray
        Intensities, already clipped (e.g. by :func:`normalise_intensity`).
    background_percentile : float
        Pixels at or below this percentile (0-100) of the input are set to 0, so the background stays black.

    Returns
    -------
    np.ndarray
        float32 array of the shape of ``image``.
    """
    lo, hi = float(image.min()), float(image.max())
    inverted = hi - image + lo
    background = image <= np.percentile(image, background_percentile)
    inverted[background] = 0.0
    return inverted.astype(np.float32)


@dataclass(frozen=True)
class SquareFit:
    """How one ``(H, W)`` slice was placed into a ``size x size`` square.

    The slice is scaled by ``scale`` to ``(h, w)`` (longest side = ``size``) and placed at
    row ``top``, column ``left`` of a zero canvas.
    """

    in_shape: tuple[int, int]
    size: int
    h: int
    w: int
    top: int
    left: int

    @classmethod
    def for_shape(cls, in_shape: tuple[int, int], size: int) -> SquareFit:
        """The placement of an ``(H, W)`` slice of shape ``in_shape`` into a ``size x size`` square.

        The longest side is scaled to ``size`` and the slice centred on the canvas.

        Parameters
        ----------
        in_shape : tuple of int
            ``(H, W)`` of the slice, both sides >= 2.
        size : int
            The square's side in pixels (the network's input size).

        Returns
        -------
        SquareFit
            The scaled size ``(h, w)`` and the offsets ``top``, ``left`` on the canvas.

        Raises
        ------
        ValueError
            When ``in_shape`` is not 2D or a side is under 2.
        """
        if len(in_shape) != 2 or min(in_shape) < 2:
            raise ValueError(f"slice shape must be 2D with sides >= 2, got {in_shape}")
        scale = size / max(in_shape)
        h = max(1, round(in_shape[0] * scale))
        w = max(1, round(in_shape[1] * scale))
        return cls(tuple(in_shape), size, h, w, (size - h) // 2, (size - w) // 2)


def _resize(array: np.ndarray, shape: tuple[int, int], nearest: bool = False, linear: bool = False) -> np.ndarray:
    if array.shape[:2] == shape:
        return array.copy()
    if nearest:
        interp = cv2.INTER_NEAREST
    elif shape[0] < array.shape[0] and not linear:
        interp = cv2.INTER_AREA
    else:
        interp = cv2.INTER_LINEAR
    return cv2.resize(array, (shape[1], shape[0]), interpolation=interp)


def fit_square(image: np.ndarray, size: int) -> tuple[np.ndarray, SquareFit]:
    """Resize a ``(H, W)`` slice (longest side -> ``size``), zero-pad to ``(size, size)``.

    Parameters
    ----------
    image : np.ndarray
        ``(H, W)`` slice, both sides >= 2.
    size : int
        The square's side in pixels.

    Returns
    -------
    tuple of (np.ndarray, SquareFit)
        The ``(size, size)`` float32 image (area interpolation when shrinking, linear when enlarging) and
        its placement, for :func:`fit_square_labels` and :func:`restore_probabilities`.

    Raises
    ------
    ValueError
        When ``image`` is not 2D or a side is under 2.
    """
    fit = SquareFit.for_shape(image.shape, size)
    out = np.zeros((size, size), np.float32)
    out[fit.top : fit.top + fit.h, fit.left : fit.left + fit.w] = _resize(image.astype(np.float32), (fit.h, fit.w))
    return out, fit


def fit_square_labels(labels: np.ndarray, fit: SquareFit) -> np.ndarray:
    """Place a ``(H, W)`` label map like :func:`fit_square` did its image (nearest neighbour).

    Parameters
    ----------
    labels : np.ndarray
        ``(H, W)`` label map of the slice given to :func:`fit_square`.
    fit : SquareFit
        The placement returned by :func:`fit_square`.

    Returns
    -------
    np.ndarray
        ``(size, size)`` uint8 label map, 0 on the padding.
    """
    out = np.zeros((fit.size, fit.size), np.uint8)
    out[fit.top : fit.top + fit.h, fit.left : fit.left + fit.w] = _resize(
        labels.astype(np.uint8), (fit.h, fit.w), nearest=True
    )
    return out


def restore_probabilities(probabilities: np.ndarray, fit: SquareFit) -> np.ndarray:
    """Exact inverse of :func:`fit_square` for class probabilities.

    Parameters
    ----------
    probabilities : np.ndarray
        ``(C, size, size)`` class probabilities on the network grid.
    fit : SquareFit
        The placement returned by :func:`fit_square`.

    Returns
    -------
    np.ndarray
        ``(C, H, W)`` float32 probabilities on the input grid; take ``argmax(0)`` for labels.
    """
    crop = probabilities[:, fit.top : fit.top + fit.h, fit.left : fit.left + fit.w]
    hwc = np.ascontiguousarray(crop.transpose(1, 2, 0).astype(np.float32))
    # linear both ways: an upsampled one-hot pixel keeps >= ~0.7 of its class at its own centre,
    # so argmax is exactly the identity whenever the network grid is at least the input's size
    restored = _resize(hwc, fit.in_shape, linear=True)
    if restored.ndim == 2:
        restored = restored[..., None]
    return restored.transpose(2, 0, 1)
