"""Contrast randomisation: make one labelled slice look like any short-axis contrast.

Each function takes a ``(H, W)`` float32 image in [0, 1] (per-volume normalised, as the
network sees it), its ``(H, W)`` uint8 ACDC label map where it needs one, and the
``numpy.random.Generator`` it draws every random number from; it returns a new image in
[0, 1]. Geometry never changes here, so the labels stay valid.

- :func:`random_curve`: a random intensity map (monotone up or down, or non-monotone).
- :func:`region_remap`: new mean intensity per labelled region (RV and LV blood, myocardium)
  with the texture kept and the rest of the image through :func:`random_curve` (the SynthSeg
  idea on real images; bright-blood, black-blood and nulled-myocardium looks alike).
- :func:`gin`: global intensity non-linear augmentation (Ouyang et al., IEEE TMI 2022): a
  random shallow convolutional network, mixed with the input.
- :func:`heart_crop`: a square crop around the labelled heart, resized back, as mapping
  series are often stored (T1NET: 128 px crops around the heart).
"""

from __future__ import annotations

import cv2
import numpy as np

from cmrseg.preprocess import normalise_intensity

__all__ = [
    "random_curve",
    "region_remap",
    "gin",
    "heart_crop",
    "rescale01",
    "region_weights",
    "randomise_contrast",
    "heart_window",
    "crop_to",
]


def rescale01(image: np.ndarray) -> np.ndarray:
    """Min-max rescale to [0, 1] (float32); a constant image becomes zeros.

    Parameters
    ----------
    image : numpy.ndarray
        An image of any shape.

    Returns
    -------
    numpy.ndarray
        float32 array of ``image``'s shape in [0, 1].
    """
    lo, hi = float(image.min()), float(image.max())
    if hi - lo < 1e-8:
        return np.zeros_like(image, np.float32)
    return ((image - lo) / (hi - lo)).astype(np.float32)


def random_curve(image: np.ndarray, rng: np.random.Generator, monotone: bool | None = None) -> np.ndarray:
    """Map intensities through a random piecewise-linear curve with 4-8 control points.

    Parameters
    ----------
    image : numpy.ndarray
        ``(H, W)`` float32 image in [0, 1].
    rng : numpy.random.Generator
        Source of every random number.
    monotone : bool, optional
        Force a monotone (True) or non-monotone (False) curve. None draws it: 60% monotone
        (half of those decreasing), 40% non-monotone.

    Returns
    -------
    numpy.ndarray
        ``(H, W)`` float32 image in [0, 1].
    """
    k = int(rng.integers(4, 9))
    y = rng.random(k)
    if monotone is None:
        monotone = rng.random() < 0.6
    if monotone:
        y = np.sort(y)
        if rng.random() < 0.5:
            y = y[::-1]
    out = np.interp(image, np.linspace(0.0, 1.0, k), y)
    return rescale01(out)


def region_weights(labels: np.ndarray, classes: tuple[int, ...], sigma: float) -> np.ndarray:
    """``(len(classes) + 1, H, W)`` weights summing to 1: each class, then the rest, blurred by ``sigma`` px.

    Parameters
    ----------
    labels : numpy.ndarray
        ``(H, W)`` label map.
    classes : tuple of int
        The label values to weight, in order.
    sigma : float
        Gaussian blur in px; 0 keeps hard borders.

    Returns
    -------
    numpy.ndarray
        ``(len(classes) + 1, H, W)`` float32 weights, the last one the rest of the image.
    """
    masks = [(labels == c).astype(np.float32) for c in classes]
    rest = np.clip(1.0 - np.sum(masks, axis=0), 0.0, 1.0) if masks else np.ones(labels.shape, np.float32)
    stack = np.stack([*masks, rest])
    if sigma > 0:
        stack = np.stack([cv2.GaussianBlur(m, (0, 0), sigma) for m in stack])
    return stack / np.maximum(stack.sum(0, keepdims=True), 1e-6)


