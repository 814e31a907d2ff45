"""DICOM folder reading: series grouping, integrity checks, geometry, slice and frame ordering.

Slices are sorted along the slice normal (cross product of the ImageOrientationPatient
cosines) and frames at one position by TriggerTime. The array is in NIfTI voxel order
``(X, Y, Z[, T])`` with X along the DICOM row direction (columns) and the affine in RAS mm, so
label maps written as NIfTI overlay the images in any viewer.

Multi-frame (enhanced MR, legacy-converted) files are read frame by frame: each frame becomes a
header of its own, named ``file.dcm#k``, holding the file's attributes with those of its shared and
per-frame functional groups under their single-frame keywords (position, orientation, spacing,
trigger delay, inversion and echo times, rescale; :data:`_FRAME_TAGS`), so every rule below applies
to frames as to files.

Integrity policy: a folder that is slightly broken gives a one-line ``ValueError`` naming the
file(s), never a silently different image.

* Files that are not DICOM (no ``DICM`` prefix: a README, random bytes, a file cut inside its
  first 132 bytes) and DICOM objects without an image (a structured report) are skipped with one
  warning listing them, and only when the series read still forms a complete grid; otherwise
  the grid error lists them too. A DICOMDIR is ignored silently.
* A DICOM file that pydicom cannot parse, or an image of the series that lacks Rows, Columns,
  PixelData, ImagePositionPatient, ImageOrientationPatient or PixelSpacing, holds values that
  are not finite numbers in range, or whose pixel data cannot be decoded, is an error.
* The series must be a complete grid: the same number of images at every slice position, one
  ImagePositionPatient per position, evenly spaced positions along the normal (a gap is
  refused), one orientation, PixelSpacing and image size; the same image twice (one
  SOPInstanceUID) is refused.
* Frames at one position are ordered by TriggerTime. Where no image of the series carries
  TriggerTime, or all images at a position share one value (a dynamic series), InstanceNumber
  orders them; it must then be present and distinct. TriggerTime missing on only some images,
  or shared by only some images at one position, is refused: any order would be a guess.
"""

from __future__ import annotations

import copy
import os
import warnings
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.errors import InvalidDicomError
from pydicom.multival import MultiValue
from pydicom.uid import UID

from cmrseg.image import Image

__all__ = ["read_dicom_folder", "list_series", "SeriesInfo", "dicom_affine", "frame_value", "split_frame_name"]

_UNKNOWN = "unknown"  # series key of images without a SeriesInstanceUID
_DICOMDIR = "1.2.840.10008.1.3.10"
_REQUIRED = ("Rows", "Columns", "PixelData", "ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing")
_MAX_POSITION_MM = 1e5
_MAX_SPACING_MM = 1e3
_MAX_TRIGGER_MS = 1e5
_COSINE_TOL = 1e-3  # unit length and orthogonality of the direction cosines
_SAME_ORIENTATION_TOL = 1e-4
_SAME_POSITION_MM = 0.01
_LISTED = 5  # file names listed in one message
# multi-frame (enhanced) images: single-frame keyword -> the keywords that carry it in the functional
# groups (Enhanced MR, Legacy Converted Enhanced MR: unassigned converted attributes)
_FRAME_TAGS = {
    "ImagePositionPatient": ("ImagePositionPatient",),
    "ImageOrientationPatient": ("ImageOrientationPatient",),
    "PixelSpacing": ("PixelSpacing",),
    "SliceThickness": ("SliceThickness",),
    "TriggerTime": ("NominalCardiacTriggerDelayTime", "TriggerTime"),
    "InversionTime": ("InversionTimes", "InversionTime"),
    "EchoTime": ("EffectiveEchoTime", "EchoTime"),
    "RescaleSlope": ("RescaleSlope",),
    "RescaleIntercept": ("RescaleIntercept",),
    "ImageComments": ("ImageComments",),
    "ImageType": ("FrameType", "ImageType"),
}
_FIRST_OF = {"InversionTimes"}  # multi-valued in the groups, one value per frame here
_FRAME_SKIP = {
    pydicom.tag.Tag(k)
    for k in ("PixelData", "NumberOfFrames", "SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence")
}


