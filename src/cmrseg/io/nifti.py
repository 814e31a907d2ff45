"""NIfTI reading and writing that keeps geometry exactly."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np

from cmrseg.image import Image, LabelMap
from cmrseg.io.atomic import atomic_write

__all__ = ["read_image", "read_labels", "write_image", "write_labels", "is_nifti", "nifti_stem"]


def is_nifti(path: Path) -> bool:
    """Whether ``path`` names a NIfTI file (``.nii`` or ``.nii.gz``, any case).

    Parameters
    ----------
    path : pathlib.Path or str
        A file name; only the name is checked, not the file.

    Returns
    -------
    bool
        True for a ``.nii`` or ``.nii.gz`` name.
    """
    name = Path(path).name.lower()
    return name.endswith(".nii") or name.endswith(".nii.gz")


def nifti_stem(path: Path | str) -> str:
    """The file name without ``.nii.gz`` / ``.nii``: ``case01.nii.gz`` -> ``case01`` (``Path.stem`` keeps ``.nii``).

    Parameters
    ----------
    path : pathlib.Path or str
        A file name.

    Returns
    -------
    str
        The name without its NIfTI suffix (all lower or all upper case); other names unchanged.
    """
    name = Path(path).name
    for suffix in (".nii.gz", ".nii", ".NII.GZ", ".NII"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _spacing_known(header: nib.Nifti1Header, zooms: tuple[float, ...]) -> bool:
    """False for files with no orientation codes and unit voxels: the spacing was never recorded."""
    codes = (int(header["qform_code"]), int(header["sform_code"])) if "qform_code" in header else (1, 1)
    return not (codes == (0, 0) and all(z == 1.0 for z in zooms))


def _load(path: Path) -> tuple[np.ndarray, tuple[float, ...], np.ndarray, nib.Nifti1Header]:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    if not is_nifti(path):
        raise ValueError(f"{path} is not a NIfTI file (.nii or .nii.gz)")
    try:
        img = nib.load(str(path))
        data = np.asanyarray(img.dataobj)
    except Exception as exc:  # nibabel raises many types for corrupt files
        raise ValueError(f"cannot read {path} as NIfTI: {exc}") from None
    data = np.squeeze(data, axis=tuple(range(4, data.ndim))) if data.ndim > 4 else data
    if data.ndim < 2:
        raise ValueError(f"{path} has shape {data.shape}; expected a 2D, 3D or 4D image")
    zooms = tuple(float(z) for z in img.header.get_zooms()[: min(data.ndim, 3)])
    zooms = tuple(z if z > 0 else 1.0 for z in zooms)
    return data, zooms, img.affine.copy(), img.header


def read_image(path: Path | str) -> Image:
    """Read a 2D/3D/4D NIfTI as an :class:`Image` (float32, scanner scaling applied).

    Parameters
    ----------
    path : pathlib.Path or str
        A ``.nii`` or ``.nii.gz`` file; dimensions past the fourth are squeezed away.

    Returns
    -------
    Image
        ``(X, Y)``, ``(X, Y, Z)`` or ``(X, Y, Z, T)`` float32 array with the file's spacing (mm) and
        affine; metadata ``source``, ``spacing_known`` and, for 4D files, ``frame_duration_ms``.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    ValueError
        ``path`` is not a NIfTI file name, cannot be read as NIfTI, or holds fewer than 2 dimensions.
    """
    data, zooms, affine, header = _load(Path(path))
    meta = {"source": str(path), "spacing_known": _spacing_known(header, zooms)}
    if data.ndim == 4:
        meta["frame_duration_ms"] = float(header.get_zooms()[3])
    return Image(np.asarray(data, np.float32), zooms, affine, meta)


def read_labels(path: Path | str) -> LabelMap:
    """Read a NIfTI label map; values must be integers.

    Parameters
    ----------
    path : pathlib.Path or str
        A ``.nii`` or ``.nii.gz`` file; float values are accepted when they are whole numbers.

    Returns
    -------
    LabelMap
        The labels as int16, with the file's spacing (mm) and affine.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    ValueError
        ``path`` is not a NIfTI file name, cannot be read as NIfTI, holds fewer than 2 dimensions,
        or holds non-integer (or non-finite) values.
    """
    data, zooms, affine, header = _load(Path(path))
    arr = np.asarray(data)
    if not np.issubdtype(arr.dtype, np.integer):
        if not np.all(np.isfinite(arr)) or not np.allclose(arr, np.round(arr)):
            raise ValueError(f"{path} holds non-integer values; not a label map")
        arr = np.round(arr)
    return LabelMap(
        arr.astype(np.int16), zooms, affine, {"source": str(path), "spacing_known": _spacing_known(header, zooms)}
    )


def _save(array: np.ndarray, spacing: tuple[float, ...], affine: np.ndarray, path: Path, known: bool = True) -> None:
    # no affine at all when the spacing is unknown: nibabel would otherwise mark the sform as set
    img = nib.Nifti1Image(array, affine if known else None)
    if known:
        img.header.set_qform(affine, code=1)
        img.header.set_sform(affine, code=1)
    zooms = list(spacing) + list(img.header.get_zooms()[len(spacing) :])
    img.header.set_zooms(zooms[: array.ndim])
    atomic_write(Path(path), lambda tmp: nib.save(img, str(tmp)))


def write_image(image: Image, path: Path | str) -> None:
    """Write an :class:`Image` as float32 NIfTI with its spacing and affine.

    Parameters
    ----------
    image : Image
        The image; when its metadata has ``spacing_known`` false, no affine is stored.
    path : pathlib.Path or str
        The ``.nii`` / ``.nii.gz`` file to write (atomically).

    Returns
    -------
    None
    """
    _save(
        image.array.astype(np.float32),
        image.spacing,
        image.affine,
        Path(path),
        image.metadata.get("spacing_known", True),
    )


def write_labels(labels: LabelMap, path: Path | str) -> None:
    """Write a :class:`LabelMap` as uint8 NIfTI with its spacing and affine.

    Parameters
    ----------
    labels : LabelMap
        The labels; when its metadata has ``spacing_known`` false, no affine is stored.
    path : pathlib.Path or str
        The ``.nii`` / ``.nii.gz`` file to write (atomically).

    Returns
    -------
    None
    """
    _save(
        labels.array.astype(np.uint8),
        labels.spacing,
        labels.affine,
        Path(path),
        labels.metadata.get("spacing_known", True),
    )
