import csv
from dataclasses import replace

import numpy as np
import pytest

from cmrseg.train.config import config_from_dict
from cmrseg.train.split import kfold_subjects
from tests.conftest import data_path


def test_kfold_subjects_disjoint_and_complete():
    subjects = [f"patient{i:03d}" for i in range(1, 81)]
    folds = kfold_subjects(subjects, 5, seed=0)
    assert sum(len(f) for f in folds) == 80
    assert set().union(*map(set, folds)) == set(subjects)
    assert all(len(set(a) & set(b)) == 0 for i, a in enumerate(folds) for b in folds[i + 1 :])
    # stratified: every block of 5 consecutive ids (ACDC groups of 20) spread over all folds
    assert all(sum(int(s[-3:]) <= 20 for s in f) == 4 for f in folds)
    assert kfold_subjects(subjects, 5, seed=0) == folds


def test_config_errors_name_the_key():
    with pytest.raises(ValueError, match="unknown config keys.*'lrr'"):
        config_from_dict({"data": ["x"], "output": "o", "lrr": 1})
    with pytest.raises(ValueError, match="optimizer"):
        config_from_dict({"data": ["x"], "output": "o", "optimizer": "sgdx"})
    guided = {"data": ["x"], "output": "o", "guided": True, "model": {"in_channels": 4}}
    with pytest.raises(ValueError, match="guide_alpha"):
        config_from_dict({**guided, "guide_alpha": 1.5})
    with pytest.raises(ValueError, match="in_channels 4"):
        config_from_dict({**guided, "model": {"in_channels": 1}})


@pytest.mark.slow
def test_one_epoch_smoke_on_two_real_acdc_patients(tmp_path):
    from cmrseg.io.datasets.acdc import convert_acdc
    from cmrseg.models.bundle import load_bundle
    from cmrseg.train import train

    src = data_path("acdc")
    small = tmp_path / "src"
    small.mkdir()
    for p in sorted(src.glob("patient00[12]_*.h5")):
        (small / p.name).symlink_to(p)
    convert_acdc(small, tmp_path / "acdc")
    config = config_from_dict(
        {
            "data": [str(tmp_path / "acdc")],
            "output": str(tmp_path / "run"),
            "image_size": 64,
            "epochs": 1,
            "batch_size": 4,
            "folds": 2,
            "fold": 0,
            "max_batches_per_epoch": 3,
            "scheduler": "cosine_restarts",
        }
    )
    result = train(config)
    curve = list(csv.DictReader(open(tmp_path / "run" / "learning_curve.csv")))
    assert len(curve) == 1 and curve[0]["epoch"] == "0"  # one row per validated epoch
    assert int(curve[0]["images_seen"]) == 3 * 4  # 3 batches of 4 images in the one epoch
    dices = [float(curve[0][f"val_dice_{c}"]) for c in ("LV", "MYO", "RV")]
    # 12 images of training cannot segment yet (about 0.01 / 0 / 0 here); the mean is the classes' mean
    assert all(0.0 <= d < 0.5 for d in dices) and (tmp_path / "run" / "learning_curve.png").exists()
    assert float(curve[0]["val_dice_mean"]) == pytest.approx(np.mean(dices))
    assert isinstance(result["val_dice_mean"], float)
    assert result["val_dice_mean"] == pytest.approx(float(curve[0]["val_dice_mean"]))  # the best (only) epoch
    rows = list(csv.DictReader(open(tmp_path / "run" / "metrics.csv")))
    assert any(r["train_loss"] for r in rows) and any(r["val_dice_LV"] for r in rows)
    assert 1.0 < float(next(r["train_loss"] for r in rows if r["train_loss"])) < 4.0  # about 2.1: CE + Dice, untrained
    bundle = load_bundle(result["model"])
    assert bundle.image_size == 64 and bundle.train_config["epochs"] == 1
    # resume: a second call with more epochs continues from last.ckpt
    result2 = train(replace(config, epochs=2))
    rows = list(csv.DictReader(open(tmp_path / "run" / "metrics.csv")))
    assert max(int(r["epoch"]) for r in rows) == 1
    curve = list(csv.DictReader(open(tmp_path / "run" / "learning_curve.csv")))
    # epoch 0 kept from the first call, epoch 1 continued its step count (not restarted from 0)
    assert [(int(r["epoch"]), int(r["images_seen"])) for r in curve] == [(0, 12), (1, 24)]
    assert isinstance(result2["val_dice_mean"], float)
    assert result2["val_dice_mean"] == pytest.approx(max(float(r["val_dice_mean"]) for r in curve))  # best epoch
    with pytest.raises(ValueError, match="different config"):
        train(replace(config, lr=0.5))