@dataclass(frozen=True)
class SeriesInfo:
    uid: str
    number: int | None
    description: str
    files: tuple[Path, ...]

    def describe(self) -> str:
        return f"{self.uid} (number {self.number}, '{self.description}', {len(self.files)} images)"


@dataclass
class _Scan:
    """What a folder holds: image headers by SeriesInstanceUID, skipped and unreadable files."""

    series: dict[str, list[tuple[Path, Any]]] = field(default_factory=lambda: defaultdict(list))
    skipped: list[Path] = field(default_factory=list)
    broken: list[tuple[Path, str]] = field(default_factory=list)


@dataclass(frozen=True)
class _Frame:
    """One image file of a series with its checked geometry (LPS mm, ms)."""

    path: Path
    ds: Any
    position: np.ndarray  # (3,) ImagePositionPatient
    orientation: np.ndarray  # (6,) row then column direction cosines
    spacing: tuple[float, float]  # (row spacing, column spacing)
    shape: tuple[int, int]  # (Rows, Columns)
    trigger: float | None  # TriggerTime, None when absent


def _names(paths: Any, limit: int = _LISTED) -> str:
    names = [Path(p).name for p in paths]
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _reason(exc: BaseException) -> str:
    """An exception as one short line."""
    return (" ".join(str(exc).split()) or type(exc).__name__)[:200]


def _classify(path: Path) -> tuple[str, Any]:
    """``("image", (uid, ds))``, ``("skip", None)``, ``("ignore", None)`` or ``("broken", reason)``."""
    try:
        ds = pydicom.dcmread(path, defer_size="4 KB")  # pixel data stays on disk until decoded
    except InvalidDicomError:
        return "skip", None
    except Exception as exc:  # pydicom raises many kinds on damaged files
        return "broken", _reason(exc)
    try:
        meta = getattr(ds, "file_meta", None) or {}
        sop = str(ds.get("SOPClassUID") or meta.get("MediaStorageSOPClassUID") or "")
        if sop == _DICOMDIR or "DirectoryRecordSequence" in ds:
            return "ignore", None
        if not (any(tag in ds for tag in _REQUIRED) or "Image Storage" in UID(sop).name):
            return "skip", None
        return "image", (str(ds.get("SeriesInstanceUID") or _UNKNOWN), ds)
    except Exception as exc:
        return "broken", _reason(exc)


class _FrameView(pydicom.Dataset):
    """One frame of a multi-frame (enhanced) image as a single-frame header: the file's own
    attributes, those of its shared and per-frame functional groups flattened to their
    single-frame keywords (:data:`_FRAME_TAGS`), and its pixels decoded from the file on demand."""

    def __init__(self, parent: pydicom.Dataset, index: int, flat: dict[str, Any]) -> None:
        super().__init__()
        for tag in parent.keys():
            if tag not in _FRAME_SKIP:
                self.add(copy.copy(parent[tag]))  # a copy: setting a value here leaves the file's alone
        for keyword, value in flat.items():
            setattr(self, keyword, value)
        self.InstanceNumber = index + 1
        self._parent, self.frame = parent, index + 1

    def __contains__(self, name: Any) -> bool:
        return name == "PixelData" or super().__contains__(name)

    @property
    def pixel_array(self) -> np.ndarray:  # type: ignore[override]
        """The frame's stored values (the whole file is decoded once and kept)."""
        frames = self._parent.__dict__.get("_cmrseg_frames")
        if frames is None:
            frames = self._parent.pixel_array.reshape(-1, int(self._parent.Rows), int(self._parent.Columns))
            self._parent.__dict__["_cmrseg_frames"] = frames
        if self.frame > len(frames):
            raise ValueError(f"the file holds pixel data for {len(frames)} frames, not {self._parent.NumberOfFrames}")
        return frames[self.frame - 1]


