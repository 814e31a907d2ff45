"""What guidance buys: MyoPS alpha sweep, and T1NET through the whole T1 pipeline.

Usage: python benchmarks/guided.py [--model guided] [--out docs/guided.md]

Needs data/myops and data/t1net (`cmrseg convert myops|t1net ../shared/data/... data/...`).

MyoPS (13 held-out subjects, fold 0 of `kfold_subjects(subjects, 2, 0)`, never trained on by the
guided model): the guide of each subject is the cine model's prediction on its bSSFP C0 stack
(never the ground truth; MyoPS shares one label map across contrasts). LGE and T2 (and C0) are
segmented by the guided model at alpha 0, 0.25, 0.5, 1 with that guide, against the cine
model alone (inversion off and auto), against the unguided baseline (the same network, data,
augmentation and schedule trained with alpha fixed at 0: `cmrseg train configs/guided_base.yaml`,
run beforehand; rows left out when runs/guided_base/model.pt is missing) and against copying
the guide. Dice per subject (3D) to the
ground truth and myocardium Dice to the guide; mean [95% bootstrap CI] over subjects, and the
paired differences guided(0.25) - unguided and guided(0.25) - copied guide.

T1NET (3 pre- + 3 post-contrast MOLLI slices): pixel-wise T1 of the series as acquired, against
the pipeline (guided segmentation + registration): median T1 in the myocardium (the pipeline's
mask and T1NET's ring), fit quality, the offset to T1NET's reference maps, myocardium Dice to the
ring, and AHA segment agreement with the ring's numbers (the RV from the pipeline's labels).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import HISTORIC_MODELS, REPO, fmt, historic_model, mean_ci  # noqa: E402

from cmrseg.aha import myocardial_values  # noqa: E402
from cmrseg.io.datasets import load_dataset  # noqa: E402
from cmrseg.io.mapping_series import read_series  # noqa: E402
from cmrseg.io.nifti import read_image, read_labels  # noqa: E402
from cmrseg.labels import FOREGROUND, LABEL_NAMES, Label  # noqa: E402
from cmrseg.mapping.ecv import map_quality  # noqa: E402
from cmrseg.mapping.fits import fit_t1_molli  # noqa: E402
from cmrseg.metrics import dice  # noqa: E402
from cmrseg.predict import Predictor  # noqa: E402
from cmrseg.series_segmentation import pad_width  # noqa: E402
from cmrseg.train.split import kfold_subjects  # noqa: E402
from cmrseg.workflows.t1_pipeline import PipelineOptions, process_series, slice_result  # noqa: E402

sys.path.insert(0, str(REPO))
from tests.aha_reference import agreement, ring_labels  # noqa: E402

ALPHAS = (0.0, 0.25, 0.5, 1.0)
CONTRASTS = ("C0", "LGE", "T2")


def _myops_scores(model: str, baseline: Path | None) -> dict[tuple[str, str], dict[str, list[float]]]:
    """(setting, contrast) -> {"LV"/"MYO"/"RV": Dice per subject, "to guide": MYO Dice to the guide}."""
    ds = load_dataset(REPO / "data" / "myops")
    held = set(kfold_subjects(ds.subjects, 2, 0)[0])
    cine, cine_inv, guided = Predictor("cine"), Predictor("cine", invert="auto"), Predictor(model)
    base = Predictor(baseline) if baseline is not None else None
    scores: dict[tuple[str, str], dict[str, list[float]]] = {}
    for subject in sorted(held):
        cases = {c.extra["contrast"]: c for c in ds.cases if c.subject == subject}
        truth = read_labels(ds.root / cases["C0"].label).array
        guide = cine.predict_array(read_image(ds.root / cases["C0"].image).array)
        for contrast in CONTRASTS:
            image = read_image(ds.root / cases[contrast].image).array
            preds = {"cine": cine.predict_array(image), "cine, invert auto": cine_inv.predict_array(image)}
            preds["copied C0 guide"] = guide
            for a in ALPHAS:
                preds[f"guided alpha {a:g}"] = guided.predict_array(image, guide, alpha=a)
            if base is not None:  # trained with alpha fixed at 0: the guide channels are zero
                preds["unguided baseline"] = base.predict_array(image, guide, alpha=0.0)
            for name, pred in preds.items():
                row = scores.setdefault((name, contrast), {k: [] for k in ("LV", "MYO", "RV", "to guide")})
                for c in FOREGROUND:
                    row[LABEL_NAMES[c]].append(dice(pred == c, truth == c))
                row["to guide"].append(dice(pred == Label.MYO, guide == Label.MYO))
    return scores


def _myops_tables(scores: dict) -> list[str]:
    lines = [
        "| setting | contrast | LV | MYO | RV | MYO Dice to the guide |",
        "|---|---|---|---|---|---|",
    ]
    for contrast in CONTRASTS:
        for (name, c), row in scores.items():
            if c == contrast:
                lines.append(
                    f"| {name} | {c} | " + " | ".join(fmt(row[k]) for k in ("LV", "MYO", "RV", "to guide")) + " |"
                )
    lines += ["", "Paired differences of myocardium Dice per subject (mean [95% bootstrap CI]):", ""]
    refs = ["cine", "guided alpha 0", "copied C0 guide"]
    refs += ["unguided baseline"] if ("unguided baseline", "C0") in scores else []
    lines += ["| contrast | " + " | ".join(f"guided 0.25 - {r}" for r in refs) + " |", "|---" * (len(refs) + 1) + "|"]
    for contrast in CONTRASTS:
        g = np.array(scores[("guided alpha 0.25", contrast)]["MYO"])
        diffs = [g - np.array(scores[(ref, contrast)]["MYO"]) for ref in refs]
        lines.append(f"| {contrast} | " + " | ".join(f"{fmt(d)}" for d in diffs) + " |")
    return lines


def _sweep_plot(scores: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(8, 3.2))
    for contrast, marker in zip(CONTRASTS, "osd", strict=True):
        for ax, key in zip(axes, ("MYO", "to guide"), strict=True):
            m = [mean_ci(scores[(f"guided alpha {a:g}", contrast)][key])[0] for a in ALPHAS]
            ax.plot(ALPHAS, m, marker=marker, label=contrast)
            copied = mean_ci(scores[("copied C0 guide", contrast)][key])[0]
            if key == "MYO":
                ax.axhline(copied, ls=":", color=ax.lines[-1].get_color(), lw=1)
    axes[0].set_title("myocardium Dice to the ground truth\n(dotted: copied C0 guide)", fontsize=9)
    axes[1].set_title("myocardium Dice to the guide", fontsize=9)
    for ax in axes:
        ax.set_xlabel("alpha")
        ax.set_ylim(0, 1)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def _t1net_rows(model: str, consensus_passes: int = 0, guide_model: str = "default") -> list[dict]:
    rows = []
    root = REPO / "data" / "t1net"
    for phase in ("pre", "post"):
        series = read_series(root / "series" / f"{phase}.nii.gz", "InversionTime")
        options = PipelineOptions(model=model, guide_model=guide_model, consensus_passes=consensus_passes)
        piped = process_series(series, options)
        p = pad_width(series.image.shape, "auto")  # what segment_series does before the auto guide
        padded = np.pad(series.image.array, ((p, p), (p, p), (0, 0), (0, 0)))
        each = Predictor("cine", invert="auto").predict_array(padded)[p:-p, p:-p]
        for z in range(series.image.shape[2]):
            ring = read_labels(root / "masks" / f"{phase}_slice{z}_myo.nii.gz").array
            reference = read_image(root / "reference" / f"{phase}_slice{z}_T1.nii.gz").array
            plain = fit_t1_molli(series.image.array[:, :, z], series.times_ms[z])
            ours = piped.labels[:, :, z]
            myo = ours == Label.MYO
            row = {"slice": f"{phase}_slice{z}", "myo_dice_to_ring": dice(myo, ring > 0)}
            per_image = [dice(each[:, :, z, n] == Label.MYO, ring > 0) for n in range(each.shape[3])]
            row["guide_image"], row["best_image"] = (
                int(piped.segmentation.reference[z]) + 1,
                int(np.argmax(per_image)) + 1,
            )
            for name, mask in (("ours", myo), ("ring", ring > 0)):
                row[f"t1_plain_{name}"] = float(np.nanmedian(plain.value[mask]))
                row[f"t1_pipe_{name}"] = float(np.nanmedian(piped.maps.result.value[:, :, z][mask]))
            row["t1_reference_ring"] = float(np.median(reference[ring > 0]))
            # what t1-pipeline reports: the mid-wall of our mask (options.midwall_offset)
            row["t1_pipe_reported"] = myocardial_values(
                piped.maps.result.value[:, :, z], ours, options.myo_erode_px, options.midwall_offset
            ).median
            for name, res in (("plain", plain), ("pipe", slice_result(piped.maps, z))):
                q = map_quality(res, myo)
                row[f"r2_{name}"], row[f"low_r2_{name}"] = q.mean_r2, q.fraction_r2_below_0_95
            labels = ring_labels(ring)
            labels[(ours == Label.RV) & (labels == 0)] = Label.RV
            row["aha_agreement"] = agreement(labels, ring)
            row["ring_px"] = int((ring > 0).sum())
            row["max_shift_px"] = max(t.displacement_px for t in piped.transforms[z])
            row["registered"] = bool(piped.registration_kept[z])
            rows.append(row)
    return rows


def _t1net_tables(rows: list[dict]) -> list[str]:
    lines = [
        "| slice | guide image (best by ring) | myo Dice to ring | T1 plain / pipeline, our mask (ms) | diff "
        "| T1 plain / pipeline, ring (ms) "
        "| reference, ring (ms) | pipeline vs reference | mean R2 plain / pipeline | R2 < 0.95 plain / pipeline "
        "| largest shift (px), registration | AHA agreement | T1 reported: mid-wall of our mask (ms) "
        "| vs ring, whole mask / reported |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        d = 100 * (r["t1_pipe_ours"] / r["t1_plain_ours"] - 1)
        off = 100 * (r["t1_pipe_ring"] / r["t1_reference_ring"] - 1)
        lines.append(
            f"| {r['slice']} | {r['guide_image']} ({r['best_image']}) "
            f"| {r['myo_dice_to_ring']:.3f} | {r['t1_plain_ours']:.0f} / {r['t1_pipe_ours']:.0f} "
            f"| {d:+.2f}% | {r['t1_plain_ring']:.0f} / {r['t1_pipe_ring']:.0f} | {r['t1_reference_ring']:.0f} "
            f"| {off:+.1f}% | {r['r2_plain']:.3f} / {r['r2_pipe']:.3f} "
            f"| {r['low_r2_plain']:.3f} / {r['low_r2_pipe']:.3f} "
            f"| {r['max_shift_px']:.1f} ({'kept' if r['registered'] else 'undone'}) | {100 * r['aha_agreement']:.1f}% "
            f"| {r['t1_pipe_reported']:.0f} | {100 * (r['t1_pipe_ours'] / r['t1_pipe_ring'] - 1):+.1f}% / "
            f"{100 * (r['t1_pipe_reported'] / r['t1_pipe_ring'] - 1):+.1f}% |"
        )
    n = len(rows)
    good = [sum(r[f"r2_{k}"] > 0.9 for r in rows) / n for k in ("plain", "pipe")]
    low = [np.mean([r[f"low_r2_{k}"] for r in rows]) for k in ("plain", "pipe")]
    px = sum(r["ring_px"] for r in rows)
    aha = sum(r["aha_agreement"] * r["ring_px"] for r in rows) / px
    lines += [
        "",
        f"Slices with mean myocardial R2 > 0.9: {good[0]:.2f} as acquired, {good[1]:.2f} through the pipeline. "
        f"Mean fraction of myocardial pixels with R2 < 0.95: {low[0]:.3f} as acquired, "
        f"{low[1]:.3f} through the pipeline. "
        f"AHA segment agreement with the ring's numbers over {px} pixels: {100 * aha:.1f}%.",
    ]
    return lines


def _motion_rows(model: str, max_shift_px: float = 3.0, seed: int = 0, guide_model: str = "default") -> list[dict]:
    """T1NET with simulated breath-hold drift: every image shifted by a random (seeded) in-plane
    offset of up to ``max_shift_px``; fit quality as acquired, with the drift, and through the pipeline."""
    from dataclasses import replace

    from scipy import ndimage

    from cmrseg.image import Image

    rng = np.random.default_rng(seed)
    rows = []
    root = REPO / "data" / "t1net"
    for phase in ("pre", "post"):
        series = read_series(root / "series" / f"{phase}.nii.gz", "InversionTime")
        arr = series.image.array
        shifts = rng.uniform(-max_shift_px, max_shift_px, size=arr.shape[2:] + (2,))
        moved = np.empty_like(arr)
        for z in range(arr.shape[2]):
            for n in range(arr.shape[3]):
                moved[:, :, z, n] = ndimage.shift(arr[:, :, z, n], shifts[z, n], order=1, mode="nearest")
        moved_series = replace(series, image=Image(moved, series.image.spacing, series.image.affine))
        piped = process_series(moved_series, PipelineOptions(model=model, guide_model=guide_model))
        for z in range(arr.shape[2]):
            myo = piped.labels[:, :, z] == Label.MYO
            ref = int(piped.segmentation.reference[z])
            myo_still = ndimage.shift(myo.astype(float), -shifts[z, ref], order=0) > 0.5  # the same tissue, unmoved
            row = {"slice": f"{phase}_slice{z}", "registered": bool(piped.registration_kept[z])}
            fits = {
                "still": (fit_t1_molli(arr[:, :, z], series.times_ms[z]), myo_still),
                "drift": (fit_t1_molli(moved[:, :, z], series.times_ms[z]), myo),
                "pipe": (slice_result(piped.maps, z), myo),
            }
            for name, (res, mask) in fits.items():
                q = map_quality(res, mask)
                row[f"r2_{name}"], row[f"low_{name}"] = q.mean_r2, q.fraction_r2_below_0_95
                row[f"t1_{name}"] = float(np.nanmedian(res.value[mask]))
            rows.append(row)
    return rows


def _motion_table(rows: list[dict], max_shift_px: float) -> list[str]:
    lines = [
        f"Simulated drift: every image of every slice shifted by a random offset of up to +-{max_shift_px:g} px "
        "in each direction (seed 0). Measured in the pipeline's myocardium (for the still series, the same "
        "tissue shifted back).",
        "",
        "| slice | mean R2 still / drift / pipeline | R2 < 0.95 still / drift / pipeline "
        "| median T1 still / drift / pipeline (ms) | registration |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['slice']} | {r['r2_still']:.3f} / {r['r2_drift']:.3f} / {r['r2_pipe']:.3f} "
            f"| {r['low_still']:.3f} / {r['low_drift']:.3f} / {r['low_pipe']:.3f} "
            f"| {r['t1_still']:.0f} / {r['t1_drift']:.0f} / {r['t1_pipe']:.0f} "
            f"| {'kept' if r['registered'] else 'undone'} |"
        )
    means = {k: np.mean([r[k] for r in rows]) for k in rows[0] if k.startswith(("r2_", "low_"))}
    lines += [
        "",
        f"Mean over slices: R2 {means['r2_still']:.3f} still, {means['r2_drift']:.3f} with drift, "
        f"{means['r2_pipe']:.3f} through the pipeline; fraction of myocardial pixels with R2 < 0.95: "
        f"{means['low_still']:.3f} / {means['low_drift']:.3f} / {means['low_pipe']:.3f}.",
    ]
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="guided", help="a guided model: name, path, or guided_v1 (the first one)")
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "guided.md")
    ap.add_argument("--baseline", type=Path, default=REPO / "runs" / "guided_base" / "model.pt")
    ap.add_argument("--consensus-passes", type=int, default=0, help="as PipelineOptions.consensus_passes")
    ap.add_argument("--t1net-only", action="store_true", help="print the T1NET table only")
    ap.add_argument("--guide-model", default="default", help="the model that makes the auto guide (T1NET)")
    args = ap.parse_args()
    name = args.model
    if args.model in HISTORIC_MODELS:
        args.model = str(historic_model(args.model))
    if args.t1net_only:
        print("\n".join(_t1net_tables(_t1net_rows(args.model, args.consensus_passes, args.guide_model))))
        print("\n".join(_motion_table(_motion_rows(args.model), 3.0)))
        return
    baseline = args.baseline if args.baseline.exists() else None
    if baseline is None:
        print(f"no unguided baseline at {args.baseline} (cmrseg train configs/guided_base.yaml); rows left out")
    scores = _myops_scores(args.model, baseline)
    _sweep_plot(scores, args.out.with_name("guided-alpha.png"))
    rows = _t1net_rows(args.model, args.consensus_passes, args.guide_model)
    text = [
        "# Guided segmentation: what guidance buys",
        "",
        f"Produced by `python benchmarks/guided.py --model {name} --guide-model {args.guide_model}`. "
        "Model: docs/model-card.md, guided model.",
        "",
        "## MyoPS: LGE and T2 guided by the cine model's C0 prediction",
        "",
        "13 held-out subjects (never trained on). Dice per subject (3D), mean [95% bootstrap CI].",
        "",
        *_myops_tables(scores),
        "",
        "![alpha sweep](guided-alpha.png)",
        "",
        f"## T1NET: MOLLI series through `cmrseg t1-pipeline` (guide auto from the {args.guide_model} model, "
        f"alpha 0.25, {args.consensus_passes} consensus passes)",
        "",
        *_t1net_tables(rows),
        "",
        "## T1NET with simulated motion",
        "",
        *_motion_table(_motion_rows(args.model, guide_model=args.guide_model), 3.0),
        "",
    ]
    args.out.write_text("\n".join(text))
    print("\n".join(text))


if __name__ == "__main__":
    main()
