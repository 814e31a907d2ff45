"""Write synthetic DICOM series with pydicom, and damaged copies of a series, for reader tests."""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import numpy as np
import pydicom
from pydicom.datadict import tag_for_keyword
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.multival import MultiValue
from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid
from scipy.spatial.transform import Rotation


def write_series(
    folder: Path,
    volume: np.ndarray,
    spacing_rc=(1.25, 1.5),
    slice_mm=8.0,
    orientation=(1, 0, 0, 0, 1, 0),
    origin=(-100.0, -80.0, 20.0),
    series_uid=None,
    slope=2.0,
    intercept=-10.0,
    trigger_ms=None,
    order=None,
) -> str:
    """Write ``volume`` (rows, cols, slices[, frames]) stored values; returns the SeriesInstanceUID.

    Files are written in ``order`` (a permutation) so readers must sort them.
    """
    folder.mkdir(parents=True, exist_ok=True)
    vol = volume if volume.ndim == 4 else volume[..., None]
    uid = series_uid or generate_uid()
    row, col = np.array(orientation[:3], float), np.array(orientation[3:], float)
    normal = np.cross(row, col)
    items = [(z, t) for z in range(vol.shape[2]) for t in range(vol.shape[3])]
    order = order if order is not None else np.random.default_rng(0).permutation(len(items))
    for k, idx in enumerate(order):
        z, t = items[idx]
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = MRImageStorage
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = FileDataset(str(folder / f"{k}.dcm"), {}, file_meta=meta, preamble=b"\0" * 128)
        ds.SOPClassUID = MRImageStorage
        ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
        ds.Modality = "MR"
        ds.SeriesInstanceUID = uid
        ds.SeriesNumber = 7
        ds.SeriesDescription = "synthetic sax"
        ds.Rows, ds.Columns = vol.shape[:2]
        ds.PixelSpacing = [spacing_rc[0], spacing_rc[1]]
        ds.SliceThickness = slice_mm
        ds.ImageOrientationPatient = list(orientation)
        ds.ImagePositionPatient = list(np.asarray(origin) + z * slice_mm * normal)
        ds.TriggerTime = trigger_ms[t] if trigger_ms is not None else 40.0 * t
        ds.InstanceNumber = k + 1
        ds.RescaleSlope, ds.RescaleIntercept = slope, intercept
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.PixelData = vol[:, :, z, t].astype(np.int16).tobytes()
        ds.save_as(folder / f"{k}.dcm", enforce_file_format=True)
    return uid


# --- Damaged copies of a series, for the reader's integrity tests and benchmarks/fuzz_dicom.py ---

HEADER_TAGS = (
    "PixelSpacing",
    "ImagePositionPatient",
    "ImageOrientationPatient",
    "TriggerTime",
    "Rows",
    "Columns",
    "PixelData",
    "SliceLocation",
    "SeriesInstanceUID",
    "InstanceNumber",
)
UNUSED_TAGS = ("SliceLocation", "InstanceNumber")  # not read while TriggerTime orders the frames
_SIZE_TAGS = ("Rows", "Columns", "PixelData")
_EXTREMES = ("1e30", "-1e30", "nan", "inf", "-1", "1e6")
_MULTIPLICITY = {
    "PixelSpacing": 1,
    "ImagePositionPatient": 2,
    "ImageOrientationPatient": 5,
    "TriggerTime": 2,
    "Rows": 2,
    "Columns": 2,
}


@dataclass(frozen=True)
class Mutation:
    """One kind of damage. ``expect``: what a careful reader must do with it: ``"clean"`` (the
    same image as the undamaged folder), ``"refuse"`` (a ValueError) or ``"either"``."""

    name: str
    expect: str
    apply: Callable[[Path, dict[str, tuple[int, int]], np.random.Generator], str]


def series_layout(folder: Path) -> dict[str, tuple[int, int]]:
    """``file name -> (slice index, frame index)`` of an undamaged single-series folder."""
    with warnings.catch_warnings():  # pydicom warns on non-conformant UIDs
        warnings.simplefilter("ignore")
        heads = {p.name: pydicom.dcmread(p, stop_before_pixels=True) for p in sorted(folder.iterdir())}
    first = next(iter(heads.values()))
    o = np.asarray(first.ImageOrientationPatient, float)
    normal = np.cross(o[:3], o[3:])
    pos = {n: round(float(np.dot(np.asarray(h.ImagePositionPatient, float), normal)), 2) for n, h in heads.items()}
    levels = sorted(set(pos.values()))
    out = {}
    for z, level in enumerate(levels):
        at = sorted((float(heads[n].TriggerTime), n) for n in pos if pos[n] == level)
        out.update({n: (z, t) for t, (_, n) in enumerate(at)})
    return out


