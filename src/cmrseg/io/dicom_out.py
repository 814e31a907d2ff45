"""DICOM outputs that viewers and PACS read: Segmentation (SEG) and Parametric Map objects.

Both are written with highdicom from the source series they were computed on, copying its
patient, study and frame of reference, and referencing each source image per frame.

Segmentation
    BINARY segmentation, one segment per class present in the label map, each with the
    SNOMED-CT codes below (category SCT 91723000 "Anatomical Structure", CID 7150):

    ===============  ==========================================================  ===============
    class            SegmentedPropertyType                                       in CID
    ===============  ==========================================================  ===============
    1 RV             SCT 53085002 "Right ventricle"                              7152 (cardiac)
    2 myocardium     SCT 49848007 "Left Ventricle Myocardium" (structure of      12305 (CID 7151
                     myocardium of left ventricle)                               is extensible)
    3 LV             SCT 87878005 "Left ventricle"                               7152 (cardiac)
    ===============  ==========================================================  ===============

    DICOM has no code for a ventricular *cavity*, so the RV and LV segments carry the chamber
    codes of CID 7152 and say "blood pool" in their SegmentLabel and SegmentDescription.

    A cine ``(X, Y, Z, T)`` is written as one SEG instance per cardiac phase, all in one
    series: highdicom refuses two frames at one position in one instance ("Plane positions
    must not contain duplicates"; highdicom issues #174 and #369), and viewers overlay a
    phase-per-instance series correctly where they mis-draw a temporal SEG (OHIF issue
    #4789). Instance ``t`` references the images of phase ``t``, one frame per slice and
    segment (empty frames are kept), so every source image gets its frame of every segment.

Parametric map
    One Parametric Map instance with one float32 frame per slice position. Each frame
    references every image acquired at its position (e.g. all inversion times of a MOLLI).
    Quantity codes: T1 DCM 113063, T2 DCM 113065 (CID 7180); ECV and T1rho have no DICOM
    code and use the private scheme ``99CMRSEG`` (codes ``ECV``, ``T1RHO``), declared in the
    CodingSchemeIdentificationSequence. Units are UCUM ``ms`` or ``%``, in a
    RealWorldValueMapping with slope 1 and intercept 0. Failed fits stay NaN: IEEE 754 NaN
    is valid in Float Pixel Data (OF, PS3.5 section 8; CP-2352), and the window and
    RealWorldValueMapping range are taken from the finite values.

Multi-frame (enhanced) sources
    A source series stored as one multi-frame file (Enhanced MR, Legacy Converted Enhanced MR:
    Philips and Siemens XA exports) is referenced frame by frame: every output frame names the
    file's SOPInstanceUID and its ReferencedFrameNumber. highdicom matches a multi-frame source
    by position only and lists every frame at that position, so the references are rewritten
    after it: a SEG frame of phase ``t`` references the one source frame of phase ``t`` at its
    position, a map frame every frame at its position (all inversion times). Positions and
    orientation copied from the source are rewritten as valid decimal strings (<= 16
    characters). A series spread over several multi-frame files is refused in one line (a SEG
    or map built by highdicom references one multi-frame image).
"""

from __future__ import annotations

import copy
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.sr.coding import Code
from pydicom.valuerep import DA, TM, DSfloat

from cmrseg import __version__
from cmrseg.image import Image, LabelMap
from cmrseg.io.atomic import atomic_directory, atomic_write, check_output
from cmrseg.io.dicom import frame_value, read_dicom_folder, split_frame_name
from cmrseg.labels import LABEL_COLOURS, Label, unknown_label_values

__all__ = ["write_dicom_seg", "write_parametric_map", "SEGMENT_CODES", "QUANTITIES"]

Source = Path | str | Sequence[Path | str]

_CATEGORY = codes.SCT.AnatomicalStructure  # SCT 91723000


@dataclass(frozen=True)
class _Segment:
    label: str
    description: str
    code: Code


#: Segment label, description and SegmentedPropertyType code of each cmrseg class.
SEGMENT_CODES: dict[int, _Segment] = {
    Label.RV: _Segment("RV blood pool", "right ventricle cavity (blood pool)", codes.SCT.RightVentricle),
    Label.MYO: _Segment("LV myocardium", "left ventricle myocardium", codes.SCT.LeftVentricleMyocardium),
    Label.LV: _Segment("LV blood pool", "left ventricle cavity (blood pool)", codes.SCT.LeftVentricle),
}

_PRIVATE_SCHEME = "99CMRSEG"

