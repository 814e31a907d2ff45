"""Issue 11 ablation and left-out contrasts: which ingredient of the any-contrast recipe buys what.

Usage: python benchmarks/any_contrast_ablation.py [--variants full no_contrast ...] [--no-train] [--out docs]

Six trainings at one small, equal budget (``configs/ablation/*.yaml``: ResNet18 U-Net at 128 px,
10 epochs of 80 batches of 16, AdamW one-cycle lr 1e-3, from the ``cine`` model's weights, the
same subject-level split as the shipped model), each differing from ``full`` in one thing:

* ``full``: the whole recipe (contrast randomisation + synthetic mapping images + tight crops +
  the ``anycontrast`` augmentation preset + inversion);
* ``no_contrast``: item 2 removed (no intensity remapping, GIN, inversion, tight crops; the
  ``heavy`` preset in place of ``anycontrast``); synthesis kept;
* ``no_synth``: item 3 removed (no synthetic mapping images);
* ``no_lge`` / ``no_t2``: no LGE / no black-blood T2 labels in training at all (MyoPS
  ``contrasts``), so their test Dice is zero-shot, as the T1rho paper's out-of-distribution test;
* ``no_lge_no_contrast``: no LGE labels and no contrast randomisation: what item 2 buys on a
  contrast never seen labelled (against ``no_lge``);
* ``cine_share``: ``full`` with the ACDC cine slices randomised (synthesis, contrast) 0.3 times as
  often (``randomise_scale``): does a larger share of plain cine keep the cine accuracy that
  randomisation costs, and at what price on LGE / T2 / MOLLI? (One setting, chosen before any run.)

A variant whose ``runs/ablation/<name>/model.pt`` is missing is trained first (``cmrseg train``;
about 14 min each on the 2-core CPU alone). Each model is then scored on the test split of
:mod:`any_contrast` (chose nothing: checkpoints were picked on the validation split), with the
same Dice per volume and 95% bootstrap CIs, and on T1NET (plain predict, the fraction of the ring
labelled myocardium). Writes ``OUT/any-contrast-ablation.md`` (``--out-name``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, mean_ci  # noqa: E402
from any_contrast import CLASSES, segmentation, t1net, test_sets  # noqa: E402

from cmrseg.predict import Predictor  # noqa: E402

VARIANTS = ("full", "no_contrast", "no_synth", "no_lge", "no_t2", "no_lge_no_contrast", "cine_share")
LEFT_OUT = {"no_lge": "MyoPS LGE", "no_t2": "MyoPS black-blood T2", "no_lge_no_contrast": "MyoPS LGE"}


def train(variant: str) -> Path:
    """``runs/ablation/<variant>/model.pt``, trained now when missing."""
    model = REPO / "runs" / "ablation" / variant / "model.pt"
    if not model.exists():
        started = time.perf_counter()
        command = [sys.executable, "-m", "cmrseg.cli", "train", f"configs/ablation/{variant}.yaml"]
        subprocess.run(command, cwd=REPO, check=True)
        (model.parent / "train_seconds.txt").write_text(f"{time.perf_counter() - started:.0f}\n")
    return model


#: which weights of each run are scored: the epoch with the best validation Dice (as shipped
#: models are chosen), and the last epoch (every variant after exactly the same number of steps)
CHECKPOINTS = {
    "Best validation epoch": lambda model: model,
    "Last epoch (equal steps)": lambda model: model.parent / "checkpoints" / "last.ckpt",
}


def _epoch(path: Path) -> int:
    import torch

    checkpoint = path if path.suffix == ".ckpt" else path.parent / "checkpoints" / "best.ckpt"
    return int(torch.load(checkpoint, map_location="cpu", weights_only=False)["epoch"])


def _mean(values: list[float]) -> str:
    m, lo, hi = mean_ci(values)
    return "-" if not np.isfinite(m) else f"{m:.3f} [{lo:.2f}, {hi:.2f}]"


def table(results: dict[str, dict[str, dict[str, list[float]]]]) -> list[str]:
    sets = list(dict.fromkeys(s for r in results.values() for s in r))
    lines = ["| test set | class | " + " | ".join(results) + " |", "|---|---|" + "---|" * len(results)]
    for s in sets:
        for cls in CLASSES:
            if not any(results[v].get(s, {}).get(cls) for v in results):
                continue
            cells = []
            for v, r in results.items():
                cell = _mean(r.get(s, {}).get(cls, []))
                cells.append(f"**{cell}** (left out)" if LEFT_OUT.get(v) == s else cell)
            lines.append(f"| {s} | {cls} | " + " | ".join(cells) + " |")
    return lines


def t1net_lines(rings: dict[str, dict[str, np.ndarray]]) -> list[str]:
    lines = ["| variant | pre: ring labelled MYO per slice (min over images) | post |", "|---|---|---|"]
    for v, r in rings.items():
        cells = [", ".join(f"{f:.0%}" for f in r[f"{c} plain"][..., 0].min(1)) for c in ("pre", "post")]
        lines.append(f"| {v} | " + " | ".join(cells) + " |")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    ap.add_argument("--no-train", action="store_true", help="score only the variants already trained")
    ap.add_argument("--no-t1net", action="store_true")
    ap.add_argument("--out", type=Path, default=REPO / "docs")
    ap.add_argument("--out-name", default="any-contrast-ablation.md", help="file name of the tables in OUT")
    args = ap.parse_args()
    t0 = time.perf_counter()
    models = {}
    for v in args.variants:
        path = REPO / "runs" / "ablation" / v / "model.pt"
        if path.exists() or not args.no_train:
            models[v] = train(v)
    config = Predictor(models[next(iter(models))]).bundle.train_config  # one split for every variant
    sets = test_sets(config)
    command = "python benchmarks/any_contrast_ablation.py " + " ".join(sys.argv[1:])
    lines = ["# Any-contrast ablation and left-out contrasts (test split)", "", f"`{command.strip()}`", ""]
    lines += ["Dice per volume, mean [95% bootstrap CI]; **bold**: the contrast that variant never saw labelled.", ""]
    for title, which in CHECKPOINTS.items():
        paths = {v: which(path) for v, path in models.items()}
        epochs = ", ".join(f"{v} {_epoch(path)}" for v, path in paths.items())
        lines += [f"## {title} (epoch, from 0: {epochs})", ""]
        lines += table({v: segmentation(path, sets, config) for v, path in paths.items()})
        if not args.no_t1net:
            rings = {v: t1net(path) for v, path in paths.items()}
            lines += ["", "T1NET (real MOLLI), plain predict:", ""] + t1net_lines(rings)
        lines.append("")
    print("\n".join(lines))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / args.out_name).write_text("\n".join(lines) + "\n")
    print(f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
