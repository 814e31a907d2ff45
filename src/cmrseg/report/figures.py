"""Figures: label overlays and augmentation previews (matplotlib, no display needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from cmrseg.augment import Augmenter  # noqa: E402
from cmrseg.io.atomic import atomic_write  # noqa: E402
from cmrseg.labels import LABEL_COLOURS  # noqa: E402

__all__ = ["overlay_rgb", "augmentation_grid", "save_figure"]


def overlay_rgb(image: np.ndarray, labels: np.ndarray, alpha: float = 0.4) -> np.ndarray:
    """``(H, W)`` image in [0, 1] and labels -> ``(H, W, 3)`` RGB with coloured labels.

    Parameters
    ----------
    image : np.ndarray
        ``(H, W)`` intensities; clipped to [0, 1].
    labels : np.ndarray
        ``(H, W)`` label map; each foreground value of :data:`cmrseg.labels.LABEL_COLOURS` is coloured.
    alpha : float
        Opacity of the label colours, in [0, 1].

    Returns
    -------
    np.ndarray
        ``(H, W, 3)`` float RGB in [0, 1].
    """
    rgb = np.repeat(np.clip(image, 0, 1)[..., None], 3, -1)
    for value, colour in LABEL_COLOURS.items():
        if value == 0:
            continue
        m = labels == value
        rgb[m] = (1 - alpha) * rgb[m] + alpha * np.asarray(colour)
    return rgb


def augmentation_grid(image: np.ndarray, mask: np.ndarray, preset: str, n: int = 8, seed: int = 0) -> plt.Figure:
    """A figure of ``n`` augmented samples (image with its mask overlaid), first panel the input.

    Parameters
    ----------
    image : np.ndarray
        ``(H, W)`` float32 image in [0, 1].
    mask : np.ndarray
        ``(H, W)`` uint8 label map of ``image``.
    preset : str
        The augmentation preset (see :class:`cmrseg.augment.Augmenter`).
    n : int
        Number of augmented samples.
    seed : int
        Seed of the random generator.

    Returns
    -------
    matplotlib.figure.Figure
        ``n + 1`` panels, at most 5 per row.

    Raises
    ------
    ValueError
        ``preset`` is not a known augmentation preset.
    """
    aug = Augmenter(preset)
    rng = np.random.default_rng(seed)
    cols = min(n + 1, 5)
    rows = int(np.ceil((n + 1) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 3 * rows), squeeze=False)
    panels = [(image, mask, "input")] + [(*aug(image, mask, rng), f"{preset} #{k + 1}") for k in range(n)]
    for ax, (img, msk, title) in zip(axes.flat, panels, strict=False):
        ax.imshow(overlay_rgb(img, msk))
        ax.set_title(title, fontsize=9)
    for ax in axes.flat:
        ax.axis("off")
    fig.tight_layout()
    return fig


def save_figure(fig: plt.Figure, path: Path | str, dpi: int = 100) -> None:
    """Save a figure as PNG (atomically) and close it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure; closed afterwards.
    path : pathlib.Path or str
        The PNG file to write.
    dpi : int
        Resolution in dots per inch.

    Returns
    -------
    None
    """
    atomic_write(Path(path), lambda tmp: fig.savefig(tmp, dpi=dpi, format="png"))
    plt.close(fig)