#: quantity name -> (quantity code, UCUM unit)
QUANTITIES: dict[str, tuple[Code, str]] = {
    "T1": (codes.DCM.T1, "ms"),
    "T2": (codes.DCM.T2, "ms"),
    "T1rho": (Code("T1RHO", _PRIVATE_SCHEME, "T1 rho"), "ms"),
    "ECV": (Code("ECV", _PRIVATE_SCHEME, "Extracellular volume fraction"), "%"),
}
_UNITS = {"ms": codes.UCUM.Millisecond, "%": codes.UCUM.Percent}
_CONTEXT_TAGS = ("StudyInstanceUID", "FrameOfReferenceUID", "SOPClassUID", "SOPInstanceUID")
_DATES = {"PatientBirthDate": DA, "StudyDate": DA, "StudyTime": TM}  # what highdicom copies and parses


@dataclass(frozen=True)
class _Grid:
    """A source series: its image and the file (and frame) of each (slice position, frame)."""

    image: Image
    paths: list[list[Path]]  # [z][t], in the image's array order: the file holding each image
    frames: list[list[int]] | None = None  # [z][t] 1-based frame numbers when the source is one multi-frame file

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """``(X, Y, Z, T)``: columns, rows, slice positions, frames per position."""
        return (*self.image.shape[:2], len(self.paths), len(self.paths[0]))

    def names(self) -> list[list[str]]:
        """``[z][t]`` image names as :mod:`cmrseg.io.dicom` gives them: the file name, ``#k`` for frame k."""
        if self.frames is None:
            return [[p.name for p in col] for col in self.paths]
        return [
            [f"{p.name}#{k}" for p, k in zip(*cols, strict=True)] for cols in zip(self.paths, self.frames, strict=True)
        ]


def _grid(image: Image, file_of: Callable[[str], Path]) -> _Grid:
    """The grid of ``image``, whose ``metadata["files"]`` names its images as read (``file#k`` for
    frame k of a multi-frame file); ``file_of`` maps a file name to its path."""

    def file_and_frame(name: str) -> tuple[str, int | None]:
        try:
            if file_of(name).is_file():  # a file whose name holds a '#'
                return name, None
        except KeyError:
            pass
        return split_frame_name(name)

    split = [[file_and_frame(name) for name in col] for col in image.metadata["files"]]
    paths = [[file_of(name) for name, _ in col] for col in split]
    if all(frame is None for col in split for _, frame in col):
        return _Grid(image, paths)
    files = {p for col in paths for p in col}
    if len(files) > 1 or any(frame is None for col in split for _, frame in col):
        raise ValueError(
            f"the source series is stored in {len(files)} files, some of them multi-frame: cmrseg writes "
            "DICOM-SEG and parametric maps on single-frame images or on one multi-frame file"
        )
    return _Grid(image, paths, [[int(frame or 0) for _, frame in col] for col in split])


def _grid_from_folder(folder: Path, series: str | None) -> _Grid:
    image = read_dicom_folder(folder, series)
    source = Path(image.metadata["source"])
    return _grid(image, lambda name: source / name)


def _grid_from_files(files: Sequence[Path | str], series: str | None) -> _Grid:
    """Order the files as :func:`read_dicom_folder` does, through links in a temporary folder."""
    paths = [Path(f) for f in files]
    if not paths:
        raise ValueError("no source DICOM files given")
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"no such source DICOM file: {', '.join(missing[:5])}")
    with tempfile.TemporaryDirectory(prefix="cmrseg-src-") as tmp:
        by_link = {}
        for i, path in enumerate(paths):
            link = Path(tmp) / f"{i:06d}_{path.name}"
            try:
                os.symlink(path.resolve(), link)
            except OSError:  # no symlinks on this file system
                shutil.copyfile(path, link)
            by_link[link.name] = path
        image = read_dicom_folder(tmp, series)
    return _grid(image, by_link.__getitem__)


def _source_grid(source: Source, series: str | None) -> _Grid:
    if isinstance(source, (str, os.PathLike)):
        folder = Path(source)
        return _grid_from_folder(folder, series) if folder.is_dir() else _grid_from_files([folder], series)
    return _grid_from_files(list(source), series)


