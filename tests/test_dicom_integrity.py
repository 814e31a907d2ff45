"""Slightly broken DICOM folders are refused with one line naming the file, never read wrongly (issue 14)."""

from __future__ import annotations

import shutil
import warnings
import zlib

import numpy as np
import pydicom
import pytest

from cmrseg.cli import main
from cmrseg.io.dicom import list_series, read_dicom_folder
from tests.conftest import data_path
from tests.dicom_writer import mutations, series_layout, write_series

NZ, NT, N = 4, 5, 32  # slices, frames, pixels: small enough for a fast fuzz


@pytest.fixture(scope="module")
def clean_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dicom") / "clean"
    stored = np.random.default_rng(7).integers(0, 1000, size=(N, N, NZ, NT))
    write_series(folder, stored, spacing_rc=(1.25, 1.5), slice_mm=8.0)
    return folder


@pytest.fixture(scope="module")
def clean(clean_dir):
    return read_dicom_folder(clean_dir)


@pytest.fixture
def series(tmp_path, clean_dir):
    """A fresh copy of the clean series, and its layout ``name -> (slice, frame)``."""
    folder = tmp_path / "s"
    shutil.copytree(clean_dir, folder)
    return folder, series_layout(folder)


def _edit(path, **changes):
    ds = pydicom.dcmread(path)
    for key, value in changes.items():
        if value is None:
            del ds[key]
        else:
            setattr(ds, key, value)
    ds.save_as(path)


def _file(layout, z, t):
    return next(n for n, zt in layout.items() if zt == (z, t))


def _refused(folder, *, match, series=None):
    with pytest.raises(ValueError, match=match) as info:
        read_dicom_folder(folder, series=series)
    assert "\n" not in str(info.value)
    return str(info.value)


def _assert_same(image, clean):
    assert image.shape == clean.shape == (N, N, NZ, NT)
    np.testing.assert_array_equal(image.array, clean.array)
    np.testing.assert_array_equal(image.affine, clean.affine)


def test_clean_synthetic_series_reads_in_order(clean):
    assert clean.spacing == pytest.approx((1.5, 1.25, 8.0))
    assert clean.metadata["trigger_time_ms"] == [0.0, 40.0, 80.0, 120.0, 160.0]
    assert np.diff(clean.metadata["slice_positions_mm"]) == pytest.approx([8.0] * (NZ - 1))


def test_file_without_pixel_spacing_is_named_not_bridged(series):
    folder, layout = series
    _edit(folder / _file(layout, 2, 3), PixelSpacing=None)
    msg = _refused(folder, match="lack PixelSpacing")
    assert f"1 of {NZ * NT} images" in msg and _file(layout, 2, 3) in msg


def test_folder_where_every_file_lacks_pixel_spacing_says_so(series):
    folder, layout = series
    for name in layout:
        _edit(folder / name, PixelSpacing=None)
    _refused(folder, match=rf"{NZ * NT} of {NZ * NT} images lack PixelSpacing .* and {NZ * NT - 5} more")


def test_missing_file_is_refused_not_shifted(series):
    folder, layout = series
    (folder / _file(layout, 1, 2)).unlink()
    _refused(folder, match=rf"{NT} images at each of {NZ - 1} slice positions but {NT - 1} at 28.00 mm")


@pytest.mark.parametrize("how", ["copy", "overwrite"])
def test_duplicate_file_is_refused_naming_both(series, how):
    folder, layout = series
    a, b = _file(layout, 0, 1), _file(layout, 3, 4)
    target = folder / ("extra.dcm" if how == "copy" else b)
    shutil.copyfile(folder / a, target)
    msg = _refused(folder, match="are the same image")
    assert a in msg and target.name in msg


def test_same_position_and_trigger_time_is_refused(series):
    folder, layout = series
    _edit(folder / _file(layout, 2, 1), TriggerTime=80.0)  # frame 2's time
    msg = _refused(folder, match=r"share slice position 36.00 mm and TriggerTime 80 ms")
    assert _file(layout, 2, 1) in msg and _file(layout, 2, 2) in msg


def test_trigger_time_missing_on_one_file_is_refused(series):
    folder, layout = series
    _edit(folder / _file(layout, 1, 4), TriggerTime=None)
    _refused(folder, match=rf"TriggerTime is missing on {_file(layout, 1, 4)} but present on the other {NZ * NT - 1}")


def test_without_any_trigger_time_instance_number_orders_frames(series, clean):
    folder, layout = series
    for name, (z, t) in layout.items():
        _edit(folder / name, TriggerTime=None, InstanceNumber=100 * z + t + 1)
    image = read_dicom_folder(folder)
    np.testing.assert_array_equal(image.array, clean.array)
    _edit(folder / _file(layout, 0, 0), InstanceNumber=None)
    _refused(folder, match=f"InstanceNumber is missing or repeated on {_file(layout, 0, 0)}")


def test_random_bytes_file_is_skipped_with_a_warning(series, clean):
    folder, _ = series
    (folder / "junk.bin").write_bytes(np.random.default_rng(1).bytes(3000))
    (folder / "README").write_text("exported by the scanner\n")
    with pytest.warns(UserWarning, match="skipped as not DICOM images: README, junk.bin"):
        image = read_dicom_folder(folder)
    _assert_same(image, clean)


def test_random_bytes_in_place_of_an_image_is_refused_and_listed(series):
    folder, layout = series
    name = _file(layout, 3, 0)
    (folder / name).write_bytes(np.random.default_rng(2).bytes(3000))
    _refused(folder, match=rf"but {NT - 1} at 44.00 mm.*skipped as not DICOM images: {name}$")


