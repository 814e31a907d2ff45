"""AHA segments from the model's labels against AHA segments from expert labels.

Usage: python benchmarks/aha_consistency.py [--model cine|PATH]

The same rule (:func:`cmrseg.aha.aha_stack`, septal-midpoint convention) runs on the expert
labels and on the model's labels of the same images. Reported per set: the fraction of pixels
that both call myocardium and both give a segment number whose numbers agree (end to end: each
with its own slice levels; and with the expert's levels for both, which isolates the RV insertion
points), and the angle between the two septal midpoints per slice (median and 90th percentile of
its absolute value). Sets: the ACDC patients the model never trained on (the held-out fold of its
own training config), MyoPS C0 (25 bSSFP cases) and the M&Ms-2 subject (ED + ES), none trained on.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import acdc_held_out  # noqa: E402

from cmrseg.aha import aha_stack, septum_angle  # noqa: E402
from cmrseg.geometry import apex_side, slice_levels  # noqa: E402
from cmrseg.io.datasets.layout import load_dataset  # noqa: E402
from cmrseg.io.nifti import read_image, read_labels  # noqa: E402
from cmrseg.labels import Label  # noqa: E402
from cmrseg.predict import Predictor  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


class Tally:
    def __init__(self) -> None:
        self.both = self.same = self.same_levels = 0
        self.angles: list[float] = []

    def add(self, pred: np.ndarray, ref: np.ndarray, apex: int | None) -> None:
        seg_ref = aha_stack(ref, apex=apex)
        seg_pred = aha_stack(pred, apex=apex)
        seg_pred_ref_levels = aha_stack(pred, levels=slice_levels(ref, apex))
        both = (seg_ref > 0) & (seg_pred > 0) & (seg_pred_ref_levels > 0)
        self.both += int(both.sum())
        self.same += int((seg_ref == seg_pred)[both].sum())
        self.same_levels += int((seg_ref == seg_pred_ref_levels)[both].sum())
        for z in range(ref.shape[2]):
            a, b = septum_angle(ref[:, :, z]), septum_angle(pred[:, :, z])
            if a is not None and b is not None and (ref[:, :, z] == Label.MYO).any():
                self.angles.append(abs(float(np.degrees(np.angle(np.exp(1j * (b - a)))))))

    def line(self, name: str, volumes: int) -> str:
        ang = np.array(self.angles)
        return (
            f"{name:28s} {volumes:7d} {self.both:9d} {100 * self.same / self.both:10.1f}% "
            f"{100 * self.same_levels / self.both:14.1f}% {len(ang):7d} {np.median(ang):9.1f}° "
            f"{np.percentile(ang, 90):8.1f}°"
        )


def acdc(predictor: Predictor) -> tuple[Tally, int]:
    tally, n = Tally(), 0
    for _, image, ref in acdc_held_out(predictor.bundle.train_config):
        tally.add(predictor.predict_array(image), ref, None)  # ACDC files carry no geometry
        n += 1
    return tally, n


def converted(predictor: Predictor, name: str, suffix: str) -> tuple[Tally, int]:
    """The cases of a set converted by `cmrseg convert` into data/NAME whose id ends with ``suffix``."""
    root = REPO / "data" / name
    tally, n = Tally(), 0
    for case in load_dataset(root).cases:
        if not case.id.endswith(suffix):
            continue
        image = read_image(root / case.image)
        ref = read_labels(root / case.label).array
        tally.add(predictor.predict_array(image.array), ref, apex_side(image.affine))
        n += 1
    return tally, n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="cine")
    args = ap.parse_args()
    predictor = Predictor(args.model)
    print(
        f"{'set':28s} {'volumes':>7s} {'myo px':>9s} {'same segment':>11s} {'(expert levels)':>15s} "
        f"{'slices':>7s} {'|septum|':>10s} {'90th pct':>9s}"
    )
    tally, n = acdc(predictor)
    print(tally.line("ACDC held-out (ED + ES)", n))
    for name, suffix, title in (("myops", "_C0", "MyoPS C0"), ("mnms2", "", "M&Ms-2 (ED + ES)")):
        if not (REPO / "data" / name / "dataset.json").is_file():
            print(f"{title}: not converted (cmrseg convert {name} ../shared/data/{name} data/{name}); skipped")
            continue
        tally, n = converted(predictor, name, suffix)
        print(tally.line(title, n))


if __name__ == "__main__":
    main()
