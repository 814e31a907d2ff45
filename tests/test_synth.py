"""Contrast randomisation, synthetic mapping images and the train / validation / test split."""

from __future__ import annotations

import numpy as np
import pytest

from cmrseg.train.contrast import gin, heart_crop, random_curve, region_remap
from cmrseg.train.randomise import ContrastRandomiser
from cmrseg.train.synth_mapping import molli_inversion_times, synthesise
from tests.conftest import heart_phantom


@pytest.fixture
def slice_():
    image, labels = heart_phantom((96, 96))
    rng = np.random.default_rng(0)
    image = (image + rng.normal(0, 8, image.shape)).astype(np.float32)
    return (image - image.min()) / (image.max() - image.min()), labels


def _mean(image, labels, c):
    return float(image[labels == c].mean())


def test_random_curve_monotone_keeps_or_reverses_the_order(slice_):
    image, _ = slice_
    directions = []
    for seed in range(6):
        out = random_curve(image, np.random.default_rng(seed), monotone=True)
        assert out.min() == 0.0 and out.max() == 1.0
        d_in, d_out = np.diff(np.sort(image.ravel())), np.diff(out.ravel()[np.argsort(image.ravel())])
        up, down = np.all(d_out[d_in > 0] >= -1e-6), np.all(d_out[d_in > 0] <= 1e-6)
        assert up != down  # monotone one way (not both: the output spans 0-1)
        directions.append("up" if up else "down")
    assert set(directions) == {"up", "down"}  # both orders are drawn (seeds 0-5: up, down, up, down, up, down)


def test_region_remap_moves_region_means_and_is_seeded(slice_):
    image, labels = slice_
    a = region_remap(image, labels, np.random.default_rng(3))
    b = region_remap(image, labels, np.random.default_rng(3))
    assert np.array_equal(a, b) and a.dtype == np.float32 and 0 <= a.min() and a.max() <= 1
    # over seeds, blood can end up darker than myocardium (black-blood look) and brighter
    order = [
        _mean(region_remap(image, labels, np.random.default_rng(s)), labels, 3)
        > _mean(region_remap(image, labels, np.random.default_rng(s)), labels, 2)
        for s in range(20)
    ]
    assert 3 <= sum(order) <= 17


def test_gin_changes_the_image_and_is_seeded(slice_):
    image, _ = slice_
    a, b = gin(image, np.random.default_rng(5)), gin(image, np.random.default_rng(5))
    assert np.array_equal(a, b) and a.shape == image.shape and a.min() == 0.0 and a.max() == 1.0
    assert not np.allclose(a, image, atol=0.05)


def test_heart_crop_enlarges_the_heart_and_keeps_labels(slice_):
    image, labels = slice_
    img, lab = heart_crop(image, labels, np.random.default_rng(1), margin=(1.3, 1.3))
    assert img.shape == image.shape and set(np.unique(lab)) == {0, 1, 2, 3}
    assert (lab > 0).mean() > 2 * (labels > 0).mean()
    empty = np.zeros_like(labels)
    same, same_lab = heart_crop(image, empty, np.random.default_rng(1))
    assert same is image and same_lab is empty


def test_molli_inversion_times_of_both_schemes():
    assert molli_inversion_times("5(3)3", 1000, 100).tolist() == [100, 1100, 2100, 3100, 4100, 180, 1180, 2180]
    post = molli_inversion_times("4(1)3(1)2", 800, 120)
    assert post.tolist() == [120, 920, 1720, 2520, 200, 1000, 1800, 280, 1080]
    with pytest.raises(ValueError, match="unknown MOLLI scheme"):
        molli_inversion_times("3(3)5", 1000, 100)


def test_synthetic_maps_follow_the_tissue_physics(slice_):
    image, labels = slice_
    for seed in range(5):
        rng = np.random.default_rng(seed)
        t2 = synthesise(image, labels, rng, "t2map")
        assert _mean(t2.image, labels, 3) > _mean(t2.image, labels, 2)  # blood T2 >> myocardium
        t1 = synthesise(image, labels, np.random.default_rng(100 + seed), "t1map")
        if t1.contrast == "pre":
            assert _mean(t1.image, labels, 3) > _mean(t1.image, labels, 2)  # native blood T1 > myocardium
        molli = synthesise(image, labels, np.random.default_rng(200 + seed), "molli")
        assert molli.image.shape == image.shape and molli.image.min() == 0.0 and molli.image.max() == 1.0  # 1-99th pct
        assert molli.contrast in ("pre", "post") and molli.time_ms >= 90


