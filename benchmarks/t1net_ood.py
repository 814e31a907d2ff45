"""The cine model on real MOLLI images: myocardium Dice per inversion time (T1NET).

Usage: python benchmarks/t1net_ood.py [--model cine|PATH]

Each T1-weighted MOLLI image of the 6 T1NET slices (3 pre-, 3 post-contrast) is segmented on
its own, images sorted by inversion time. Dice of the predicted myocardium against T1NET's
myoMask (a conservative ring drawn inside the myocardium, so even a perfect segmentation scores
below 1). Settings: as given, and zero-padded by 64 px (the crops are tight compared with the
cine field of view the model learned), each with inversion off and auto.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DATA  # noqa: E402

from cmrseg.io.datasets.t1net import load_t1net  # noqa: E402
from cmrseg.labels import Label  # noqa: E402
from cmrseg.metrics import dice  # noqa: E402
from cmrseg.predict import Predictor  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="cine")
    args = ap.parse_args()
    for contrast in ("pre", "post"):
        d = load_t1net(DATA / "t1net" / f"{contrast}contrast_testsets.mat")
        n = d["input"].shape[-1]
        print(f"\n{contrast}-contrast: mean myocardium Dice over 3 slices, images by TI rank (1 = shortest TI)")
        print(f"{'setting':18s} " + " ".join(f"{k + 1:>6d}" for k in range(n)) + "   best")
        for pad in (0, 64):
            for invert in ("off", "auto"):
                predictor = Predictor(args.model, invert=invert)
                scores = np.zeros((d["input"].shape[0], n))
                for s in range(d["input"].shape[0]):
                    order = np.argsort(d["TI"][s])
                    series = np.pad(d["input"][s].astype(float)[..., order], ((pad, pad), (pad, pad), (0, 0)))
                    for k in range(n):
                        pred = predictor.predict_array(series[:, :, k])
                        pred = pred[pad : pad + 128, pad : pad + 128] if pad else pred
                        scores[s, k] = dice(pred == Label.MYO, d["myoMask"][s] > 0)
                mean = scores.mean(0)
                print(
                    f"pad {pad:3d}, invert {invert:4s} "
                    + " ".join(f"{v:6.3f}" for v in mean)
                    + f"   TI rank {int(np.argmax(mean)) + 1}"
                )


if __name__ == "__main__":
    main()
