"""Could one `predict` pick between the two shipped models from the image alone? (issue 11)

Usage: python benchmarks/routing.py

On the test split of :mod:`any_contrast` (chose nothing), per volume: Dice (LV / MYO / RV) of the
cine model, the default (any-contrast) model, the mean of their softmax probabilities, and the
model that is more confident (:func:`cmrseg.predict.polarity_confidence`: mean maximum probability
over the pixels it calls heart, the rule of ``--invert auto``), with how often that rule picks the
cine model; and what ``predict --model auto`` does since 2026-11-22: the cine model where the
file name (as the dataset ships it) names a cine or a cine phase (:func:`cmrseg.keywords.names_a_cine`:
ACDC ``patient001_frame01``, M&Ms ``001_SA_ED``), the default model otherwise, with how often it
picked the cine model. Routing by confidence is not used: see docs/any-contrast.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from any_contrast import test_sets  # noqa: E402

from cmrseg.labels import Label  # noqa: E402
from cmrseg.metrics import dice  # noqa: E402
from cmrseg.models.shipped import auto_model  # noqa: E402
from cmrseg.predict import Predictor, largest_components, polarity_confidence  # noqa: E402
from cmrseg.preprocess import normalise_intensity  # noqa: E402

ORDER = (Label.LV, Label.MYO, Label.RV)


def _probabilities(predictor: Predictor, volume: np.ndarray) -> np.ndarray:
    """``(Z, C, X, Y)`` probabilities of one 3D volume, normalised as ``predict_array`` does."""
    return predictor.predict_probabilities(np.moveaxis(normalise_intensity(volume), 2, 0))


def _labels(probabilities: np.ndarray) -> np.ndarray:
    return np.stack([largest_components(s, 4) for s in probabilities.argmax(1).astype(np.uint8)])


def main() -> None:
    models = {"cine": Predictor("cine"), "default": Predictor("default")}
    names: dict[str, list[str]] = {}
    sets = test_sets(models["default"].bundle.train_config, names)
    print(
        "| test set | volumes | cine | default | mean of both | more confident (cine picked) "
        "| `predict` (auto: shape + file name; cine picked) |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, items in sets.items():
        keys = ("cine", "default", "mean", "pick", "auto")
        scores: dict[str, list[list[float]]] = {k: [] for k in keys}
        picked = named = 0
        for (image, ref), file_name in zip(items, names[name], strict=True):
            arr = image if isinstance(image, np.ndarray) else image.array
            frames = arr[..., None] if arr.ndim == 3 else arr
            for t in range(frames.shape[3]):
                r = np.moveaxis(ref if ref.ndim == 3 else ref[..., t], 2, 0)
                p = {k: _probabilities(m, frames[..., t]) for k, m in models.items()}
                cine_first = polarity_confidence(p["cine"]) >= polarity_confidence(p["default"])
                picked += cine_first
                p["mean"] = (p["cine"] + p["default"]) / 2
                p["pick"] = p["cine"] if cine_first else p["default"]
                auto = auto_model(arr.shape, (), file_name)
                named += auto == "cine"
                p["auto"] = p[auto]
                for k, prob in p.items():
                    lab = _labels(prob)
                    scores[k].append([dice(lab == c, r == c) for c in ORDER])
        n = len(scores["cine"])
        cells = [" / ".join(f"{v:.3f}" for v in np.nanmean(scores[k], 0)) for k in keys]
        print(
            f"| {name} | {n} | " + " | ".join(cells[:3]) + f" | {cells[3]} ({picked} of {n}) "
            f"| {cells[4]} ({named} of {n}) |"
        )
    print("Dice per volume, mean LV / MYO / RV.")


if __name__ == "__main__":
    main()
