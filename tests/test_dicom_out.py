"""DICOM SEG and Parametric Map outputs, read back with highdicom and pydicom."""

from __future__ import annotations

import shutil
import subprocess
import warnings
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest

from cmrseg.image import LabelMap
from cmrseg.io.dicom import read_dicom_folder
from cmrseg.io.dicom_out import SEGMENT_CODES, write_dicom_seg, write_parametric_map
from tests.conftest import data_path
from tests.dicom_writer import plane_orientation, write_series, write_study_series

ROWS, COLS = 24, 32  # not square, so a transposed frame fails
OBLIQUE = plane_orientation((0.55, -0.5, -0.67))


def _read(path: Path) -> pydicom.Dataset:
    with warnings.catch_warnings():  # Sunnybrook UIDs have leading zeros
        warnings.simplefilter("ignore")
        return pydicom.dcmread(path)


def _sources(folder: Path) -> tuple[np.ndarray, dict[str, tuple[int, int, pydicom.Dataset]]]:
    """The image array ``(X, Y, Z[, T])`` and ``SOPInstanceUID -> (z, t, header)`` of the series."""
    image = read_dicom_folder(folder)
    index = {}
    for z, col in enumerate(image.metadata["files"]):
        for t, name in enumerate(col):
            ds = _read(folder / name)
            index[str(ds.SOPInstanceUID)] = (z, t, ds)
    return image, index


def _check_geometry(frame: pydicom.Dataset, shared: pydicom.Dataset, source: pydicom.Dataset) -> None:
    position = frame.PlanePositionSequence[0].ImagePositionPatient
    np.testing.assert_allclose(np.asarray(position, float), np.asarray(source.ImagePositionPatient, float), atol=1e-4)
    orientation = shared.PlaneOrientationSequence[0].ImageOrientationPatient
    np.testing.assert_allclose(np.asarray(orientation, float), np.asarray(source.ImageOrientationPatient, float))
    spacing = shared.PixelMeasuresSequence[0].PixelSpacing
    np.testing.assert_allclose(np.asarray(spacing, float), np.asarray(source.PixelSpacing, float))


def _check_seg(files: list[Path], labels: np.ndarray, folder: Path) -> None:
    """Every frame of every instance equals ``labels`` at the source image it references."""
    image, sources = _sources(folder)
    lab = labels.reshape(*labels.shape[:2], len(image.metadata["files"]), -1)
    classes = [v for v in (1, 2, 3) if np.any(lab == v)]
    seen = []
    series = {str(_read(f).SeriesInstanceUID) for f in files}
    assert len(series) == 1, "one SEG series"
    for t, path in enumerate(files):
        ds = _read(path)
        assert ds.Modality == "SEG" and ds.SegmentationType == "BINARY" and int(ds.InstanceNumber) == t + 1
        assert [s.SegmentLabel for s in ds.SegmentSequence] == [SEGMENT_CODES[v].label for v in classes]
        for item, value in zip(ds.SegmentSequence, classes, strict=True):
            code = item.SegmentedPropertyTypeCodeSequence[0]
            assert (code.CodingSchemeDesignator, code.CodeValue) == ("SCT", SEGMENT_CODES[value].code.value)
            assert item.SegmentedPropertyCategoryCodeSequence[0].CodeValue == "91723000"
            algorithm = item.SegmentationAlgorithmIdentificationSequence[0]
            assert algorithm.AlgorithmName == "cmrseg" and algorithm.AlgorithmVersion
        pixels = ds.pixel_array.reshape(-1, ds.Rows, ds.Columns)
        for frame, plane in zip(ds.PerFrameFunctionalGroupsSequence, pixels, strict=True):
            uid = frame.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID
            z, tt, source = sources[str(uid)]
            number = int(frame.SegmentIdentificationSequence[0].ReferencedSegmentNumber)
            assert tt == t, "instance t holds phase t"
            np.testing.assert_array_equal(plane, (lab[:, :, z, t] == classes[number - 1]).T)
            _check_geometry(frame, ds.SharedFunctionalGroupsSequence[0], source)
            seen.append((str(uid), number))
        seg = hd.seg.segread(path)  # highdicom's own look-up by source instance agrees
        uids = [u for u, (z, tt, _) in sources.items() if tt == t]
        got = seg.get_pixels_by_source_instance(uids, segment_numbers=list(range(1, len(classes) + 1)))
        for u, planes in zip(uids, got, strict=True):
            z = sources[u][0]
            want = np.stack([(lab[:, :, z, t] == v).T for v in classes], -1)
            np.testing.assert_array_equal(planes, want)
    assert sorted(seen) == sorted((u, n) for u in sources for n in range(1, len(classes) + 1)), "each image once"


