"""AHA segment assignment against the T1NET myoMask segment numbers.

Usage: python benchmarks/aha_t1net.py [--model default|PATH]

T1NET gives, per slice, a conservative myocardial ring whose pixels carry their AHA segment
number (1-6, 1-4 on apical slices) but no RV. We take the ring as the myocardium and fill its
inside as the LV cavity, then count the ring pixels whose segment number matches, two ways:

* oracle septum: the septal direction taken from the reference's own segments (between 2 and 3;
  segment 2 on apical slices). Tests the segment geometry of :func:`cmrseg.aha.aha_segments`.
* end to end: the RV from the default (cine) model's segmentation of the MOLLI image whose RV
  comes closest to the ring (images zero-padded by 64 px so the heart fills a cine-like part of
  the field of view; contact within 4 px because the ring is drawn inside the myocardium).
  The septum offset column is the angle from the oracle septum to the one found from the RV.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DATA  # noqa: E402

from cmrseg.aha import aha_segments, septum_angle  # noqa: E402
from cmrseg.io.datasets.t1net import load_t1net  # noqa: E402
from cmrseg.labels import Label  # noqa: E402
from cmrseg.predict import Predictor  # noqa: E402

PAD, CONTACT = 64, 4


def ring_labels(ring: np.ndarray) -> np.ndarray:
    """T1NET ring -> labels with MYO = ring and LV = its filled inside."""
    myo = ring > 0
    labels = np.zeros(ring.shape, np.uint8)
    labels[myo] = Label.MYO
    labels[ndimage.binary_fill_holes(myo) & ~myo] = Label.LV
    return labels


def oracle_septum(ring: np.ndarray) -> float:
    """Septal direction from the reference's own segment numbers."""
    centre = np.argwhere(ring > 0).mean(0)
    segs = (2,) if ring.max() <= 4 else (2, 3)
    pts = np.concatenate([np.argwhere(ring == s) for s in segs]) - centre
    return float(np.angle(np.exp(1j * np.arctan2(pts[:, 0], pts[:, 1])).mean()))


def agreement(labels: np.ndarray, ring: np.ndarray, septum: float | None = None) -> float:
    apical = ring.max() <= 4
    seg = aha_segments(labels, "apical" if apical else "basal", septum=septum, contact_px=CONTACT)
    ours = seg[ring > 0].astype(int) - (12 if apical else 0)  # T1NET numbers apical segments 1-4
    return float(np.mean(ours == ring[ring > 0]))


def slice_agreement(predictor: Predictor, series: np.ndarray, ring: np.ndarray) -> tuple[float, int, float]:
    """End-to-end fraction of ring pixels whose AHA number matches, the MOLLI image used for the RV,
    and the angle (degrees) from the oracle septum to the septum found from the RV insertion points."""
    labels = ring_labels(ring)
    padded = np.pad(series, ((PAD, PAD), (PAD, PAD), (0, 0)))
    preds = predictor.predict_array(padded)[PAD:-PAD, PAD:-PAD]  # (H, W, N): each MOLLI image as a slice
    near = ndimage.binary_dilation(ring > 0, iterations=CONTACT)
    k = int(np.argmax([((preds[:, :, i] == Label.RV) & near).sum() for i in range(series.shape[2])]))
    labels[(preds[:, :, k] == Label.RV) & (labels == 0)] = Label.RV
    found = septum_angle(labels, CONTACT)
    offset = np.nan if found is None else float(np.degrees(np.angle(np.exp(1j * (found - oracle_septum(ring))))))
    return agreement(labels, ring), k, offset


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="default")
    args = ap.parse_args()
    predictor = Predictor(args.model)
    total = agree = oracle = 0.0
    print(
        f"{'slice':12s} {'ring px':>7s} {'oracle':>7s} {'end to end':>10s} {'RV from image':>13s} "
        f"{'septum offset':>13s}"
    )
    for contrast in ("pre", "post"):
        d = load_t1net(DATA / "t1net" / f"{contrast}contrast_testsets.mat")
        for k in range(d["input"].shape[0]):
            ring = d["myoMask"][k]
            frac, img, offset = slice_agreement(predictor, d["input"][k].astype(float), ring)
            orc = agreement(ring_labels(ring), ring, oracle_septum(ring))
            n = int((ring > 0).sum())
            total, agree, oracle = total + n, agree + frac * n, oracle + orc * n
            print(f"{contrast}_slice{k:<6d} {n:7d} {100 * orc:6.1f}% {100 * frac:9.1f}% {img:13d} {offset:12.0f}°")
    print(
        f"all slices, {int(total)} myocardial pixels in the same AHA segment: oracle septum "
        f"{100 * oracle / total:.1f}%, end to end {100 * agree / total:.1f}%"
    )


if __name__ == "__main__":
    main()