def test_guided_training_smoke_with_synthesis_on_two_real_acdc_patients(tmp_path):
    """The path of configs/guided.yaml (guided pairs, synthesis, contrast randomisation, crops, a
    per-dataset randomisation scale) runs end to end and exports a 4-channel bundle."""
    from cmrseg.io.datasets.acdc import convert_acdc
    from cmrseg.models.bundle import load_bundle
    from cmrseg.train import train

    small = tmp_path / "src"
    small.mkdir()
    for p in sorted(data_path("acdc").glob("patient00[34]_*.h5")):
        (small / p.name).symlink_to(p)
    convert_acdc(small, tmp_path / "acdc")
    config = config_from_dict(
        {
            "data": [str(tmp_path / "acdc")],
            "output": str(tmp_path / "guided"),
            "guided": True,
            "guide_model": None,
            "model": {"in_channels": 4},
            "image_size": 64,
            "epochs": 1,
            "batch_size": 4,
            "folds": 2,
            "fold": 0,
            "max_batches_per_epoch": 2,
            "augment": "anycontrast",
            "contrast_probability": 0.45,
            "synth_probability": 0.5,
            "crop_probability": 0.2,
            "randomise_scale": {"acdc": 0.5},
        }
    )
    result = train(config)
    rows = list(csv.DictReader(open(tmp_path / "guided" / "metrics.csv")))
    assert 0.5 < float(next(r["train_loss"] for r in rows if r["train_loss"])) < 4.0
    bundle = load_bundle(result["model"])
    assert bundle.train_config["synth_probability"] == 0.5 and bundle.train_config["guided"]
    from cmrseg.predict import Predictor

    image = np.random.default_rng(0).random((64, 64, 2), dtype=np.float32)
    guide = np.zeros((64, 64, 2), np.uint8)
    guide[20:40, 20:40] = 2
    guide[25:35, 25:35] = 3
    assert Predictor(result["model"]).predict_array(image, guide, alpha=0.5).shape == (64, 64, 2)  # image + guide


def test_subset_strategies():
    from cmrseg.io.datasets.layout import Case, Dataset
    from cmrseg.train.subsets import apply_subset, subset_images

    cases = [Case(f"p{i}_{ph}", f"p{i}", "x", "y", ph) for i in range(6) for ph in ("ED", "ES", None)]
    parts = [(Dataset(root=None, name="d", cases=tuple(cases)), cases)]
    assert all(c.phase in ("ED", "ES") for c in apply_subset(parts, "ed_es", 0)[0][1])
    two = apply_subset(parts, "subjects:2", 0)[0][1]
    assert len({c.subject for c in two}) == 2 and len(two) == 6
    keep = subset_images(100, "images:10", 3)
    assert len(keep) == 10 and len(set(keep)) == 10 and np.array_equal(keep, subset_images(100, "images:10", 3))
    assert subset_images(100, "all", 0) is None
    with pytest.raises(ValueError, match="unknown subset"):
        apply_subset(parts, "k-shot", 0)


def test_marginal_logits_fold_unlabelled_classes_into_background():
    import torch

    from cmrseg.train.module import marginal_logits

    logits = torch.log(torch.tensor([0.1, 0.3, 0.2, 0.4])).view(1, 4, 1, 1)  # bg, RV, MYO, LV
    target = torch.tensor([3]).view(1, 1, 1, 1)
    merged, t = marginal_logits(logits, target, (2, 3))
    probs = torch.softmax(merged, 1).flatten()
    assert probs.tolist() == pytest.approx([0.4, 0.2, 0.4])  # background absorbs the RV's 0.3
    assert t.item() == 2
    same, t2 = marginal_logits(logits, target, (1, 2, 3))
    assert same is logits and t2 is target


