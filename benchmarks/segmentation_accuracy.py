"""Validation Dice per class of a model on ACDC patients it never trained on, plus external sets.

Usage: python benchmarks/segmentation_accuracy.py [--model cine|PATH] [--tta] [--precision fp32|bf16]
       [--json OUT]

The ACDC patients are the held-out fold of the model's own training config (``test_fold``, else
``fold``, with ``folds``/``seed``, saved in the model file), so the split is exactly the one the
model never trained on. A config without ``test_fold`` (the shipped cine model's) also picked its
checkpoint on that fold: its figure is then optimistic. Dice is computed per volume (ED and ES of
each patient) on the original image grid, then averaged; brackets are 95% bootstrap confidence
intervals over volumes. External sets: M&Ms-2 (1 subject, ED+ES), Sunnybrook (2 patients, LV + MYO
on contoured slices only) and MyoPS C0 (25 bSSFP cases), none of which the cine model trained on.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DATA, acdc_held_out, fmt  # noqa: E402

from cmrseg.io.nifti import read_image, read_labels  # noqa: E402
from cmrseg.labels import FOREGROUND, LABEL_NAMES  # noqa: E402
from cmrseg.metrics import dice  # noqa: E402
from cmrseg.predict import Predictor  # noqa: E402


def acdc_validation(predictor: Predictor) -> dict[str, list[float]]:
    cfg = predictor.bundle.train_config
    scores: dict[str, list[float]] = {LABEL_NAMES[c]: [] for c in FOREGROUND}
    patients = set()
    for stem, image, ref in acdc_held_out(cfg):
        patients.add(stem.split("_")[0])
        pred = predictor.predict_array(image)
        for c in FOREGROUND:
            scores[LABEL_NAMES[c]].append(dice(pred == c, ref == c))
    n = len(scores["LV"])
    print(f"ACDC validation: {len(patients)} patients, {n} volumes (fold {cfg['fold']} of {cfg['folds']})")
    return scores


def external(predictor: Predictor) -> dict[str, dict[str, list[float]]]:
    from cmrseg.io.datasets.mnms2 import map_mnms2_labels
    from cmrseg.io.datasets.myops import map_myops_labels
    from cmrseg.io.datasets.sunnybrook import contour_to_mask, read_contour
    from cmrseg.io.dicom import read_dicom_folder

    out: dict[str, dict[str, list[float]]] = {}
    mm = {LABEL_NAMES[c]: [] for c in FOREGROUND}
    for phase in ("ED", "ES"):
        image = read_image(DATA / "mnms2/001" / f"001_SA_{phase}.nii.gz")
        ref = map_mnms2_labels(read_labels(DATA / "mnms2/001" / f"001_SA_{phase}_gt.nii.gz").array)
        pred = predictor.predict_image(image).array
        for c in FOREGROUND:
            mm[LABEL_NAMES[c]].append(dice(pred == c, ref == c))
    out["M&Ms-2 (1 subject, ED+ES)"] = mm

    sb = {"LV": [], "MYO": []}
    for pid, cid in (("SCD0000101", "SC-HF-I-1"), ("SCD0000201", "SC-HF-I-2")):
        cine = read_dicom_folder(DATA / "sunnybrook/dicoms" / pid)
        pred = predictor.predict_image(cine).array
        index = {n: (z, t) for z, row in enumerate(cine.metadata["files"]) for t, n in enumerate(row)}
        for ipath in sorted((DATA / "sunnybrook/contourfiles" / cid / "i-contours").glob("*.txt")):
            num = int(ipath.name.split("-")[2])
            z, t = index[f"{num}.dcm"]
            endo = contour_to_mask(read_contour(ipath), cine.shape[:2])
            sb["LV"].append(dice(pred[:, :, z, t] == 3, endo))
            opath = ipath.parent.parent / "o-contours" / ipath.name.replace("icontour", "ocontour")
            if opath.exists():
                myo = contour_to_mask(read_contour(opath), cine.shape[:2]) & ~endo
                sb["MYO"].append(dice(pred[:, :, z, t] == 2, myo))
    out["Sunnybrook (2 patients, per contoured slice)"] = sb

    my = {LABEL_NAMES[c]: [] for c in FOREGROUND}
    for folder in sorted((DATA / "myops").glob("Case*")):
        image = read_image(folder / f"{folder.name}_C0.nii.gz")
        ref = map_myops_labels(read_labels(folder / f"{folder.name}_gd.nii.gz").array)
        pred = predictor.predict_image(image).array
        for c in FOREGROUND:
            my[LABEL_NAMES[c]].append(dice(pred == c, ref == c))
    out["MyoPS C0 bSSFP (25 cases)"] = my
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="cine")
    ap.add_argument("--tta", action="store_true")
    ap.add_argument("--tta-mode", default="rot90", choices=["rot90", "flip"])
    ap.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    ap.add_argument("--no-external", action="store_true")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    t0 = time.perf_counter()
    predictor = Predictor(args.model, device="auto", tta=args.tta, tta_mode=args.tta_mode, precision=args.precision)
    results = {"ACDC validation (per volume)": acdc_validation(predictor)}
    if not args.no_external:
        results.update(external(predictor))
    print(f"\nmodel={args.model} tta={args.tta} ({args.tta_mode}) {args.precision}; mean Dice [95% bootstrap CI]")
    print(f"{'set':46s} {'LV':>22s} {'MYO':>22s} {'RV':>22s}")
    for name, scores in results.items():
        cells = [fmt(scores[k]) if scores.get(k) else "-" for k in ("LV", "MYO", "RV")]
        print(f"{name:46s} " + " ".join(f"{c:>22s}" for c in cells))
    print(f"({time.perf_counter() - t0:.0f} s)")
    if args.json:
        args.json.write_text(
            json.dumps({k: {c: list(map(float, v)) for c, v in s.items()} for k, s in results.items()})
        )


if __name__ == "__main__":
    main()
