"""Every short-axis contrast with plain `cmrseg predict`: the shipped default against the cine model.

Usage: python benchmarks/any_contrast.py [--models cine default [NAME=PATH ...]] [--out docs]

Test split (chose nothing: no checkpoint, no setting): the subjects of fold ``test_fold`` (0 of
5, seed 0) of ACDC and MyoPS in the new default's own training config, which is also the ACDC
fold the previous default never saw; Sunnybrook SCD0000101 (held out by ``test_subjects``);
M&Ms-2 (a centre no model trained on). Dice per volume (MyoPS: per case and contrast;
Sunnybrook: per contoured slice, LV and MYO only) with 95% bootstrap CIs over volumes. The
cine model is also run with ``--invert auto`` on LGE and T2, as its README advised.

T1NET (real MOLLI, 3 pre + 3 post slices): for every image (each inversion time) segmented on
its own with plain predict, and for ``segment-series`` (the shipped guided model, auto guide made
by the model of the row; ``benchmarks/t1net_series.py`` varies the guided model): the fraction of
T1NET's ring (``myoMask``, drawn conservatively inside the myocardium) labelled myocardium, and
the median reference T1 in the predicted myocardium eroded by 1 px against the median in the
ring.

Writes ``OUT/any-contrast.md`` (tables) and ``OUT/any-contrast.png`` (Dice by contrast).
``cine`` is the ACDC-only cine model, the default until the any-contrast model replaced it
(``previous`` reads the same weights from git history: ``_common.HISTORIC_MODELS``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import t1net_series  # noqa: E402
from _common import DATA, REPO, class_dice, mean_ci, model_args, ring_figures, t1net_slices  # noqa: E402

from cmrseg.io.datasets.mnms2 import map_mnms2_labels  # noqa: E402
from cmrseg.io.datasets.myops import map_myops_labels  # noqa: E402
from cmrseg.io.nifti import read_image, read_labels  # noqa: E402
from cmrseg.labels import Label  # noqa: E402
from cmrseg.metrics import dice  # noqa: E402
from cmrseg.predict import Predictor  # noqa: E402
from cmrseg.train.split import kfold_subjects  # noqa: E402

CLASSES = ("LV", "MYO", "RV")


def test_subjects(names: list[str], config: dict) -> set[str]:
    folds = kfold_subjects(sorted(set(names)), config.get("folds", 5), config.get("seed", 0))
    return set(folds[config.get("test_fold") or 0]) | set(config.get("test_subjects") or [])


def test_sets(
    config: dict, names: dict[str, list[str]] | None = None
) -> dict[str, list[tuple[np.ndarray | object, np.ndarray]]]:
    """Set name -> [(image array or Image, reference labels)]; ``names``, when given, is filled
    with set name -> the file name of each image as the dataset ships it."""
    import h5py

    sets: dict[str, list] = {}
    files: dict[str, list[str]] = {} if names is None else names
    acdc = sorted((DATA / "acdc").glob("patient*_frame*.h5"))
    held = test_subjects([p.name.split("_")[0] for p in acdc], config)
    sets["ACDC cine"], files["ACDC cine"] = [], []
    for path in acdc:
        if path.name.split("_")[0] in held:
            with h5py.File(path) as h5:
                sets["ACDC cine"].append(
                    (np.asarray(h5["image"]).transpose(1, 2, 0), np.asarray(h5["label"]).transpose(1, 2, 0))
                )
            files["ACDC cine"].append(path.name)
    every = sorted((DATA / "myops").glob("Case*"))
    held = test_subjects([c.name for c in every], config)
    cases = [c for c in every if c.name in held]
    for contrast, name in (("C0", "MyoPS bSSFP"), ("LGE", "MyoPS LGE"), ("T2", "MyoPS black-blood T2")):
        sets[name] = [
            (
                read_image(c / f"{c.name}_{contrast}.nii.gz"),
                map_myops_labels(read_labels(c / f"{c.name}_gd.nii.gz").array),
            )
            for c in cases
        ]
        files[name] = [f"{c.name}_{contrast}.nii.gz" for c in cases]
    sets["M&Ms-2 cine (unseen centre)"] = [
        (
            read_image(DATA / "mnms2/001" / f"001_SA_{p}.nii.gz"),
            map_mnms2_labels(read_labels(DATA / "mnms2/001" / f"001_SA_{p}_gt.nii.gz").array),
        )
        for p in ("ED", "ES")
    ]
    files["M&Ms-2 cine (unseen centre)"] = [f"001_SA_{p}.nii.gz" for p in ("ED", "ES")]
    return sets


def sunnybrook(predictor: Predictor, config: dict) -> dict[str, list[float]]:
    """LV and MYO Dice per contoured slice of the held-out Sunnybrook patient(s)."""
    from cmrseg.io.datasets.sunnybrook import contour_to_mask, read_contour
    from cmrseg.io.dicom import read_dicom_folder

    out: dict[str, list[float]] = {"LV": [], "MYO": [], "RV": []}
    for pid, cid in (("SCD0000101", "SC-HF-I-1"), ("SCD0000201", "SC-HF-I-2")):
        if pid not in (config.get("test_subjects") or ["SCD0000101"]):
            continue
        cine = read_dicom_folder(DATA / "sunnybrook/dicoms" / pid)
        pred = predictor.predict_image(cine).array
        index = {n: (z, t) for z, row in enumerate(cine.metadata["files"]) for t, n in enumerate(row)}
        for ipath in sorted((DATA / "sunnybrook/contourfiles" / cid / "i-contours").glob("*.txt")):
            z, t = index[f"{int(ipath.name.split('-')[2])}.dcm"]
            endo = contour_to_mask(read_contour(ipath), cine.shape[:2])
            out["LV"].append(dice(pred[:, :, z, t] == Label.LV, endo))
            opath = ipath.parent.parent / "o-contours" / ipath.name.replace("icontour", "ocontour")
            if opath.exists():
                myo = contour_to_mask(read_contour(opath), cine.shape[:2]) & ~endo
                out["MYO"].append(dice(pred[:, :, z, t] == Label.MYO, myo))
    return out


def segmentation(model: str | Path, sets: dict, config: dict, invert: str = "off") -> dict[str, dict]:
    predictor = Predictor(model, invert=invert)
    results = {}
    for name, items in sets.items():
        if invert != "off" and not any(k in name for k in ("LGE", "T2")):
            continue
        scores: dict[str, list[float]] = {k: [] for k in CLASSES}
        for image, ref in items:
            pred = predictor.predict_array(image) if isinstance(image, np.ndarray) else predictor.predict_image(image)
            class_dice(pred if isinstance(pred, np.ndarray) else pred.array, ref, scores)
        results[name] = scores
    if invert == "off":
        results["Sunnybrook cine (1 patient, per slice)"] = sunnybrook(predictor, config)
    return results


def t1net(model: str | Path) -> dict[str, np.ndarray]:
    """Per contrast: ``(slices, images by TI, 3)`` ring fraction / median T1 / ring T1, plain predict,
    and ``(slices, images, 3)`` for segment-series with this model as the guide model."""
    predictor = Predictor(model)
    out = {}
    for contrast in ("pre", "post"):
        plain = []
        for images, ring, t1 in t1net_slices(contrast):
            labels = predictor.predict_array(images[:, :, None, :])[:, :, 0]
            plain.append([ring_figures(labels[..., k] == Label.MYO, ring, t1) for k in range(images.shape[-1])])
        out[f"{contrast} plain"] = np.array(plain)
        out[f"{contrast} segment-series"] = t1net_series.run(str(model), "guided")[contrast]["images"]
    return out


def _cell(v: list[float]) -> str:
    if not v:
        return "-"
    m, lo, hi = mean_ci(v)
    return f"{m:.3f} [{lo:.3f}, {hi:.3f}]"


def segmentation_table(results: dict[str, dict[str, dict]]) -> list[str]:
    lines = ["| test set | model | n | LV | MYO | RV |", "|---|---|---|---|---|---|"]
    sets = list(dict.fromkeys(s for r in results.values() for s in r))
    for s in sets:
        for model, r in results.items():
            if s in r:
                n = max(len(v) for v in r[s].values())
                lines.append(f"| {s} | {model} | {n} | " + " | ".join(_cell(r[s][k]) for k in CLASSES) + " |")
    return lines


def t1net_table(results: dict[str, dict[str, np.ndarray]]) -> list[str]:
    lines = [
        "| model | series | ring labelled MYO, per slice (min over images) | worst slice-image | "
        "median T1 error vs ring, per slice (max over images) |",
        "|---|---|---|---|---|",
    ]
    for model, r in results.items():
        for key, a in r.items():
            frac, err = a[..., 0], np.abs(a[..., 1] / a[..., 2] - 1) * 100
            per_slice = ", ".join(f"{f:.0%}" for f in frac.min(1))
            errs = ", ".join(f"{e:.1f}%" for e in np.nanmax(err, 1))
            lines.append(f"| {model} | {key} | {per_slice} | {frac.min():.0%} | {errs} |")
    return lines


def plot(results: dict[str, dict[str, dict]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sets = list(dict.fromkeys(s for r in results.values() for s in r))
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5), sharey=True)
    width = 0.8 / len(results)
    for ax, cls in zip(axes, CLASSES, strict=True):
        for i, (model, r) in enumerate(results.items()):
            means = [mean_ci(r[s][cls])[0] if s in r and r[s][cls] else np.nan for s in sets]
            ax.bar(np.arange(len(sets)) + i * width, means, width, label=model)
        ax.set_xticks(np.arange(len(sets)) + width * (len(results) - 1) / 2)
        ax.set_xticklabels([s.replace(" (", "\n(") for s in sets], rotation=60, ha="right", fontsize=7)
        ax.set_title(cls)
        ax.set_ylim(0, 1)
    axes[0].set_ylabel("Dice (mean over test volumes)")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["cine", "default"], help="names, paths or NAME=PATH")
    ap.add_argument("--split-model", default="default", help="the model whose training config sets the test split")
    ap.add_argument("--out", type=Path, default=REPO / "docs")
    ap.add_argument("--no-t1net", action="store_true")
    args = ap.parse_args()
    t0 = time.perf_counter()
    models = model_args(args.models)
    config = Predictor(args.split_model).bundle.train_config  # its test split chose nothing
    sets = test_sets(config)
    seg: dict[str, dict] = {}
    for name, path in models.items():
        seg[name] = segmentation(path, sets, config)
        if name in ("previous", "cine"):
            seg[f"{name} --invert auto"] = segmentation(path, sets, config, invert="auto")
    command = f"python benchmarks/any_contrast.py --models {' '.join(args.models)}"
    lines = ["# Any contrast: test-split Dice", "", f"`{command}`", ""]
    lines += [
        "`default`: the shipped default (the any-contrast model); `cine`: the ACDC cine model (the default before it). "
        "T1NET segment-series rows: the shipped guided model, the auto guide made by the row's model.",
        "",
    ]
    lines += segmentation_table(seg)
    if not args.no_t1net:
        t1 = {name: t1net(path) for name, path in models.items()}
        lines += ["", "## T1NET (real MOLLI)", ""] + t1net_table(t1)
    print("\n".join(lines))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "any-contrast-results.md").write_text("\n".join(lines) + "\n")
    plot(seg, args.out / "any-contrast.png")
    print(f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
