"""QC flags on hand-made arrays: each flag triggered and not triggered."""

from __future__ import annotations

import numpy as np
import pytest

from cmrseg import qc
from tests.conftest import heart_phantom


def _stack(n_slices: int = 5) -> np.ndarray:
    """``(32, 32, n)`` labels: RV, myocardium and LV on every slice."""
    _, labels = heart_phantom((32, 32))
    return np.repeat(labels[:, :, None], n_slices, axis=2)


def test_classes_present():
    labels = _stack(1)
    assert not qc.check_classes_present(labels).flagged
    no_rv = np.where(labels == 1, 0, labels)
    check = qc.check_classes_present(no_rv)
    assert check.flagged and check.reason == "no RV in the label map"
    assert qc.check_classes_present(np.zeros((4, 4), np.uint8)).reason == "no RV, MYO, LV in the label map"


def test_lv_coverage_needs_three_contiguous_slices():
    labels = _stack(5)
    assert not qc.check_lv_coverage(labels).flagged
    gap = labels.copy()
    gap[:, :, 2][gap[:, :, 2] == 3] = 2  # LV missing in the middle slice
    check = qc.check_lv_coverage(gap)
    assert check.flagged and "[2]" in check.reason and "gap" in check.reason
    short = labels.copy()
    short[:, :, 2:][short[:, :, 2:] == 3] = 0  # LV on slices 0-1 only
    assert qc.check_lv_coverage(short).flagged and "2 slice" in qc.check_lv_coverage(short).reason
    assert qc.check_lv_coverage(np.zeros((8, 8, 3), np.uint8)).flagged
    assert not qc.check_lv_coverage(_stack(2), min_slices=2).flagged


def test_mid_slice_needs_lv_and_rv():
    labels = _stack(5)
    assert not qc.check_mid_slice(labels).flagged
    no_rv_mid = labels.copy()
    no_rv_mid[:, :, 2][no_rv_mid[:, :, 2] == 1] = 0
    check = qc.check_mid_slice(no_rv_mid)
    assert check.flagged and check.reason == "no RV on the mid-ventricular slice 2"
    no_rv_apex = labels.copy()
    no_rv_apex[:, :, 4][no_rv_apex[:, :, 4] == 1] = 0  # an apical slice without RV is normal
    assert not qc.check_mid_slice(no_rv_apex).flagged


@pytest.mark.parametrize(
    ("quantity", "good", "bad"),
    [
        ("lv_ef_percent", 55.0, 5.0),
        ("lv_edv_ml", 150.0, 12.0),
        ("lv_mass_g", 110.0, 450.0),
        ("native_t1_ms", 1000.0, 400.0),
        ("post_t1_ms", 450.0, 1000.0),
        ("ecv_percent", 27.0, 80.0),
    ],
)
def test_plausibility_ranges(quantity, good, bad):
    assert not qc.check_plausible(quantity, good).flagged
    check = qc.check_plausible(quantity, bad)
    assert check.flagged and "outside" in check.reason and check.name == quantity
    assert qc.check_plausible(quantity, float("nan")).flagged


def test_range_edges_and_unknown_quantity():
    assert not qc.check_plausible("lv_ef_percent", 10.0).flagged
    assert not qc.check_plausible("lv_ef_percent", 85.0).flagged
    assert qc.check_plausible("lv_ef_percent", 85.1).flagged
    with pytest.raises(ValueError, match="unknown quantity"):
        qc.check_plausible("rv_ef", 50.0)


def test_function_and_t1_checks():
    checks = qc.check_function({"lv_ef_percent": 60.0, "lv_edv_ml": 20.0, "lv_mass_g": 100.0, "rv_edv_ml": 1.0})
    assert [c.name for c in checks] == ["lv_ef_percent", "lv_edv_ml", "lv_mass_g"]
    assert qc.flagged_names(checks) == ["lv_edv_ml"]
    assert not qc.check_t1(1000.0, post_contrast=False).flagged
    assert qc.check_t1(1000.0, post_contrast=True).flagged  # far too long after contrast
    assert qc.check_t1(450.0, post_contrast=False).flagged and qc.check_t1(450.0, True).name == "myo_t1_ms"


def test_fit_quality():
    mask = np.ones((10, 10), bool)
    assert not qc.check_fit_quality(np.full((10, 10), 0.99), mask).flagged
    low_mean = qc.check_fit_quality(np.full((10, 10), 0.85), mask)
    assert low_mean.flagged and "mean R² 0.850" in low_mean.reason
    r2 = np.full((10, 10), 0.99)
    r2[:2] = 0.9  # 20% of pixels below 0.95, mean still 0.972
    many_low = qc.check_fit_quality(r2, mask)
    assert many_low.flagged and "20%" in many_low.reason
    r2[:1] = 0.99  # 10%: at the limit, not above it
    assert not qc.check_fit_quality(r2, mask).flagged
    r2[0, 0] = np.nan  # a failed fit counts as poorly fitted
    assert qc.check_fit_quality(r2, mask).flagged
    assert qc.check_fit_quality(r2, np.zeros_like(mask)).flagged
    with pytest.raises(ValueError, match="one shape"):
        qc.check_fit_quality(r2, mask[:5])


def _probabilities(labels: np.ndarray, confidence: float) -> np.ndarray:
    """``(1, 4, H, W)`` with ``confidence`` on the label's class, the rest shared evenly."""
    p = np.full((1, 4) + labels.shape, (1 - confidence) / 3)
    for c in range(4):
        p[0, c][labels == c] = confidence
    return p


def test_entropy_is_normalised():
    assert qc.normalised_entropy(np.full((1, 4, 2, 2), 0.25)) == pytest.approx(np.ones((1, 2, 2)))
    onehot = np.zeros((1, 4, 2, 2))
    onehot[:, 0] = 1
    assert qc.normalised_entropy(onehot) == pytest.approx(np.zeros((1, 2, 2)), abs=1e-9)
    with pytest.raises(ValueError, match="N, C, H, W"):
        qc.normalised_entropy(np.ones((4, 2, 2)))


def test_uncertainty_flag():
    _, labels = heart_phantom((32, 32))
    sure = qc.check_uncertainty(_probabilities(labels, 0.97))
    assert not sure.flagged and "entropy" in sure.reason
    unsure = qc.check_uncertainty(_probabilities(labels, 0.5))
    assert unsure.flagged and "unsure" in unsure.reason
    assert qc.myocardial_entropy(_probabilities(labels, 0.5)) > qc.ENTROPY_MAX
    empty = np.zeros_like(labels)
    assert qc.check_uncertainty(_probabilities(empty, 0.97)).flagged  # no myocardium predicted
    # the final labels, not the argmax, say where the myocardium is
    assert not qc.check_uncertainty(_probabilities(labels, 0.97), labels[None]).flagged


def test_table_and_names():
    checks = [qc.QcCheck("a", True, "why a"), qc.QcCheck("b", False, "fine")]
    assert qc.qc_table(checks) == {"a": {"flagged": True, "reason": "why a"}, "b": {"flagged": False, "reason": "fine"}}
    assert qc.flagged_names(checks) == ["a"]
