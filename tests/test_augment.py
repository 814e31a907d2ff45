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


def _handedness(mask: np.ndarray) -> float:
    """Sign of the turn from blob 1 to blob 2 to blob 3: a mirror image flips it, rotations keep it."""
    c = [np.argwhere(mask == k).mean(0) for k in (1, 2, 3)]
    (a, b), (d, e) = c[1] - c[0], c[2] - c[0]
    return float(np.sign(a * e - b * d))


@pytest.mark.parametrize("preset", ["basic", "heavy", "anycontrast"])
def test_flips_give_mirror_images_about_half_the_time(preset):
    # albumentations 2.0 seeds every transform of a Compose alike: its horizontal and vertical
    # flips then always came together (a 180-degree rotation, never a mirror image)
    mask = np.zeros((96, 96), np.uint8)
    mask[40:46, 40:46], mask[40:46, 60:66], mask[60:66, 40:46] = 1, 2, 3
    aug, rng = Augmenter(preset), np.random.default_rng(0)
    signs = []
    for _ in range(120):
        _, out = aug(mask.astype(np.float32) / 3, mask, rng)
        if all((out == k).any() for k in (1, 2, 3)):
            signs.append(_handedness(out) != _handedness(mask))
    assert len(signs) > 80
    assert 0.3 < np.mean(signs) < 0.7


def test_each_transform_draws_on_its_own():
    import albumentations as A

    from cmrseg.augment import seed_transforms

    compose = A.Compose([A.HorizontalFlip(p=0.5), A.VerticalFlip(p=0.5)])
    image = np.arange(16, dtype=np.float32).reshape(4, 4)
    rng = np.random.default_rng(1)
    corners = set()
    for _ in range(40):
        seed_transforms(compose, rng)
        corners.add(float(compose(image=image)["image"][0, 0]))
    assert corners == {0.0, 3.0, 12.0, 15.0}  # none, either flip alone, both
    assert len({t.seed for t in build_transforms("anycontrast").transforms}) == len(AUGMENTATIONS["anycontrast"]())


def test_mirror_false_keeps_the_handedness():
    mask = np.zeros((96, 96), np.uint8)
    mask[40:46, 40:46], mask[40:46, 60:66], mask[60:66, 40:46] = 1, 2, 3
    aug, rng = Augmenter("anycontrast", mirror=False), np.random.default_rng(0)
    for _ in range(40):
        _, out = aug(mask.astype(np.float32) / 3, mask, rng)
        if all((out == k).any() for k in (1, 2, 3)):
            assert _handedness(out) == _handedness(mask)
    names = {type(t).__name__ for t in build_transforms("basic", mirror=False).transforms}
    assert "HorizontalFlip" not in names and "RandomRotate90" in names
