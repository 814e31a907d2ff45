"""``cmrseg contours`` and ``cmrseg contours-to-mask``: label maps to contour files and back."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from cmrseg.contours import contours_to_labels, slice_contours
from cmrseg.image import LabelMap
from cmrseg.io.atomic import check_output
from cmrseg.io.contours import read_contours, write_contours_csv, write_contours_json
from cmrseg.io.loader import read_any
from cmrseg.io.nifti import read_labels, write_labels
from cmrseg.labels import check_label_convention
from cmrseg.masks import as_stack

__all__ = ["export_contours", "contours_to_labelmap"]

_WRITERS = {".json": write_contours_json, ".csv": write_contours_csv}


def export_contours(labels_path: Path | str, output: Path | str, overwrite: bool = False) -> dict[int, dict]:
    """Smooth endo- and epicardial contours of every slice of a label map, written as JSON or CSV.

    Parameters
    ----------
    labels_path : path
        A 2D slice or 3D stack label map (one cine frame).
    output : path
        ``*.json`` or ``*.csv`` (the format follows the suffix); points in patient mm.
    overwrite : bool
        Replace an existing output.

    Returns
    -------
    dict
        ``{slice: {"endo": (K, 2) array or None, "epi": ...}}`` in pixel coordinates.
    """
    output = Path(output)
    writer = _WRITERS.get(output.suffix.lower())
    if writer is None:
        raise ValueError(f"output {output} must end in .json or .csv")
    check_output(output, overwrite)
    labels = read_labels(labels_path)
    if (text := check_label_convention(labels.array)) is not None:
        warnings.warn(f"{labels_path}: {text}", stacklevel=2)
    arr = as_stack(labels.array)
    if arr.ndim != 3:
        raise ValueError(
            f"{labels_path} has shape {labels.shape}; contours take a 2D slice or 3D stack (one cine frame)"
        )
    contours = {z: slice_contours(arr[:, :, z].astype(np.uint8)) for z in range(arr.shape[2])}
    writer(contours, labels.affine, output)
    return contours


def contours_to_labelmap(
    contours: Path | str, like: Path | str, output: Path | str, overwrite: bool = False
) -> LabelMap:
    """A label map (LV, MYO) filled from a contour file, on the grid of an image, written to ``output``.

    Parameters
    ----------
    contours : path
        ``contours.json`` or ``contours.csv`` as :func:`export_contours` writes them.
    like : path
        The image (NIfTI or DICOM folder) whose grid the label map takes.
    output : path
        The label map file.
    overwrite : bool
        Replace an existing output.

    Returns
    -------
    LabelMap
        What was written.
    """
    check_output(Path(output), overwrite)
    image = read_any(Path(like))
    shape = image.array.shape[:2] + ((image.array.shape[2],) if image.array.ndim >= 3 else (1,))
    labels = contours_to_labels(read_contours(contours), shape)
    arr = labels[:, :, 0] if image.array.ndim == 2 else labels
    result = LabelMap(arr, image.spacing[: arr.ndim], image.affine, dict(image.metadata))
    write_labels(result, output)
    return result
