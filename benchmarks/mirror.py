"""Arrays written in the other handedness: Dice as given and mirrored, ``mirror`` off against auto.

Usage: python benchmarks/mirror.py [--models default cine [NAME=PATH ...]] [--out docs/mirror.md]

A short-axis array read by another converter or written in another scanner's convention can be
the mirror image of what a model trained on (rows and columns swapped, or one axis reversed). The
shipped models never saw a mirror image in training (``cmrseg.augment``: albumentations 2.0 gave
the horizontal and vertical flips one shared random draw, so they only ever came together), and
on one they put the RV on the wrong side of the LV. ``Predictor(mirror="auto")`` (the default of
``predict``) segments the three slices with the most heart (of any frame) mirrored too and keeps
the orientation whose RV the model is surer of (``cmrseg.predict.mirror_confidence``).

The decision rule was chosen before this benchmark ran, on the validation split (ACDC and
MyoPS, one eighth of the subjects outside the test fold): the RV confidence was higher for the
right orientation on every validation volume, the plain foreground confidence
(``polarity_confidence``) on all but one. Here, on the test split of ``benchmarks/any_contrast.py``
(chose nothing), each volume is segmented as given and with its second in-plane axis reversed
(the labels reversed back before scoring), with ``mirror`` off and auto: Dice per class, mean over
volumes (Sunnybrook: per contoured slice, LV and MYO), and how many volumes auto segmented
mirrored. Last, the time of ``predict_array`` on the M&Ms-2 stack (12 slices) with ``mirror`` off
and auto, interleaved, median of the repeats, and their ratio. Sunnybrook's RV is not contoured:
for its DICOM cines the benchmark gives the predicted RV's size and intensity instead.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DATA, REPO, class_dice, model_args  # noqa: E402
from any_contrast import CLASSES, sunnybrook, test_sets  # noqa: E402

from cmrseg.image import Image, LabelMap  # noqa: E402
from cmrseg.predict import Predictor  # noqa: E402


class _Runner:
    """Segments what it is given (``flipped``: its mirror image, the labels mirrored back for
    scoring) and records whether ``mirror="auto"`` chose to segment it mirrored."""

    def __init__(self, predictor: Predictor, flipped: bool) -> None:
        self.predictor, self.flipped = predictor, flipped
        self.mirrored: list[bool] = []

    def predict_array(self, array: np.ndarray) -> np.ndarray:
        if not self.flipped:
            labels = self.predictor.predict_array(array)
        else:
            labels = np.ascontiguousarray(self.predictor.predict_array(np.ascontiguousarray(array[:, ::-1]))[:, ::-1])
        self.mirrored.append(self.predictor.last_mirrored)
        return labels

    def predict_image(self, image: Image) -> LabelMap:
        return LabelMap.like(image, self.predict_array(image.array))


def evaluate(model: str, sets: dict, config: dict, mirror: str, flipped: bool) -> dict[str, tuple[dict, int, int]]:
    """Set name -> (Dice lists per class, volumes segmented mirrored, volumes)."""
    base = Predictor(model, mirror=mirror)
    out = {}
    for name, items in sets.items():
        runner = _Runner(base, flipped)
        scores: dict[str, list[float]] = {k: [] for k in CLASSES}
        for image, ref in items:
            class_dice(runner.predict_array(image if isinstance(image, np.ndarray) else image.array), ref, scores)
        out[name] = (scores, sum(runner.mirrored), len(runner.mirrored))
    runner = _Runner(base, flipped)
    sb = sunnybrook(runner, config)  # type: ignore[arg-type]
    out["Sunnybrook cine (per slice)"] = (sb, sum(runner.mirrored), len(runner.mirrored))
    return out


def sunnybrook_rv(model: str) -> list[str]:
    """Sunnybrook's DICOM cines as ``read_dicom_folder`` gives them (no RV reference): RV pixels of
    the first frame and the median intensity of the predicted RV over that of the predicted LV blood
    pool (blood is blood: about 1 when the RV is in the RV), mirror off and auto."""
    from cmrseg.io.dicom import read_dicom_folder
    from cmrseg.preprocess import normalise_intensity

    rows = []
    for pid in ("SCD0000101", "SCD0000201"):
        volume = read_dicom_folder(DATA / "sunnybrook/dicoms" / pid).array[..., 0]
        norm = normalise_intensity(volume)
        cells = []
        for mirror in ("off", "auto"):
            predictor = Predictor(model, mirror=mirror)
            labels = predictor.predict_array(volume)
            rv, lv = norm[labels == 1], norm[labels == 3]
            ratio = float(np.median(rv) / np.median(lv)) if rv.size and lv.size else float("nan")
            cells.append(f"{rv.size} px, {ratio:.2f}" + (" (mirrored)" if predictor.last_mirrored else ""))
        rows.append(f"| {pid} | " + " | ".join(cells) + " |")
    return rows


def timing(model: str, repeats: int = 5) -> tuple[float, float]:
    from cmrseg.io.nifti import read_image

    stack = read_image(REPO / "examples" / "mnms2_001_SA_ED.nii.gz").array
    predictors = {m: Predictor(model, mirror=m) for m in ("off", "auto")}
    times: dict[str, list[float]] = {"off": [], "auto": []}
    for m in predictors:
        predictors[m].predict_array(stack)  # warm-up
    for _ in range(repeats):
        for m, p in predictors.items():
            t0 = time.perf_counter()
            p.predict_array(stack)
            times[m].append(time.perf_counter() - t0)
    return float(np.median(times["off"])), float(np.median(times["auto"]))


def _cell(scores: dict, n_mirrored: int, n: int) -> str:
    dice = " / ".join(f"{np.mean(scores[k]):.3f}" for k in CLASSES if scores.get(k))
    return f"{dice} ({n_mirrored}/{n})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["default", "cine"], help="shipped names or NAME=PATH")
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "mirror.md")
    args = ap.parse_args()
    config = yaml.safe_load((REPO / "configs" / "anycontrast.yaml").read_text())
    sets = test_sets(config)
    lines = [
        "# Mirrored arrays: `mirror` off against auto (test split)",
        "",
        "`python benchmarks/mirror.py` (see its docstring). Dice LV / MYO / RV per volume, mean"
        " (Sunnybrook: LV / MYO per contoured slice); in brackets the volumes `mirror=auto`"
        " segmented mirrored, of all.",
        "",
    ]
    for label, path in model_args(args.models).items():
        lines += [
            f"## {label}",
            "",
            "| test set | as given, off | as given, auto | mirrored, off | mirrored, auto |",
            "|---|---|---|---|---|",
        ]
        runs = {(m, f): evaluate(path, sets, config, m, f) for f in (False, True) for m in ("off", "auto")}
        for name in runs[("off", False)]:
            cells = [_cell(*runs[(m, f)][name]) for f in (False, True) for m in ("off", "auto")]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
            print(lines[-1], flush=True)
        lines += [
            "",
            "Sunnybrook DICOM cines as read (first frame; no RV reference): predicted RV pixels, and the median"
            " intensity of the predicted RV over that of the predicted LV blood pool (about 1 when the RV is"
            " blood):",
            "",
            "| patient | mirror off | mirror auto |",
            "|---|---|---|",
        ] + sunnybrook_rv(path)
        print("\n".join(lines[-2:]), flush=True)
        off, auto = timing(path)
        lines += [
            "",
            f"`predict_array` on the M&Ms-2 stack (12 slices, 2-core CPU): mirror off {off:.2f} s, auto {auto:.2f} s"
            f" (ratio {auto / off:.2f}).",
            "",
        ]
        print(lines[-2], flush=True)
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
