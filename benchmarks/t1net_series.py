"""`segment-series` on real MOLLI: which guide model and which guided model label T1NET's ring.

Usage: python benchmarks/t1net_series.py [--guide-models default cine]
       [--guided-models guided guided_v2 guided_v1 [NAME=PATH ...]] [--out docs/t1net-series.md]

T1NET (3 pre- + 3 post-contrast MOLLI slices, every inversion time; no model trained on it):
every (guide model, guided model) pair runs ``segment_series`` with its defaults (auto guide
from the image of highest blood-to-myocardium contrast, alpha 0.25, padding to 256 px). Per
slice: the fraction of T1NET's ring (``myoMask``, drawn conservatively inside the myocardium)
labelled myocardium, the worst image of the slice; the median reference T1 in the predicted
myocardium eroded by 1 px against the median in the ring, the worst image of the slice; and the
same two figures for the guide itself (what ``t1-pipeline`` measures in). Issue 11's target:
every slice >= 85% and within 3%.
``guided_v2`` is the second guided model (``configs/guided.yaml`` alone, before its second
stage ``configs/guided_stage2.yaml``), ``guided_v1`` the first guided model (no contrast
randomisation), read from git history (``_common.HISTORIC_MODELS``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, model_args, ring_figures, t1net_slices  # noqa: E402

from cmrseg.labels import Label  # noqa: E402
from cmrseg.series_segmentation import segment_series  # noqa: E402


def run(guide_model: str, guided_model: str, one_file: bool = False) -> dict[str, dict[str, np.ndarray]]:
    """Per contrast: ``images`` (slices, images, 3) and ``guide`` (slices, 3) of ring fraction,
    median T1 in the eroded prediction and median T1 in the ring. ``one_file``: the slices in one
    call, as ``cmrseg segment-series`` gets a multi-slice file (intensities normalised together)."""
    out = {}
    for contrast in ("pre", "post"):
        slices = list(t1net_slices(contrast))
        stack = np.stack([images for images, _, _ in slices], 2)
        n_slices, n_images = stack.shape[2:]
        per_image, guide = np.zeros((n_slices, n_images, 3)), np.zeros((n_slices, 3))
        whole = segment_series(stack, model=guided_model, guide_model=guide_model) if one_file else None
        for s, (_, ring, t1) in enumerate(slices):
            if whole is None:
                seg = segment_series(stack[:, :, s], model=guided_model, guide_model=guide_model)
                labels, g = seg.labels, seg.guide
            else:
                labels, g = whole.labels[:, :, s], whole.guide[:, :, s]
            for k in range(n_images):
                per_image[s, k] = ring_figures(labels[..., k] == Label.MYO, ring, t1)
            guide[s] = ring_figures(g == Label.MYO, ring, t1)
        out[contrast] = {"images": per_image, "guide": guide}
    return out


def _error(a: np.ndarray) -> np.ndarray:
    return np.abs(a[..., 1] / a[..., 2] - 1) * 100


def table(results: dict[tuple[str, str], dict[str, dict[str, np.ndarray]]]) -> list[str]:
    lines = [
        "| guide model | guided model | series | ring labelled MYO, per slice (worst image) | "
        "T1 error vs ring, per slice (worst image) | guide: ring labelled | guide: T1 error | target met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for (guide_model, guided_model), r in results.items():
        for contrast, a in r.items():
            frac, err = a["images"][..., 0].min(1), np.nanmax(_error(a["images"]), 1)
            g_frac, g_err = a["guide"][:, 0], _error(a["guide"])
            met = "yes" if (frac >= 0.85).all() and (err <= 3.0).all() else "no"
            lines.append(
                f"| {guide_model} | {guided_model} | {contrast} | "
                + ", ".join(f"{f:.0%}" for f in frac)
                + " | "
                + ", ".join(f"{e:.1f}%" for e in err)
                + " | "
                + ", ".join(f"{f:.0%}" for f in g_frac)
                + " | "
                + ", ".join(f"{e:.1f}%" for e in g_err)
                + f" | {met} |"
            )
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--guide-models", nargs="+", default=["default", "cine"])
    ap.add_argument(
        "--guided-models", nargs="+", default=["guided", "guided_v2", "guided_v1"], help="names, paths or NAME=PATH"
    )
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "t1net-series.md")
    ap.add_argument("--one-file", action="store_true", help="segment the 3 slices in one call (as one file)")
    args = ap.parse_args()
    t0 = time.perf_counter()
    guided = model_args(args.guided_models)
    results = {(g, name): run(g, path, args.one_file) for g in args.guide_models for name, path in guided.items()}
    command = "python benchmarks/t1net_series.py --guide-models {} --guided-models {}{}".format(
        " ".join(args.guide_models), " ".join(args.guided_models), " --one-file" if args.one_file else ""
    )
    lines = ["# T1NET: segment-series per guide and guided model", "", f"`{command}`", ""] + table(results)
    print("\n".join(lines))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print(f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
