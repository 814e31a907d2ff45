import numpy as np
import pytest

from cmrseg.augment import AUGMENTATIONS, Augmenter, build_transforms


@pytest.mark.parametrize("preset", sorted(AUGMENTATIONS))
def test_same_seed_same_result(phantom, preset):
    image, labels = phantom
    image = image / image.max()
    aug = Augmenter(preset)
    a = aug(image, labels, np.random.default_rng(5))
    b = aug(image, labels, np.random.default_rng(5))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_different_seeds_differ(phantom):
    image, labels = phantom
    aug = Augmenter("heavy")
    outs = [aug(image / image.max(), labels, np.random.default_rng(s))[0] for s in range(4)]
    assert any(not np.array_equal(outs[0], o) for o in outs[1:])


@pytest.mark.parametrize("preset", ["basic", "heavy"])
def test_image_and_mask_stay_aligned(preset):
    # image == mask / 3: after geometric transforms the bright pixels must still carry the labels
    rng = np.random.default_rng(0)
    from tests.conftest import heart_phantom

    _, labels = heart_phantom((96, 96))
    image = labels.astype(np.float32) / 3
    aug = Augmenter(preset)
    for _ in range(10):
        img, msk = aug(image, labels, rng)
        lv, bg = img[msk == 3], img[msk == 0]
        assert lv.size > 0
        assert np.median(lv) > np.median(bg) + 0.3


def test_unknown_preset_lists_valid():
    with pytest.raises(ValueError, match="basic"):
        build_transforms("extreme")


def test_heavy_contains_the_t1rho_paper_list():
    names = {type(t).__name__ for t in build_transforms("heavy").transforms}
    assert {
        "RandomBrightnessContrast",
        "Illumination",
        "GaussianBlur",
        "GaussNoise",
        "CoarseDropout",
        "Rotate",
        "GridDistortion",
        "Perspective",
        "HorizontalFlip",
        "RandomRotate90",
    } <= names
