"""Training on pseudo-labels filtered by volume agreement (7T paper), on ACDC with hidden masks.

Usage: python benchmarks/pseudo_training.py [--epochs 8] [--out docs/pseudo-labels.md]

Needs data/acdc and runs/cross_contrast/basic/model.pt (`python benchmarks/cross_contrast.py`).
The labeller is the cross-contrast `basic` model (128 px, 12 epochs on the ACDC half of
`kfold_subjects(subjects, 2, 0)[1]` plus MyoPS C0): a deliberately modest model, as a real
labeller on a new domain is. Its 40 unseen ACDC patients are split (`kfold_subjects(pool, 3, 1)`)
into an unlabelled pool (27) and a labelled test set (13). The pool is segmented; subjects whose
predicted EDV, ESV and EF lie within +-5 / 10 / 15 % of the values from their hidden masks are
kept (`cmrseg pseudo-label`). The labeller is then fine-tuned on each set's pseudo-labels (same
recipe and budget: all layers, AdamW 1e-4, constant, --epochs epochs), on all pool subjects'
pseudo-labels unfiltered, and on the pool's true labels (the ceiling), and tested on the 13.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, fmt  # noqa: E402

from cmrseg.io.datasets import load_dataset  # noqa: E402
from cmrseg.io.datasets.layout import Dataset, save_dataset  # noqa: E402
from cmrseg.io.nifti import read_image, read_labels  # noqa: E402
from cmrseg.labels import FOREGROUND, LABEL_NAMES  # noqa: E402
from cmrseg.metrics import dice  # noqa: E402
from cmrseg.predict import Predictor  # noqa: E402
from cmrseg.train import finetune_config, train  # noqa: E402
from cmrseg.train.pseudo import (  # noqa: E402
    predicted_volumes,
    select_confident,
    volumes_from_labels,
    write_pseudo_dataset,
)
from cmrseg.train.split import kfold_subjects  # noqa: E402

LABELLER = REPO / "runs" / "cross_contrast" / "basic" / "model.pt"


def _subset(ds: Dataset, subjects: set[str], root: Path) -> Path:
    """A dataset file listing only ``subjects``' cases (images stay where they are)."""
    cases = tuple(c for c in ds.cases if c.subject in subjects)
    root.mkdir(parents=True)
    save_dataset(Dataset(root, ds.name, cases, ds.source, ds.licence, ds.spacing_known, ds.labelled_classes))
    for kind in ("images", "labels"):
        (root / kind).symlink_to(ds.root / kind)
    return root


def _test(model: Path, ds: Dataset, test: set[str]) -> dict[str, list[float]]:
    predictor = Predictor(model)
    out: dict[str, list[float]] = {LABEL_NAMES[c]: [] for c in FOREGROUND}
    for case in ds.cases:
        if case.subject in test:
            pred = predictor.predict_array(read_image(ds.root / case.image).array)
            ref = read_labels(ds.root / case.label).array
            for c in FOREGROUND:
                out[LABEL_NAMES[c]].append(dice(pred == c, ref == c))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "pseudo-labels.md")
    args = ap.parse_args()
    ds = load_dataset(REPO / "data" / "acdc")
    unseen = kfold_subjects(ds.subjects, 2, 0)[0]
    splits = kfold_subjects(unseen, 3, 1)
    test, pool = set(splits[0]), set(splits[1] + splits[2])
    reference = {s: v for s, v in volumes_from_labels(ds).items() if s in pool}
    predicted, preds = predicted_volumes(Predictor(LABELLER), ds, sorted(pool))
    work = Path(tempfile.mkdtemp(prefix="pseudo-"))
    sets = {f"pseudo, +-{t} %": select_confident(predicted, reference, t) for t in (5, 10, 15)}
    sets["pseudo, all (unfiltered)"] = sorted(pool)
    rows = [("labeller (no fine-tuning)", len(pool), _test(LABELLER, ds, test))]
    for k, (name, subjects) in enumerate([*sets.items(), ("true labels, all", sorted(pool))]):
        if not subjects:
            rows.append((name, 0, None))
            continue
        if name.startswith("true"):
            data = _subset(ds, set(subjects), work / f"d{k}")
        else:
            data = write_pseudo_dataset(ds, preds, subjects, work / f"d{k}").root
        config = finetune_config(
            str(LABELLER),
            (str(data),),
            str(REPO / "runs" / "pseudo" / f"set{k}"),
            lr=1e-4,
            epochs=args.epochs,
            freeze_encoder_epochs=0,
            folds=1,
            augment="basic",
        )
        t = time.perf_counter()
        model = train(config)["model"]
        print(f"{name}: {len(subjects)} subjects, trained in {(time.perf_counter() - t) / 60:.1f} min", flush=True)
        rows.append((name, len(subjects), _test(Path(model), ds, test)))
    lines = [
        "# Training on pseudo-labels with confidence sets (ACDC, masks hidden)",
        "",
        f"Produced by `python benchmarks/pseudo_training.py --epochs {args.epochs}`. Pool: {len(pool)} subjects "
        f"segmented by the labeller; test: {len(test)} other subjects with their true masks. Dice per volume, "
        "mean [95% bootstrap CI].",
        "",
        "| training set | subjects | LV | MYO | RV |",
        "|---|---|---|---|---|",
    ]
    for name, n, scores in rows:
        cells = (
            ["no subject kept: nothing to train"] * 3
            if scores is None
            else [fmt(scores[k]) for k in ("LV", "MYO", "RV")]
        )
        lines.append(f"| {name} | {n} | " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
