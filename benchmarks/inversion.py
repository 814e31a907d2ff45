"""Intensity inversion at inference on MyoPS: off / on / auto, per contrast.

Usage: python benchmarks/inversion.py [--model default|PATH]

MyoPS has bright-blood bSSFP (C0), LGE and black-blood T2 of the same slices with one label map
(25 cases). For each contrast we segment every case with the default (cine) model with
inversion off, on, and auto (the polarity the model is more confident in), and report Dice per
class (mean [95% bootstrap CI]) and how often auto inverted. Expected polarity: C0 and LGE
original (blood bright), T2 inverted (blood dark).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DATA, fmt  # noqa: E402

from cmrseg.io.datasets.myops import map_myops_labels  # noqa: E402
from cmrseg.io.nifti import read_image, read_labels  # noqa: E402
from cmrseg.labels import FOREGROUND, LABEL_NAMES  # noqa: E402
from cmrseg.metrics import dice  # noqa: E402
from cmrseg.predict import Predictor  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="default")
    args = ap.parse_args()
    predictors = {mode: Predictor(args.model, invert=mode) for mode in ("off", "on", "auto")}
    folders = sorted((DATA / "myops").glob("Case*"))
    print(f"MyoPS, {len(folders)} cases; Dice mean [95% bootstrap CI]")
    print(f"{'contrast':8s} {'invert':6s} {'LV':>22s} {'MYO':>22s} {'RV':>22s} {'auto inverted':>14s}")
    for contrast in ("C0", "LGE", "T2"):
        for mode, pred in predictors.items():
            scores = {LABEL_NAMES[c]: [] for c in FOREGROUND}
            inverted = 0
            for folder in folders:
                image = read_image(folder / f"{folder.name}_{contrast}.nii.gz")
                ref = map_myops_labels(read_labels(folder / f"{folder.name}_gd.nii.gz").array)
                out = pred.predict_array(image.array)
                inverted += pred.last_polarity.count("inverted")
                for c in FOREGROUND:
                    scores[LABEL_NAMES[c]].append(dice(out == c, ref == c))
            auto = f"{inverted}/{len(folders)}" if mode == "auto" else ""
            print(
                f"{contrast:8s} {mode:6s} "
                + " ".join(f"{fmt(scores[k]):>22s}" for k in ("LV", "MYO", "RV"))
                + f" {auto:>14s}"
            )


if __name__ == "__main__":
    main()
