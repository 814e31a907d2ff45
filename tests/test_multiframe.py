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


def test_study_on_an_enhanced_cine_writes_its_dicom_seg(tmp_path):
    from cmrseg.workflows.study import run_study
    from tests.dicom_writer import add_study_context, write_study
    from tests.test_study import DiscPredictor

    write_study(tmp_path / "single")
    add_study_context(tmp_path / "single")
    to_multiframe(sorted((tmp_path / "single" / "S010").glob("*.dcm")), tmp_path / "export" / "cine.dcm")
    result = run_study(tmp_path / "export", tmp_path / "out", predictor=DiscPredictor())
    (cine,) = result.series
    assert cine.kind == "sax_cine" and cine.status == "complete" and cine.values["lv_ef_percent"] > 0
    segs = [o for o in cine.outputs if o.endswith(".dcm")]
    assert segs and all(o.startswith(f"dicom/{cine.tag}_seg/seg_") for o in segs)


def _frame_headers(path) -> dict[int, pydicom.Dataset]:
    """Frame number (1-based) -> that frame's header, functional groups flattened as cmrseg reads them."""
    from cmrseg.io.dicom import _frame_views

    return {int(p.name.rpartition("#")[2]): view for p, view in _frame_views(path, pydicom.dcmread(path))}


def _where(image) -> dict[int, tuple[int, int]]:
    """Source frame number -> (z, t) on the image grid."""
    return {
        int(name.rpartition("#")[2]): (z, t)
        for z, col in enumerate(image.metadata["files"])
        for t, name in enumerate(col)
    }


@pytest.fixture()
def oblique_cine(tmp_path, rng):
    """An oblique 3-slice x 4-phase cine with study context, as one enhanced file, and random labels."""
    from tests.dicom_writer import plane_orientation, write_study_series

    single = tmp_path / "single"
    write_study_series(single, rng.integers(0, 500, (24, 32, 3, 4)), orientation=plane_orientation((0.55, -0.5, -0.67)))
    path = to_multiframe(sorted(single.glob("*.dcm")), tmp_path / "multi" / "cine.dcm")
    image = read_dicom_folder(tmp_path / "multi")
    return path, image, rng.integers(0, 4, image.shape).astype(np.uint8)


def test_dicom_seg_on_an_enhanced_cine_references_each_frame(oblique_cine, tmp_path):
    """Instance t holds phase t; each of its frames references the source frame it segments
    (ReferencedFrameNumber), at that frame's position, and highdicom's look-up agrees."""
    import highdicom as hd

    from cmrseg.image import LabelMap
    from cmrseg.io.dicom_out import write_dicom_seg
    from tests.test_dicom_out import _check_geometry

    path, image, labels = oblique_cine
    files = write_dicom_seg(LabelMap.like(image, labels), path.parent, tmp_path / "seg")
    assert len(files) == 4
    frames, where = _frame_headers(path), _where(image)
    uid = str(pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID)
    classes, seen = [1, 2, 3], []
    for t, seg_path in enumerate(files):
        ds = pydicom.dcmread(seg_path)
        pixels = ds.pixel_array.reshape(-1, ds.Rows, ds.Columns)
        for item, plane in zip(ds.PerFrameFunctionalGroupsSequence, pixels, strict=True):
            (reference,) = item.DerivationImageSequence[0].SourceImageSequence
            frame = int(reference.ReferencedFrameNumber)
            z, phase = where[frame]
            number = int(item.SegmentIdentificationSequence[0].ReferencedSegmentNumber)
            assert str(reference.ReferencedSOPInstanceUID) == uid and phase == t
            np.testing.assert_array_equal(plane, (labels[:, :, z, t] == classes[number - 1]).T)
            _check_geometry(item, ds.SharedFunctionalGroupsSequence[0], frames[frame])
            seen.append((frame, number))
        mine = sorted(f for f, (_, phase) in where.items() if phase == t)
        got = hd.seg.segread(seg_path).get_pixels_by_source_frame(uid, mine, segment_numbers=classes)
        for frame, planes in zip(mine, got, strict=True):
            z = where[frame][0]
            np.testing.assert_array_equal(planes, np.stack([(labels[:, :, z, t] == v).T for v in classes], -1))
    assert sorted(seen) == sorted((f, n) for f in where for n in classes), "every source frame once per segment"


