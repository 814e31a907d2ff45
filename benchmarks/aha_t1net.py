"""AHA segment assignment against the T1NET myoMask segment numbers.

Usage: python benchmarks/aha_t1net.py [--model default|PATH]

T1NET gives, per slice, a conservative myocardial ring whose pixels carry their AHA segment
number (1-6, 1-4 on apical slices) but no RV. We take the ring as the myocardium, fill its
inside as the LV cavity, take the RV from the default (cine) model's segmentation of the MOLLI
image it segments most confidently (largest RV found touching the ring), assign AHA segments
with :func:`cmrseg.aha.aha_segments` and count the ring pixels whose number matches.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DATA  # noqa: E402

from cmrseg.aha import aha_segments  # noqa: E402
from cmrseg.io.datasets.t1net import load_t1net  # noqa: E402
from cmrseg.labels import Label  # noqa: E402
from cmrseg.predict import Predictor  # noqa: E402


def slice_agreement(predictor: Predictor, series: np.ndarray, ring: np.ndarray) -> tuple[float, int]:
    """Fraction of ring pixels whose AHA number matches, and the MOLLI image index used for the RV."""
    myo = ring > 0
    cavity = ndimage.binary_fill_holes(myo) & ~myo
    apical = ring.max() <= 4
    best = (-1, None)
    preds = predictor.predict_array(series)  # (H, W, N): each MOLLI image as a slice
    for k in range(series.shape[2]):
        rv = preds[:, :, k] == Label.RV
        touching = rv & ndimage.binary_dilation(myo, iterations=3)
        if touching.sum() > best[0]:
            best = (int(touching.sum()), k)
    labels = np.zeros(ring.shape, np.uint8)
    labels[preds[:, :, best[1]] == Label.RV] = Label.RV
    labels[myo] = Label.MYO
    labels[cavity] = Label.LV
    seg = aha_segments(labels, "apical" if apical else "basal")
    ours = seg[myo].astype(int) - (12 if apical else 0)  # T1NET numbers apical segments 1-4
    return float(np.mean(ours == ring[myo])), best[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="default")
    args = ap.parse_args()
    predictor = Predictor(args.model)
    total = agree = 0.0
    print(f"{'slice':12s} {'ring px':>7s} {'agreement':>9s} {'RV from image':>13s}")
    for contrast in ("pre", "post"):
        d = load_t1net(DATA / "t1net" / f"{contrast}contrast_testsets.mat")
        for k in range(d["input"].shape[0]):
            ring = d["myoMask"][k]
            frac, img = slice_agreement(predictor, d["input"][k].astype(float), ring)
            n = int((ring > 0).sum())
            total, agree = total + n, agree + frac * n
            print(f"{contrast}_slice{k:<6d} {n:7d} {100 * frac:8.1f}% {img:13d}")
    print(f"all slices: {100 * agree / total:.1f}% of {int(total)} myocardial pixels in the same AHA segment")


if __name__ == "__main__":
    main()
