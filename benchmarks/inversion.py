"""Intensity inversion at inference: off / on / auto, measured per volume on every labelled contrast.

Usage: python benchmarks/inversion.py [--model cine|PATH] [--all-myops]

Volumes: the ACDC test patients of the model's config (cine, ED and ES), MyoPS bSSFP (C0), LGE
and black-blood T2 (the test subjects of the model's config; ``--all-myops`` for all 25, of
which the shipped default trained on 20), the M&Ms-2 subject (ED, ES) and the two Sunnybrook
cines (LV and MYO only). For each volume the mean foreground Dice with inversion off and on;
the right polarity is the one with the higher Dice, and ``auto`` (the polarity the model is more
confident in) is counted wrong when it loses more than 0.02 Dice to the right one. Prints per
contrast: volumes, auto wrong, and mean Dice off / on / auto.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DATA  # noqa: E402
from any_contrast import test_sets  # noqa: E402

from cmrseg.io.datasets.myops import map_myops_labels  # noqa: E402
from cmrseg.io.nifti import read_image, read_labels  # noqa: E402
from cmrseg.labels import FOREGROUND  # noqa: E402
from cmrseg.metrics import dice  # noqa: E402
from cmrseg.predict import Predictor  # noqa: E402

TOLERANCE = 0.02


def _mean_dice(pred: np.ndarray, ref: np.ndarray) -> float:
    return float(np.nanmean([dice(pred == c, ref == c) if (ref == c).any() else np.nan for c in FOREGROUND]))


def _volumes(config: dict, all_myops: bool) -> dict[str, list[tuple[np.ndarray, np.ndarray]]]:
    sets = {k: [(getattr(i, "array", i), r) for i, r in v] for k, v in test_sets(config).items()}
    if all_myops:
        cases = sorted((DATA / "myops").glob("Case*"))
        for contrast, name in (("C0", "MyoPS bSSFP"), ("LGE", "MyoPS LGE"), ("T2", "MyoPS black-blood T2")):
            sets[name] = [
                (
                    read_image(c / f"{c.name}_{contrast}.nii.gz").array,
                    map_myops_labels(read_labels(c / f"{c.name}_gd.nii.gz").array),
                )
                for c in cases
            ]
    sets["Sunnybrook cine (contoured frames)"] = _sunnybrook()
    return sets


def _sunnybrook() -> list[tuple[np.ndarray, np.ndarray]]:
    """Each contoured frame of both patients, restricted to the slices with both contours (LV, MYO)."""
    import tempfile

    from cmrseg.io.datasets import convert

    out = []
    with tempfile.TemporaryDirectory() as tmp:
        ds = convert("sunnybrook", DATA / "sunnybrook", Path(tmp) / "sb")
        for case in ds.cases:
            keep = sorted(set(case.extra["epi_slices"]) & set(case.extra["endo_slices"]))
            if keep:
                image = read_image(ds.root / case.image).array[:, :, keep]
                out.append((image, read_labels(ds.root / case.label).array[:, :, keep]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="cine")
    ap.add_argument("--all-myops", action="store_true")
    args = ap.parse_args()
    off, on, auto = (Predictor(args.model, invert=m) for m in ("off", "on", "auto"))
    config = off.bundle.train_config
    print(f"model {args.model}; auto wrong = loses > {TOLERANCE} mean Dice to the better polarity")
    print(f"{'contrast':40s} {'volumes':>7s} {'auto wrong':>10s} {'off':>7s} {'on':>7s} {'auto':>7s}")
    total, wrong_total = 0, 0
    for name, volumes in _volumes(config, args.all_myops).items():
        if not volumes:
            continue
        d = np.array([[_mean_dice(p.predict_array(img), ref) for p in (off, on, auto)] for img, ref in volumes])
        wrong = int(np.sum(d[:, 2] < np.maximum(d[:, 0], d[:, 1]) - TOLERANCE))
        total, wrong_total = total + len(d), wrong_total + wrong
        print(f"{name:40s} {len(d):7d} {wrong:10d} " + " ".join(f"{v:7.3f}" for v in d.mean(0)))
    print(f"all: auto wrong on {wrong_total} of {total} volumes")


if __name__ == "__main__":
    main()