@pytest.fixture
def cine(tmp_path, rng) -> tuple[Path, np.ndarray]:
    """A 4-slice x 5-frame oblique cine and random labels ``(X, Y, Z, T)`` on its grid."""
    folder = tmp_path / "cine"
    write_study_series(folder, rng.integers(0, 500, (ROWS, COLS, 4, 5)), orientation=OBLIQUE)
    return folder, rng.integers(0, 4, (COLS, ROWS, 4, 5)).astype(np.uint8)


@pytest.fixture
def molli(tmp_path, rng) -> Path:
    """A 3-position mapping series with 4 images (inversion times) per position."""
    folder = tmp_path / "molli"
    write_study_series(folder, rng.integers(0, 500, (ROWS, COLS, 3, 4)), trigger_ms=[100, 180, 260, 1100])
    return folder


def test_cine_seg_round_trip(cine, tmp_path):
    folder, labels = cine
    image = read_dicom_folder(folder)
    files = write_dicom_seg(LabelMap.like(image, labels), folder, tmp_path / "seg")
    assert [f.name for f in files] == [f"seg_{t:03d}.dcm" for t in range(5)]
    _check_seg(files, labels, folder)
    assert "cardiac phase 2 of 5, trigger time 40 ms" in _read(files[1]).ContentDescription


def test_stack_seg_from_files_with_some_classes(tmp_path, rng):
    folder = tmp_path / "stack"
    write_study_series(folder, rng.integers(0, 500, (ROWS, COLS, 3)))
    labels = rng.integers(0, 2, (COLS, ROWS, 3)).astype(np.uint8) * 3
    labels[0, 0, 0] = 2  # MYO and LV: segments 1 and 2
    files = write_dicom_seg(labels, sorted(folder.glob("*.dcm")), tmp_path / "seg")
    assert len(files) == 1
    _check_seg(files, labels, folder)


def test_seg_refusals(cine, tmp_path, rng):
    folder, labels = cine
    with pytest.raises(ValueError, match="does not match the source series grid"):
        write_dicom_seg(labels[:, :, :, :4], folder, tmp_path / "a")
    with pytest.raises(ValueError, match="does not match the source series grid"):
        write_dicom_seg(labels.transpose(1, 0, 2, 3), folder, tmp_path / "a")
    with pytest.raises(ValueError, match=r"label values \[7\]"):
        write_dicom_seg(np.where(labels == 1, 7, labels), folder, tmp_path / "a")
    with pytest.raises(ValueError, match="no foreground"):
        write_dicom_seg(np.zeros_like(labels), folder, tmp_path / "a")
    with pytest.raises(ValueError, match="integer dtype"):
        write_dicom_seg(labels.astype(float), folder, tmp_path / "a")
    bare = tmp_path / "bare"
    write_series(bare, rng.integers(0, 500, (ROWS, COLS, 4, 5)))
    with pytest.raises(ValueError, match="lack StudyInstanceUID"):
        write_dicom_seg(labels, bare, tmp_path / "a")
    other = LabelMap.like(read_dicom_folder(bare), labels)
    with pytest.raises(ValueError, match=f"series '{other.metadata['series_uid']}' not in"):
        write_dicom_seg(other, folder, tmp_path / "a")  # a label map of another series
    assert not (tmp_path / "a").exists(), "nothing half-written"
    write_dicom_seg(labels, folder, tmp_path / "b")
    with pytest.raises(FileExistsError):
        write_dicom_seg(labels, folder, tmp_path / "b")
    assert len(write_dicom_seg(labels, folder, tmp_path / "b", overwrite=True)) == 5


def _check_map(path: Path, values: np.ndarray, folder: Path, unit: str, quantity: tuple[str, str]) -> None:
    image, sources = _sources(folder)
    ds = _read(path)
    assert ds.SOPClassUID == pydicom.uid.ParametricMapStorage
    mapping = ds.SharedFunctionalGroupsSequence[0].RealWorldValueMappingSequence[0]
    assert mapping.MeasurementUnitsCodeSequence[0].CodeValue == unit
    assert mapping.MeasurementUnitsCodeSequence[0].CodingSchemeDesignator == "UCUM"
    concept = mapping.QuantityDefinitionSequence[0].ConceptCodeSequence[0]
    assert (concept.CodingSchemeDesignator, concept.CodeValue) == quantity
    pixels = ds.pixel_array.reshape(-1, ds.Rows, ds.Columns)
    assert pixels.dtype == np.float32 and len(pixels) == values.shape[2]
    for frame, plane in zip(ds.PerFrameFunctionalGroupsSequence, pixels, strict=True):
        refs = [str(r.ReferencedSOPInstanceUID) for r in frame.DerivationImageSequence[0].SourceImageSequence]
        z = {sources[u][0] for u in refs}
        assert len(z) == 1 and len(refs) == image.shape[3], "a frame references every image at its position"
        z = z.pop()
        np.testing.assert_array_equal(plane, values[:, :, z].T)  # float32 exactly, NaN where NaN
        _check_geometry(frame, ds.SharedFunctionalGroupsSequence[0], sources[refs[0]][2])
    pm = hd.pm.ParametricMap.from_dataset(ds)
    assert pm.number_of_frames == values.shape[2]


