"""Consistent segmentation of every image of a mapping series from one guiding mask.

A MOLLI / T2 / T1rho series has several images of one slice with changing contrast. The guide
of each slice is either given or taken (``"auto"``) from the image with the highest blood-to-
myocardium contrast, segmented by an ordinary model; a guided model then segments every image
of the slice with that guide at ``alpha`` (see :mod:`cmrseg.guide`).

Tight crops (mapping images are often ~128 px around the heart) are zero-padded to a cine-like
field of view first (``pad="auto"``: images whose longest side is under 192 px are padded to
256 px); the labels are cropped back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cmrseg.guide import GUIDE_CLASSES, check_alpha, check_guide
from cmrseg.labels import Label
from cmrseg.metrics import dice
from cmrseg.predict import Predictor
from cmrseg.preprocess import normalise_intensity

__all__ = [
    "SeriesSegmentation",
    "contrast_score",
    "auto_guide",
    "segment_series",
    "pad_width",
    "consensus",
]


@dataclass(frozen=True)
class SeriesSegmentation:
    """``labels`` ``(X, Y, Z, N)``; ``guide`` ``(X, Y, Z)``; ``reference`` ``(Z,)`` index of the image
    the guide came from (-1 when given); ``scores`` ``(Z, N)`` contrast of each image (NaN when the
    guide was given); ``guide_dice`` ``(Z, N)`` myocardium Dice of each image's labels to the guide."""

    labels: np.ndarray
    guide: np.ndarray
    reference: np.ndarray
    scores: np.ndarray
    guide_dice: np.ndarray


def contrast_score(image: np.ndarray, labels: np.ndarray, min_pixels: int = 10) -> float:
    """Blood-to-myocardium contrast of one ``(H, W)`` image: |median(LV) - median(MYO)| of the image
    normalised to [0, 1]; 0 when the labels hold fewer than ``min_pixels`` of either.

    Parameters
    ----------
    image : np.ndarray
        ``(H, W)`` intensities (scanner units), normalised here by :func:`normalise_intensity`.
    labels : np.ndarray
        ``(H, W)`` label map of ``image`` (ACDC values: 2 MYO, 3 LV).
    min_pixels : int
        Fewest LV and myocardium pixels for a score.

    Returns
    -------
    float
        The contrast, in [0, 1].
    """
    lv, myo = labels == Label.LV, labels == Label.MYO
    if lv.sum() < min_pixels or myo.sum() < min_pixels:
        return 0.0
    norm = normalise_intensity(image)
    return float(abs(np.median(norm[lv]) - np.median(norm[myo])))


def pad_width(shape: tuple[int, ...], pad: int | str) -> int:
    """Pixels of zero-padding on each in-plane side: ``pad`` itself, or for ``"auto"`` up to 256 px
    when the longest side is under 192 px (0 otherwise).

    Parameters
    ----------
    shape : tuple of int
        The image shape; the first two values are the in-plane size.
    pad : int or str
        ``"auto"`` or a number of pixels >= 0.

    Returns
    -------
    int
        Pixels to add on each side of both in-plane axes.

    Raises
    ------
    ValueError
        ``pad`` is a negative number.
    """
    if pad == "auto":
        side = max(shape[:2])
        return (256 - side + 1) // 2 if side < 192 else 0
    if int(pad) < 0:
        raise ValueError(f"pad must be 'auto' or >= 0 pixels, got {pad}")
    return int(pad)


def _padded(array: np.ndarray, p: int) -> np.ndarray:
    return np.pad(array, [(p, p), (p, p)] + [(0, 0)] * (array.ndim - 2)) if p else array


def _cropped(array: np.ndarray, p: int) -> np.ndarray:
    return array[p:-p, p:-p] if p else array


