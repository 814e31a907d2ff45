"""DICOM folder reading: series grouping, geometry, slice and frame ordering.

Slices are sorted along the slice normal (cross product of the ImageOrientationPatient
cosines) and frames at one position by TriggerTime (then InstanceNumber). The array is in
NIfTI voxel order ``(X, Y, Z[, T])`` with X along the DICOM row direction (columns) and the
affine in RAS mm, so label maps written as NIfTI overlay the images in any viewer.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cmrseg.image import Image

__all__ = ["read_dicom_folder", "list_series", "SeriesInfo", "dicom_affine"]


@dataclass(frozen=True)
class SeriesInfo:
    uid: str
    number: int | None
    description: str
    files: tuple[Path, ...]

    def describe(self) -> str:
        return f"{self.uid} (number {self.number}, '{self.description}', {len(self.files)} images)"


def _read_headers(folder: Path) -> list[tuple[Path, Any]]:
    import pydicom

    out = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds = pydicom.dcmread(path, stop_before_pixels=True)
        except Exception:
            continue
        if "ImagePositionPatient" in ds and "PixelSpacing" in ds:
            out.append((path, ds))
    return out


def list_series(folder: Path | str) -> list[SeriesInfo]:
    """The image series found under ``folder`` (recursively)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"no such DICOM folder: {folder}")
    groups: dict[str, list[tuple[Path, Any]]] = defaultdict(list)
    with warnings.catch_warnings():  # pydicom warns on non-conformant UIDs, common in the wild
        warnings.simplefilter("ignore")
        for path, ds in _read_headers(folder):
            groups[str(ds.get("SeriesInstanceUID", "unknown"))].append((path, ds))
    return [
        SeriesInfo(
            uid,
            items[0][1].get("SeriesNumber"),
            str(items[0][1].get("SeriesDescription", "")),
            tuple(p for p, _ in items),
        )
        for uid, items in sorted(groups.items())
    ]


def dicom_affine(
    position: np.ndarray, orientation: np.ndarray, pixel_spacing: tuple[float, float], slice_step_mm: float
) -> np.ndarray:
    """RAS affine for an array indexed ``(column, row, slice)``.

    ``position`` is the ImagePositionPatient of the first slice (LPS, mm), ``orientation`` the
    six direction cosines, ``pixel_spacing`` (row spacing, column spacing) in mm.
    """
    row_cos, col_cos = np.asarray(orientation[:3], float), np.asarray(orientation[3:], float)
    normal = np.cross(row_cos, col_cos)
    lps = np.eye(4)
    lps[:3, 0] = row_cos * pixel_spacing[1]
    lps[:3, 1] = col_cos * pixel_spacing[0]
    lps[:3, 2] = normal * slice_step_mm
    lps[:3, 3] = position
    return np.diag([-1.0, -1.0, 1.0, 1.0]) @ lps


def _pixels(path: Path) -> tuple[np.ndarray, Any]:
    import pydicom

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(path)
    arr = ds.pixel_array.astype(np.float32)
    arr = arr * float(ds.get("RescaleSlope", 1) or 1) + float(ds.get("RescaleIntercept", 0) or 0)
    return arr.T, ds  # (rows, cols) -> (X = column, Y = row)


def _timing_tags(ds: Any) -> dict[str, Any]:
    """Per-image timing facts used by mapping: InversionTime, EchoTime, ImageComments."""
    out: dict[str, Any] = {}
    for tag in ("InversionTime", "EchoTime"):
        if tag in ds and ds.get(tag) not in (None, ""):
            out[tag] = float(ds.get(tag))
    if ds.get("ImageComments"):
        out["ImageComments"] = str(ds.get("ImageComments"))
    return out


def read_dicom_folder(folder: Path | str, series: str | None = None) -> Image:
    """Read one DICOM series from a folder as a 2D/3D/4D :class:`Image`.

    Parameters
    ----------
    folder : Path
        Folder holding the DICOM files (searched recursively).
    series : str, optional
        SeriesInstanceUID or SeriesNumber to read when the folder holds several series.
    """
    all_series = list_series(folder)
    if not all_series:
        raise ValueError(f"no DICOM images found in {folder}")
    if series is not None:
        chosen = [s for s in all_series if series in (s.uid, str(s.number))]
        if not chosen:
            raise ValueError(
                f"series {series!r} not in {folder}; found: " + "; ".join(s.describe() for s in all_series)
            )
    elif len(all_series) > 1:
        raise ValueError(
            f"{folder} holds {len(all_series)} series; choose one with --series: "
            + "; ".join(s.describe() for s in all_series)
        )
    else:
        chosen = all_series
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _read_series(chosen[0])


def _read_series(info: SeriesInfo) -> Image:
    frames: list[tuple[np.ndarray, Any]] = []
    for path in info.files:
        arr, ds = _pixels(path)
        ds.filename_ = Path(path).name
        frames.append((arr, ds))
    first = frames[0][1]
    orientation = np.asarray(first.ImageOrientationPatient, float)
    normal = np.cross(orientation[:3], orientation[3:])
    shapes = {a.shape for a, _ in frames}
    if len(shapes) > 1:
        raise ValueError(f"series {info.uid} mixes image sizes {sorted(shapes)}")
    by_pos: dict[float, list[tuple[np.ndarray, Any]]] = defaultdict(list)
    for arr, ds in frames:
        by_pos[round(float(np.dot(np.asarray(ds.ImagePositionPatient, float), normal)), 2)].append((arr, ds))
    positions = sorted(by_pos)
    for pos in positions:
        by_pos[pos].sort(
            key=lambda f: (float(f[1].get("TriggerTime", 0) or 0), int(f[1].get("InstanceNumber", 0) or 0))
        )
    n_frames = min(len(v) for v in by_pos.values())
    stack = np.stack([np.stack([a for a, _ in by_pos[p][:n_frames]], -1) for p in positions], 2)  # X,Y,Z,T
    steps = np.diff(positions)
    step = float(np.median(steps)) if len(steps) else float(first.get("SliceThickness", 1.0) or 1.0)
    spacing_rc = (float(first.PixelSpacing[0]), float(first.PixelSpacing[1]))
    origin_ds = by_pos[positions[0]][0][1]
    affine = dicom_affine(np.asarray(origin_ds.ImagePositionPatient, float), orientation, spacing_rc, step)
    meta: dict[str, Any] = {
        "source": str(Path(info.files[0]).parent),
        "series_uid": info.uid,
        "series_description": info.description,
        "slice_positions_mm": [float(p) for p in positions],
        "files": [[ds.filename_ for _, ds in by_pos[p][:n_frames]] for p in positions],
        "frame_tags": [[_timing_tags(ds) for _, ds in by_pos[p][:n_frames]] for p in positions],
        "trigger_time_ms": [float(ds.get("TriggerTime", 0) or 0) for _, ds in by_pos[positions[0]][:n_frames]],
    }
    for key, tag in (("inversion_time_ms", "InversionTime"), ("echo_time_ms", "EchoTime")):
        if tag in first:
            meta[key] = float(first.get(tag))
    if n_frames == 1:
        stack = stack[..., 0]
    if stack.ndim == 3 and stack.shape[2] == 1:
        stack = stack[:, :, 0]
    spacing = (spacing_rc[1], spacing_rc[0], abs(step))[: min(stack.ndim, 3)]
    return Image(stack.astype(np.float32), spacing, affine, meta)