@contextmanager
def _quiet_source_uids() -> Iterator[None]:
    """Copy source UIDs that pydicom calls invalid (leading zeros) without a warning for each."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Invalid value for VR UI", category=UserWarning)
        yield


#: Type 2 patient / study attributes that highdicom copies from the source: present, maybe empty
_TYPE2 = (
    "PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime", "StudyID",
    "AccessionNumber", "ReferringPhysicianName",
)  # fmt: skip


def _clear_bad_dates(ds: pydicom.Dataset) -> None:
    """Blank copied dates and times that are not valid (anonymised ``00000000``, ``20120000``), and
    add the Type 2 attributes an anonymiser removed, empty (highdicom needs them present)."""
    for keyword in _TYPE2:
        if keyword not in ds:
            setattr(ds, keyword, "")
    for tag, parse in _DATES.items():
        try:
            if ds.get(tag):
                parse(str(ds[tag].value))
        except ValueError:
            ds[tag].value = ""


def _unify_frame_of_reference(headers: list[pydicom.Dataset], paths: list[Path]) -> None:
    """Give every header the first one's FrameOfReferenceUID, warning when they differ.

    Some anonymisers give each image its own UID (Sunnybrook: 240 in one cine); the reader has
    checked that the images form one stack, and a SEG or map needs a single frame of reference.
    """
    uids = {str(ds.FrameOfReferenceUID) for ds in headers}
    if len(uids) > 1:
        warnings.warn(
            f"{paths[0].parent}: the {len(headers)} source images carry {len(uids)} FrameOfReferenceUIDs "
            f"(anonymised?); the output uses the first image's, {headers[0].FrameOfReferenceUID}",
            UserWarning,
            stacklevel=4,  # the caller of write_dicom_seg / write_parametric_map
        )
        for ds in headers:
            ds.FrameOfReferenceUID = headers[0].FrameOfReferenceUID


def _headers(grid: _Grid) -> list[list[pydicom.Dataset]]:
    """Source headers ``[z][t]`` without pixel data, checked for the context a derived object copies.

    For a multi-frame source every entry is the one file's header (read once)."""
    paths = list(dict.fromkeys(p for col in grid.paths for p in col))
    read = {p: pydicom.dcmread(p, stop_before_pixels=True) for p in paths}
    headers = list(read.values())
    for tag in _CONTEXT_TAGS:
        lacking = [p.name for p, ds in zip(paths, headers, strict=True) if not ds.get(tag)]
        if lacking:
            raise ValueError(f"source images lack {tag} ({', '.join(lacking[:5])}); cannot reference them")
    for ds in headers:
        _clear_bad_dates(ds)
    _unify_frame_of_reference(headers, paths)
    return [[read[p] for p in col] for col in grid.paths]


def _frame_position(ds: pydicom.Dataset, frame: int) -> list[float]:
    """ImagePositionPatient of frame ``frame`` (1-based) of a multi-frame image."""
    position = frame_value(ds, frame, "ImagePositionPatient")
    if position is None:  # the reader refused such a file already; a file changed since
        raise ValueError(f"frame {frame} of the multi-frame source has no ImagePositionPatient")
    return [float(v) for v in position]


def _multiframe_geometry(grid: _Grid, header: pydicom.Dataset, t: int) -> dict:
    """highdicom arguments that place one output frame per slice position on frame ``t`` of a
    multi-frame source (``plane_positions``: highdicom cannot tell frames at one position apart)."""
    assert grid.frames is not None
    positions = [_frame_position(header, col[t]) for col in grid.frames]
    return {"plane_positions": [hd.PlanePositionSequence(hd.CoordinateSystemNames.PATIENT, p) for p in positions]}


def _short_ds(item: pydicom.Dataset, keyword: str) -> None:
    """Rewrite a decimal-string attribute copied from the source within DICOM's 16 characters
    (some writers store ``repr`` of a float: ``-0.45037561930886794`` is invalid DS)."""
    item[keyword].value = [DSfloat(float(v), auto_format=True) for v in item[keyword].value]


def _refer_frames(obj: pydicom.Dataset, grid: _Grid, header: pydicom.Dataset, frames_at: list[list[int]]) -> None:
    """Make every output frame reference exactly ``frames_at[z]``, the source frames of its slice position ``z``.

    highdicom matches a multi-frame source by position only and references every frame there; a
    cine file holds one frame per phase at each position, and a SEG frame segments one of them."""
    assert grid.frames is not None
    positions = np.array([_frame_position(header, col[0]) for col in grid.frames])
    shared = obj.SharedFunctionalGroupsSequence[0]
    if "PlaneOrientationSequence" in shared:
        _short_ds(shared.PlaneOrientationSequence[0], "ImageOrientationPatient")
    for item in obj.PerFrameFunctionalGroupsSequence:
        _short_ds(item.PlanePositionSequence[0], "ImagePositionPatient")
        here = np.asarray(item.PlanePositionSequence[0].ImagePositionPatient, float)
        z = int(np.argmin(np.abs(positions - here).sum(1)))
        derivation = item.DerivationImageSequence[0]
        template = derivation.SourceImageSequence[0]
        references = []
        for frame in frames_at[z]:
            reference = copy.deepcopy(template)
            reference.ReferencedFrameNumber = frame
            references.append(reference)
        derivation.SourceImageSequence = references


