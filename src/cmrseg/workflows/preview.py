"""``cmrseg augment-preview``: a PNG grid of augmented samples of one slice, to see what training sees."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cmrseg.io.atomic import check_output
from cmrseg.io.nifti import read_image, read_labels
from cmrseg.preprocess import normalise_intensity
from cmrseg.report.figures import augmentation_grid, save_figure

__all__ = ["augmentation_preview"]


def _plane(array: np.ndarray, z: int) -> np.ndarray:
    """Slice ``z`` of a 2D/3D/4D array (first frame of a cine) as ``(X, Y)``."""
    plane = array[:, :, z] if array.ndim >= 3 else array
    return plane[..., 0] if plane.ndim == 3 else plane


def augmentation_preview(
    image: Path | str,
    output: Path | str,
    label: Path | str | None = None,
    preset: str = "heavy",
    n: int = 8,
    seed: int = 0,
    slice_index: int | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a grid of ``n`` augmented samples of one slice (and its label outlines) as a PNG.

    Parameters
    ----------
    image : path
        NIfTI image (2D, stack or cine: its first frame).
    output : path
        The PNG.
    label : path, optional
        Its label map, augmented alongside.
    preset : str
        Augmentation preset (none, basic, heavy, anycontrast: :class:`cmrseg.augment.Augmenter`).
    n, seed : int
        Samples drawn, and the seed they are drawn with.
    slice_index : int, optional
        The slice (default: the middle one).
    overwrite : bool
        Replace an existing output.

    Returns
    -------
    pathlib.Path
        ``output``.
    """
    check_output(Path(output), overwrite)
    array = read_image(image).array
    z = slice_index if slice_index is not None else (array.shape[2] // 2 if array.ndim >= 3 else 0)
    plane = _plane(array, z)
    mask = np.zeros(plane.shape, np.uint8) if label is None else _plane(read_labels(label).array, z).astype(np.uint8)
    save_figure(augmentation_grid(normalise_intensity(plane).T, mask.T, preset, n, seed), output)
    return Path(output)