@pytest.mark.slow
def test_finetune_freezes_the_encoder_and_handles_missing_classes(tmp_path):
    import torch

    from cmrseg.cli import main
    from cmrseg.io.datasets import convert
    from cmrseg.models.bundle import load_bundle
    from cmrseg.models.shipped import resolve_model_path

    convert("sunnybrook", data_path("sunnybrook"), tmp_path / "sb")  # LV and MYO only, no RV
    run = tmp_path / "ft"
    argv = [
        "finetune",
        "--data",
        str(tmp_path / "sb"),
        "-o",
        str(run),
        "--epochs",
        "1",
        "--freeze-epochs",
        "1",
        "--batch-size",
        "2",
        "--max-batches",
        "2",
        "--folds",
        "2",
        "--augment",
        "basic",
    ]
    assert main(argv) == 0
    start = load_bundle(resolve_model_path("default")).model.state_dict()
    tuned = load_bundle(run / "model.pt").model.state_dict()
    enc = [k for k in start if k.startswith("encoder.") and start[k].is_floating_point() and "running" not in k]
    dec = [k for k in start if k.startswith("decoder.") and start[k].is_floating_point() and "running" not in k]
    assert all(torch.allclose(start[k], tuned[k], atol=1e-3) for k in enc if "bn" not in k and "weight" in k)
    assert any(not torch.allclose(start[k], tuned[k], atol=1e-4) for k in dec)
    rows = list(csv.DictReader(open(run / "metrics.csv")))
    assert any(r.get("val_dice_LV") for r in rows) and not any(r.get("val_dice_RV") for r in rows)


def test_confidence_sets_select_by_volume_agreement(tmp_path):
    from cmrseg.image import Image
    from cmrseg.io.datasets.layout import Case, Dataset, load_dataset, save_dataset
    from cmrseg.io.nifti import write_image
    from cmrseg.train.pseudo import SubjectVolumes, select_confident, write_pseudo_dataset

    ref = {"a": SubjectVolumes(100.0, 40.0), "b": SubjectVolumes(100.0, 40.0), "c": SubjectVolumes(100.0, 40.0)}
    pred = {"a": SubjectVolumes(103.0, 41.0), "b": SubjectVolumes(112.0, 40.0), "c": SubjectVolumes(100.0, 46.0)}
    assert ref["a"].ef == pytest.approx(60.0)
    assert select_confident(pred, ref, 5) == ["a"]
    assert select_confident(pred, ref, 15) == ["a", "b", "c"]
    for bad in (0, 100, -5):
        with pytest.raises(ValueError, match=r"\(0, 100\)"):
            select_confident(pred, ref, bad)
    cases = []
    for s in ("a", "b"):
        write_image(Image(np.ones((8, 8, 2), np.float32), (1.0, 1.0, 8.0)), tmp_path / "src" / "images" / f"{s}.nii.gz")
        cases.append(Case(s, s, f"images/{s}.nii.gz", None, "ED"))
    src = Dataset(tmp_path / "src", "toy", tuple(cases))
    save_dataset(src)
    preds = {s: np.full((8, 8, 2), 3, np.uint8) for s in ("a", "b")}
    out = write_pseudo_dataset(src, preds, ["a"], tmp_path / "pseudo")
    again = load_dataset(tmp_path / "pseudo")
    assert [c.id for c in again.cases] == ["a"] and again.cases[0].extra["pseudo_label"] is True
    assert out.name == "toy-pseudo"


def test_kshot_keeps_k_evenly_spaced_labelled_slices_per_case():
    from cmrseg.train.subsets import subset_kshot

    case = np.array(["a"] * 10 + ["b"] * 3)
    labels = np.zeros((13, 4, 4), np.uint8)
    labels[1:9, 1, 1] = 2  # case a: slices 1-8 show the heart, 0 and 9 do not
    labels[10:13, 1, 1] = 3
    keep = subset_kshot(case, labels, "kshot:3")
    # case a's labelled slices 1-8 at positions linspace(0, 7, 3) = 0, 3.5, 7 -> np.round -> 0, 4, 7
    assert keep.tolist() == [1, 5, 8, 10, 11, 12]
    assert subset_kshot(case, labels, "kshot:1").tolist() == [1, 10]
    assert subset_kshot(case, labels, "all") is None
    with pytest.raises(ValueError, match="K >= 1"):
        subset_kshot(case, labels, "kshot:0")


def test_pseudo_label_errors(tmp_path):
    from cmrseg.train.pseudo import pseudo_label_dataset, read_volumes_csv

    with pytest.raises(ValueError, match=r"\(0, 100\)"):
        pseudo_label_dataset(tmp_path, tmp_path / "out", 150.0)
    bad = tmp_path / "v.csv"
    bad.write_text("id,volume\na,1\n")
    with pytest.raises(ValueError, match="subject, edv, esv"):
        read_volumes_csv(bad)