def _labels_grid(labels: LabelMap | np.ndarray, grid: _Grid) -> np.ndarray:
    """``labels`` as ``(X, Y, Z, T)`` uint8 on the source grid, or a one-line ValueError."""
    arr = np.asarray(labels.array if isinstance(labels, LabelMap) else labels)
    if arr.shape != grid.image.shape:
        raise ValueError(
            f"label map of shape {arr.shape} does not match the source series grid {grid.image.shape} (X, Y[, Z[, T]])"
        )
    files = labels.metadata.get("files") if isinstance(labels, LabelMap) else None
    if files is not None and [[Path(n).name for n in c] for c in files] != grid.names():
        raise ValueError("the label map was read from other source files than the source series given")
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"a label map must have an integer dtype, got {arr.dtype}")
    bad = unknown_label_values(arr)
    if bad:
        raise ValueError(f"label values {bad[:5]} are not cmrseg classes (0 background, 1 RV, 2 MYO, 3 LV)")
    return arr.astype(np.uint8).reshape(grid.shape)


def _segment_descriptions(classes: Sequence[int]) -> list[hd.seg.SegmentDescription]:
    algorithm = hd.AlgorithmIdentificationSequence(
        name="cmrseg", family=codes.cid7162.ArtificialIntelligence, version=__version__
    )
    out = []
    for number, value in enumerate(classes, start=1):
        seg = SEGMENT_CODES[value]
        desc = hd.seg.SegmentDescription(
            segment_number=number,
            segment_label=seg.label,
            segmented_property_category=_CATEGORY,
            segmented_property_type=seg.code,
            algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC,
            algorithm_identification=algorithm,
            anatomic_regions=[codes.SCT.Heart],
            display_color=hd.color.CIELabColor.from_rgb(*(round(255 * c) for c in LABEL_COLOURS[value])),
        )
        desc.SegmentDescription = seg.description
        out.append(desc)
    return out


def _series_number(header: pydicom.Dataset, offset: int) -> int:
    try:
        return offset + int(header.get("SeriesNumber") or 0)
    except (TypeError, ValueError):
        return offset


def _series_of(labels: LabelMap | np.ndarray) -> str | None:
    return labels.metadata.get("series_uid") if isinstance(labels, LabelMap) else None


def _phase_text(grid: _Grid, t: int) -> str:
    total = grid.shape[3]
    if total == 1:
        return "cmrseg segmentation"
    times = grid.image.metadata.get("trigger_time_ms") or []
    when = f", trigger time {times[t]:g} ms" if t < len(times) else ""
    return f"cmrseg segmentation, cardiac phase {t + 1} of {total}{when}"[:64]


def _segment_numbers(arr: np.ndarray) -> tuple[list[int], np.ndarray]:
    """The classes present in ``arr`` and ``arr`` relabelled 1..n in their order (0 stays 0)."""
    classes = [int(v) for v in (Label.RV, Label.MYO, Label.LV) if np.any(arr == v)]
    if not classes:
        raise ValueError("the label map holds no foreground (classes 1-3); there is nothing to segment")
    remap = np.zeros(len(Label), np.uint8)
    remap[classes] = np.arange(1, len(classes) + 1)
    return classes, remap[arr]


def _segmentation(
    grid: _Grid, headers: list[list[pydicom.Dataset]], numbers: np.ndarray, descriptions: list, t: int, series: dict
) -> hd.seg.Segmentation:
    """SEG instance of phase ``t``: a frame per slice position and segment, each referencing its source image."""
    multiframe = grid.frames is not None
    seg = hd.seg.Segmentation(
        source_images=[headers[0][0]] if multiframe else [col[t] for col in headers],
        pixel_array=np.ascontiguousarray(numbers[:, :, :, t].transpose(2, 1, 0)),  # (Z, rows, cols)
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=descriptions,
        sop_instance_uid=hd.UID(),
        instance_number=t + 1,
        manufacturer="cmrseg",
        manufacturer_model_name="cmrseg",
        software_versions=__version__,
        device_serial_number="0",
        content_label="CMRSEG",
        content_description=_phase_text(grid, t),
        omit_empty_frames=False,  # every source image gets its frame of every segment
        **series,
        **(_multiframe_geometry(grid, headers[0][0], t) if multiframe else {}),
    )
    if multiframe:
        _refer_frames(seg, grid, headers[0][0], [[col[t]] for col in grid.frames])  # type: ignore[union-attr]
    return seg