def region_remap(image: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """New intensity for each labelled region, texture kept; the rest through :func:`random_curve`.

    Each present class c of (RV, MYO, LV) gets ``t_c + g_c (x - mean_c)`` with ``t_c`` uniform in
    [0, 1] and texture gain ``g_c`` uniform in [-1.5, 1.5] (its texture may invert too); region
    borders are blended over 0.5-1.5 px, as partial volume does.

    Parameters
    ----------
    image : numpy.ndarray
        ``(H, W)`` float32 image in [0, 1].
    labels : numpy.ndarray
        ``(H, W)`` uint8 ACDC label map (1 RV, 2 MYO, 3 LV).
    rng : numpy.random.Generator
        Source of every random number.

    Returns
    -------
    numpy.ndarray
        ``(H, W)`` float32 image clipped to [0, 1].
    """
    classes = tuple(c for c in (1, 2, 3) if np.any(labels == c))
    weights = region_weights(labels, classes, float(rng.uniform(0.5, 1.5)))
    out = weights[-1] * random_curve(image, rng)
    for w, c in zip(weights[:-1], classes, strict=True):
        mean = float(image[labels == c].mean())
        out += w * (rng.uniform(0.0, 1.0) + rng.uniform(-1.5, 1.5) * (image - mean))
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def gin(image: np.ndarray, rng: np.random.Generator, layers: int = 4, channels: int = 2) -> np.ndarray:
    """Global intensity non-linear augmentation: a random shallow conv net, mixed with the input.

    ``layers`` convolutions (kernel 1 or 3, weights N(0, 1)), leaky ReLU (0.2) between them, one
    output channel; the output is scaled to the input's Frobenius norm and blended with the input
    by a uniform alpha (Ouyang et al. 2022, Eq. 1-2), then rescaled to [0, 1].

    Parameters
    ----------
    image : numpy.ndarray
        ``(H, W)`` float32 image in [0, 1].
    rng : numpy.random.Generator
        Source of every random number.
    layers : int
        Number of convolutions.
    channels : int
        Channels of the hidden layers.

    Returns
    -------
    numpy.ndarray
        ``(H, W)`` float32 image in [0, 1].
    """
    x = [image.astype(np.float32)]
    for layer in range(layers):
        n_out = 1 if layer == layers - 1 else channels
        k = int(rng.choice([1, 3]))
        y = []
        for _ in range(n_out):
            acc = np.zeros_like(image, np.float32)
            for xi in x:
                kernel = rng.normal(size=(k, k)).astype(np.float32)
                acc += cv2.filter2D(xi, -1, kernel, borderType=cv2.BORDER_REFLECT)
            acc += np.float32(rng.normal(0.0, 0.1))
            y.append(acc if layer == layers - 1 else np.where(acc > 0, acc, 0.2 * acc))
        x = y
    out = x[0]
    out *= np.linalg.norm(image) / max(float(np.linalg.norm(out)), 1e-6)
    alpha = float(rng.uniform(0.0, 1.0))
    return rescale01(alpha * out + (1.0 - alpha) * image)


def heart_window(
    labels: np.ndarray, rng: np.random.Generator, margin: tuple[float, float] = (1.2, 2.5)
) -> tuple[int, int, int] | None:
    """``(top, left, side)`` of a square around the labelled heart.

    Parameters
    ----------
    labels : numpy.ndarray
        ``(H, W)`` label map; every non-zero pixel counts as heart.
    rng : numpy.random.Generator
        Source of every random number.
    margin : tuple of float
        Range the side is drawn from uniformly, in multiples of the heart's largest extent.

    Returns
    -------
    tuple of int or None
        ``(top, left, side)`` in px, the side clipped to [16, max(H, W)] and the centre jittered by
        up to 15% of the side; None for a slice without labels.
    """
    rows, cols = np.nonzero(labels)
    if len(rows) == 0:
        return None
    extent = max(rows.max() - rows.min(), cols.max() - cols.min()) + 1
    side = int(np.clip(extent * rng.uniform(*margin), 16, max(labels.shape)))
    cy = (rows.min() + rows.max()) / 2 + rng.uniform(-0.15, 0.15) * side
    cx = (cols.min() + cols.max()) / 2 + rng.uniform(-0.15, 0.15) * side
    return int(round(cy - side / 2)), int(round(cx - side / 2)), side


def crop_to(array: np.ndarray, window: tuple[int, int, int], nearest: bool) -> np.ndarray:
    """Cut ``window`` out of ``array`` (zero outside) and resize it back to ``array``'s shape.

    Parameters
    ----------
    array : numpy.ndarray
        ``(H, W)`` image or label map.
    window : tuple of int
        ``(top, left, side)`` in px, as from :func:`heart_window`; it may reach outside ``array``.
    nearest : bool
        Nearest-neighbour resizing (for labels) instead of linear.

    Returns
    -------
    numpy.ndarray
        The crop, of ``array``'s shape and dtype.
    """
    top, left, side = window
    cut = np.pad(array, side)[top + side : top + 2 * side, left + side : left + 2 * side]
    interp = cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR
    return cv2.resize(cut, (array.shape[1], array.shape[0]), interpolation=interp)


def heart_crop(
    image: np.ndarray, labels: np.ndarray, rng: np.random.Generator, margin: tuple[float, float] = (1.2, 2.5)
) -> tuple[np.ndarray, np.ndarray]:
    """A square crop around the labelled heart (:func:`heart_window`), resized back.

    Parameters
    ----------
    image : numpy.ndarray
        ``(H, W)`` float32 image in [0, 1].
    labels : numpy.ndarray
        ``(H, W)`` uint8 ACDC label map.
    rng : numpy.random.Generator
        Source of every random number.
    margin : tuple of float
        Range of the crop's side in multiples of the heart's largest extent.

    Returns
    -------
    image, labels : numpy.ndarray
        Of the input shape, the image renormalised to [0, 1] as a cropped series would be;
        unlabelled slices come back unchanged.
    """
    window = heart_window(labels, rng, margin)
    if window is None:
        return image, labels
    img = crop_to(image, window, nearest=False)
    return normalise_intensity(img) if img.max() > img.min() else img, crop_to(labels, window, nearest=True)


def randomise_contrast(image: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One of :func:`random_curve` (30%), :func:`region_remap` (40%) or :func:`gin` (30%).

    Parameters
    ----------
    image : numpy.ndarray
        ``(H, W)`` float32 image in [0, 1].
    labels : numpy.ndarray
        ``(H, W)`` uint8 ACDC label map.
    rng : numpy.random.Generator
        Source of every random number.

    Returns
    -------
    numpy.ndarray
        ``(H, W)`` float32 image in [0, 1].
    """
    u = rng.random()
    if u < 0.3:
        return random_curve(image, rng)
    if u < 0.7:
        return region_remap(image, labels, rng)
    return gin(image, rng)