def auto_guide(images: np.ndarray, predictor: Predictor) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Guide of every slice of ``(X, Y, Z, N)`` images: ``predictor``'s labels of the image with the
    highest :func:`contrast_score`. Returns guide ``(X, Y, Z)``, reference ``(Z,)``, scores ``(Z, N)``.

    Parameters
    ----------
    images : np.ndarray
        ``(X, Y, Z, N)`` weighted images of a mapping series.
    predictor : Predictor
        An unguided model that segments every image.

    Returns
    -------
    guide : np.ndarray
        ``(X, Y, Z)`` uint8 labels of the chosen image of each slice.
    reference : np.ndarray
        ``(Z,)`` index of the chosen image of each slice.
    scores : np.ndarray
        ``(Z, N)`` :func:`contrast_score` of each image.
    """
    labels = predictor.predict_array(images)
    z_n = images.shape[2:]
    scores = np.array(
        [[contrast_score(images[:, :, z, n], labels[:, :, z, n]) for n in range(z_n[1])] for z in range(z_n[0])]
    )
    reference = scores.argmax(1)
    guide = np.stack([labels[:, :, z, reference[z]] for z in range(z_n[0])], axis=2)
    return guide, reference, scores


def consensus(labels: np.ndarray) -> np.ndarray:
    """Per-pixel majority label over the last axis (the images of a series): ``(..., N)`` -> ``(...)``.

    Parameters
    ----------
    labels : np.ndarray
        ``(..., N)`` label maps with values 0-3 (other values are not counted).

    Returns
    -------
    np.ndarray
        ``(...)`` uint8 majority labels; a tie goes to the lower label.
    """
    counts = np.stack([(labels == c).sum(-1) for c in range(4)])
    return counts.argmax(0).astype(np.uint8)


def segment_series(
    images: np.ndarray,
    guide: np.ndarray | str = "auto",
    alpha: float = 0.25,
    model: str = "guided",
    guide_model: str = "default",
    pad: int | str = "auto",
    invert: str = "auto",
    consensus_passes: int = 0,
    mirror: str = "auto",
) -> SeriesSegmentation:
    """Segment every image of a mapping series ``(X, Y, Z, N)`` (or one slice ``(X, Y, N)``) consistently.

    Parameters
    ----------
    images : np.ndarray
        ``(X, Y, Z, N)`` or ``(X, Y, N)`` weighted images, N >= 2.
    guide : np.ndarray or str
        ``"auto"`` or labels ``(X, Y, Z)`` (``(X, Y)`` for one slice).
    alpha : float
        Guidance weight in [0, 1] (see :mod:`cmrseg.guide`).
    model : str
        The guided model: a shipped name or a path.
    guide_model : str
        The unguided model that makes the ``"auto"`` guide: the shipped ``default`` (any-contrast)
        model, as ``predict`` routes images that are not cines; ``cine`` was the default until
        2026-11-22 (on T1NET it misses most of the apical pre-contrast myocardium: docs/any-contrast.md).
    pad : int or str
        Zero-padding in pixels on each in-plane side, or ``"auto"`` (see :func:`pad_width`).
    invert : str
        ``off``, ``on`` or ``auto``, passed to both predictors (see :class:`Predictor`).
    consensus_passes : int
        When > 0, re-segments with the per-pixel majority label of all images of the slice as the
        new guide (that many times); a slice whose majority labels no heart keeps its guide.
    mirror : str
        ``auto``, ``off`` or ``on`` (see :class:`Predictor`). With the ``"auto"`` guide, the guide
        model decides and the guided model follows its choice.

    Returns
    -------
    SeriesSegmentation
        Labels with the input's shape; the guide used last, ``(X, Y, Z)`` (``(X, Y)`` for one
        slice); reference, scores and myocardium Dice to the guide per slice and image.

    Raises
    ------
    ValueError
        ``alpha`` is not in [0, 1]; ``images`` is not a series of N >= 2 images; ``pad`` is
        negative; ``guide`` is a string other than ``"auto"``, or labels off the image grid or
        without heart; the ``"auto"`` guide finds no heart in any image.
    """
    alpha = check_alpha(alpha)
    images = np.asarray(images)
    single = images.ndim == 3
    if single:
        images = images[:, :, None, :]
    if images.ndim != 4 or images.shape[3] < 2:
        raise ValueError(f"a series must be (X, Y, N) or (X, Y, Z, N) with N >= 2 images, got {images.shape}")
    p = pad_width(images.shape, pad)
    padded = _padded(images, p)
    if isinstance(guide, str):
        if guide != "auto":
            raise ValueError(f"guide must be 'auto' or a label map, got {guide!r}")
        guide_predictor = Predictor(guide_model, invert=invert, mirror=mirror)
        g, reference, scores = auto_guide(padded, guide_predictor)
        mirror = "on" if guide_predictor.last_mirrored else "off"
        if not np.isin(g, GUIDE_CLASSES).any():
            raise ValueError("no heart found in any image of the series to guide the segmentation; give a guide mask")
    else:
        given = np.asarray(guide)
        given = given[:, :, None] if single and given.ndim == 2 else given
        check_guide(given, images.shape[:3])
        g, reference, scores = _padded(given, p), np.full(images.shape[2], -1), np.full(images.shape[2:], np.nan)
    guided = Predictor(model, invert=invert, alpha=alpha, mirror=mirror)
    labels = guided.predict_array(padded, g)
    for _ in range(consensus_passes):
        vote = consensus(labels)
        g = np.where(np.isin(vote, GUIDE_CLASSES).any(axis=(0, 1), keepdims=True), vote, g)  # keep guide if empty
        labels = guided.predict_array(padded, g)
    labels, g = _cropped(labels, p), _cropped(g, p)
    agree = np.array(
        [
            [dice(labels[:, :, z, n] == Label.MYO, g[:, :, z] == Label.MYO) for n in range(images.shape[3])]
            for z in range(images.shape[2])
        ]
    )
    if single:
        labels, g = labels[:, :, 0], g[:, :, 0]
    return SeriesSegmentation(labels, g, reference, scores, agree)