def write_dicom_seg(
    labels: LabelMap | np.ndarray,
    source: Source,
    out_path: Path | str,
    series_description: str = "cmrseg segmentation",
    series: str | None = None,
    overwrite: bool = False,
) -> list[Path]:
    """Write a label map as a DICOM Segmentation series referencing its source images.

    Parameters
    ----------
    labels : LabelMap or np.ndarray
        ``(X, Y[, Z[, T]])`` integer cmrseg labels (0 background, 1 RV, 2 MYO, 3 LV) on the
        grid that :func:`cmrseg.io.dicom.read_dicom_folder` gives for ``source``: X the DICOM
        column, Y the row, Z the slice position along the normal, T the frame by TriggerTime.
    source : Path, str or sequence of them
        The source series: a folder (searched recursively) or its files.
    out_path : Path or str
        Folder to create; receives ``seg_000.dcm`` (one instance per cardiac phase:
        ``seg_000.dcm`` ... for T phases), all in one new series.
    series_description : str
        SeriesDescription of the new series.
    series : str, optional
        SeriesInstanceUID or SeriesNumber of the source series when ``source`` holds several.
    overwrite : bool
        Replace an existing ``out_path``.

    Returns
    -------
    list of Path
        The files written, in phase order.

    Raises
    ------
    ValueError
        The label map does not match the source grid, holds values other than 0-3 or no
        foreground, or the source images lack study / frame-of-reference context.
    """
    grid = _source_grid(source, series or _series_of(labels))
    classes, numbers = _segment_numbers(_labels_grid(labels, grid))
    descriptions = _segment_descriptions(classes)
    with _quiet_source_uids():
        headers = _headers(grid)
    common = {
        "series_instance_uid": hd.UID(),
        "series_number": _series_number(headers[0][0], 1000),
        "series_description": series_description[:64],
    }
    out = Path(out_path)
    names = [f"seg_{t:03d}.dcm" for t in range(grid.shape[3])]

    def fill(folder: Path) -> None:
        with _quiet_source_uids():
            for t, name in enumerate(names):
                _segmentation(grid, headers, numbers, descriptions, t, common).save_as(folder / name)

    atomic_directory(out, overwrite, fill)
    return [out / n for n in names]


def _quantity(quantity: str, unit: str | None) -> tuple[Code, Code]:
    if quantity not in QUANTITIES:
        raise ValueError(f"unknown quantity {quantity!r}; valid: {', '.join(QUANTITIES)}")
    code, expected = QUANTITIES[quantity]
    if unit is not None and unit != expected:
        raise ValueError(f"{quantity} is written in {expected!r}, got unit {unit!r}")
    return code, _UNITS[expected]


def _map_grid(values: np.ndarray, grid: _Grid) -> np.ndarray:
    """``values`` as ``(Z, rows, cols)`` float32, one plane per slice position."""
    nx, ny, nz, _ = grid.shape
    arr = np.asarray(values, dtype=np.float32)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.shape != (nx, ny, nz):
        raise ValueError(
            f"map of shape {np.shape(values)} does not match the source series: {(nx, ny, nz)} (X, Y, slice positions)"
        )
    if not np.isfinite(arr).any():
        raise ValueError("the map holds no finite value (every fit failed); there is nothing to write")
    if np.isinf(arr).any():
        raise ValueError("the map holds infinite values; use NaN for failed fits")
    return np.ascontiguousarray(arr.transpose(2, 1, 0))


def _value_mapping(quantity: str, code: Code, unit: Code, planes: np.ndarray) -> hd.pm.RealWorldValueMapping:
    lo, hi = float(np.nanmin(planes)), float(np.nanmax(planes))
    return hd.pm.RealWorldValueMapping(
        lut_label=quantity,
        lut_explanation=f"{quantity} ({unit.value}); NaN where the fit failed",
        unit=unit,
        value_range=(lo, hi),
        slope=1.0,
        intercept=0.0,
        quantity_definition=code,
    )