def _group_value(item: Any, keywords: tuple[str, ...]) -> Any:
    """The first of ``keywords`` in a functional-group item, one sequence down (as DICOM nests them)."""
    for elem in item:
        if elem.VR != "SQ":
            continue
        for sub in elem.value:
            for keyword in keywords:
                if keyword in sub and sub[keyword].value not in (None, "", []):
                    value = sub[keyword].value
                    return value[0] if keyword in _FIRST_OF else value
    return None


def split_frame_name(name: str) -> tuple[str, int | None]:
    """``cine.dcm#3`` (frame 3 of a multi-frame file, as this reader names frames in
    ``metadata["files"]``) -> ``("cine.dcm", 3)``; a single-frame file's name -> ``(name, None)``."""
    stem, sep, number = name.rpartition("#")
    return (stem, int(number)) if sep and number.isdigit() else (name, None)


def frame_value(ds: pydicom.Dataset, frame: int, keyword: str) -> Any:
    """The single-frame attribute ``keyword`` (e.g. ``ImagePositionPatient``) of frame ``frame``
    (1-based) of a multi-frame image, from its per-frame functional groups, else the shared ones;
    None when neither has it. Keywords: those of :data:`_FRAME_TAGS`."""
    per_frame = ds.get("PerFrameFunctionalGroupsSequence") or []
    shared = ds.get("SharedFunctionalGroupsSequence") or [pydicom.Dataset()]
    value = _group_value(per_frame[frame - 1], _FRAME_TAGS[keyword]) if len(per_frame) >= frame else None
    return _group_value(shared[0], _FRAME_TAGS[keyword]) if value is None else value


def _frame_views(path: Path, ds: pydicom.Dataset) -> list[tuple[Path, pydicom.Dataset]]:
    """A multi-frame image as one header per frame (``file.dcm#3``: its third frame); a single frame as is."""
    try:
        n = int(ds.get("NumberOfFrames") or 1)
    except (TypeError, ValueError):
        return [(path, ds)]  # malformed: the header checks name it
    if n <= 1:
        return [(path, ds)]
    per_frame = ds.get("PerFrameFunctionalGroupsSequence") or []
    if len(per_frame) not in (0, n):
        raise ValueError(f"{len(per_frame)} per-frame functional groups for {n} frames")
    views = []
    for k in range(n):
        flat = {keyword: frame_value(ds, k + 1, keyword) for keyword in _FRAME_TAGS}
        flat = {keyword: value for keyword, value in flat.items() if value is not None}
        views.append((Path(f"{path}#{k + 1}"), _FrameView(ds, k, flat)))
    return views


def _scan(folder: Path) -> _Scan:
    if not folder.is_dir():
        raise FileNotFoundError(f"no such DICOM folder: {folder}")
    scan = _Scan()
    with warnings.catch_warnings():  # pydicom warns on non-conformant UIDs, common in the wild
        warnings.simplefilter("ignore")
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            kind, value = _classify(path)
            if kind == "image":
                try:
                    scan.series[value[0]].extend(_frame_views(path, value[1]))
                except Exception as exc:  # a damaged multi-frame header
                    scan.broken.append((path, f"multi-frame image: {_reason(exc)}"))
            elif kind == "skip":
                scan.skipped.append(path)
            elif kind == "broken":
                scan.broken.append((path, value))
    return scan


def _series_number(ds: Any) -> int | None:
    try:
        return int(ds.get("SeriesNumber"))
    except Exception:  # absent or malformed
        return None


def _text(ds: Any, tag: str) -> str:
    """A header value as text; ``""`` when absent or malformed (pydicom converts on access)."""
    try:
        return str(ds.get(tag) or "")
    except Exception:
        return ""


def _infos(scan: _Scan) -> list[SeriesInfo]:
    return [
        SeriesInfo(
            uid, _series_number(items[0][1]), _text(items[0][1], "SeriesDescription"), tuple(p for p, _ in items)
        )
        for uid, items in sorted(scan.series.items())
    ]


