"""Read mapping series: weighted images plus the time of each (TI, TE/T2-prep or spin-lock), in ms.

* NIfTI ``(X, Y, N)`` or ``(X, Y, Z, N)`` with a JSON sidecar of the same name
  (``series.nii.gz`` + ``series.json``) holding ``"InversionTime"``, ``"EchoTime"`` or
  ``"SpinLockTime"``: a list of N values in ms in image order, or Z such lists (one per slice).
* A DICOM folder: times from InversionTime (0018,0082), or the ``TI 100`` text that Siemens
  MOLLI writes in ImageComments, or EchoTime; or given by the caller.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from cmrseg.image import Image
from cmrseg.io.dicom import read_dicom_folder
from cmrseg.io.nifti import is_nifti, nifti_stem, read_image
from cmrseg.mapping.series import KINDS, MappingSeries

__all__ = ["read_series", "sidecar_path"]

_TI_COMMENT = re.compile(r"\bTI\s*[:=]?\s*(\d+(?:\.\d+)?)", re.IGNORECASE)


def sidecar_path(path: Path) -> Path:
    """The JSON sidecar of a NIfTI series: ``series.nii.gz`` -> ``series.json``.

    Parameters
    ----------
    path : pathlib.Path
        A NIfTI series file.

    Returns
    -------
    pathlib.Path
        The ``.json`` file beside it (it need not exist).
    """
    return path.with_name(nifti_stem(path) + ".json")


def _times_array(values: object, n_slices: int, n_images: int, where: str) -> np.ndarray:
    arr = np.asarray(values, float)
    if arr.ndim == 1:
        arr = np.tile(arr, (n_slices, 1))
    if arr.shape != (n_slices, n_images):
        raise ValueError(
            f"{where}: {arr.shape[-1] if arr.ndim else 0} times for {n_images} images "
            f"(and {n_slices} slices); counts must match"
        )
    return arr


def _from_nifti(path: Path, kind: str, times: object | None) -> MappingSeries:
    image = read_image(path)
    if image.array.ndim == 3:
        image = Image(image.array[:, :, None, :], image.spacing[:2] + (1.0,), image.affine, image.metadata)
    if image.array.ndim != 4:
        raise ValueError(f"{path}: a mapping series must be (X, Y, N) or (X, Y, Z, N), got {image.shape}")
    if times is None:
        side = sidecar_path(path)
        if not side.exists():
            raise ValueError(f"{path}: no times given and no sidecar {side.name} with '{kind}'")
        doc = json.loads(side.read_text())
        if kind not in doc:
            raise ValueError(f"{side} has no '{kind}' list (keys: {sorted(doc)})")
        times = doc[kind]
    return MappingSeries(image, _times_array(times, image.shape[2], image.shape[3], str(path)), kind)


def _dicom_times(tags: list[list[dict]], kind: str) -> np.ndarray | None:
    def one(t: dict) -> float | None:
        if kind == "InversionTime":
            if "InversionTime" in t:
                return t["InversionTime"]
            m = _TI_COMMENT.search(t.get("ImageComments", ""))
            return float(m.group(1)) if m else None
        return t.get("EchoTime") if kind == "EchoTime" else None

    vals = [[one(t) for t in row] for row in tags]
    if any(v is None for row in vals for v in row):
        return None
    return np.asarray(vals, float)


def _from_dicom(path: Path, kind: str, times: object | None, series: str | None) -> MappingSeries:
    image = read_dicom_folder(path, series=series)
    arr = image.array
    if arr.ndim == 3:  # one slice position, N images -> (X, Y, 1, N)
        arr = arr[:, :, None, :]
    if arr.ndim != 4:
        raise ValueError(f"{path}: expected several images per slice position for a mapping series, got {arr.shape}")
    spacing = image.spacing[:2] + ((image.spacing[2],) if len(image.spacing) == 3 and image.array.ndim == 4 else (1.0,))
    img = Image(arr, spacing, image.affine, image.metadata)
    if times is None:
        found = _dicom_times(image.metadata.get("frame_tags", []), kind)
        if found is None:
            raise ValueError(f"{path}: the DICOM images carry no {kind}; give the times (e.g. --times 100,180,...)")
        times = found
    return MappingSeries(img, _times_array(times, arr.shape[2], arr.shape[3], str(path)), kind)


def read_series(path: Path | str, kind: str, times: object | None = None, series: str | None = None) -> MappingSeries:
    """Read a mapping series (NIfTI + JSON sidecar, or DICOM folder); ``times`` overrides stored times.

    Parameters
    ----------
    path : pathlib.Path or str
        A NIfTI ``(X, Y, N)`` / ``(X, Y, Z, N)`` with a JSON sidecar, or a DICOM folder.
    kind : str
        The time of each image, one of :data:`cmrseg.mapping.series.KINDS`: ``InversionTime``,
        ``EchoTime`` or ``SpinLockTime``.
    times : sequence of float, optional
        Times in ms in image order: N values, or Z lists of N (one per slice); overrides the
        sidecar or DICOM headers.
    series : str, optional
        SeriesInstanceUID or SeriesNumber when a DICOM folder holds several.

    Returns
    -------
    MappingSeries
        ``(X, Y, Z, N)`` images (Z = 1 for a single slice) and ``(Z, N)`` times in ms.

    Raises
    ------
    ValueError
        ``kind`` is unknown, ``path`` is a file but not NIfTI, the image is not a series of
        several images per slice, no times are given nor found (no sidecar, no ``kind`` in it,
        or DICOM images without it), or the number of times does not match the images.
    FileNotFoundError
        ``path`` does not exist.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown time kind {kind!r}; valid: {list(KINDS)}")
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file or folder: {path}")
    if path.is_dir():
        return _from_dicom(path, kind, times, series)
    if is_nifti(path):
        return _from_nifti(path, kind, times)
    raise ValueError(f"{path} is not a NIfTI file or a DICOM folder")
