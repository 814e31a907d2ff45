"""Guiding masks for consistency-parametrised segmentation (the guided-segmentation paper).

A guided model sees the image plus one channel per foreground class of a guiding label map
(RV, MYO, LV), scaled by ``alpha`` in [0, 1]: ``alpha = 0`` hides the guide (an ordinary
segmentation), ``alpha = 1`` asks for the guide itself. Training targets move the guide part of
the way towards the ground truth, :func:`translate_guide`.

The partial translation ``T_(1-alpha)`` is implemented by blending signed distance maps of the
three nested regions the labels are made of (endocardium = LV cavity, epicardium = LV cavity +
myocardium, RV): ``sdf = alpha * sdf(guide) + (1 - alpha) * sdf(truth)``, then each region is
where its blended distance is negative. Unlike shifting by a centroid offset, this also moves
shape and wall thickness, it is the identity at both ends (alpha 0 gives the truth, alpha 1 the
guide), it keeps the regions nested (the myocardium stays a ring around the cavity) and it is
defined for any pair of masks, including guides that lie on a different position.
"""

from __future__ import annotations

import numpy as np

from cmrseg.labels import Label
from cmrseg.masks import labels_from_regions, regions, signed_distance

__all__ = [
    "GUIDE_CLASSES",
    "guide_channels",
    "translate_guide",
    "check_guide",
    "check_alpha",
]

#: the foreground classes given to a guided model, one input channel each, in this order
GUIDE_CLASSES: tuple[int, ...] = (Label.RV, Label.MYO, Label.LV)


def check_alpha(alpha: float) -> float:
    """``alpha`` as a float in [0, 1], or ``ValueError``.

    Parameters
    ----------
    alpha : float
        The guide's weight.

    Returns
    -------
    float
        ``alpha``.

    Raises
    ------
    ValueError
        When ``alpha`` is not in [0, 1].
    """
    a = float(alpha)
    if not 0.0 <= a <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    return a


def check_guide(guide: np.ndarray, image_shape: tuple[int, ...], name: str = "guide") -> None:
    """A guide must lie on the image's grid (same in-plane size and slices) and label some heart.

    Parameters
    ----------
    guide : numpy.ndarray
        The guiding label map.
    image_shape : tuple of int
        The image's shape, which the guide's must equal.
    name : str
        What the guide is called in the error messages.

    Raises
    ------
    ValueError
        When the shapes differ, or the guide labels none of RV, MYO and LV.
    """
    if guide.shape != tuple(image_shape):
        raise ValueError(f"{name} has shape {guide.shape}, the image {tuple(image_shape)}; they must share one grid")
    if not np.isin(guide, GUIDE_CLASSES).any():
        raise ValueError(f"{name} is empty: it labels none of RV (1), MYO (2), LV (3)")


def guide_channels(guide: np.ndarray, alpha: float) -> np.ndarray:
    """``(..., H, W)`` guide labels -> ``(..., 3, H, W)`` float32 one-hot (RV, MYO, LV) times ``alpha``.

    Parameters
    ----------
    guide : numpy.ndarray
        ``(..., H, W)`` label map.
    alpha : float
        The guide's weight in [0, 1] (0 hides the guide).

    Returns
    -------
    numpy.ndarray
        ``(..., 3, H, W)`` float32, one channel per class of :data:`GUIDE_CLASSES`: ``alpha`` on the
        class, 0 elsewhere.
    """
    return np.stack([(guide == c) * np.float32(alpha) for c in GUIDE_CLASSES], axis=-3).astype(np.float32)


def translate_guide(guide: np.ndarray, truth: np.ndarray, alpha: float) -> np.ndarray:
    """``T_(1-alpha)``: the ``(H, W)`` guide moved a fraction ``1 - alpha`` of the way to ``truth``.

    Signed distance maps of the nested regions (endocardium, epicardium, RV) are blended,
    ``alpha * sdf(guide) + (1 - alpha) * sdf(truth)``; alpha 0 returns ``truth``, 1 the guide.

    Parameters
    ----------
    guide : numpy.ndarray
        ``(H, W)`` guiding label map.
    truth : numpy.ndarray
        ``(H, W)`` ground-truth label map.
    alpha : float
        In [0, 1].

    Returns
    -------
    numpy.ndarray
        ``(H, W)`` uint8 label map.

    Raises
    ------
    ValueError
        When ``alpha`` is not in [0, 1].
    """
    alpha = check_alpha(alpha)
    if alpha == 0.0:
        return truth.astype(np.uint8)
    if alpha == 1.0:
        return guide.astype(np.uint8)
    blended = [
        alpha * signed_distance(g) + (1.0 - alpha) * signed_distance(t) < 0
        for g, t in zip(regions(guide), regions(truth), strict=True)
    ]
    return labels_from_regions(*blended)