def _replace(path: Path, data: bytes) -> None:
    """Write ``data`` as a new file (never through a hard link into the undamaged copy)."""
    path.unlink(missing_ok=True)
    path.write_bytes(data)


def _edit(path: Path, edit: Callable[[Dataset], None]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ds = pydicom.dcmread(path, force=True)
            edit(ds)
            buf = BytesIO()
            ds.save_as(buf)
        except Exception:  # damaged by an earlier mutation: leave it as it is
            return
    _replace(path, buf.getvalue())


def _present(folder: Path, layout: dict[str, tuple[int, int]]) -> list[str]:
    return [n for n in sorted(layout) if (folder / n).is_file()]


def _pick(folder: Path, layout: dict[str, tuple[int, int]], rng: np.random.Generator) -> str:
    names = _present(folder, layout)
    return names[int(rng.integers(len(names)))]


def _raw(ds: Dataset, keyword: str, vr: str, value: object) -> None:
    ds[keyword] = DataElement(tag_for_keyword(keyword), vr, value)


def _header_op(tag: str, op: str) -> Callable[[Path, dict, np.random.Generator], str]:
    def apply(folder: Path, layout: dict, rng: np.random.Generator) -> str:
        name = _pick(folder, layout, rng)
        value = _EXTREMES[int(rng.integers(len(_EXTREMES)))]

        def edit(ds: Dataset) -> None:
            vm = len(ds[tag].value) if tag in ds and isinstance(ds[tag].value, MultiValue) else 1
            if op == "delete" and tag in ds:
                del ds[tag]
            elif op == "garbage":
                _raw(ds, tag, "OB", b"\x00\x01") if tag == "PixelData" else _raw(ds, tag, "LO", "abc")
            elif op == "extreme" and tag in _SIZE_TAGS[:2]:
                _raw(ds, tag, "US", [0, 1, 65535, int(ds[tag].value) + 1][int(rng.integers(4))])
            elif op == "extreme" and tag == "PixelData":
                _raw(ds, tag, "OW", ds.PixelData[: len(ds.PixelData) // 2])
            elif op == "extreme":
                _raw(ds, tag, ds[tag].VR if tag in ds else "DS", [value] * vm if vm > 1 else value)
            elif op == "multiplicity":
                _raw(ds, tag, ds[tag].VR, [ds[tag].value[0] if vm > 1 else ds[tag].value] * _MULTIPLICITY[tag])

        _edit(folder / name, edit)
        return f"{op} {tag} in {name}" + (f" ({value})" if op == "extreme" and tag not in _SIZE_TAGS else "")

    return apply


def _shift_position(folder: Path, layout: dict, rng: np.random.Generator) -> str:
    name, axis, mm = _pick(folder, layout, rng), int(rng.integers(3)), float(rng.choice([0.3, 2.0, 8.0, 10.0]))
    _edit(
        folder / name,
        lambda ds: setattr(
            ds, "ImagePositionPatient", [float(v) + mm * (i == axis) for i, v in enumerate(ds.ImagePositionPatient)]
        ),
    )
    return f"move ImagePositionPatient of {name} by {mm} mm along axis {axis}"


def _tilt(folder: Path, layout: dict, rng: np.random.Generator) -> str:
    name = _pick(folder, layout, rng)

    def edit(ds: Dataset) -> None:
        o = np.asarray(ds.ImageOrientationPatient, float)
        rot = Rotation.from_euler("z", 1.0, degrees=True).as_matrix()
        ds.ImageOrientationPatient = [float(v) for v in np.concatenate([rot @ o[:3], rot @ o[3:]])]

    _edit(folder / name, edit)
    return f"tilt ImageOrientationPatient of {name} by 1 degree"


def _scale_spacing(folder: Path, layout: dict, rng: np.random.Generator) -> str:
    name = _pick(folder, layout, rng)
    _edit(folder / name, lambda ds: setattr(ds, "PixelSpacing", [float(v) * 1.1 for v in ds.PixelSpacing]))
    return f"scale PixelSpacing of {name} by 1.1"


def _tie_trigger(folder: Path, layout: dict, rng: np.random.Generator) -> str:
    name = _pick(folder, layout, rng)
    z, t = layout[name]
    other = next(n for n, (zz, tt) in sorted(layout.items()) if zz == z and tt != t)
    tt = pydicom.dcmread(folder / other, stop_before_pixels=True).TriggerTime
    _edit(folder / name, lambda ds: setattr(ds, "TriggerTime", tt))
    return f"give {name} the TriggerTime of {other}"


def _delete_file(folder: Path, layout: dict, rng: np.random.Generator) -> str:
    name = _pick(folder, layout, rng)
    (folder / name).unlink()
    return f"delete {name}"


def _delete_slice(folder: Path, layout: dict, rng: np.random.Generator) -> str:
    nz = max(z for z, _ in layout.values()) + 1
    z = int(rng.integers(1, nz - 1))  # an inner slice: a missing end slice is just a shorter stack
    for n, (zz, _) in layout.items():
        if zz == z:
            (folder / n).unlink(missing_ok=True)
    return f"delete inner slice {z}"


def _copy_file(folder: Path, layout: dict, rng: np.random.Generator) -> str:
    name = _pick(folder, layout, rng)
    shutil.copyfile(folder / name, folder / f"copy_of_{name}")
    return f"copy {name}"


def _overwrite_file(folder: Path, layout: dict, rng: np.random.Generator) -> str:
    a = _pick(folder, layout, rng)
    others = [n for n in _present(folder, layout) if n != a]
    b = others[int(rng.integers(len(others)))]
    _replace(folder / b, (folder / a).read_bytes())
    return f"overwrite {b} with {a}"


def _new_uid(keyword: str, suffix: str) -> Callable[[Path, dict, np.random.Generator], str]:
    """A copy of one image with a new SOPInstanceUID (a re-export) or also a new series."""

    def apply(folder: Path, layout: dict, rng: np.random.Generator) -> str:
        name = _pick(folder, layout, rng)
        shutil.copyfile(folder / name, folder / f"{suffix}_{name}")
        _edit(
            folder / f"{suffix}_{name}",
            lambda ds: [setattr(ds, k, generate_uid()) for k in ("SOPInstanceUID", keyword)],
        )
        return f"copy {name} with a new {keyword}"

    return apply


def _truncate(folder: Path, layout: dict, rng: np.random.Generator) -> str:
    name = _pick(folder, layout, rng)
    data = (folder / name).read_bytes()
    n = int(rng.integers(len(data)))
    _replace(folder / name, data[:n])
    return f"truncate {name} to {n} bytes"


def _random_bytes(folder: Path, layout: dict, rng: np.random.Generator) -> str:
    name = _pick(folder, layout, rng)
    _replace(folder / name, rng.bytes(int(rng.integers(1, 5000))))
    return f"replace {name} with random bytes"


def _extra_file(kind: str) -> Callable[[Path, dict, np.random.Generator], str]:
    def apply(folder: Path, layout: dict, rng: np.random.Generator) -> str:
        data = {"random": rng.bytes(int(rng.integers(1, 5000))), "readme": b"scanner export\n", "empty": b""}[kind]
        (folder / f"EXTRA_{kind.upper()}").write_bytes(data)
        return f"add a {kind} non-DICOM file"

    return apply


def _rename(folder: Path, layout: dict, rng: np.random.Generator) -> str:
    names = _present(folder, layout)
    a, b = names[0], names[-1]
    (folder / a).rename(folder / "swap.tmp")
    (folder / b).rename(folder / a)
    (folder / "swap.tmp").rename(folder / b)
    sub = folder / "sub"
    sub.mkdir(exist_ok=True)
    (folder / names[1]).rename(sub / names[1])
    return f"swap the names of {a} and {b}, move {names[1]} into a subfolder"


def mutations() -> list[Mutation]:
    """Every kind of damage, each with the outcome that a careful reader must give."""
    out = [
        Mutation(f"delete {t}", "clean" if t in UNUSED_TAGS else "refuse", _header_op(t, "delete")) for t in HEADER_TAGS
    ]
    out += [
        Mutation(f"garbage {t}", "clean" if t in UNUSED_TAGS else "refuse", _header_op(t, "garbage"))
        for t in HEADER_TAGS
    ]
    out += [
        Mutation(f"extreme {t}", "clean" if t in UNUSED_TAGS else "refuse", _header_op(t, "extreme"))
        for t in HEADER_TAGS
        if t != "SeriesInstanceUID"
    ]
    out += [Mutation(f"multiplicity {t}", "refuse", _header_op(t, "multiplicity")) for t in _MULTIPLICITY]
    out += [
        Mutation("shift position", "refuse", _shift_position),
        Mutation("tilt orientation", "refuse", _tilt),
        Mutation("scale spacing", "refuse", _scale_spacing),
        Mutation("tie trigger time", "refuse", _tie_trigger),
        Mutation("delete file", "refuse", _delete_file),
        Mutation("delete inner slice", "refuse", _delete_slice),
        Mutation("copy file", "refuse", _copy_file),
        Mutation("overwrite file", "refuse", _overwrite_file),
        Mutation("re-exported copy", "refuse", _new_uid("SOPInstanceUID", "reexport")),
        Mutation("copy into a new series", "refuse", _new_uid("SeriesInstanceUID", "other")),
        Mutation("truncate file", "refuse", _truncate),
        Mutation("random bytes file", "refuse", _random_bytes),
        Mutation("extra random file", "clean", _extra_file("random")),
        Mutation("extra readme", "clean", _extra_file("readme")),
        Mutation("extra empty file", "clean", _extra_file("empty")),
        Mutation("rename files", "clean", _rename),
    ]
    return out


# --- A series with the patient / study / frame-of-reference context that derived objects copy ---


def write_study_series(folder: Path, volume: np.ndarray, **kwargs) -> str:
    """:func:`write_series` plus patient, study and frame of reference (what DICOM SEG and
    Parametric Map writers copy); returns the SeriesInstanceUID."""
    uid = write_series(folder, volume, **kwargs)
    study, frame_of_reference = generate_uid(), generate_uid()
    for path in sorted(folder.glob("*.dcm")):
        ds = pydicom.dcmread(path)
        ds.PatientName, ds.PatientID, ds.PatientBirthDate, ds.PatientSex = "Phantom^Heart", "PH0001", "", "O"
        ds.StudyInstanceUID, ds.StudyID, ds.AccessionNumber = study, "1", ""
        ds.StudyDate, ds.StudyTime, ds.ReferringPhysicianName = "20240101", "120000", ""
        ds.FrameOfReferenceUID, ds.PositionReferenceIndicator = frame_of_reference, ""
        ds.Manufacturer, ds.ImageType = "cmrseg tests", ["ORIGINAL", "PRIMARY", "OTHER"]
        ds.save_as(path, enforce_file_format=True)
    return uid


# --- A multi-series study (cine SAX and LAX, LGE, MOLLI, T1 map, T2-prep, localiser), for series discovery ---

LONG_AXIS = (0.55, -0.5, -0.67)  # LPS: towards the left, anterior and inferior, roughly the heart's long axis
_STUDY_ORIGIN = (-20.0, -40.0, 30.0)
_MOLLI_TI_MS = (100, 180, 260, 1100, 1180, 2100, 2180, 3100)


def plane_orientation(normal) -> tuple[float, ...]:
    """ImageOrientationPatient (row, column cosines) of a plane whose normal is ``normal``."""
    n = np.asarray(normal, float) / np.linalg.norm(normal)
    up = np.array([0.0, 0.0, 1.0]) if abs(n[2]) < 0.9 else np.array([0.0, 1.0, 0.0])
    row = np.cross(up, n)
    row /= np.linalg.norm(row)
    return tuple(float(v) for v in np.concatenate([row, np.cross(n, row)]))


def retag(folder: Path, tags: Callable[[int, int], dict], n_frames: int) -> None:
    """Set header values (``None`` deletes) on the files of :func:`write_series` written with
    ``order=np.arange(...)``; ``tags(slice, frame)`` gives them for each image."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path in folder.glob("*.dcm"):
            k = int(path.stem)
            ds = pydicom.dcmread(path)
            for key, value in tags(k // n_frames, k % n_frames).items():
                if value is None:
                    if key in ds:
                        delattr(ds, key)
                else:
                    setattr(ds, key, value)
            ds.save_as(path)


def _lge_tags(z: int, t: int) -> dict:
    return {"InversionTime": 300.0}


def _molli_tags(z: int, t: int) -> dict:
    return {"ImageComments": f"TI {_MOLLI_TI_MS[t]}"}  # as Siemens MOLLI writes it


def _t1_map_tags(z: int, t: int) -> dict:
    return {"ImageType": ["DERIVED", "PRIMARY", "T1 MAP", "ND"]}  # as Siemens MapIt writes it


def _t2_prep_tags(z: int, t: int) -> dict:
    return {"EchoTime": (1.3, 25.0, 55.0)[t]}  # T2-prep durations as EchoTime (Philips)


def _study_series(
    folder: Path, number: int, description: str, shape, orientation, tags, offset_mm=0.0, uid=None
) -> str:
    """One series of :func:`write_study`: ``shape`` (slices, frames) of 32 x 32 images centred on
    the heart, shifted by ``offset_mm`` along the normal; ``tags(slice, frame)`` adds header values."""
    nz, nt = shape
    normal = np.cross(orientation[:3], orientation[3:])
    origin = np.asarray(_STUDY_ORIGIN) + normal * (offset_mm - 8.0 * (nz - 1) / 2)
    stored = np.random.default_rng(number).integers(0, 1000, size=(32, 32, nz, nt))
    uid = write_series(folder, stored, orientation=orientation, origin=origin, series_uid=uid, order=np.arange(nz * nt))
    extra = tags or (lambda z, t: {})
    retag(folder, lambda z, t: {"SeriesNumber": number, "SeriesDescription": description, **extra(z, t)}, nt)
    return uid


def write_study(folder: Path, describe: bool = True, sax_per_slice: bool = False) -> dict[str, tuple[str, str]]:
    """Write a synthetic CMR study, one subfolder per series, and a README beside them.

    Series: SAX cine (6 slices x 12 phases, or 6 one-slice series with ``sax_per_slice``), 4-chamber
    cine (1 x 12), LGE SAX (6 x 1, InversionTime 300), MOLLI (1 x 8, Siemens ``TI 180`` comments),
    T1 map (ImageType ``T1 MAP``), T2-prep (1 x 3 echo times) and a localiser (3 orthogonal single
    slices in one series). ``describe=False`` leaves SeriesDescription empty, so only the other
    tags tell them apart. Returns ``name -> (SeriesInstanceUID, expected kind)``.
    """
    sax, lax = plane_orientation(LONG_AXIS), plane_orientation(np.cross(LONG_AXIS, (0.0, 0.0, 1.0)))
    specs = [  # name, number, description, (slices, frames), orientation, tags, kind, offset (mm)
        ("lax_cine", 11, "cine 4ch", (1, 12), lax, None, "lax_cine", 0.0),
        ("lge", 20, "LGE PSIR", (6, 1), sax, _lge_tags, "lge", 0.0),
        ("molli", 30, "MOLLI 5(3)3 post", (1, 8), sax, _molli_tags, "molli", 0.0),
        ("t1_map", 31, "MOLLI T1 map post", (1, 1), sax, _t1_map_tags, "t1_map", 0.0),
        ("t2_prep", 40, "T2 prep bSSFP", (1, 3), sax, _t2_prep_tags, "t2_weighted", 0.0),
    ]
    if sax_per_slice:
        specs += [(f"sax_cine_{z}", 100 + z, "cine", (1, 12), sax, None, "sax_cine", (z - 2.5) * 8.0) for z in range(6)]
    else:
        specs.append(("sax_cine", 10, "SA cine retro", (6, 12), sax, None, "sax_cine", 0.0))
    out = {}
    for name, number, text, shape, orientation, tags, kind, offset in specs:
        path = folder / f"S{number:03d}"
        out[name] = (_study_series(path, number, text if describe else "", shape, orientation, tags, offset), kind)
    uid = None
    for name, normal in (("axial", (0, 0, 1)), ("coronal", (0, 1, 0)), ("sagittal", (1, 0, 0))):
        text, orientation = "localizer" if describe else "", plane_orientation(normal)
        uid = _study_series(folder / "S001" / name, 1, text, (1, 1), orientation, None, uid=uid)
    out["localiser"] = (uid, "localiser")
    (folder / "README.txt").write_text("scanner export\n")
    return out


# --- Study context for a whole folder, and extra MOLLI series, for the study workflow (cmrseg study) ---


def add_study_context(folder: Path) -> None:
    """Give every ``.dcm`` file under ``folder`` one patient, study and frame of reference (what
    DICOM SEG and Parametric Map writers copy), as :func:`write_study_series` does for one series;
    an ImageType already there (a T1 map's) is kept."""
    study, frame_of_reference = generate_uid(), generate_uid()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path in sorted(folder.rglob("*.dcm")):
            ds = pydicom.dcmread(path)
            ds.PatientName, ds.PatientID, ds.PatientBirthDate, ds.PatientSex = "Phantom^Heart", "PH0001", "", "O"
            ds.StudyInstanceUID, ds.StudyID, ds.AccessionNumber = study, "1", ""
            ds.StudyDate, ds.StudyTime, ds.ReferringPhysicianName = "20240101", "120000", ""
            ds.FrameOfReferenceUID, ds.PositionReferenceIndicator = frame_of_reference, ""
            ds.Manufacturer = "cmrseg tests"
            if "ImageType" not in ds:
                ds.ImageType = ["ORIGINAL", "PRIMARY", "OTHER"]
            ds.save_as(path, enforce_file_format=True)


def write_molli_series(folder: Path, number: int, description: str, times: bool = True) -> str:
    """A MOLLI series like :func:`write_study`'s (1 short-axis slice x 8 images of 32 x 32, on its
    slice), with Siemens ``TI 180`` comments or, with ``times=False``, no inversion time at all;
    returns the SeriesInstanceUID."""
    tags = _molli_tags if times else None
    return _study_series(folder, number, description, (1, 8), plane_orientation(LONG_AXIS), tags)


# --- Multi-frame (enhanced) copies of a series ---

_ENHANCED_MR = "1.2.840.10008.5.1.4.1.1.4.1"


def _item(**values) -> Dataset:
    ds = Dataset()
    for keyword, value in values.items():
        setattr(ds, keyword, value)
    return ds


def to_multiframe(files: list[Path], out: Path, per_frame_geometry: bool = True) -> Path:
    """Write the single-frame images ``files`` (one series) as one Enhanced MR multi-frame file, as
    Philips and Siemens XA export: orientation and spacing in the shared functional groups;
    position, trigger delay (NominalCardiacTriggerDelayTime), inversion time (InversionTimes),
    rescale and comments per frame. ``per_frame_geometry=False`` leaves positions out (a damaged file)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frames = [pydicom.dcmread(f) for f in files]
    first = frames[0]
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = _ENHANCED_MR
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(out), {}, file_meta=meta, preamble=b"\0" * 128)
    for keyword in (
        "PatientName", "PatientID", "StudyInstanceUID", "SeriesInstanceUID", "SeriesNumber", "SeriesDescription",
        "FrameOfReferenceUID", "Modality", "Rows", "Columns", "SamplesPerPixel", "PhotometricInterpretation",
        "BitsAllocated", "BitsStored", "HighBit", "PixelRepresentation", "PatientBirthDate", "PatientSex",
        "StudyDate", "StudyTime", "StudyID", "AccessionNumber", "ReferringPhysicianName", "Manufacturer",
        "PositionReferenceIndicator",
    ):  # fmt: skip
        if keyword in first:
            setattr(ds, keyword, first.data_element(keyword).value)
    ds.SOPClassUID, ds.SOPInstanceUID = _ENHANCED_MR, meta.MediaStorageSOPInstanceUID
    ds.InstanceNumber, ds.NumberOfFrames = 1, len(frames)
    ds.SharedFunctionalGroupsSequence = [
        _item(
            PixelMeasuresSequence=[
                _item(PixelSpacing=first.PixelSpacing, SliceThickness=first.get("SliceThickness", 8))
            ],
            PlaneOrientationSequence=[_item(ImageOrientationPatient=first.ImageOrientationPatient)],
        )
    ]
    groups = []
    for f in frames:
        group = _item(
            PixelValueTransformationSequence=[
                _item(
                    RescaleSlope=f.get("RescaleSlope", 1),
                    RescaleIntercept=f.get("RescaleIntercept", 0),
                    RescaleType="US",
                )
            ],
            FrameContentSequence=[_item(StackID="1")],
        )
        if per_frame_geometry:
            group.PlanePositionSequence = [_item(ImagePositionPatient=f.ImagePositionPatient)]
        if "TriggerTime" in f:
            group.CardiacSynchronizationSequence = [_item(NominalCardiacTriggerDelayTime=f.TriggerTime)]
        if "InversionTime" in f:
            group.MRModifierSequence = [_item(InversionTimes=[f.InversionTime])]
        if "ImageComments" in f:
            group.UnassignedPerFrameConvertedAttributesSequence = [_item(ImageComments=f.ImageComments)]
        groups.append(group)
    ds.PerFrameFunctionalGroupsSequence = groups
    ds.PixelData = b"".join(f.PixelData for f in frames)
    out.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(out, enforce_file_format=True)
    return out
