import numpy as np
import pytest

from cmrseg.aha import (
    REFERENCES,
    AhaConvention,
    aha_segments,
    aha_stack,
    myocardial_values,
    segment_values,
    septum_angle,
)


def _slice(rv_side="left", size=96):
    yy, xx = np.mgrid[:size, :size]
    r = np.hypot(yy - 48, xx - 48)
    lab = np.zeros((size, size), np.uint8)
    lab[r < 20] = 2
    lab[r < 13] = 3
    rv_centre = (48, 48 - 24) if rv_side == "left" else (48, 48 + 24)
    rv = (np.hypot(yy - rv_centre[0], xx - rv_centre[1]) < 14) & (r >= 20)
    lab[rv] = 1
    return lab


def test_septum_faces_the_rv():
    # image left is +-pi (one direction): compare the wrapped difference, not two answers
    assert np.angle(np.exp(1j * (septum_angle(_slice("left")) - np.pi))) == pytest.approx(0.0, abs=0.15)
    assert septum_angle(_slice("right")) == pytest.approx(0.0, abs=0.15)
    no_rv = _slice()
    no_rv[no_rv == 1] = 0
    assert septum_angle(no_rv) is None


def test_six_segments_around_the_ring_in_t1net_order():
    lab = _slice("left")
    seg = aha_segments(lab, "basal")
    assert set(np.unique(seg[lab == 2])) == {1, 2, 3, 4, 5, 6}
    sizes = np.array([(seg == s).sum() for s in range(1, 7)])
    assert sizes.min() > 0.8 * sizes.mean()  # 60 degrees each
    # septum (image left): anteroseptal 2 above the midline, inferoseptal 3 below (rows grow downward)
    assert seg[40, 30] == 2 and seg[56, 30] == 3
    # lateral wall off the 5/6 boundary (which runs along the midline): anterolateral 6 above, inferolateral 5 below
    assert seg[40, 66] == 6 and seg[56, 66] == 5 and seg[30, 52] == 1
    mid = aha_segments(lab, "mid")
    assert set(np.unique(mid[lab == 2])) == set(range(7, 13))
    apical = aha_segments(lab, "apical")
    assert set(np.unique(apical[lab == 2])) == {13, 14, 15, 16} and apical[48, 30] == 14


def test_stack_and_values():
    st = np.stack([_slice()] * 6, 2)
    seg = aha_stack(st)
    assert set(np.unique(seg)) == {0} | set(range(1, 17))
    t1 = np.where(st == 2, 1000.0, 0.0)
    t1[seg == 3] = 1200.0
    vals = segment_values(t1, seg)
    assert vals[3].median == 1200.0 and vals[1].median == 1000.0 and vals[1].n > 0
    v = myocardial_values(t1[:, :, 0], st[:, :, 0], erode_px=2)
    assert v.n < (st[:, :, 0] == 2).sum() and v.median == 1000.0


def test_segment_geometry_matches_t1net_given_its_septum():
    """With the septal direction of the T1NET masks, our 6/4-segment geometry reproduces >= 90%."""
    from cmrseg.io.datasets.t1net import load_t1net
    from tests.aha_reference import agreement, oracle_septum, ring_labels
    from tests.conftest import data_path

    total = agree = 0.0
    for contrast in ("pre", "post"):
        d = load_t1net(data_path("t1net") / f"{contrast}contrast_testsets.mat")
        for ring in d["myoMask"]:
            n = (ring > 0).sum()
            total += n
            agree += n * agreement(ring_labels(ring), ring, oracle_septum(ring))
    assert agree / total >= 0.90


def _wedge_slice(rv_from_deg: float, rv_to_deg: float, size: int = 96) -> np.ndarray:
    """LV ring about (48, 48) and an RV wedge outside it spanning ``atan2(di, dj)`` angles from
    ``rv_from_deg`` forward to ``rv_to_deg`` (degrees)."""
    yy, xx = np.mgrid[:size, :size]
    r = np.hypot(yy - 48, xx - 48)
    ang = np.degrees(np.arctan2(yy - 48, xx - 48)) % 360
    lab = np.zeros((size, size), np.uint8)
    lab[r < 20] = 2
    lab[r < 13] = 3
    in_arc = (ang - rv_from_deg) % 360 <= (rv_to_deg - rv_from_deg) % 360
    lab[in_arc & (r >= 20) & (r < 30)] = 1
    return lab


def _segment_at(seg: np.ndarray, angle_deg: float, radius: float = 16.5) -> int:
    a = np.radians(angle_deg)
    return int(seg[int(round(48 + radius * np.sin(a))), int(round(48 + radius * np.cos(a)))])


def test_references_agree_on_a_120_degree_arc():
    lab = _wedge_slice(120, 240)  # septum on the image left, contact arc of 120 degrees
    segs = [aha_segments(lab, "basal", AhaConvention(reference=ref)) for ref in REFERENCES]
    myo = lab == 2
    for other in segs[1:]:
        assert np.mean(other[myo] == segs[0][myo]) > 0.95


