import numpy as np
import pytest

from cmrseg.contours import ContourSteps, contour_to_mask, mask_contour, slice_contours, to_patient_mm
from cmrseg.metrics import dice


def _disc(r, size=96, c=(48.0, 40.0)):
    yy, xx = np.mgrid[:size, :size]
    return np.hypot(yy - c[0], xx - c[1]) < r


def test_disc_contour_has_the_right_radius_and_round_trips():
    c = mask_contour(_disc(20))
    radii = np.hypot(c[:, 0] - 48, c[:, 1] - 40)
    assert radii.mean() == pytest.approx(19.5, abs=0.8)  # pixel-edge contour of a radius-20 disc
    assert dice(contour_to_mask(c, (96, 96)), _disc(20)) > 0.97  # spline smoothing of the pixel staircase


def test_c_shape_endocardium_is_closed_by_its_hull():
    ring = _disc(20) & ~_disc(12)
    cavity = _disc(12).copy()
    cavity[48:, 40:] = False  # a cavity with a bite: C-shaped
    lab = np.zeros((96, 96), np.uint8)
    lab[ring] = 2
    lab[cavity] = 3
    endo = slice_contours(lab)["endo"]
    filled = contour_to_mask(endo, (96, 96))
    # the hull adds the missing quadrant's triangle (r^2 / 2 = 72 px); allow spline smoothing
    assert filled.sum() > cavity.sum() + 0.6 * 72
    no_hull = mask_contour(lab == 3, ContourSteps(convex_hull=False), hull=True)
    assert contour_to_mask(no_hull, (96, 96)).sum() < filled.sum()


def test_elongated_candidates_are_filtered_and_largest_kept():
    m = _disc(10)
    m[5:8, 10:80] = True  # a thin streak, aspect > 3, larger bounding box
    c = mask_contour(m, ContourSteps(spline=False))
    assert np.ptp(c[:, 1]) < 25


def test_contour_outside_image_is_an_error():
    with pytest.raises(ValueError, match="outside"):
        contour_to_mask(np.array([[0, 0], [200, 0], [0, 5]]), (96, 96))


def test_patient_coordinates():
    aff = np.diag([1.5, 1.5, 8.0, 1.0])
    aff[:3, 3] = (10, 20, 30)
    mm = to_patient_mm(np.array([[2.0, 4.0]]), aff, 3)
    np.testing.assert_allclose(mm, [[13.0, 26.0, 54.0]])


def test_densify_spacing_and_vertices():
    from cmrseg.contours import densify

    square = np.array([[0.0, 0.0], [0.0, 4.0], [4.0, 4.0], [4.0, 0.0]])
    d = densify(square, step=0.5)
    assert len(d) == 32 and np.allclose(np.diff(np.vstack([d, d[:1]]), axis=0).__abs__().sum(1), 0.5)
