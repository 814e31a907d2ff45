"""Multi-frame (enhanced) DICOM: each frame read as an image of its own (issue 13, item 1)."""

from __future__ import annotations

import shutil
import warnings

import numpy as np
import pydicom
import pytest

from cmrseg.io.dicom import read_dicom_folder
from cmrseg.io.series import discover_series
from tests.conftest import data_path
from tests.dicom_writer import to_multiframe, write_molli_series, write_series


def _same_image(a, b) -> None:
    np.testing.assert_array_equal(a.array, b.array)
    assert a.spacing == b.spacing
    np.testing.assert_allclose(a.affine, b.affine)
    assert a.metadata["trigger_time_ms"] == b.metadata["trigger_time_ms"]
    assert a.metadata["slice_positions_mm"] == b.metadata["slice_positions_mm"]


@pytest.fixture()
def cine(tmp_path):
    """A 4-slice x 6-frame cine as single frames, in files written in shuffled order."""
    stored = np.random.default_rng(3).integers(0, 1000, size=(20, 24, 4, 6))
    write_series(tmp_path / "single", stored)
    return tmp_path / "single", sorted((tmp_path / "single").glob("*.dcm"))


def test_one_enhanced_file_reads_as_the_single_frames(cine, tmp_path):
    folder, files = cine
    to_multiframe(files, tmp_path / "multi" / "cine.dcm")
    multi = read_dicom_folder(tmp_path / "multi")
    _same_image(multi, read_dicom_folder(folder))
    assert multi.shape == (24, 20, 4, 6) and multi.metadata["files"][0][0].startswith("cine.dcm#")


def test_a_series_in_several_enhanced_files(cine, tmp_path):
    folder, files = cine
    to_multiframe(files[:10], tmp_path / "multi" / "a.dcm")
    to_multiframe(files[10:], tmp_path / "multi" / "b.dcm")
    _same_image(read_dicom_folder(tmp_path / "multi"), read_dicom_folder(folder))


def test_enhanced_molli_classified_with_its_inversion_times(tmp_path):
    write_molli_series(tmp_path / "single", 30, "MOLLI 5(3)3 post")
    files = sorted((tmp_path / "single").glob("*.dcm"))
    to_multiframe(files, tmp_path / "multi" / "molli.dcm")
    single, multi = discover_series(tmp_path / "single")[0], discover_series(tmp_path / "multi")[0]
    assert multi.kind == single.kind == "molli" and multi.n_files == 8
    assert multi.inversion_times_ms == single.inversion_times_ms == ((100, 180, 260, 1100, 1180, 2100, 2180, 3100),)


def test_damaged_enhanced_files_refused_in_one_line(cine, tmp_path):
    _, files = cine
    to_multiframe(files, tmp_path / "nopos" / "cine.dcm", per_frame_geometry=False)
    with pytest.raises(ValueError, match=r"24 of 24 images lack ImagePositionPatient \(cine.dcm#1"):
        read_dicom_folder(tmp_path / "nopos")
    short = to_multiframe(files, tmp_path / "short" / "cine.dcm")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(short)
    ds.PixelData = ds.PixelData[: len(ds.PixelData) // 2]  # half the frames' pixels
    ds.save_as(short)
    with pytest.raises(ValueError, match=r"cannot decode the pixel data of .*cine.dcm#"):
        read_dicom_folder(tmp_path / "short")


def test_real_cine_as_one_enhanced_file(tmp_path):
    """All 240 Sunnybrook images in one multi-frame file: the same image, geometry and class."""
    folder = data_path("sunnybrook/dicoms/SCD0000101")
    to_multiframe(sorted(folder.glob("*.dcm")), tmp_path / "multi" / "cine.dcm")
    _same_image(read_dicom_folder(tmp_path / "multi"), read_dicom_folder(folder))
    found = discover_series(tmp_path / "multi")
    assert [(s.kind, s.n_positions, s.n_phases, s.problem) for s in found] == [("sax_cine", 12, 20, None)]
    shutil.rmtree(tmp_path / "multi")


def test_study_on_an_enhanced_cine_segments_and_says_why_no_dicom_seg(tmp_path):
    from cmrseg.workflows.study import run_study
    from tests.dicom_writer import add_study_context, write_study
    from tests.test_study import DiscPredictor

    write_study(tmp_path / "single")
    add_study_context(tmp_path / "single")
    to_multiframe(sorted((tmp_path / "single" / "S010").glob("*.dcm")), tmp_path / "export" / "cine.dcm")
    result = run_study(tmp_path / "export", tmp_path / "out", predictor=DiscPredictor())
    (cine,) = result.series
    assert cine.kind == "sax_cine" and cine.status == "partial" and cine.values["lv_ef_percent"] > 0
    assert "DICOM-SEG not done: the source series is stored as multi-frame (enhanced) DICOM" in cine.reason


def test_legacy_converted_enhanced_mr_from_highdicom(cine, tmp_path):
    """highdicom's Legacy Converted Enhanced MR (trigger times in the unassigned converted groups)."""
    import highdicom as hd

    from tests.dicom_writer import add_study_context

    folder, files = cine
    add_study_context(folder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        legacy = [pydicom.dcmread(f) for f in files]
        converted = hd.legacy.LegacyConvertedEnhancedMRImage(
            legacy, series_instance_uid=hd.UID(), series_number=9, sop_instance_uid=hd.UID(), instance_number=1
        )
    (tmp_path / "legacy").mkdir()
    converted.save_as(tmp_path / "legacy" / "cine.dcm")
    _same_image(read_dicom_folder(tmp_path / "legacy"), read_dicom_folder(folder))
