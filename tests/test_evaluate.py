import numpy as np
import pytest

from cmrseg.evaluate import evaluate_arrays, summarise
from cmrseg.geometry import apex_side, slice_levels
from cmrseg.image import LabelMap
from cmrseg.io.nifti import write_labels
from cmrseg.workflows.evaluate import evaluate_paths


def _stack(shift=0, n=9, size=64, r_cav=10, r_epi=15):
    yy, xx = np.mgrid[:size, :size]
    out = np.zeros((size, size, n), np.uint8)
    for z in range(n):
        scale = 1.0 - 0.06 * z  # heart tapers towards the apex (high z)
        r = np.hypot(yy - 32 - shift, xx - 32)
        out[:, :, z][r < r_epi * scale] = 2
        out[:, :, z][r < r_cav * scale] = 3
    return out


def test_slice_levels_thirds_from_base():
    ref = _stack(n=9)
    ref[:, :, 0] = 0  # outside the LV
    assert slice_levels(ref) == ["outside"] + ["basal"] * 3 + ["mid"] * 3 + ["apical"] * 2
    assert slice_levels(ref[:, :, ::-1]) == (["apical"] * 2 + ["mid"] * 3 + ["basal"] * 3 + ["outside"])


def _oblique_affine(normal):
    """An affine whose rows are an orthonormal in-plane pair and ``normal`` (1 mm pixels, 8 mm slices)."""
    n = np.asarray(normal, float) / np.linalg.norm(normal)
    u = np.cross(n, [0.0, 0.0, 1.0])
    u /= np.linalg.norm(u)
    v = np.cross(n, u)
    a = np.eye(4)
    a[:3, 0], a[:3, 1], a[:3, 2] = u, v, 8 * n
    return a


def test_apex_side_from_the_slice_normal():
    towards_apex = [-0.6, 0.5, -0.6]  # RAS: left, anterior, inferior
    assert apex_side(_oblique_affine(towards_apex)) == 1
    assert apex_side(_oblique_affine([0.6, -0.5, 0.6])) == -1  # slices run apex -> base
    lps = np.diag([-1.0, -1.0, 1.0, 1.0]) @ _oblique_affine(towards_apex)  # LPS written as RAS
    assert apex_side(lps) == 1  # the superior component does not change
    assert apex_side(np.eye(4)) is None and apex_side(None) is None  # synthetic geometry
    assert apex_side(_oblique_affine([-0.7, 0.7, -0.1])) is None  # near-horizontal normal: cannot tell


def test_geometry_decides_the_base_over_the_area_rule(tmp_path):
    ref = _stack(n=9)  # largest at z = 0: the area rule calls z = 0 basal
    assert slice_levels(ref)[0] == "basal" and slice_levels(ref, apex=-1)[0] == "apical"
    affine = _oblique_affine([0.6, -0.5, 0.6])  # index grows superior: towards the base
    write_labels(LabelMap(ref, (1.0, 1.0, 8.0), affine), tmp_path / "ref.nii.gz")
    rows = evaluate_paths(tmp_path / "ref.nii.gz", tmp_path / "ref.nii.gz")
    assert {r.level for r in rows if r.slice == "0"} == {"apical"}
    assert {r.level for r in rows if r.slice == "8"} == {"basal"}


def test_shifted_prediction_distances_in_mm():
    ref, pred = _stack(), _stack(shift=2)
    rows = evaluate_arrays("c", pred, ref, (1.5, 1.0, 8.0))
    lv_slices = [r for r in rows if r.label == "LV" and r.slice != "all"]
    # a disc shifted by 2 rows at 1.5 mm: Hausdorff = 3 mm on mask and contour
    assert all(r.hd_mm == pytest.approx(3.0, abs=0.01) for r in lv_slices)
    assert all(r.hd_contour_mm == pytest.approx(3.0, abs=0.5) for r in lv_slices)
    assert all(0.7 < r.dice < 0.95 for r in lv_slices)
    assert {r.level for r in lv_slices} == {"basal", "mid", "apical"}


def test_empty_prediction_gives_nan_with_reason():
    ref = _stack()
    pred = ref.copy()
    pred[:, :, 4][pred[:, :, 4] == 3] = 0
    rows = [r for r in evaluate_arrays("c", pred, ref, (1.0, 1.0, 8.0)) if r.slice == "4" and r.label == "LV"]
    assert rows[0].dice == 0.0 and np.isnan(rows[0].hd_mm) and rows[0].note == "empty prediction"


