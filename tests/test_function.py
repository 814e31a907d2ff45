import numpy as np
import pytest

from cmrseg.function import (
    cardiac_function,
    cine_function,
    detect_ed_es,
    label_volumes_ml,
    slice_areas_mm2,
    slice_table,
    volume_curve_ml,
    wall_thickness_mm,
)
from tests.conftest import data_path


def _ring_stack(r_cavity, r_epi, n_slices=8, size=128, sp=1.0):
    yy, xx = np.mgrid[:size, :size]
    r = np.hypot(yy - size / 2 + 0.5, xx - size / 2 + 0.5) * sp
    sl = np.zeros((size, size), np.uint8)
    sl[r < r_epi] = 2
    sl[r < r_cavity] = 3
    return np.repeat(sl[:, :, None], n_slices, 2)


def test_volumes_and_mass_of_cylinders_within_discretisation():
    sp = (0.5, 0.5, 10.0)
    ed = _ring_stack(25.0, 33.0, size=160, sp=0.5)
    es = _ring_stack(15.0, 27.0, size=160, sp=0.5)
    exact_edv = np.pi * 25.0**2 * 80.0 / 1000  # 157.1 mL
    exact_esv = np.pi * 15.0**2 * 80.0 / 1000
    f = cardiac_function(ed, es, sp)
    assert f.lv_edv_ml == pytest.approx(exact_edv, rel=0.01)
    assert f.lv_esv_ml == pytest.approx(exact_esv, rel=0.01)
    assert f.lv_ef_percent == pytest.approx(100 * (1 - 15.0**2 / 25.0**2), abs=0.5)
    myo = np.pi * (33.0**2 - 25.0**2) * 80.0 / 1000
    assert f.lv_mass_g == pytest.approx(1.05 * myo, rel=0.02)
    assert np.isnan(f.rv_ef_percent)  # no RV: not a crash
    assert f.warnings() == ["no RV labelled: RV volumes and EF are not available"]
    assert label_volumes_ml(ed, sp)["RV"] == 0.0


def test_cine_detects_ed_es():
    frames = [_ring_stack(r, r + 8, n_slices=3, size=64) for r in (20, 16, 10, 14, 19)]
    cine = np.stack(frames, -1)
    curve = volume_curve_ml(cine, (1.0, 1.0, 8.0))
    assert detect_ed_es(curve) == (0, 2)
    f = cine_function(cine, (1.0, 1.0, 8.0))
    assert (f.ed_frame, f.es_frame) == (0, 2)


def test_areas_and_wall_thickness():
    st = _ring_stack(10.0, 16.0, n_slices=1, size=64)
    areas = slice_areas_mm2(st, (1.0, 1.0, 8.0))
    assert areas["LV"][0] == pytest.approx(np.pi * 100, rel=0.03)
    mean, mx = wall_thickness_mm(st[:, :, 0], (1.0, 1.0))
    assert mean == pytest.approx(6.0, abs=1.0) and mx < 8.0
    assert np.isnan(wall_thickness_mm(np.zeros((8, 8), np.uint8), (1.0, 1.0))[0])


def test_slice_table_gives_areas_thickness_and_thickening():
    ed = _ring_stack(20.0, 26.0, n_slices=3, size=96)  # wall 6 mm
    es = _ring_stack(12.0, 21.0, n_slices=3, size=96)  # wall 9 mm
    rows = slice_table(ed, es, (1.0, 1.0, 8.0))
    assert [r["slice"] for r in rows] == [0, 1, 2] and {r["level"] for r in rows} == {"basal", "mid", "apical"}
    r = rows[1]
    assert r["lv_area_ed_mm2"] == pytest.approx(np.pi * 400, rel=0.03)
    assert r["lv_area_es_mm2"] == pytest.approx(np.pi * 144, rel=0.03)
    assert r["wall_thickness_ed_mm"] == pytest.approx(6.0, abs=0.5)  # within half a pixel
    assert r["wall_thickness_es_mm"] == pytest.approx(9.0, abs=0.5)
    assert r["thickening_percent"] == pytest.approx(50.0, abs=10.0)  # 9 / 6 - 1, from thicknesses +-0.5 px
    assert r["rv_area_ed_mm2"] == 0.0
    with pytest.raises(ValueError, match="one grid"):
        slice_table(ed, es[:, :, :2], (1.0, 1.0, 8.0))


def test_bad_input():
    with pytest.raises(ValueError, match="no LV"):
        cardiac_function(np.zeros((4, 4, 2), np.uint8), np.zeros((4, 4, 2), np.uint8), (1.0, 1.0, 1.0))
    with pytest.raises(ValueError, match="share one grid"):
        cardiac_function(np.zeros((4, 4, 2), np.uint8), np.zeros((4, 5, 2), np.uint8), (1.0, 1.0, 1.0))
    with pytest.raises(ValueError, match="spacing"):
        label_volumes_ml(np.zeros((4, 4, 2), np.uint8), (1.0, 1.0))


def test_sunnybrook_expert_ef_is_plausible(tmp_path):
    from cmrseg.io.datasets import convert
    from cmrseg.io.nifti import read_labels

    ds = convert("sunnybrook", data_path("sunnybrook"), tmp_path / "sb")
    for subject in ds.subjects:
        cases = {c.phase: read_labels(tmp_path / "sb" / c.label) for c in ds.cases if c.subject == subject}
        f = cardiac_function(cases["ED"].array, cases["ES"].array, cases["ED"].spacing)
        assert 10 < f.lv_ef_percent < 60  # heart-failure patients


def test_warnings_flag_impossible_values():
    from cmrseg.function import CardiacFunction

    f = CardiacFunction(150.0, 160.0, -10.0, -6.7, 120.0, 14.0, 15.0, -1.0, -7.1)
    w = f.warnings()
    assert any(m.startswith("LV EF -6.7%") for m in w) and any(m.startswith("RV EF -7.1%") for m in w)
    assert any("RV EDV is 9% of LV EDV" in m for m in w)
    assert CardiacFunction(150.0, 60.0, 90.0, 60.0, 120.0, 160.0, 70.0, 90.0, 56.2).warnings() == []
