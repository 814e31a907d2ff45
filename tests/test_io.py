import numpy as np
import pytest

from cmrseg.image import Image, LabelMap, default_affine
from cmrseg.io.dicom import read_dicom_folder
from cmrseg.io.nifti import read_image, read_labels, write_image, write_labels
from tests.conftest import data_path
from tests.dicom_writer import write_series


def _affine():
    from scipy.spatial.transform import Rotation

    a = default_affine((1.4, 1.3, 8.0))
    a[:3, :3] = Rotation.from_euler("xyz", [20, -35, 50], degrees=True).as_matrix() @ a[:3, :3]
    a[:3, 3] = (-90.5, 12.25, 30.0)  # an oblique short-axis plane must survive
    return a


@pytest.mark.parametrize("shape", [(12, 10), (12, 10, 3), (12, 10, 3, 5)])
def test_nifti_round_trip_keeps_geometry(tmp_path, rng, shape):
    spacing = (1.4, 1.3, 8.0)[: min(len(shape), 3)]
    image = Image(rng.normal(size=shape).astype(np.float32), spacing, _affine())
    write_image(image, tmp_path / "x.nii.gz")
    back = read_image(tmp_path / "x.nii.gz")
    np.testing.assert_array_equal(back.array, image.array)
    assert back.spacing == pytest.approx(spacing)
    np.testing.assert_allclose(back.affine, image.affine, atol=1e-5)


def test_label_round_trip_and_integer_dtype(tmp_path):
    labels = LabelMap(np.arange(24, dtype=np.uint8).reshape(4, 3, 2) % 4, (1.0, 2.0, 3.0), _affine())
    write_labels(labels, tmp_path / "l.nii.gz")
    back = read_labels(tmp_path / "l.nii.gz")
    np.testing.assert_array_equal(back.array, labels.array)
    with pytest.raises(ValueError, match="integer"):
        LabelMap(np.zeros((3, 3), np.float32), (1.0, 1.0))


def test_dicom_series_sorted_scaled_and_placed(tmp_path, rng):
    rows, cols, nz, nt = 6, 5, 4, 3
    stored = rng.integers(0, 500, size=(rows, cols, nz, nt))
    write_series(
        tmp_path / "s",
        stored,
        spacing_rc=(1.25, 1.5),
        slice_mm=8.0,
        slope=2.0,
        intercept=-10.0,
        trigger_ms=[0.0, 300.0, 150.0],
    )
    img = read_dicom_folder(tmp_path / "s")
    assert img.shape == (cols, rows, nz, nt)  # X along the row direction
    assert img.spacing == pytest.approx((1.5, 1.25, 8.0))
    # frames sorted by trigger time: 0, 150, 300 ms -> stored frames 0, 2, 1
    expected = (stored * 2.0 - 10.0).transpose(1, 0, 2, 3)[..., [0, 2, 1]]
    np.testing.assert_allclose(img.array, expected)
    assert img.metadata["trigger_time_ms"] == [0.0, 150.0, 300.0]
    # voxel (i=2 column, j=3 row, k=1 slice) in patient RAS mm
    lps = np.array([-100.0 + 2 * 1.5, -80.0 + 3 * 1.25, 20.0 + 8.0])
    ras = img.affine @ np.array([2, 3, 1, 1.0])
    np.testing.assert_allclose(ras[:3], lps * [-1, -1, 1])


def test_dicom_folder_with_two_series_lists_them(tmp_path, rng):
    write_series(tmp_path / "a", rng.integers(0, 9, (4, 4, 2)), series_uid="1.2.3")
    write_series(tmp_path / "b", rng.integers(0, 9, (4, 4, 2)), series_uid="1.2.4")
    with pytest.raises(ValueError, match=r"2 series.*1\.2\.3.*1\.2\.4"):
        read_dicom_folder(tmp_path)
    assert read_dicom_folder(tmp_path, series="1.2.4").shape == (4, 4, 2)


def test_real_sunnybrook_cine_geometry():
    img = read_dicom_folder(data_path("sunnybrook/dicoms/SCD0000101"))
    assert img.shape == (256, 256, 12, 20)
    assert img.spacing[0] == pytest.approx(1.367188) and img.spacing[2] == pytest.approx(10.0)
    assert np.all(np.diff(img.metadata["trigger_time_ms"]) > 0)
    assert np.all(np.diff(img.metadata["slice_positions_mm"]) == pytest.approx(10.0))


def test_converters_on_real_data(tmp_path):
    from cmrseg.io.datasets import convert, load_dataset

    ds = convert("mnms2", data_path("mnms2"), tmp_path / "mnms2")
    assert [c.id for c in ds.cases] == ["001_SA_ED", "001_SA_ES"]
    lab = read_labels(tmp_path / "mnms2" / ds.cases[0].label)
    raw = read_labels(data_path("mnms2") / "001" / "001_SA_ED_gt.nii.gz")
    assert np.array_equal(lab.array == 3, raw.array == 1)  # M&Ms LV (1) -> ACDC LV (3)
    sb = convert("sunnybrook", data_path("sunnybrook"), tmp_path / "sb")
    assert sorted(c.phase for c in sb.cases) == ["ED", "ED", "ES", "ES"]
    assert load_dataset(tmp_path / "sb").labelled_classes == (2, 3)
    ed = next(c for c in sb.cases if c.phase == "ED")
    lv = read_labels(tmp_path / "sb" / ed.label).array == 3
    assert 40 < lv.sum() * 1.367188**2 * 10 / 1000 < 400  # LV EDV in mL, heart-failure range


def test_written_files_get_the_usual_permissions(tmp_path):
    import os

    write_labels(LabelMap(np.zeros((4, 4), np.uint8), (1.0, 1.0)), tmp_path / "l.nii.gz")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "l.nii.gz").stat().st_mode & 0o777 == 0o666 & ~umask