def list_series(folder: Path | str) -> list[SeriesInfo]:
    """The image series found under ``folder`` (recursively).

    Parameters
    ----------
    folder : pathlib.Path or str
        A folder of DICOM files, flat or in subfolders.

    Returns
    -------
    list of SeriesInfo
        One per SeriesInstanceUID, sorted by UID: number, description and files.

    Raises
    ------
    FileNotFoundError
        ``folder`` is not a folder.

    Notes
    -----
    Files that are not DICOM images, or that pydicom cannot parse, are not listed;
    :func:`read_dicom_folder` reports them.
    """
    return _infos(_scan(Path(folder)))


def dicom_affine(
    position: np.ndarray, orientation: np.ndarray, pixel_spacing: tuple[float, float], slice_step_mm: float
) -> np.ndarray:
    """RAS affine for an array indexed ``(column, row, slice)``.

    Parameters
    ----------
    position : np.ndarray
        The ImagePositionPatient of the first slice (LPS, mm), 3 values.
    orientation : np.ndarray
        The six direction cosines of ImageOrientationPatient (row direction, then column direction).
    pixel_spacing : tuple of float
        PixelSpacing: (row spacing, column spacing) in mm.
    slice_step_mm : float
        The distance between slices along the slice normal (cross product of the cosines), in mm.

    Returns
    -------
    np.ndarray
        4x4 voxel -> patient (RAS, mm) matrix.
    """
    row_cos, col_cos = np.asarray(orientation[:3], float), np.asarray(orientation[3:], float)
    normal = np.cross(row_cos, col_cos)
    lps = np.eye(4)
    lps[:3, 0] = row_cos * pixel_spacing[1]
    lps[:3, 1] = col_cos * pixel_spacing[0]
    lps[:3, 2] = normal * slice_step_mm
    lps[:3, 3] = position
    return np.diag([-1.0, -1.0, 1.0, 1.0]) @ lps


def _chosen(scan: _Scan, series: str | Sequence[str] | None, folder: Path) -> tuple[str, ...]:
    """The SeriesInstanceUID(s) to read: one as :func:`_choose` finds it, or every UID of a sequence."""
    if isinstance(series, str) and "," in series:  # --series UID1,UID2,...: one stack from several series
        series = series.split(",")
    if series is None or isinstance(series, str):
        return (_choose(scan, series, folder),)
    uids = tuple(dict.fromkeys(str(s).strip() for s in series))
    if not uids:
        raise ValueError("no series given to read")
    missing = [u for u in uids if u not in scan.series]
    if missing:
        raise ValueError(f"series {', '.join(missing[:_LISTED])} not in {folder}; give SeriesInstanceUIDs of it")
    return uids


def _choose(scan: _Scan, series: str | None, folder: Path) -> str:
    """The SeriesInstanceUID to read: the only one, or the one ``series`` names unambiguously."""
    infos = _infos(scan)
    listing = "; ".join(s.describe() for s in infos)
    if series is None:
        if len(infos) == 1:
            return infos[0].uid
        if _UNKNOWN in scan.series:
            lacking = [p for p, _ in scan.series[_UNKNOWN]]
            raise ValueError(
                f"{folder}: {_names(lacking)} carry no SeriesInstanceUID while the other images do; "
                "remove them or choose a series with --series"
            )
        raise ValueError(f"{folder} holds {len(infos)} series; choose one with --series: {listing}")
    wanted = str(series).strip()
    if any(s.uid == wanted for s in infos):
        return wanted
    numbered = [s for s in infos if s.number is not None and str(s.number) == wanted]
    if len(numbered) > 1:
        raise ValueError(
            f"series number {wanted} is ambiguous in {folder}: {len(numbered)} series carry it; "
            "give the SeriesInstanceUID: " + "; ".join(s.describe() for s in numbered)
        )
    if not numbered:
        raise ValueError(f"series {series!r} not in {folder}; found: {listing}")
    return numbered[0].uid


def _has(ds: Any, tag: str) -> bool:
    if tag not in ds:
        return False
    if tag == "PixelData":  # deferred: reading the value here would load it
        return True
    try:
        value = ds[tag].value
    except Exception:
        return True  # present but malformed: the value checks name it
    return not (value is None or (isinstance(value, (str, bytes, list, MultiValue)) and len(value) == 0))