def test_insertion_point_references_put_their_boundary_at_the_insertion():
    # wide, asymmetric contact arc: inferior insertion at 120 deg (lower left), anterior at 260 deg (upper left)
    lab = _wedge_slice(120, 260)
    ant = aha_segments(lab, "basal", AhaConvention(reference="anterior"))
    assert _segment_at(ant, 260 + 15) == 1 and _segment_at(ant, 260 - 15) == 2
    inf = aha_segments(lab, "basal", AhaConvention(reference="inferior"))
    assert _segment_at(inf, 120 + 15) == 3 and _segment_at(inf, 120 - 15) == 4
    apical = aha_segments(lab, "apical", AhaConvention(reference="anterior"))
    assert _segment_at(apical, 260 + 15) == 13 and _segment_at(apical, 260 - 15) == 14
    mid = aha_segments(lab, "basal")  # septal midpoint at 190 deg: boundary 2 | 3
    assert _segment_at(mid, 190 + 15) == 2 and _segment_at(mid, 190 - 15) == 3


def test_rotation_moves_every_boundary_towards_higher_numbers():
    lab = _slice("left")
    myo = lab == 2
    base = aha_segments(lab, "basal")
    turned = aha_segments(lab, "basal", AhaConvention(rotation_deg=60))
    assert np.mean(turned[myo] == (base[myo].astype(int) - 2) % 6 + 1) > 0.97  # one segment: s -> s - 1
    back = aha_segments(lab, "basal", AhaConvention(rotation_deg=-360))
    assert np.array_equal(back, base)


@pytest.mark.parametrize(
    "kwargs", [{"reference": "apex"}, {"direction": 0}, {"rotation_deg": float("nan")}, {"contact_px": -1}]
)
def test_bad_convention_is_refused(kwargs):
    with pytest.raises(ValueError, match="AHA|contact_px"):
        AhaConvention(**kwargs)


def test_map_value_tables_per_segment_and_slice():
    from cmrseg.aha import map_value_tables

    st = np.stack([_slice()] * 3, 2)
    t1 = np.where(st == 2, 1000.0, 0.0)
    t1[:, :, 1][st[:, :, 1] == 2] = 1200.0
    segs, slices = map_value_tables(t1, st)
    assert [r["segment"] for r in segs] == list(range(1, 17)) and segs[0]["median"] == 1000.0
    assert [r["median"] for r in slices] == [1000.0, 1200.0, 1000.0]
    _, eroded = map_value_tables(t1, st, erode_px=2)
    assert all(e["n"] < r["n"] for e, r in zip(eroded, slices, strict=True))
    mid_segs, mid = map_value_tables(t1, st, midwall_offset=0.25)
    assert [r["median"] for r in mid] == [1000.0, 1200.0, 1000.0]
    assert all(m["n"] < r["n"] for m, r in zip(mid + mid_segs, slices + segs, strict=True))
    with pytest.raises(ValueError, match="one grid"):
        map_value_tables(t1[:, :, :2], st)


def _annulus(size: int = 64, inner: float = 10.0, outer: float = 20.0) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[:size, :size]
    r = np.hypot(yy - size // 2, xx - size // 2)
    lab = np.zeros((size, size), np.uint8)
    lab[r < outer] = 2
    lab[r < inner] = 3
    return lab, r


def test_midwall_mask_keeps_the_middle_of_the_wall_whatever_its_thickness():
    from cmrseg.masks import midwall_mask

    lab, r = _annulus()  # a 10 px wall between r = 10 and r = 20
    half = midwall_mask(lab, 0.25)
    assert half.any() and not (half & (lab != 2)).any()
    # the middle half of a 10 px wall: 12.5 < r < 17.5, to within a pixel's discretisation
    assert r[half].min() >= 11.9 and r[half].max() <= 17.8
    assert midwall_mask(lab, 0.0).sum() == (lab == 2).sum()
    third = midwall_mask(lab, 1 / 3)
    assert third.sum() < half.sum() and r[third].min() >= 12.9 and r[third].max() <= 17.1
    # a thick wall keeps a proportionally thicker band
    thick, rt = _annulus(96, 10.0, 30.0)
    band = midwall_mask(thick, 0.25)
    assert rt[band].min() >= 14.5 and rt[band].max() <= 25.5
    # a stack is handled slice by slice; a slice without blood pool (apical cap) keeps an eroded disc
    cap = np.where(lab == 3, 2, lab).astype(np.uint8)
    stack = midwall_mask(np.stack([lab, cap], axis=2), 0.25)
    assert (stack[:, :, 0] == half).all()
    assert 0 < stack[:, :, 1].sum() < (cap == 2).sum()


def test_midwall_mask_refuses_a_bad_offset():
    from cmrseg.masks import midwall_mask

    lab, _ = _annulus()
    for bad in (-0.1, 0.5, float("nan")):
        with pytest.raises(ValueError, match="fraction of the wall thickness"):
            midwall_mask(lab, bad)


def test_midwall_values_leave_out_the_wall_borders():
    """Values on the wall's borders (partial volume with blood or fat) do not reach the mid-wall median."""
    from cmrseg.masks import midwall_mask

    lab, r = _annulus()
    band = midwall_mask(lab, 0.25)
    t1 = np.where(band, 1000.0, 1600.0)  # every myocardial pixel outside the middle half: blood-like
    whole = myocardial_values(t1, lab)
    mid = myocardial_values(t1, lab, midwall_offset=0.25)
    assert whole.q3 == 1600.0 and whole.n == (lab == 2).sum()
    assert mid.median == 1000.0 and mid.q3 == 1000.0 and mid.n == band.sum()
