import numpy as np
import pytest

from cmrseg.preprocess import (
    SquareFit,
    fit_square,
    fit_square_labels,
    invert_intensity,
    normalise_intensity,
    restore_probabilities,
)


def test_normalise_clips_percentiles_to_unit_range():
    image = np.arange(101, dtype=float)  # percentiles equal values
    out = normalise_intensity(image, 10, 90)
    assert out.dtype == np.float32
    assert out[10] == 0.0 and out[90] == 1.0
    assert out[50] == pytest.approx(0.5)
    assert out[0] == 0.0 and out[100] == 1.0


@pytest.mark.parametrize(
    "bad, msg", [(np.full((4, 4), 7.0), "constant"), (np.array([[1.0, np.nan]]), "NaN"), (np.zeros((0, 3)), "empty")]
)
def test_normalise_rejects_bad_images(bad, msg):
    with pytest.raises(ValueError, match=msg):
        normalise_intensity(bad)


def test_square_fit_geometry():
    fit = SquareFit.for_shape((100, 50), 160)
    assert (fit.h, fit.w, fit.top, fit.left) == (160, 80, 0, 40)


def _one_hot(labels, n=4):
    return np.stack([(labels == c).astype(np.float32) for c in range(n)])


@pytest.mark.parametrize("shape", [(96, 80), (48, 40), (160, 160), (200, 150)])
def test_fit_then_restore_is_identity_on_label_maps(phantom, shape):
    from tests.conftest import heart_phantom

    _, labels = heart_phantom(shape)
    # the predictor's path: class probabilities on the input grid -> network grid -> back
    fitted = [fit_square(p, 160) for p in _one_hot(labels)]
    probs, fit = np.stack([f[0] for f in fitted]), fitted[0][1]
    restored = restore_probabilities(probs, fit).argmax(0)
    assert restored.shape == shape
    if max(shape) > 160:  # downsampling loses detail the inverse cannot bring back
        assert (restored == labels).mean() > 0.98
        return
    np.testing.assert_array_equal(restored, labels)


def test_fit_square_labels_matches_image_placement(phantom):
    image, labels = phantom
    _, fit = fit_square(image, 160)
    placed = fit_square_labels(labels, fit)
    assert placed.shape == (160, 160) and set(np.unique(placed)) == {0, 1, 2, 3}


def test_fit_square_pads_with_zeros_and_keeps_aspect():
    image = np.ones((50, 100), np.float32)
    out, fit = fit_square(image, 64)
    assert out.shape == (64, 64)
    assert out[fit.top : fit.top + fit.h].min() == pytest.approx(1.0)
    assert out[: fit.top].max() == 0.0 and fit.h == 32


def test_invert_intensity_swaps_polarity_and_keeps_background_black():
    image = np.array([[0.0, 0.0, 0.2, 1.0]] * 4, np.float32)
    inv = invert_intensity(image, background_percentile=40)
    assert inv[0, 0] == 0.0  # background stays black
    assert inv[0, 2] == pytest.approx(0.8) and inv[0, 3] == pytest.approx(0.0)