def _check_required(items: list[tuple[Path, Any]]) -> None:
    problems = []
    for tag in _REQUIRED:
        lacking = [path for path, ds in items if not _has(ds, tag)]
        if lacking:
            problems.append(f"{len(lacking)} of {len(items)} images lack {tag} ({_names(lacking)})")
    if problems:
        raise ValueError("; ".join(problems))


def _numbers(ds: Any, tag: str, count: int, path: Path, limit: float) -> np.ndarray:
    """``count`` finite numbers with ``|value| <= limit`` from ``tag``, else a ValueError naming ``path``."""
    try:
        raw = ds[tag].value
        values = list(raw) if isinstance(raw, (list, tuple, MultiValue)) else [raw]
        arr = np.array([float(v) for v in values], float)
    except Exception as exc:
        raise ValueError(f"{path}: {tag} is not numeric ({_reason(exc)})") from None
    if arr.shape != (count,):
        raise ValueError(f"{path}: {tag} must hold {count} number(s), got {len(arr)}: {arr.tolist()}")
    if not np.all(np.isfinite(arr)) or np.any(np.abs(arr) > limit):
        raise ValueError(f"{path}: {tag} {arr.tolist()} is out of range (finite, |value| <= {limit:g})")
    return arr


def _size(ds: Any, tag: str, path: Path) -> int:
    value = _numbers(ds, tag, 1, path, 65535)[0]
    if value < 1 or value != int(value):
        raise ValueError(f"{path}: {tag} must be a positive whole number, got {value:g}")
    return int(value)


def _trigger(ds: Any, path: Path) -> float | None:
    if not _has(ds, "TriggerTime"):
        return None
    value = float(_numbers(ds, "TriggerTime", 1, path, _MAX_TRIGGER_MS)[0])
    if value < 0:
        raise ValueError(f"{path}: TriggerTime {value:g} ms is negative")
    return value


def _frame(path: Path, ds: Any) -> _Frame:
    """Check one image's header; see the module notes for the limits."""
    orientation = _numbers(ds, "ImageOrientationPatient", 6, path, 1.0 + _COSINE_TOL)
    row, col = orientation[:3], orientation[3:]
    if max(abs(np.linalg.norm(row) - 1), abs(np.linalg.norm(col) - 1), abs(row @ col)) > _COSINE_TOL:
        raise ValueError(f"{path}: ImageOrientationPatient {orientation.tolist()} is not two orthogonal unit vectors")
    spacing = _numbers(ds, "PixelSpacing", 2, path, _MAX_SPACING_MM)
    if np.any(spacing <= 0):
        raise ValueError(f"{path}: PixelSpacing {spacing.tolist()} must be positive")
    return _Frame(
        path,
        ds,
        _numbers(ds, "ImagePositionPatient", 3, path, _MAX_POSITION_MM),
        orientation,
        (float(spacing[0]), float(spacing[1])),
        (_size(ds, "Rows", path), _size(ds, "Columns", path)),
        _trigger(ds, path),
    )


def _check_unique(frames: list[_Frame]) -> None:
    by_uid: dict[str, list[Path]] = defaultdict(list)
    for f in frames:
        uid = _text(f.ds, "SOPInstanceUID")
        if uid and isinstance(f.ds, _FrameView):
            uid = f"{uid} frame {f.ds.frame}"
        if uid:
            by_uid[uid].append(f.path)
    for uid, paths in by_uid.items():
        if len(paths) > 1:
            raise ValueError(f"{_names(paths)} are the same image (SOPInstanceUID {uid}); remove the duplicates")


def _check_same(frames: list[_Frame], values: list[Any], what: str, tol: float) -> None:
    """Refuse when ``values`` (one per frame) differ by more than ``tol``, naming the odd files."""
    vals = np.asarray(values, float).reshape(len(frames), -1)
    uniq, counts = np.unique(vals.round(6), axis=0, return_counts=True)
    ref = uniq[int(np.argmax(counts))]
    odd = [i for i, v in enumerate(vals) if np.max(np.abs(v - ref)) > tol]
    if odd:
        raise ValueError(
            f"{what} differs within the series: {vals[odd[0]].tolist()} in {_names(frames[i].path for i in odd)}, "
            f"{ref.tolist()} in the other {len(frames) - len(odd)} images"
        )