@pytest.mark.parametrize(
    "changes, match",
    [
        ({"Rows": None}, "lack Rows"),
        ({"Columns": None}, "lack Columns"),
        ({"PixelData": None}, "lack PixelData"),
        ({"ImageOrientationPatient": [1, 0, 0, 0, 1]}, "ImageOrientationPatient must hold 6 number"),
        ({"ImageOrientationPatient": [1, 0, 0, 0.5, 1, 0]}, "is not two orthogonal unit vectors"),
        ({"ImagePositionPatient": [1e30, 0, 0]}, r"ImagePositionPatient \[1e\+30, 0.0, 0.0\] is out of range"),
        ({"PixelSpacing": [0, 1.25]}, "PixelSpacing .* must be positive"),
        ({"TriggerTime": 1e9}, "TriggerTime .* is out of range"),
    ],
)
def test_broken_header_is_one_line_naming_the_file(series, changes, match):
    folder, layout = series
    name = _file(layout, 1, 1)
    _edit(folder / name, **changes)
    assert name in _refused(folder, match=match)


def test_truncated_file_is_named(series):
    folder, layout = series
    path = folder / _file(layout, 2, 2)
    path.write_bytes(path.read_bytes()[:-100])
    _refused(folder, match=f"cannot decode the pixel data of .*{path.name}: The number of bytes")


def test_slice_gap_is_refused_naming_the_positions(series):
    folder, layout = series
    for name, (z, _) in layout.items():
        if z == 1:
            (folder / name).unlink()
    _refused(folder, match="uneven slice spacing .*16.00 mm from 20.00 to 36.00 mm, where the other steps are 8.00 mm")


def test_in_plane_shift_of_one_image_is_refused(series):
    folder, layout = series
    _edit(folder / _file(layout, 2, 0), ImagePositionPatient=[-99.0, -80.0, 36.0])
    _refused(folder, match=f"{_file(layout, 2, 0)}: ImagePositionPatient differs from the other images at")


def test_series_by_uid_or_unambiguous_number(tmp_path, rng):
    write_series(tmp_path / "a", rng.integers(0, 9, (4, 4, 2)), series_uid="1.2.3")
    write_series(tmp_path / "b", rng.integers(0, 9, (4, 4, 3)), series_uid="1.2.4")
    assert {s.number for s in list_series(tmp_path)} == {7}
    assert read_dicom_folder(tmp_path, series="1.2.4").shape == (4, 4, 3)
    msg = _refused(tmp_path, series="7", match="series number 7 is ambiguous")
    assert "1.2.3" in msg and "1.2.4" in msg
    for path in (tmp_path / "b").iterdir():
        _edit(path, SeriesNumber=8)
    assert read_dicom_folder(tmp_path, series="8").shape == (4, 4, 3)
    _refused(tmp_path, series="9", match="series '9' not in")


def test_cli_reports_a_broken_folder_in_one_line(series, tmp_path, capsys):
    folder, layout = series
    (folder / _file(layout, 1, 2)).unlink()
    assert main(["t1map", str(folder), "-o", str(tmp_path / "T1.nii.gz")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "incomplete series" in err and not (tmp_path / "T1.nii.gz").exists()


def _outcome(folder, clean):
    """``"clean"``, ``"refuse"``, or an AssertionError for a different image; other errors propagate."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image = read_dicom_folder(folder)
    except (ValueError, FileNotFoundError) as exc:
        assert "\n" not in str(exc)
        return "refuse"
    _assert_same(image, clean)
    return "clean"


@pytest.mark.parametrize("mutation", mutations(), ids=lambda m: m.name)
def test_each_kind_of_damage_gives_the_expected_outcome(series, clean, mutation):
    folder, layout = series
    what = mutation.apply(folder, layout, np.random.default_rng(zlib.crc32(mutation.name.encode())))
    outcome = _outcome(folder, clean)
    assert mutation.expect in ("either", outcome), f"{what}: {outcome}"


def test_seeded_fuzz_gives_the_clean_image_or_a_refusal(series, clean, clean_dir):
    folder, layout = series
    kinds, seen = mutations(), set()
    for seed in range(40):
        shutil.rmtree(folder)
        shutil.copytree(clean_dir, folder)
        rng = np.random.default_rng(seed)
        chosen = [kinds[int(i)] for i in rng.choice(len(kinds), size=int(rng.integers(1, 4)), replace=False)]
        what = "; ".join(m.apply(folder, layout, rng) for m in chosen)
        outcome = _outcome(folder, clean)
        if any(m.expect == "refuse" for m in chosen):
            assert outcome == "refuse", what
        seen.add(outcome)
    assert seen == {"clean", "refuse"}


def test_real_sunnybrook_subset_and_a_file_without_pixel_spacing(tmp_path):
    src = data_path("sunnybrook/dicoms/SCD0000101")
    layout = series_layout(src)
    folder = tmp_path / "sb"
    folder.mkdir()
    for name, (z, _) in layout.items():
        if 4 <= z < 7:
            shutil.copyfile(src / name, folder / name)
    image = read_dicom_folder(folder)
    full = read_dicom_folder(src)
    assert image.shape == (256, 256, 3, 20) and image.spacing == pytest.approx(full.spacing)
    np.testing.assert_array_equal(image.array, full.array[:, :, 4:7])
    np.testing.assert_allclose(image.affine[:3, 3], full.affine[:3, :] @ [0, 0, 4, 1], atol=0.01)  # mm
    assert sorted(image.metadata) == sorted(full.metadata)
    victim = next(n for n, zt in layout.items() if zt == (5, 7))
    _edit(folder / victim, PixelSpacing=None)
    _refused(folder, match=f"1 of 60 images lack PixelSpacing \\({victim}\\)")
