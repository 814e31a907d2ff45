"""Cross-contrast generalisation on MyoPS: augmentation, inversion and fine-tuning, one budget.

Usage: python benchmarks/cross_contrast.py [--epochs 12] [--image-size 128] [--out docs/cross-contrast.md]

Needs data/acdc and data/myops (`cmrseg convert acdc|myops ../shared/data/... data/...`).
Design (the T1rho paper's Table 1 question, reduced to fit 2 CPU cores, stated in the output):
one subject-level split, `kfold_subjects(..., 2, seed 0)`, fold 0 held out, of both ACDC and
MyoPS (no subject in train and test). Three models train on the training halves of ACDC plus
MyoPS C0 (bright-blood cine), same budget each (ResNet18 U-Net, --image-size px, --epochs
epochs, AdamW one-cycle): `basic` augmentation, `heavy` augmentation, and `heavy` with
intensity-inversion augmentation (p = 0.5). Each is tested on the held-out MyoPS subjects' C0
(in distribution), LGE and T2 (out of distribution), with inversion at inference off and auto.
Then the `heavy` model is fine-tuned (encoder frozen half the epochs, then lr / 10) on the T2
images of k = 1, 3, 5 training subjects and tested on the held-out T2. Dice per class: mean over
held-out subjects with 95% bootstrap CIs. Models are cached in runs/cross_contrast/.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402
from _common import REPO, fmt  # noqa: E402

from cmrseg.io.datasets import load_dataset  # noqa: E402
from cmrseg.io.datasets.myops import CONTRASTS  # noqa: E402
from cmrseg.io.nifti import read_image, read_labels  # noqa: E402
from cmrseg.labels import FOREGROUND, LABEL_NAMES  # noqa: E402
from cmrseg.metrics import dice  # noqa: E402
from cmrseg.models.registry import ModelConfig  # noqa: E402
from cmrseg.predict import Predictor  # noqa: E402
from cmrseg.train import train  # noqa: E402
from cmrseg.train.config import TrainConfig  # noqa: E402
from cmrseg.train.split import kfold_subjects  # noqa: E402

RUNS = REPO / "runs" / "cross_contrast"


def _train(config: TrainConfig) -> Path:
    model = Path(config.output) / "model.pt"
    if not model.exists():
        t = time.perf_counter()
        train(config)
        print(f"  trained {config.output} in {(time.perf_counter() - t) / 60:.1f} min", flush=True)
    return model


def _evaluate(model: Path, myops, held: list[str], contrasts, invert: str) -> dict[str, dict[str, list[float]]]:  # noqa: ANN001
    predictor = Predictor(model, invert=invert)
    out = {}
    for contrast in contrasts:
        scores: dict[str, list[float]] = {LABEL_NAMES[c]: [] for c in FOREGROUND}
        for case in myops.cases:
            if case.subject in held and case.extra.get("contrast") == contrast:
                pred = predictor.predict_array(read_image(myops.root / case.image).array)
                ref = read_labels(myops.root / case.label).array
                for c in FOREGROUND:
                    scores[LABEL_NAMES[c]].append(dice(pred == c, ref == c))
        out[contrast] = scores
    return out


def _row(name: str, contrast: str, invert: str, scores: dict[str, list[float]]) -> str:
    return f"| {name} | {contrast} | {invert} | " + " | ".join(fmt(scores[k]) for k in ("LV", "MYO", "RV")) + " |"


def _finetune_t2(start: TrainConfig, myops: Path, k: int, epochs: int, run: str, out: str) -> TrainConfig:
    """The 7T paper's recipe on k subjects' T2 images: encoder frozen half the epochs at 1e-4, then 1e-5."""
    return replace(
        start,
        data=(str(myops),),
        contrasts=("T2",),
        subset=f"subjects:{k}",
        scheduler="none",
        epochs=epochs,
        lr=1e-4,
        unfrozen_lr=1e-5,
        freeze_encoder_epochs=epochs // 2,
        batch_size=4,
        init_from=str(RUNS / run / "model.pt"),
        output=str(RUNS / out),
    )


def _dice_plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from _common import mean_ci

    names = list(dict.fromkeys(k[0] for k in results))
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), sharey=True)
    for ax, invert in zip(axes, ("off", "auto"), strict=True):
        for i, name in enumerate(names):
            stats = [mean_ci(results[(name, c, invert)]["MYO"]) for c in CONTRASTS]
            x = np.arange(len(CONTRASTS)) + (i - 1) * 0.27
            m = [st[0] for st in stats]
            err = [[st[0] - st[1] for st in stats], [st[2] - st[0] for st in stats]]
            ax.bar(x, m, 0.27, yerr=err, label=name, capsize=2)
        ax.set_xticks(range(len(CONTRASTS)), CONTRASTS)
        ax.set_title(f"myocardium Dice, inversion at inference {invert}", fontsize=9)
        ax.set_ylim(0, 1)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def _curve_plot(runs: list[Path], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import yaml

    from cmrseg.train.curves import learning_curve_rows

    fig, ax = plt.subplots(figsize=(5, 3.2))
    for i, run in enumerate(runs):
        batch = yaml.safe_load((run / "config.yaml").read_text())["batch_size"]
        rows = learning_curve_rows(run / "metrics.csv", batch)
        for key, style in (("val_dice_LV", "-"), ("val_dice_MYO", "--")):
            name = run.name.removeprefix("finetune_").replace("_t2_", " ")
            ax.plot(
                [r["images_seen"] for r in rows],
                [r[key] for r in rows],
                style,
                color=f"C{i}",
                label=f"{name} {key[9:]}",
            )
    ax.set_xlabel("training images seen")
    ax.set_ylabel("validation Dice (held-out T2)")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--image-size", type=int, default=128)
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "cross-contrast.md")
    args = ap.parse_args()
    acdc, myops = REPO / "data" / "acdc", REPO / "data" / "myops"
    ds = load_dataset(myops)
    held = kfold_subjects(ds.subjects, 2, 0)[0]
    base = TrainConfig(
        data=(str(acdc), str(myops)),
        output="",
        model=ModelConfig(),
        image_size=args.image_size,
        epochs=args.epochs,
        folds=2,
        fold=0,
        contrasts=("C0",),
        scheduler="onecycle",
        lr=2e-3,
    )
    variants = {
        "basic": replace(base, augment="basic", output=str(RUNS / "basic")),
        "heavy": replace(base, augment="heavy", output=str(RUNS / "heavy")),
        "heavy + inversion aug": replace(base, augment="heavy", invert_probability=0.5, output=str(RUNS / "heavy_inv")),
    }
    lines = [
        "# Cross-contrast benchmark (MyoPS)",
        "",
        f"Produced by `python benchmarks/cross_contrast.py --epochs {args.epochs} --image-size {args.image_size}`."
        f" Held-out MyoPS subjects: {len(held)} ({', '.join(held)}). Models: ResNet18 U-Net at {args.image_size} px,"
        f" {args.epochs} epochs on the training halves of ACDC and MyoPS C0 (a smaller budget than the shipped model,"
        " the same for every row). Dice mean [95% bootstrap CI] over held-out subjects.",
        "",
        "| model | contrast | inversion at inference | LV | MYO | RV |",
        "|---|---|---|---|---|---|",
    ]
    results: dict[tuple[str, str, str], dict[str, list[float]]] = {}
    for name, config in variants.items():
        model = _train(config)
        for invert in ("off", "auto"):
            for contrast, scores in _evaluate(model, ds, held, CONTRASTS, invert).items():
                results[(name, contrast, invert)] = scores
                lines.append(_row(name, contrast, invert, scores))
                print(lines[-1], flush=True)
    lines += [
        "",
        "Margin of `heavy + inversion aug` over `basic` (inversion at inference off), paired per held-out"
        " subject, mean [95% bootstrap CI]:",
        "",
        "| contrast | LV | MYO | RV |",
        "|---|---|---|---|",
    ]
    for contrast in CONTRASTS:
        a, b = results[("heavy + inversion aug", contrast, "off")], results[("basic", contrast, "off")]
        diffs = [np.array(a[c]) - np.array(b[c]) for c in ("LV", "MYO", "RV")]
        lines.append(f"| {contrast} | " + " | ".join(fmt(d) for d in diffs) + " |")
    train_subjects = [s for s in ds.subjects if s not in held]
    lines += [
        "",
        "Fine-tuning the `heavy` model on the T2 images of k training subjects, tested on held-out T2:",
        "",
        "| k | LV | MYO | RV |",
        "|---|---|---|---|",
    ]
    for k in (1, 3, 5):
        config = _finetune_t2(variants["heavy"], myops, k, args.epochs, "heavy", f"finetune_t2_k{k}")
        scores = _evaluate(_train(config), ds, held, ("T2",), "off")["T2"]
        lines.append(f"| {k} | " + " | ".join(fmt(scores[c]) for c in ("LV", "MYO", "RV")) + " |")
        print(lines[-1], flush=True)
    base_c0 = results[("heavy + inversion aug", "C0", "off")]
    lines += [
        "",
        f"Fine-tuning the `heavy + inversion aug` model instead, with three times the epochs ({3 * args.epochs}: half"
        " frozen), tested on held-out T2; last column: the gap to that model's in-distribution (C0) Dice, MYO:",
        "",
        "| k | LV | MYO | RV | MYO - C0 MYO |",
        "|---|---|---|---|---|",
        "| C0, no fine-tuning (in distribution) | " + " | ".join(fmt(base_c0[c]) for c in ("LV", "MYO", "RV")) + " | |",
    ]
    for k in (1, 3, 5):
        config = _finetune_t2(
            variants["heavy + inversion aug"], myops, k, 3 * args.epochs, "heavy_inv", f"finetune_inv_t2_k{k}"
        )
        scores = _evaluate(_train(config), ds, held, ("T2",), "off")["T2"]
        gap = float(np.mean(scores["MYO"]) - np.mean(base_c0["MYO"]))
        lines.append(f"| {k} | " + " | ".join(fmt(scores[c]) for c in ("LV", "MYO", "RV")) + f" | {gap:+.3f} |")
        print(lines[-1], flush=True)
    lines += ["", f"Training subjects available for fine-tuning: {len(train_subjects)}."]
    _dice_plot(results, args.out.with_name("cross-contrast-dice.png"))
    _curve_plot(
        [RUNS / f"finetune{v}_t2_k{k}" for v in ("", "_inv") for k in (1, 3, 5)],
        args.out.with_name("cross-contrast-learning.png"),
    )
    lines += [
        "",
        "![Dice by setting](cross-contrast-dice.png)",
        "",
        "Learning curves of the fine-tuning runs (validation: the held-out subjects' T2 images, against the"
        " number of training images seen; `learning_curve.csv` in each run folder):",
        "",
        "![learning curves](cross-contrast-learning.png)",
    ]
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