def _check_consistent(frames: list[_Frame]) -> None:
    _check_same(frames, [f.shape for f in frames], "image size (Rows, Columns)", 0.0)
    _check_same(frames, [f.spacing for f in frames], "PixelSpacing", 1e-6)
    _check_same(frames, [f.orientation for f in frames], "ImageOrientationPatient", _SAME_ORIENTATION_TOL)


def _slices(frames: list[_Frame], normal: np.ndarray) -> dict[float, list[_Frame]]:
    """Frames by slice position along ``normal`` (mm, 0.01 mm bins), sorted by position."""
    by_pos: dict[float, list[_Frame]] = defaultdict(list)
    for f in frames:
        by_pos[round(float(np.dot(f.position, normal)), 2)].append(f)
    for pos, group in by_pos.items():
        ref = np.median([f.position for f in group], axis=0)
        odd = [f.path for f in group if np.max(np.abs(f.position - ref)) > _SAME_POSITION_MM]
        if odd:
            raise ValueError(
                f"{_names(odd)}: ImagePositionPatient differs from the other images at slice position {pos:.2f} mm"
            )
    return dict(sorted(by_pos.items()))


def _check_counts(by_pos: dict[float, list[_Frame]]) -> None:
    counts = Counter(len(g) for g in by_pos.values())
    top = max(counts.values())
    expected = max(n for n, c in counts.items() if c == top)
    odd = [(pos, g) for pos, g in by_pos.items() if len(g) != expected]
    if odd:
        where = ", ".join(
            f"{len(g)} at {pos:.2f} mm" + (f" ({_names(f.path for f in g)})" if len(g) <= _LISTED else "")
            for pos, g in odd
        )
        raise ValueError(
            f"incomplete series: {expected} images at each of {len(by_pos) - len(odd)} slice positions but {where}; "
            "a file is missing, duplicated or misplaced"
        )


def _check_spacing(positions: list[float]) -> None:
    """Refuse uneven steps between slice positions (mm); the most common step is the reference."""
    steps = np.diff(positions)
    if len(steps) < 2:
        return
    common = Counter(np.round(steps, 1).tolist()).most_common()
    step = min(s for s, c in common if c == common[0][1])
    odd = [i for i, s in enumerate(steps) if abs(s - step) > max(0.05, 0.02 * step)]
    if odd:
        where = ", ".join(f"{steps[i]:.2f} mm from {positions[i]:.2f} to {positions[i + 1]:.2f} mm" for i in odd)
        raise ValueError(f"uneven slice spacing (a slice missing?): {where}, where the other steps are {step:.2f} mm")


def _check_stack(by_pos: dict[float, list[_Frame]], normal: np.ndarray, spacing: tuple[float, float]) -> None:
    """Every slice must lie on the line through the first one along ``normal``."""
    origin = next(iter(by_pos.values()))[0].position
    for pos, group in by_pos.items():
        offset = group[0].position - origin
        shift = float(np.linalg.norm(offset - np.dot(offset, normal) * normal))
        if shift > 0.5 * min(spacing):
            raise ValueError(
                f"slice at {pos:.2f} mm ({_names(f.path for f in group)}) is shifted in-plane by {shift:.2f} mm "
                "from the first slice; the images do not form one stack"
            )


def _by_instance_number(pos: float, group: list[_Frame]) -> list[_Frame]:
    numbers = []
    for f in group:
        try:
            numbers.append(int(f.ds.get("InstanceNumber")))
        except Exception:  # absent or malformed
            numbers.append(None)
    bad = [f.path for f, n in zip(group, numbers, strict=True) if n is None or numbers.count(n) > 1]
    if bad:
        raise ValueError(
            f"cannot order the {len(group)} images at slice position {pos:.2f} mm: no distinct TriggerTime, "
            f"and InstanceNumber is missing or repeated on {_names(bad)}"
        )
    return [f for _, f in sorted(zip(numbers, group, strict=True), key=lambda t: t[0])]