def _frame_anatomy() -> Dataset:
    """Frame Anatomy: the heart, an unpaired structure (so no Laterality is due)."""
    item = Dataset()
    item.AnatomicRegionSequence = [hd.sr.CodedConcept.from_code(codes.SCT.Heart)]
    item.FrameLaterality = "U"
    return item


def _parametric_map(
    planes: np.ndarray,
    grid: _Grid,
    headers: list[list[pydicom.Dataset]],
    mapping: hd.pm.RealWorldValueMapping,
    series_description: str,
) -> hd.pm.ParametricMap:
    """The map instance: frame ``z`` of ``planes`` references every image ``headers[z]`` at position ``z``
    (for a multi-frame source: every frame of the file at position ``z``)."""
    multiframe = grid.frames is not None
    if multiframe:
        first, further = [headers[0][0]], []
    else:
        first, further = [col[0] for col in headers], [ds for col in headers for ds in col[1:]]
    low, high = np.percentile(planes[np.isfinite(planes)], [1, 99])
    window = hd.VOILUTTransformation(
        window_center=float(low + high) / 2, window_width=max(float(high - low), 1.0)
    )  # DICOM: >= 1 for LINEAR
    private = mapping.QuantityDefinitionSequence[0].ConceptCodeSequence[0].CodingSchemeDesignator == _PRIVATE_SCHEME
    pm = hd.pm.ParametricMap(
        source_images=first,
        pixel_array=planes,
        series_instance_uid=hd.UID(),
        series_number=_series_number(first[0], 2000),
        sop_instance_uid=hd.UID(),
        instance_number=1,
        manufacturer="cmrseg",
        manufacturer_model_name="cmrseg",
        software_versions=__version__,
        device_serial_number="0",
        contains_recognizable_visual_features=False,
        real_world_value_mappings=[mapping],
        voi_lut_transformations=[window],
        further_source_images=further or None,
        content_label=mapping.LUTLabel.upper()[:16],
        content_description=mapping.LUTExplanation[:64],
        series_description=series_description,
        coding_schemes=[hd.coding_schemes.CodingSchemeIdentificationItem(_PRIVATE_SCHEME, name="cmrseg codes")]
        if private
        else None,
        **(_multiframe_geometry(grid, headers[0][0], 0) if multiframe else {}),
    )
    if multiframe:
        _refer_frames(pm, grid, headers[0][0], grid.frames)  # type: ignore[arg-type]
    pm.SharedFunctionalGroupsSequence[0].FrameAnatomySequence = [_frame_anatomy()]
    return pm


def write_parametric_map(
    values: np.ndarray,
    source: Source,
    out_path: Path | str,
    quantity: str = "T1",
    unit: str | None = None,
    series_description: str | None = None,
    series: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a T1 / T2 / T1rho / ECV map as a DICOM Parametric Map referencing its source images.

    Parameters
    ----------
    values : np.ndarray
        ``(X, Y)`` or ``(X, Y, Z)`` map on the source grid (X the DICOM column, Y the row, Z
        the slice position along the normal): T1, T2, T1rho in ms, ECV in percent; NaN where
        the fit failed (kept as NaN, see the module notes).
    source : Path, str or sequence of them
        The mapping series the map was fitted on: a folder or its files; every image at a
        slice position is referenced by that position's frame.
    out_path : Path or str
        The ``.dcm`` file to write.
    quantity : {"T1", "T2", "T1rho", "ECV"}
        What the values are.
    unit : {"ms", "%"}, optional
        Checked against the quantity (ms for relaxation times, % for ECV) when given.
    series_description : str, optional
        Defaults to ``"cmrseg <quantity> map"``.
    series : str, optional
        SeriesInstanceUID or SeriesNumber of the source series when ``source`` holds several.
    overwrite : bool
        Replace an existing ``out_path``.

    Returns
    -------
    Path
        ``out_path``.

    Raises
    ------
    ValueError
        Unknown quantity, a unit that does not fit it, a map that does not match the source
        grid or holds no finite value, or source images without study / frame-of-reference context.
    """
    code, unit_code = _quantity(quantity, unit)
    out = Path(out_path)
    check_output(out, overwrite)
    grid = _source_grid(source, series)
    planes = _map_grid(values, grid)
    mapping = _value_mapping(quantity, code, unit_code, planes)
    description = (series_description or f"cmrseg {quantity} map")[:64]
    with _quiet_source_uids():
        pm = _parametric_map(planes, grid, _headers(grid), mapping, description)
        atomic_write(out, lambda tmp: pm.save_as(tmp))
    return out
