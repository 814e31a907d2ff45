"""Contour post-processing ablation (the paper's Table 8) and EF against expert contours.

Usage: python benchmarks/contours.py [--model cine|PATH]

(1) ACDC validation patients of the model (its held-out fold): mean Hausdorff distance of the
    endo- and epicardial contours fitted to the model's prediction, against the exact pixel
    boundary of the reference mask, as each post-processing step is switched on in turn.
    ACDC files carry no pixel spacing, so distances are in pixels (about 1.5 mm each).
(2) Sunnybrook (2 heart-failure patients): LV EF from the expert endocardial contours vs from
    the model's prediction of the same ED/ES frames, on the slices the experts contoured, and
    on all slices with ED/ES detected automatically from the predicted volume curve.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy.spatial.distance import directed_hausdorff

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DATA, acdc_held_out  # noqa: E402

from cmrseg.contours import ContourSteps, densify, mask_contour  # noqa: E402
from cmrseg.function import cine_function  # noqa: E402
from cmrseg.io.datasets.sunnybrook import contour_to_mask, read_contour  # noqa: E402
from cmrseg.io.dicom import read_dicom_folder  # noqa: E402
from cmrseg.labels import Label  # noqa: E402
from cmrseg.predict import Predictor  # noqa: E402

STEPS = [
    ("pixel boundary", ContourSteps(False, False, False, False)),
    ("+ Teh-Chin dominant points", ContourSteps(True, False, False, False)),
    ("+ aspect filter, largest", ContourSteps(True, True, False, False)),
    ("+ convex hull (endo)", ContourSteps(True, True, True, False)),
    ("+ periodic B-spline", ContourSteps(True, True, True, True)),
]


def _hd(a: np.ndarray | None, b: np.ndarray | None) -> float:
    if a is None or b is None:
        return float("nan")
    a, b = densify(a), densify(b)  # distances to the curves, not to their vertices
    return float(max(directed_hausdorff(a, b)[0], directed_hausdorff(b, a)[0]))


def ablation(predictor: Predictor) -> None:
    pairs, patients = [], set()
    for stem, image, ref in acdc_held_out(predictor.bundle.train_config):
        patients.add(stem.split("_")[0])
        pred = predictor.predict_array(image)
        pairs += [(pred[:, :, z], ref[:, :, z]) for z in range(ref.shape[2]) if (ref[:, :, z] == Label.LV).any()]
    raw = ContourSteps(False, False, False, False)
    print(f"(1) ACDC validation, {len(patients)} patients, {len(pairs)} slices with LV: mean Hausdorff (pixels)")
    print(f"{'step':30s} {'endo':>6s} {'epi':>6s}")
    for name, steps in STEPS:
        endo, epi = [], []
        for pred, ref in pairs:
            endo.append(_hd(mask_contour(pred == Label.LV, steps, hull=True), mask_contour(ref == Label.LV, raw)))
            heart_p, heart_r = np.isin(pred, (Label.LV, Label.MYO)), np.isin(ref, (Label.LV, Label.MYO))
            epi.append(_hd(mask_contour(heart_p, steps), mask_contour(heart_r, raw)))
        print(f"{name:30s} {np.nanmean(endo):6.2f} {np.nanmean(epi):6.2f}")


def sunnybrook(predictor: Predictor) -> None:
    print("\n(2) Sunnybrook LV EF (%): expert contours vs model")
    print(
        f"{'patient':11s} {'expert':>7s} {'model, expert frames+slices':>28s} {'model, automatic':>17s} {'ED/ES':>7s}"
    )
    for pid, cid in (("SCD0000101", "SC-HF-I-1"), ("SCD0000201", "SC-HF-I-2")):
        cine = read_dicom_folder(DATA / "sunnybrook/dicoms" / pid)
        pred = predictor.predict_image(cine).array
        index = {n: (z, t) for z, row in enumerate(cine.metadata["files"]) for t, n in enumerate(row)}
        expert: dict[int, dict[int, np.ndarray]] = {}
        for ipath in sorted((DATA / "sunnybrook/contourfiles" / cid / "i-contours").glob("*.txt")):
            z, t = index[f"{int(ipath.name.split('-')[2])}.dcm"]
            expert.setdefault(t, {})[z] = contour_to_mask(read_contour(ipath), cine.shape[:2])
        vol = {t: sum(m.sum() for m in zs.values()) for t, zs in expert.items()}
        ed, es = max(vol, key=vol.get), min(vol, key=vol.get)
        ef_expert = 100 * (vol[ed] - vol[es]) / vol[ed]
        zs = sorted(expert[ed])
        v_ed = (pred[:, :, zs, ed] == Label.LV).sum()
        v_es = (pred[:, :, zs, es] == Label.LV).sum()
        ef_model = 100 * (v_ed - v_es) / v_ed
        auto = cine_function(pred, cine.spacing)
        print(
            f"{pid:11s} {ef_expert:7.1f} {ef_model:28.1f} {auto.lv_ef_percent:17.1f} "
            f"{auto.ed_frame:>3d}/{auto.es_frame:<3d} (expert {ed}/{es})"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="cine")
    args = ap.parse_args()
    predictor = Predictor(args.model)
    ablation(predictor)
    sunnybrook(predictor)


if __name__ == "__main__":
    main()
