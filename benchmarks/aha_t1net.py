"""AHA segment assignment against the T1NET myoMask segment numbers.

Usage: python benchmarks/aha_t1net.py [--model cine|PATH]

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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DATA, REPO  # noqa: E402

from cmrseg.aha import REFERENCES, AhaConvention, rv_insertion_points, septum_angle  # noqa: E402
from cmrseg.io.datasets.t1net import load_t1net  # noqa: E402
from cmrseg.labels import Label  # noqa: E402
from cmrseg.predict import Predictor  # noqa: E402

sys.path.insert(0, str(REPO))
from tests.aha_reference import CONTACT, agreement, oracle_septum, ring_labels  # noqa: E402

PAD = 64


ROTATIONS = np.arange(-180, 180)  # degrees, for the convention scan
SITE_ROTATION = -50  # degrees: a round figure near T1NET's 6-segment offset, quoted in docs/aha.md


@dataclass
class SliceRun:
    name: str
    ring: np.ndarray
    labels: np.ndarray  # ring as MYO, its inside as LV, RV from the model
    image: np.ndarray  # the MOLLI image whose RV was used
    rv_image: int

    @property
    def pixels(self) -> int:
        return int((self.ring > 0).sum())


def rv_from_series(predictor: Predictor, series: np.ndarray, ring: np.ndarray) -> tuple[np.ndarray, int]:
    """Ring labels plus the RV of the MOLLI image whose RV (default model) comes closest to the ring."""
    labels = ring_labels(ring)
    padded = np.pad(series, ((PAD, PAD), (PAD, PAD), (0, 0)))
    preds = predictor.predict_array(padded)[PAD:-PAD, PAD:-PAD]  # (H, W, N): each MOLLI image as a slice
    near = ndimage.binary_dilation(ring > 0, iterations=CONTACT)
    k = int(np.argmax([((preds[:, :, i] == Label.RV) & near).sum() for i in range(series.shape[2])]))
    labels[(preds[:, :, k] == Label.RV) & (labels == 0)] = Label.RV
    return labels, k


def septum_offset_deg(run: SliceRun) -> float:
    """Angle from the oracle septum to the septum found from the RV insertion points (degrees)."""
    found = septum_angle(run.labels, CONTACT)
    return np.nan if found is None else float(np.degrees(np.angle(np.exp(1j * (found - oracle_septum(run.ring))))))


def rotation_scan(run: SliceRun) -> np.ndarray:
    """End-to-end agreement for every extra rotation in ROTATIONS (septal-midpoint reference)."""
    return np.array(
        [
            agreement(run.labels, run.ring, convention=AhaConvention(rotation_deg=r, contact_px=CONTACT))
            for r in ROTATIONS
        ]
    )


def evidence_figure(runs: list[SliceRun], best: list[int], path: Path) -> None:
    """Each slice: MOLLI image, T1NET's segment numbers, the model's RV and the insertion points."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(runs), figsize=(3.2 * len(runs), 3.6))
    for ax, run, rot in zip(axes, runs, best, strict=True):
        ax.imshow(run.image, cmap="gray")
        ax.imshow(np.ma.masked_where(run.ring == 0, run.ring), cmap="tab10", vmin=0, vmax=9, alpha=0.6)
        for seg in range(1, int(run.ring.max()) + 1):
            c = np.argwhere(run.ring == seg).mean(0)
            ax.text(c[1], c[0], str(seg), color="w", fontsize=11, weight="bold", ha="center", va="center")
        ax.contour(run.labels == Label.RV, [0.5], colors="r", linewidths=1)
        ends = rv_insertion_points(run.labels, CONTACT)
        if ends is not None:
            for e in ends:
                ax.plot(e[1], e[0], "c*", ms=11)
        cy, cx = np.argwhere(run.ring > 0).mean(0)
        ax.set_xlim(cx - 38, cx + 38)
        ax.set_ylim(cy + 38, cy - 38)
        ax.set_title(f"{run.name}: best rotation {rot:+d}°", fontsize=9)
        ax.axis("off")
    fig.suptitle(
        "T1NET segment numbers (colours), the cine model's RV (red) and RV insertion points (cyan)", fontsize=10
    )
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="cine")
    ap.add_argument("--figure", type=Path, default=REPO / "docs" / "aha-t1net.png")
    args = ap.parse_args()
    predictor = Predictor(args.model)
    runs: list[SliceRun] = []
    for contrast in ("pre", "post"):
        d = load_t1net(DATA / "t1net" / f"{contrast}contrast_testsets.mat")
        for k in range(d["input"].shape[0]):
            series = d["input"][k].astype(float)
            labels, img = rv_from_series(predictor, series, d["myoMask"][k])
            runs.append(SliceRun(f"{contrast}_slice{k}", d["myoMask"][k], labels, series[:, :, img], img))
    weights = np.array([r.pixels for r in runs], float)
    refs = {
        ref: np.array([agreement(r.labels, r.ring, convention=AhaConvention(ref, contact_px=CONTACT)) for r in runs])
        for ref in REFERENCES
    }
    oracle = np.array([agreement(ring_labels(r.ring), r.ring, oracle_septum(r.ring)) for r in runs])
    scans = np.stack([rotation_scan(r) for r in runs])  # (slices, rotations)
    best = [int(ROTATIONS[i]) for i in scans.argmax(1)]
    print(
        f"{'slice':12s} {'ring px':>7s} {'oracle':>7s} "
        + " ".join(f"{ref:>9s}" for ref in REFERENCES)
        + f" {'RV image':>8s} {'septum offset':>13s} {'best rotation':>13s} {'at best':>7s}"
    )
    for i, r in enumerate(runs):
        print(
            f"{r.name:12s} {r.pixels:7d} {100 * oracle[i]:6.1f}% "
            + " ".join(f"{100 * refs[ref][i]:8.1f}%" for ref in REFERENCES)
            + f" {r.rv_image:8d} {septum_offset_deg(r):12.0f}° {best[i]:+12d}° {100 * scans[i].max():6.1f}%"
        )
    pooled = weights @ scans / weights.sum()
    g = int(pooled.argmax())
    print(f"all slices, {int(weights.sum())} myocardial pixels in the same AHA segment:")
    print(f"  oracle septum (T1NET's own septal segments): {100 * (weights @ oracle) / weights.sum():.1f}%")
    for ref in REFERENCES:
        print(f"  end to end, reference {ref!r}: {100 * (weights @ refs[ref]) / weights.sum():.1f}%")
    print(
        f"  end to end, best single rotation fitted to these slices ({int(ROTATIONS[g]):+d}°, any one convention "
        f"can do no better): {100 * pooled[g]:.1f}%"
    )
    six = np.array([r.ring.max() > 4 for r in runs])
    at = int(np.flatnonzero(ROTATIONS == SITE_ROTATION)[0])
    print(
        f"  end to end, --aha-rotation {SITE_ROTATION}, 6-segment slices only: "
        f"{100 * (weights[six] @ scans[six, at]) / weights[six].sum():.1f}%"
    )
    evidence_figure(runs, best, args.figure)
    print(f"figure: {args.figure}")


if __name__ == "__main__":
    main()