def _order_position(pos: float, group: list[_Frame]) -> list[_Frame]:
    times = [f.trigger for f in group]
    if len(group) == 1 or None in times or len(set(times)) == 1:
        return group if len(group) == 1 else _by_instance_number(pos, group)
    tied = [f for f in group if times.count(f.trigger) > 1]
    if tied:
        raise ValueError(
            f"{_names(f.path for f in tied)} share slice position {pos:.2f} mm and TriggerTime "
            f"{tied[0].trigger:g} ms (duplicates?); cannot order the frames"
        )
    return sorted(group, key=lambda f: f.trigger)


def _order_frames(by_pos: dict[float, list[_Frame]]) -> list[list[_Frame]]:
    """Frames of each slice position in temporal order (see the module notes)."""
    frames = [f for g in by_pos.values() for f in g]
    missing = [f.path for f in frames if f.trigger is None]
    if len(frames) > len(by_pos) and 0 < len(missing) < len(frames):
        raise ValueError(
            f"TriggerTime is missing on {_names(missing)} but present on the other "
            f"{len(frames) - len(missing)} images; cannot order the frames"
        )
    return [_order_position(pos, group) for pos, group in by_pos.items()]


def _pixels(frame: _Frame) -> np.ndarray:
    """Rescaled pixel values ``(X = column, Y = row)`` of one image."""
    try:
        arr = frame.ds.pixel_array
        slope = float(frame.ds.get("RescaleSlope", 1) or 1)
        intercept = float(frame.ds.get("RescaleIntercept", 0) or 0)
    except Exception as exc:
        raise ValueError(f"cannot decode the pixel data of {frame.path}: {_reason(exc)}") from None
    if arr.shape != frame.shape:
        raise ValueError(f"{frame.path}: pixel data of shape {arr.shape}, expected (Rows, Columns) {frame.shape}")
    if not (np.isfinite(slope) and np.isfinite(intercept)):
        raise ValueError(f"{frame.path}: RescaleSlope/RescaleIntercept {slope:g}/{intercept:g} are not finite")
    return (arr.astype(np.float32) * slope + intercept).T


def _timing_tags(frame: _Frame) -> dict[str, Any]:
    """Per-image timing facts used by mapping: InversionTime, EchoTime, ImageComments."""
    ds, out = frame.ds, {}
    try:
        for tag in ("InversionTime", "EchoTime"):
            if tag in ds and ds.get(tag) not in (None, ""):
                out[tag] = float(ds.get(tag))
        if ds.get("ImageComments"):
            out["ImageComments"] = str(ds.get("ImageComments"))
    except Exception as exc:
        raise ValueError(f"{frame.path}: unreadable timing tag ({_reason(exc)})") from None
    return out


def _slice_step(positions: list[float], first: _Frame) -> float:
    if len(positions) > 1:
        return float(np.median(np.diff(positions)))
    try:
        step = float(first.ds.get("SliceThickness", 1.0) or 1.0)
    except Exception as exc:
        raise ValueError(f"{first.path}: SliceThickness is not numeric ({_reason(exc)})") from None
    if not 0 < abs(step) <= _MAX_SPACING_MM:
        raise ValueError(f"{first.path}: SliceThickness {step:g} mm is out of range")
    return step


def _meta(
    uid: str, description: str, frames: list[_Frame], ordered: list[list[_Frame]], positions: list[float]
) -> dict[str, Any]:
    """The metadata of the image, in array order (slice positions in mm, trigger times in ms)."""
    first = frames[0].ds
    parents = {f.path.parent for f in frames}
    source = frames[0].path.parent if len(parents) == 1 else Path(os.path.commonpath([str(p) for p in parents]))
    meta: dict[str, Any] = {
        "source": str(source),
        "series_uid": uid,
        "series_description": description,
        "slice_positions_mm": [float(p) for p in positions],
        "files": [[f.path.relative_to(source).as_posix() for f in col] for col in ordered],
        "frame_tags": [[_timing_tags(f) for f in col] for col in ordered],
        "trigger_time_ms": [float(f.trigger or 0.0) for f in ordered[0]],
    }
    for key, tag in (("inversion_time_ms", "InversionTime"), ("echo_time_ms", "EchoTime")):
        if tag in first:
            meta[key] = _timing_tags(frames[0]).get(tag, 0.0)
    return meta