def test_two_readers_and_different_grids(tmp_path):
    a = LabelMap(_stack(), (1.0, 1.0, 8.0))
    b = LabelMap(_stack(shift=1), (1.0, 1.0, 8.0))
    for name, lab in (("pred", a), ("r1", a), ("r2", b)):
        (tmp_path / name).mkdir()
        write_labels(lab, tmp_path / name / "case1.nii.gz")
    rows = evaluate_paths(tmp_path / "pred", [tmp_path / "r1", tmp_path / "r2"])
    summary = summarise(rows)
    inter = [s for s in summary if s["compared"] == "ref1" and s["reference"] == "ref2" and s["level"] == "all"]
    assert inter and all(s["dice"] < 1.0 for s in inter)
    exact = [s for s in summary if s["compared"] == "model" and s["reference"] == "ref1" and s["level"] == "all"]
    assert all(s["dice"] == 1.0 for s in exact)
    (tmp_path / "r3").mkdir()
    write_labels(LabelMap(_stack()[:, :, :5], (1.0, 1.0, 8.0)), tmp_path / "r3" / "case1.nii.gz")
    with pytest.raises(ValueError, match="different grids"):
        evaluate_paths(tmp_path / "pred", [tmp_path / "r3"])


def test_discretisation_floor_is_sub_pixel_and_below_real_errors():
    from cmrseg.contours import mask_contour
    from cmrseg.evaluate import discretisation_floor_mm

    yy, xx = np.mgrid[:96, :96]
    disc = np.hypot(yy - 47.3, xx - 40.6) < 17.2
    floor = discretisation_floor_mm(mask_contour(disc), disc.shape, (1.5, 1.5))
    # rasterising a contour through border-pixel centres (border pixels included) and refitting
    # moves it by about one pixel: the floor is ~1 px, well under 1.5 px of 1.5 mm
    assert 0.0 < floor < 1.5 * 1.5
    rows = evaluate_arrays("c", _stack(shift=2), _stack(), (1.5, 1.0, 8.0))
    lv = [r for r in rows if r.label == "LV" and r.slice != "all"]
    assert all(r.hd_floor_mm < r.hd_contour_mm for r in lv)


def test_volume_agreement_with_three_cases(tmp_path):
    from cmrseg.io.tables import read_rows
    from cmrseg.workflows.evaluate import load_cases, volume_agreement

    for d in ("p", "r", "r2"):
        (tmp_path / d).mkdir()
    for k, shift in enumerate((0, 1, 2)):
        write_labels(LabelMap(_stack(shift=shift, r_cav=8 + 2 * k), (1.0, 1.0, 8.0)), tmp_path / "p" / f"c{k}.nii.gz")
        write_labels(LabelMap(_stack(r_cav=8 + 2 * k), (1.0, 1.0, 8.0)), tmp_path / "r" / f"c{k}.nii.gz")
        write_labels(LabelMap(_stack(r_cav=8 + 2 * k), (1.0, 1.0, 8.0)), tmp_path / "r2" / f"c{k}.nii.gz")
    lines = volume_agreement(load_cases(tmp_path / "p", [tmp_path / "r", tmp_path / "r2"]), tmp_path)
    assert any(line.startswith("model vs ref1, LV volume: ICC(2,1)") for line in lines)
    rows = read_rows(tmp_path / "agreement.csv")
    pairs = {(r["compared"], r["reference"]) for r in rows}
    assert pairs == {("model", "ref1"), ("model", "ref2"), ("ref1", "ref2")}  # inter-observer too
    readers = [r for r in rows if r["compared"] == "ref1" and r["label"] == "LV"][0]
    assert readers["bias"] == 0.0 and readers["loa_low"] == 0.0  # identical readers
    lv = [r for r in rows if r["compared"] == "model" and r["reference"] == "ref1" and r["label"] == "LV"][0]
    assert lv["unit"] == "mL" and lv["n"] == 3.0
    assert (tmp_path / "bland_altman_LV_model_vs_ref1.png").exists()
    assert (tmp_path / "bland_altman_LV_ref1_vs_ref2.png").exists()