def test_t1_map_round_trip_keeps_nan(molli, tmp_path, rng):
    values = rng.uniform(800, 1400, (COLS, ROWS, 3)).astype(np.float32)
    values[3, 5, 1] = values[0, 0, 0] = np.nan  # failed fits
    out = write_parametric_map(values, molli, tmp_path / "t1.dcm", quantity="T1", unit="ms")
    _check_map(out, values, molli, "ms", ("DCM", "113063"))


def test_ecv_map_uses_percent_and_private_code(molli, tmp_path, rng):
    values = rng.uniform(20, 35, (COLS, ROWS, 3)).astype(np.float32)
    out = write_parametric_map(values, sorted(molli.glob("*.dcm")), tmp_path / "ecv.dcm", quantity="ECV")
    _check_map(out, values, molli, "%", ("99CMRSEG", "ECV"))
    schemes = [s.CodingSchemeDesignator for s in _read(out).CodingSchemeIdentificationSequence]
    assert "99CMRSEG" in schemes


def test_map_refusals(molli, tmp_path):
    values = np.full((COLS, ROWS, 3), 1000.0, np.float32)
    with pytest.raises(ValueError, match="unknown quantity 'T3'.*T1, T2, T1rho, ECV"):
        write_parametric_map(values, molli, tmp_path / "m.dcm", quantity="T3")
    with pytest.raises(ValueError, match="T1 is written in 'ms'"):
        write_parametric_map(values, molli, tmp_path / "m.dcm", quantity="T1", unit="%")
    with pytest.raises(ValueError, match="does not match the source series"):
        write_parametric_map(values[:, :, :2], molli, tmp_path / "m.dcm")
    with pytest.raises(ValueError, match="no finite value"):
        write_parametric_map(values * np.nan, molli, tmp_path / "m.dcm")
    assert not (tmp_path / "m.dcm").exists()


@pytest.mark.skipif(shutil.which("dciodvfy") is None, reason="dciodvfy (Debian package dicom3tools) not installed")
def test_dciodvfy_finds_no_errors(cine, molli, tmp_path, rng):
    folder, labels = cine
    outputs = write_dicom_seg(labels, folder, tmp_path / "seg")[:2]
    for quantity in ("T1", "T2", "T1rho", "ECV"):
        values = rng.uniform(10, 1000, (COLS, ROWS, 3)).astype(np.float32)
        values[0, 0, 0] = np.nan
        outputs.append(write_parametric_map(values, molli, tmp_path / f"{quantity}.dcm", quantity=quantity))
    for path in outputs:
        report = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True, timeout=60)
        lines = (report.stdout + report.stderr).splitlines()
        assert lines and lines[0] in ("Segmentation", "ParametricMap"), lines[:3]
        assert not [line for line in lines if line.startswith("Error")], f"{path.name}: {lines}"


def test_sunnybrook_cine_seg_references_all_240_images(tmp_path):
    folder = data_path("sunnybrook/dicoms/SCD0000101")
    image = read_dicom_folder(folder)
    assert image.shape[2:] == (12, 20)
    x, y = np.mgrid[: image.shape[0], : image.shape[1]]
    radius = np.hypot(x - 0.55 * image.shape[0], y - 0.45 * image.shape[1])  # off-centre: a flip shows
    disc = np.select([radius < 18, radius < 25, (radius < 40) & (x < 0.4 * image.shape[0])], [3, 2, 1], 0)
    labels = np.broadcast_to(disc[:, :, None, None], image.shape).astype(np.uint8).copy()
    labels[:, :, 5, 7] = 0  # one empty image: its frames must still be there, empty
    with pytest.warns(UserWarning, match="240 FrameOfReferenceUIDs"):  # an anonymiser gave each image its own
        files = write_dicom_seg(LabelMap.like(image, labels), folder, tmp_path / "seg")
    assert len(files) == 20
    _check_seg(files, labels, folder)
