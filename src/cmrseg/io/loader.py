"""Read "whatever the user gave us": a NIfTI file, a DICOM folder or a folder of NIfTI files."""

from __future__ import annotations

from pathlib import Path

from cmrseg.image import Image
from cmrseg.io.nifti import is_nifti, read_image

__all__ = ["read_any", "list_inputs"]


def _nifti_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and is_nifti(p))


def read_any(path: Path, series: str | None = None) -> Image:
    """Read a NIfTI file or a DICOM folder as an :class:`Image`.

    Parameters
    ----------
    path : pathlib.Path
        A NIfTI file (``.nii`` / ``.nii.gz``) or a DICOM folder.
    series : str, optional
        For a DICOM folder: the series to read (passed to :func:`cmrseg.io.dicom.read_dicom_folder`).

    Returns
    -------
    Image
        The image.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    ValueError
        ``path`` is a file but not a NIfTI file.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file or folder: {path}")
    if path.is_dir():
        from cmrseg.io.dicom import read_dicom_folder

        return read_dicom_folder(path, series=series)
    if is_nifti(path):
        return read_image(path)
    raise ValueError(f"{path} is not a NIfTI file (.nii/.nii.gz) or a DICOM folder")


def list_inputs(src: Path, dst: Path) -> list[tuple[Path, Path]]:
    """Pairs (input, output) for a file, a DICOM folder, or a folder of NIfTI files.

    Parameters
    ----------
    src : pathlib.Path
        A file, a DICOM folder, or a folder of NIfTI files.
    dst : pathlib.Path
        The output: a folder when ``src`` is a folder of NIfTI files, else a ``.nii`` / ``.nii.gz`` file.

    Returns
    -------
    list of tuple of (pathlib.Path, pathlib.Path)
        One ``(input, output)`` pair per NIfTI file of a folder (the output keeps the file name,
        under ``dst``), else the single pair ``(src, dst)``.

    Raises
    ------
    FileNotFoundError
        ``src`` does not exist.
    ValueError
        ``src`` is a folder of NIfTI files and ``dst`` is a NIfTI file name, or otherwise ``dst``
        does not end in ``.nii`` or ``.nii.gz``.
    """
    if not src.exists():
        raise FileNotFoundError(f"no such file or folder: {src}")
    if src.is_dir():
        files = _nifti_files(src)
        if files:
            if is_nifti(dst):
                raise ValueError(f"input {src} is a folder of NIfTI files, so the output must be a folder, not {dst}")
            return [(f, dst / f.name) for f in files]
    if not is_nifti(dst):
        raise ValueError(f"output {dst} must end in .nii or .nii.gz")
    return [(src, dst)]
