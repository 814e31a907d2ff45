"""Pseudo-labels with confidence sets on ACDC treated as unlabelled.

Usage: python benchmarks/pseudo_labels.py [--model cine|PATH]

The model's held-out ACDC patients (its validation fold; converted with `cmrseg convert acdc`
into data/acdc, or converted here into a temporary folder) are segmented as if unlabelled; the
reference EDV/ESV come from their hidden masks. For tolerances of 5, 10 and 15 % we report how
many subjects the confidence set keeps and the mean LV/MYO/RV Dice of the kept subjects'
pseudo-labels against the hidden masks, beside the rejected ones': the filter is worth using when
the kept labels are better. (Training on the kept sets is not part of this benchmark.)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DATA, REPO  # noqa: E402

from cmrseg.io.datasets import convert, load_dataset  # noqa: E402
from cmrseg.io.nifti import read_labels  # noqa: E402
from cmrseg.metrics import dice  # noqa: E402
from cmrseg.predict import Predictor  # noqa: E402
from cmrseg.train.pseudo import predicted_volumes, select_confident, volumes_from_labels  # noqa: E402
from cmrseg.train.split import kfold_subjects  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="cine")
    args = ap.parse_args()
    root = REPO / "data" / "acdc"
    ds = load_dataset(root) if (root / "dataset.json").exists() else convert("acdc", DATA / "acdc", tempfile.mkdtemp())
    predictor = Predictor(args.model)
    cfg = predictor.bundle.train_config
    held = kfold_subjects(ds.subjects, cfg["folds"], cfg["seed"])[cfg["fold"]]
    reference = {s: v for s, v in volumes_from_labels(ds).items() if s in held}
    predicted, preds = predicted_volumes(predictor, ds, held)
    quality = {}
    for s in predicted:
        cases = [c for c in ds.cases if c.subject == s and c.id in preds]
        refs = [read_labels(ds.root / c.label).array for c in cases]
        quality[s] = [
            np.mean([dice(preds[c.id] == k, r == k) for c, r in zip(cases, refs, strict=True)]) for k in (3, 2, 1)
        ]
    print(f"ACDC held-out fold: {len(predicted)} subjects treated as unlabelled")
    print(f"{'tolerance':>9s} {'kept':>5s} {'kept Dice LV/MYO/RV':>22s} {'rejected Dice LV/MYO/RV':>25s}")
    for tol in (5, 10, 15):
        kept = select_confident(predicted, reference, tol)
        rej = [s for s in predicted if s not in kept]

        def mean(subjects: list[str]) -> str:
            if not subjects:
                return "-"
            return " / ".join(f"{v:.3f}" for v in np.mean([quality[s] for s in subjects], 0))

        print(f"{tol:8d}% {len(kept):5d} {mean(kept):>22s} {mean(rej):>25s}")


if __name__ == "__main__":
    main()