def _read_series(uid: str, items: list[tuple[Path, Any]], uids: tuple[str, ...] = ()) -> Image:
    _check_required(items)
    frames = [_frame(path, ds) for path, ds in items]
    _check_unique(frames)
    _check_consistent(frames)
    orientation, spacing_rc = frames[0].orientation, frames[0].spacing
    normal = np.cross(orientation[:3], orientation[3:])
    by_pos = _slices(frames, normal)
    ordered = _order_frames(by_pos)  # first: names the files of a duplicated frame
    _check_counts(by_pos)
    positions = list(by_pos)
    _check_spacing(positions)
    _check_stack(by_pos, normal, spacing_rc)
    stack = np.stack([np.stack([_pixels(f) for f in col], -1) for col in ordered], 2)  # X, Y, Z, T
    step = _slice_step(positions, frames[0])
    affine = dicom_affine(ordered[0][0].position, orientation, spacing_rc, step)
    meta = _meta(uid, _text(items[0][1], "SeriesDescription"), frames, ordered, positions)
    if len(uids) > 1:  # a stack read from several series: the series of each slice, in array order
        by_path = {path: _text(ds, "SeriesInstanceUID") for path, ds in items}
        meta["series_uids"] = [by_path[col[0].path] for col in ordered]
    if stack.shape[3] == 1:
        stack = stack[..., 0]
    if stack.ndim == 3 and stack.shape[2] == 1:
        stack = stack[:, :, 0]
    spacing = (spacing_rc[1], spacing_rc[0], abs(step))[: min(stack.ndim, 3)]
    return Image(stack.astype(np.float32), spacing, affine, meta)


def read_dicom_folder(folder: Path | str, series: str | Sequence[str] | None = None) -> Image:
    """Read one DICOM series from a folder as a 2D/3D/4D :class:`Image`.

    Parameters
    ----------
    folder : Path
        Folder holding the DICOM files (searched recursively).
    series : str or sequence of str, optional
        SeriesInstanceUID, or a SeriesNumber that only one series carries, to read when the
        folder holds several. Several SeriesInstanceUIDs (a sequence, or one string with commas)
        read one stack from series that each
        hold some of its slices (scanners export a short-axis cine one series per slice); the
        images of all of them must form one complete grid, as for one series, and
        ``metadata["series_uids"]`` gives the series of each slice.

    Returns
    -------
    Image
        ``(X, Y[, Z[, T]])`` rescaled values, spacing in mm, RAS affine; ``metadata`` holds the
        slice positions (mm), file names and trigger times (ms) in array order.

    Raises
    ------
    FileNotFoundError
        ``folder`` is not a folder.
    ValueError
        One line naming the file(s) when the folder or series is damaged (module notes).
    """
    folder = Path(folder)
    scan = _scan(folder)
    skipped = f"; skipped as not DICOM images: {_names(scan.skipped)}" if scan.skipped else ""
    if scan.broken:
        path, reason = scan.broken[0]
        more = f" (and {len(scan.broken) - 1} more unreadable files)" if len(scan.broken) > 1 else ""
        raise ValueError(f"cannot read DICOM file {path}: {reason}{more}")
    if not scan.series:
        raise ValueError(f"no DICOM images found in {folder}{skipped}")
    uids = _chosen(scan, series, folder)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image = _read_series(uids[0], [item for uid in uids for item in scan.series[uid]], uids)
    except ValueError as exc:
        where = "" if str(exc).startswith(str(folder)) else f"{folder}: "
        raise ValueError(f"{where}{exc}{skipped}") from None
    if scan.skipped:
        warnings.warn(f"{folder}: {skipped[2:]}", UserWarning, stacklevel=2)
    return image
