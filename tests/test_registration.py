"""Segmentation-based registration of mapping series."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from cmrseg.mapping.registration import RigidTransform, register_masks, register_series, warp_image, warp_labels
from cmrseg.metrics import dice
from tests.conftest import heart_phantom


def test_recovers_a_known_shift_and_rotation():
    _, fixed = heart_phantom((96, 96), (48, 50))
    moving = ndimage.rotate(ndimage.shift(fixed, (3, -4), order=0), 8, reshape=False, order=0)
    t = register_masks(moving, fixed)
    back = warp_labels(moving, t)
    assert dice(back > 0, fixed > 0) > 0.98
    assert dice(moving > 0, fixed > 0) < 0.9
    assert abs(np.degrees(t.angle)) == pytest.approx(8, abs=1.5)


def test_identity_for_aligned_masks_and_for_empty_masks():
    _, fixed = heart_phantom((64, 64))
    t = register_masks(fixed, fixed)
    assert t.displacement_px < 0.1 and abs(t.angle) < 0.01
    empty = register_masks(np.zeros_like(fixed), fixed)
    assert empty.shift == (0.0, 0.0) and empty.angle == 0.0


def test_warp_image_applies_the_transform_to_intensities():
    image, _ = heart_phantom((64, 64))
    t = RigidTransform(shift=(2.0, -3.0), centre=(32.0, 32.0))
    warped = warp_image(image, t)
    assert np.allclose(warped[20:40, 20:40], image[18:38, 23:43])


def test_register_series_aligns_every_image_to_the_reference():
    image, labels = heart_phantom((80, 80), (40, 42))
    shifts = [(0, 0), (2, 1), (-3, 2), (1, -2)]
    imgs = np.stack([ndimage.shift(image, s, order=0) for s in shifts], 2)
    labs = np.stack([ndimage.shift(labels, s, order=0) for s in shifts], 2)
    out_img, out_lab, transforms = register_series(imgs, labs, 0)
    for n, s in enumerate(shifts):
        assert np.allclose(transforms[n].shift, (-s[0], -s[1]), atol=0.3)
        assert dice(out_lab[:, :, n] > 0, labels > 0) > 0.97
    with pytest.raises(ValueError, match="must both be"):
        register_series(imgs, labs[:, :, :2], 0)
