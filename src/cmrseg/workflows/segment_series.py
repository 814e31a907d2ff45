"""``cmrseg segment-series``: a mapping series file in, the label map of every image and its guide out."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from cmrseg.image import LabelMap
from cmrseg.io.atomic import atomic_write, check_output
from cmrseg.io.loader import read_any
from cmrseg.io.nifti import nifti_stem, read_labels, write_labels
from cmrseg.preprocess import normalise_intensity
from cmrseg.report.figures import save_figure
from cmrseg.report.plots import overlay_figure
from cmrseg.series_segmentation import SeriesSegmentation, segment_series

__all__ = ["segment_series_file"]


def _guide_figures(images: np.ndarray, result: SeriesSegmentation) -> list[Figure]:
    """One panel per slice: the guide on its image (the guide image, or the first one when given)."""
    z_count = images.shape[2]
    figs = []
    for z in range(z_count):
        n = max(int(result.reference[z]), 0)
        guide = result.guide if result.guide.ndim == 3 else result.guide[:, :, None]
        title = f"slice {z}: guide from image {n + 1}" if result.reference[z] >= 0 else f"slice {z}: given guide"
        figs.append(overlay_figure(normalise_intensity(images[:, :, z, n]), guide[:, :, z], title))
    return figs


def segment_series_file(
    series_path: Path | str,
    output: Path | str,
    guide: str = "auto",
    alpha: float = 0.25,
    model: str = "guided",
    guide_model: str = "default",
    overwrite: bool = False,
) -> SeriesSegmentation:
    """Segment a series file (NIfTI ``(X, Y, N)`` / ``(X, Y, Z, N)`` or DICOM folder) into ``output``.

    Also writes ``<output>_guide.nii.gz``, ``<output>_guide_sliceZ.png`` (the guide drawn on its
    image, to check) and ``<output>_consistency.csv`` (myocardium Dice of each image to the guide).

    Parameters
    ----------
    series_path : path
        NIfTI ``(X, Y, N)`` / ``(X, Y, Z, N)`` or a DICOM folder.
    output : path
        The label-map file, of the series' shape.
    guide : str
        ``auto`` (made by ``guide_model``) or a label-map file ``(X, Y, Z)`` (``(X, Y)`` for one slice).
    alpha : float
        Guidance weight in [0, 1].
    model : str
        The guided model: a shipped name or a path.
    guide_model : str
        The unguided model that makes the ``auto`` guide (the shipped ``default`` model; or ``cine``).
    overwrite : bool
        Replace existing outputs.

    Returns
    -------
    SeriesSegmentation

    Raises
    ------
    FileExistsError
        If an output exists and ``overwrite`` is false.
    ValueError
        If the series is neither ``(X, Y, N)`` nor ``(X, Y, Z, N)``.
    """
    output = Path(output)
    stem = nifti_stem(output)
    extra = {k: output.with_name(f"{stem}_{k}") for k in ("guide.nii.gz", "consistency.csv")}
    for path in (output, *extra.values()):
        check_output(path, overwrite)
    image = read_any(Path(series_path))
    arr = image.array
    if arr.ndim not in (3, 4):
        raise ValueError(f"{series_path}: a series must be (X, Y, N) or (X, Y, Z, N), got {arr.shape}")
    given = guide if guide == "auto" else read_labels(guide).array
    result = segment_series(arr, given, alpha, model, guide_model)
    series4 = arr if arr.ndim == 4 else arr[:, :, None, :]
    for z, fig in enumerate(_guide_figures(series4, result)):
        save_figure(fig, output.with_name(f"{stem}_guide_slice{z}.png"), dpi=80)
    spacing3 = image.spacing[:3] if arr.ndim == 4 else image.spacing[:2]
    write_labels(LabelMap(result.labels, image.spacing, image.affine), output)
    write_labels(LabelMap(result.guide, spacing3, image.affine), extra["guide.nii.gz"])
    lines = ["slice,image,guide_image,contrast,myo_dice_to_guide"]
    for z in range(result.guide_dice.shape[0]):
        for n in range(result.guide_dice.shape[1]):
            lines.append(
                f"{z},{n + 1},{int(result.reference[z]) + 1},{result.scores[z, n]:.4f},{result.guide_dice[z, n]:.4f}"
            )
    atomic_write(extra["consistency.csv"], lambda p: p.write_text("\n".join(lines) + "\n"))
    return result
