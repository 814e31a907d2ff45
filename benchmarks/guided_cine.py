"""Guided segmentation on cine: ES guided by ED, the guided models against the cine model alone.

Needs data/acdc (`cmrseg convert acdc ../shared/data/acdc data/acdc`).

Usage: python benchmarks/guided_cine.py [--models guided guided_v2 guided_v1 [NAME=PATH ...]]
       [--out docs/guided-cine.md]

ACDC patients of fold 0 of ``kfold_subjects(patients, 2, seed 0)`` (40 patients that neither guided
model trained on; the cine model trained on 33 of them, so its own row is optimistic). The guide
of each ES volume is the cine model's prediction on the same patient's ED volume (never the
ground truth); each guided model segments ES at alpha 0 and 0.25. Dice per volume to the ES
ground truth, mean [95% bootstrap CI].
``guided_v2`` is the second guided model (``configs/guided.yaml`` alone, before its second
stage ``configs/guided_stage2.yaml``), ``guided_v1`` the first guided model (no contrast
randomisation), read from git history (``_common.HISTORIC_MODELS``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, class_dice, fmt, model_args  # noqa: E402

from cmrseg.io.datasets import load_dataset  # noqa: E402
from cmrseg.io.nifti import read_image, read_labels  # noqa: E402
from cmrseg.predict import Predictor  # noqa: E402
from cmrseg.train.split import kfold_subjects  # noqa: E402

CLASSES = ("LV", "MYO", "RV")


def _pairs() -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``(ED image, ES image, ES labels)`` of every held-out patient (as benchmarks/guided.py splits MyoPS)."""
    ds = load_dataset(REPO / "data" / "acdc")
    held = set(kfold_subjects(ds.subjects, 2, 0)[0])
    phases: dict[str, dict[str, object]] = {}
    for case in ds.cases:
        if case.subject in held and case.label is not None:
            phases.setdefault(case.subject, {})[case.phase] = case
    out = []
    for subject in sorted(phases):
        ed, es = phases[subject].get("ED"), phases[subject].get("ES")
        if ed is not None and es is not None:
            out.append(
                (
                    read_image(ds.root / ed.image).array,
                    read_image(ds.root / es.image).array,
                    read_labels(ds.root / es.label).array,
                )
            )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--models", nargs="+", default=["guided", "guided_v2", "guided_v1"], help="names, paths or NAME=PATH"
    )
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "guided-cine.md")
    args = ap.parse_args()
    t0 = time.perf_counter()
    models = model_args(args.models)
    cine = Predictor("cine")
    guided = {name: Predictor(path) for name, path in models.items()}
    scores: dict[str, dict[str, list[float]]] = {}

    def add(setting: str, pred: np.ndarray, ref: np.ndarray) -> None:
        class_dice(pred, ref, scores.setdefault(setting, {k: [] for k in CLASSES}))

    pairs = _pairs()
    for ed, es, es_ref in pairs:
        guide = cine.predict_array(ed)
        add("cine model alone", cine.predict_array(es), es_ref)
        add("copied ED guide", guide, es_ref)
        for name, p in guided.items():
            for alpha in (0.0, 0.25):
                add(f"{name}, alpha {alpha:g}", p.predict_array(es, guide, alpha=alpha), es_ref)
    command = "python benchmarks/guided_cine.py --models " + " ".join(args.models)
    lines = [
        "# Guided segmentation on cine (ACDC ES guided by the cine model's ED prediction)",
        "",
        f"`{command}`; {len(pairs)} held-out patients, Dice per ES volume, mean [95% bootstrap CI].",
        "",
        "| setting | LV | MYO | RV |",
        "|---|---|---|---|",
    ]
    lines += [f"| {s} | " + " | ".join(fmt(r[k]) for k in CLASSES) + " |" for s, r in scores.items()]
    print("\n".join(lines))
    args.out.write_text("\n".join(lines) + "\n")
    print(f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
