"""Helpers shared by the benchmark scripts."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"

#: Models that no longer ship, read from git history by name: (commit, file in the repository, local copy).
HISTORIC_MODELS = {
    # the ACDC-only cine model, the default until the any-contrast model replaced it (now also `cine`)
    "previous": ("b4017fa", "src/cmrseg/weights/default.pt", "runs/previous_default.pt"),
    # the first guided model (no contrast randomisation), shipped until 2026-11-22
    "guided_v1": ("149bf13", "src/cmrseg/weights/guided.pt", "runs/guided_v1.pt"),
    # the second guided model (configs/guided.yaml alone: the any-contrast recipe), shipped on 2026-11-22
    # until its second stage (configs/guided_stage2.yaml) replaced it the same day
    "guided_v2": ("8ae8c86", "src/cmrseg/weights/guided.pt", "runs/guided_anycontrast/model.pt"),
}


def historic_model(name: str) -> Path:
    """The weights of a :data:`HISTORIC_MODELS` entry, extracted from git history once."""
    commit, source, local = HISTORIC_MODELS[name]
    path = REPO / local
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        blob = subprocess.run(["git", "show", f"{commit}:{source}"], cwd=REPO, capture_output=True, check=True)
        path.write_bytes(blob.stdout)
    return path


def model_args(specs: list[str]) -> dict[str, str]:
    """``NAME`` or ``NAME=PATH`` arguments as ``{name: model}``; historic names read from git history."""
    models = {}
    for spec in specs:
        name, _, path = spec.partition("=")
        model = path or name
        models[name] = str(historic_model(model)) if model in HISTORIC_MODELS else model
    return models


def mean_ci(values: list[float] | np.ndarray, n_boot: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    """Mean and a 95% percentile-bootstrap confidence interval over cases."""
    v = np.asarray([x for x in values if np.isfinite(x)], float)
    if len(v) == 0:
        return float("nan"), float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    boots = rng.choice(v, size=(n_boot, len(v)), replace=True).mean(1)
    return float(v.mean()), float(np.percentile(boots, 2.5)), float(np.percentile(boots, 97.5))


def fmt(values: list[float]) -> str:
    m, lo, hi = mean_ci(values)
    return f"{m:.3f} [{lo:.3f}, {hi:.3f}]"


def acdc_held_out(train_config: dict) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """``(file stem, image (X, Y, Z), reference labels (X, Y, Z))`` of every ACDC volume (ED and ES)
    of the patients in the held-out fold of a model's training config (``folds``/``seed`` and
    ``test_fold`` when the config has a separate test split, else ``fold``)."""
    import h5py

    from cmrseg.train.split import kfold_subjects

    files = sorted((DATA / "acdc").glob("patient*_frame*.h5"))
    subjects = sorted({p.name.split("_")[0] for p in files})
    fold = train_config.get("test_fold")
    fold = train_config["fold"] if fold is None else fold
    held = set(kfold_subjects(subjects, train_config["folds"], train_config["seed"])[fold])
    for path in files:
        if path.name.split("_")[0] in held:
            with h5py.File(path) as h5:
                yield path.stem, np.asarray(h5["image"]).transpose(1, 2, 0), np.asarray(h5["label"]).transpose(1, 2, 0)


def class_dice(pred: np.ndarray, ref: np.ndarray, out: dict[str, list[float]]) -> None:
    """Append the Dice of each foreground class (``out["LV"]``, ``["MYO"]``, ``["RV"]``) of one volume."""
    from cmrseg.labels import FOREGROUND, LABEL_NAMES
    from cmrseg.metrics import dice

    for c in FOREGROUND:
        out[LABEL_NAMES[c]].append(dice(pred == c, ref == c))


def t1net_slices(contrast: str) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``(images (H, W, N) in inversion-time order, ring mask (H, W), reference T1 (H, W) in ms)`` of
    every T1NET slice of ``contrast`` (``pre`` or ``post``)."""
    from cmrseg.io.datasets.t1net import load_t1net

    d = load_t1net(DATA / "t1net" / f"{contrast}contrast_testsets.mat")
    for s in range(d["TI"].shape[0]):
        images = d["input"][s].astype(np.float32)[..., np.argsort(d["TI"][s])]
        yield images, d["myoMask"][s] > 0, d["T1"][s].astype(float)


def ring_figures(pred_myo: np.ndarray, ring: np.ndarray, t1: np.ndarray) -> tuple[float, float, float]:
    """Ring fraction labelled myocardium; median T1 in the eroded prediction; median T1 in the ring."""
    from scipy import ndimage

    eroded = ndimage.binary_erosion(pred_myo)
    inside = eroded if eroded.sum() >= 5 else pred_myo
    med = float(np.median(t1[inside])) if inside.any() else float("nan")
    return float(pred_myo[ring].mean()), med, float(np.median(t1[ring]))