def test_synthetic_molli_nulls_the_tissue_at_its_zero_crossing(slice_):
    """At TI = T1* ln(B/A) the myocardium is nulled: darker than blood whatever the draw."""
    from cmrseg.mapping.models import molli_signal

    t1, ratio = 1000.0, 1.9
    t1_star = t1 / (ratio - 1)
    ti_null = t1_star * np.log(ratio)
    assert abs(molli_signal(np.array([ti_null]), 1.0, ratio, t1_star)[0]) < 1e-12


def test_randomiser_is_seeded_and_checks_probabilities(slice_):
    image, labels = slice_
    r = ContrastRandomiser(0.5, 0.3, 0.2)
    a = r(image, labels, np.random.default_rng(9))
    b = r(image, labels, np.random.default_rng(9))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not ContrastRandomiser(0, 0, 0).active
    with pytest.raises(ValueError, match="synth_probability"):
        ContrastRandomiser(0.5, 1.5, 0.0)


def test_test_split_is_held_out_of_training_and_validation(tmp_path):
    from cmrseg.io.datasets.layout import Case, Dataset, save_dataset
    from cmrseg.train.config import config_from_dict
    from cmrseg.train.data import split_cases
    from cmrseg.train.split import kfold_subjects

    subjects = [f"p{i:02d}" for i in range(40)]
    save_dataset(Dataset(tmp_path, "toy", tuple(Case(s, s, f"{s}.nii.gz", f"{s}_l.nii.gz") for s in subjects)))
    base = {"data": [str(tmp_path)], "output": "o", "folds": 5, "test_fold": 0, "test_subjects": ["p39"]}
    train, val = split_cases(config_from_dict({**base, "val_folds": 8}))
    tr, va = {c.subject for c in train[0][1]}, {c.subject for c in val[0][1]}
    test = set(kfold_subjects(subjects, 5, 0)[0]) | {"p39"}
    assert not (tr & va) and not (tr & test) and not (va & test) and tr | va | test == set(subjects)
    assert len(va) == 4  # one eighth of the 31 or 32 others
    with pytest.raises(ValueError, match="fold != test_fold"):
        config_from_dict({**base, "fold": 0})


def test_randomiser_crops_extra_masks_like_the_labels(slice_):
    image, labels = slice_
    r = ContrastRandomiser(0.0, 0.0, 1.0)
    img, lab, (guide,) = r.apply(image, labels, np.random.default_rng(4), (labels.copy(),))
    assert np.array_equal(guide, lab) and (lab > 0).mean() > (labels > 0).mean()


def test_synthesis_of_a_slice_with_a_tiny_heart(slice_):
    """A slice whose heart is a few pixels (an apical Sunnybrook slice, a crop at 128 px): no heart
    weight reaches 0.5 after blending; found by the ablation training (IndexError before)."""
    image, _ = slice_
    labels = np.zeros(image.shape, np.uint8)
    labels[40, 40] = 2
    for modality in ("molli", "t1map", "t2prep", "t2map", "spinlock", "t1rhomap"):
        out = synthesise(image, labels, np.random.default_rng(0), modality)
        assert out.image.shape == image.shape and np.isfinite(out.image).all()


def test_randomise_scale_changes_how_often_a_slice_is_randomised(slice_):
    """``scale`` multiplies the synthesis and contrast probabilities: 0 leaves every sample as it
    is, 2 randomises (about) twice as often; the config refuses a negative factor."""
    from cmrseg.train.config import config_from_dict

    image, labels = slice_
    r = ContrastRandomiser(0.2, 0.0, 0.0)

    def changed(scale: float) -> int:
        return sum(not np.array_equal(r(image, labels, np.random.default_rng(s), scale)[0], image) for s in range(200))

    assert changed(0.0) == 0
    once, twice = changed(1.0), changed(2.0)
    assert 25 <= once <= 55 and 65 <= twice <= 100, (once, twice)
    with pytest.raises(ValueError, match="randomise_scale"):
        config_from_dict({"data": ["d"], "output": "o", "randomise_scale": {"acdc": -1}})