def test_parametric_map_on_an_enhanced_molli_references_every_frame_at_its_position(oblique_cine, tmp_path, rng):
    import highdicom as hd

    from cmrseg.io.dicom_out import write_parametric_map
    from tests.test_dicom_out import _check_geometry

    path, image, _ = oblique_cine
    values = rng.uniform(800, 1400, image.shape[:3]).astype(np.float32)
    values[2, 3, 1] = np.nan
    out = write_parametric_map(values, [path], tmp_path / "t1.dcm", quantity="T1")
    ds, frames, where = pydicom.dcmread(out), _frame_headers(path), _where(image)
    pixels = ds.pixel_array.reshape(-1, ds.Rows, ds.Columns)
    assert len(pixels) == 3
    for item, plane in zip(ds.PerFrameFunctionalGroupsSequence, pixels, strict=True):
        refs = [int(r.ReferencedFrameNumber) for r in item.DerivationImageSequence[0].SourceImageSequence]
        (z,) = {where[f][0] for f in refs}
        assert len(refs) == 4, "a map frame references every image at its position"
        np.testing.assert_array_equal(plane, values[:, :, z].T)
        _check_geometry(item, ds.SharedFunctionalGroupsSequence[0], frames[refs[0]])
    assert hd.pm.ParametricMap.from_dataset(ds).number_of_frames == 3


@pytest.mark.skipif(shutil.which("dciodvfy") is None, reason="dciodvfy (Debian package dicom3tools) not installed")
def test_dciodvfy_finds_no_errors_on_outputs_of_an_enhanced_source(oblique_cine, tmp_path):
    import subprocess

    from cmrseg.io.dicom_out import write_dicom_seg, write_parametric_map

    path, image, labels = oblique_cine
    outputs = write_dicom_seg(labels, path.parent, tmp_path / "seg")[:2]
    outputs.append(write_parametric_map(np.full(image.shape[:3], 1000.0, np.float32), path, tmp_path / "t1.dcm"))
    for out in outputs:
        report = subprocess.run(["dciodvfy", str(out)], capture_output=True, text=True, timeout=60)
        lines = (report.stdout + report.stderr).splitlines()
        assert not [line for line in lines if line.startswith("Error")], f"{out.name}: {lines}"


def test_dicom_seg_on_a_source_without_its_type2_patient_attributes(oblique_cine, tmp_path):
    """An anonymiser removed PatientBirthDate, PatientSex and StudyDate (Type 2: they must be there,
    maybe empty): the SEG is still written, with them empty (the 200-study benchmark found this)."""
    from cmrseg.io.dicom_out import write_dicom_seg

    path, _, labels = oblique_cine
    ds = pydicom.dcmread(path)
    for keyword in ("PatientBirthDate", "PatientSex", "StudyDate", "AccessionNumber"):
        delattr(ds, keyword)
    ds.save_as(path)
    (first, *_) = write_dicom_seg(labels, path.parent, tmp_path / "seg")
    seg = pydicom.dcmread(first)
    assert seg.PatientBirthDate == "" and seg.StudyDate == "" and seg.PatientID == ds.PatientID


def test_outputs_refused_on_a_series_in_several_enhanced_files(cine, tmp_path):
    from cmrseg.io.dicom_out import write_dicom_seg

    _, files = cine
    to_multiframe(files[:10], tmp_path / "multi" / "a.dcm")
    to_multiframe(files[10:], tmp_path / "multi" / "b.dcm")
    labels = np.ones((24, 20, 4, 6), np.uint8)
    with pytest.raises(ValueError, match="stored in 2 files, some of them multi-frame"):
        write_dicom_seg(labels, tmp_path / "multi", tmp_path / "seg")
    assert not (tmp_path / "seg").exists()


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
