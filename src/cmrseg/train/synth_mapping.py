"""Synthetic mapping images from a labelled slice (the SynthSeg / MRXCAT idea, our signal models).

For a labelled short-axis slice, tissue parameters are drawn for LV blood, RV blood and
myocardium from published ranges (:data:`TISSUE_RANGES`, sources in
``docs/synthetic-mapping.md``); the rest of the image comes from the real image through a
random intensity map. The heart is then rendered with :mod:`cmrseg.mapping.models` as one image
of a mapping acquisition:

- ``molli``: one magnitude image ``|A - B exp(-TI / T1*)|`` of a MOLLI 5(3)3 (pre-contrast) or
  4(1)3(1)2 (post-contrast) scheme at one of its inversion times, ``T1* = T1 / (B/A - 1)``;
- ``t1map``: the T1 map itself (pre or post contrast), in ms, noisy background;
- ``t2prep``: a T2-prepared image ``PD exp(-TE / T2)``; ``t2map``: the T2 map;
- ``spinlock``: a spin-lock image ``PD exp(-TSL / T1rho)``; ``t1rhomap``: the T1rho map.

Texture inside each region is kept from the real image (papillary muscles, trabeculae), Rician
noise is added, and the result is normalised to [0, 1] like any input volume.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cmrseg.mapping.models import exp_decay, molli_signal
from cmrseg.preprocess import normalise_intensity
from cmrseg.train.contrast import random_curve, region_weights

__all__ = ["TISSUE_RANGES", "MODALITIES", "SyntheticImage", "synthesise", "molli_inversion_times"]

#: (low, high) of each tissue parameter, in ms; uniform draws cover 1.5 T and 3 T and disease.
#: ``pd`` is relative proton density. Sources: docs/synthetic-mapping.md.
TISSUE_RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "t1_pre": {"blood": (1350.0, 2300.0), "myo": (880.0, 1450.0)},
    "t1_post": {"blood": (150.0, 500.0), "myo": (300.0, 650.0)},
    "t2": {"blood": (60.0, 300.0), "myo": (38.0, 80.0)},
    "t1rho": {"blood": (80.0, 170.0), "myo": (33.0, 85.0)},
    "pd": {"blood": (0.8, 1.0), "myo": (0.6, 0.85)},
}

#: post-contrast blood T1 is drawn as myocardial T1 times this factor (blood is always shorter)
POST_BLOOD_TO_MYO = (0.45, 0.95)
#: RV blood parameter relative to LV blood (RV blood T2 is ~0.8 of LV blood T2 at 3 T)
RV_TO_LV_BLOOD = (0.8, 1.1)
#: MOLLI B / A: below 2 models imperfect inversion and readout; above 2 a full inversion
MOLLI_B_OVER_A = (1.6, 2.4)

#: modality -> sampling weight
MODALITIES: dict[str, float] = {
    "molli": 0.5,
    "t1map": 0.1,
    "t2prep": 0.15,
    "t2map": 0.05,
    "spinlock": 0.15,
    "t1rhomap": 0.05,
}

_CLASSES = (1, 2, 3)  # RV blood, myocardium, LV blood (ACDC labels)
_TISSUE = {1: "blood", 2: "myo", 3: "blood"}


@dataclass(frozen=True)
class SyntheticImage:
    """``image`` (H, W) float32 in [0, 1]; what it is: ``modality``, ``contrast`` (pre/post or
    none), ``time_ms`` (TI, TE or TSL; NaN for maps) and ``values`` (tissue -> parameter in ms)."""

    image: np.ndarray
    modality: str
    contrast: str
    time_ms: float
    values: dict[str, float]


def molli_inversion_times(scheme: str, rr_ms: float, first_ti_ms: float, step_ms: float = 80.0) -> np.ndarray:
    """Inversion times (ms, acquisition order) of a MOLLI scheme: ``5(3)3`` or ``4(1)3(1)2``.

    Each inversion's images are one RR interval apart; inversion ``j`` starts ``j * step_ms``
    later in the cardiac cycle than the first (Messroghli et al., MRM 2004).

    Parameters
    ----------
    scheme : str
        ``5(3)3`` or ``4(1)3(1)2``.
    rr_ms : float
        RR interval in ms.
    first_ti_ms : float
        First inversion time in ms.
    step_ms : float
        Delay of each further inversion in the cardiac cycle, in ms.

    Returns
    -------
    numpy.ndarray
        Inversion times in ms, float, one per image (8 or 9).

    Raises
    ------
    ValueError
        If ``scheme`` is unknown.
    """
    counts = {"5(3)3": (5, 3), "4(1)3(1)2": (4, 3, 2)}
    if scheme not in counts:
        raise ValueError(f"unknown MOLLI scheme {scheme!r}; valid: {sorted(counts)}")
    return np.array(
        [first_ti_ms + j * step_ms + k * rr_ms for j, n in enumerate(counts[scheme]) for k in range(n)], float
    )


def _draw(rng: np.random.Generator, key: str, tissue: str) -> float:
    lo, hi = TISSUE_RANGES[key][tissue]
    return float(rng.uniform(lo, hi))


def _textured(
    image: np.ndarray, labels: np.ndarray, value: dict[int, float], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel parameter ``value[c] (1 + s (x - mean_c))`` in each region, and the region weights."""
    classes = tuple(c for c in _CLASSES if np.any(labels == c))
    weights = region_weights(labels, classes, float(rng.uniform(0.5, 1.2)))
    param = np.zeros(image.shape, np.float32)
    strength = float(rng.uniform(0.0, 0.8))
    for w, c in zip(weights[:-1], classes, strict=True):
        mean = float(image[labels == c].mean())
        param += w * value[c] * np.clip(1.0 + strength * (image - mean), 0.5, 1.5)
    return np.maximum(param, 1e-3), weights


def _parameters(rng: np.random.Generator, key: str) -> dict[int, float]:
    """Parameter per class (1 RV blood, 2 myocardium, 3 LV blood) of ``key`` in :data:`TISSUE_RANGES`."""
    myo = _draw(rng, key, "myo")
    if key == "t1_post":
        blood = float(np.clip(myo * rng.uniform(*POST_BLOOD_TO_MYO), *TISSUE_RANGES[key]["blood"]))
    else:
        blood = _draw(rng, key, "blood")
    return {1: blood * float(rng.uniform(*RV_TO_LV_BLOOD)), 2: myo, 3: blood}


def _render(modality: str, image: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> SyntheticImage:
    """Signal of the heart regions (arbitrary units, PD-scaled) and what was rendered."""
    pd = {c: _draw(rng, "pd", _TISSUE[c]) for c in _CLASSES}
    pd_map, weights = _textured(image, labels, pd, rng)
    contrast = "pre" if rng.random() < 0.5 else "post"
    if modality in ("molli", "t1map"):
        t1 = _parameters(rng, f"t1_{contrast}")
        t1_map, _ = _textured(image, labels, t1, rng)
        if modality == "t1map":
            signal, time = t1_map / 2300.0, float("nan")
        else:
            scheme = "5(3)3" if contrast == "pre" else "4(1)3(1)2"
            tis = molli_inversion_times(scheme, rng.uniform(700, 1300), rng.uniform(90, 140))
            time = float(rng.choice(tis))
            ratio = float(rng.uniform(*MOLLI_B_OVER_A))
            t1_star = t1_map / (ratio - 1.0)
            signal = np.abs(molli_signal(np.array([time]), pd_map, ratio * pd_map, t1_star)[..., 0])
        values = {f"T1 {_TISSUE[c]} {c}": t1[c] for c in _CLASSES}
    else:
        key = "t2" if modality.startswith("t2") else "t1rho"
        contrast = "none"
        tau = _parameters(rng, key)
        tau_map, _ = _textured(image, labels, tau, rng)
        values = {f"{key} {_TISSUE[c]} {c}": tau[c] for c in _CLASSES}
        if modality.endswith("map"):
            signal, time = tau_map / (300.0 if key == "t2" else 170.0), float("nan")
        else:
            time = float(rng.uniform(0.0, 60.0) if key == "t2" else rng.uniform(0.0, 50.0))
            signal = exp_decay(np.array([time]), pd_map, tau_map)[..., 0]
    heart = 1.0 - weights[-1]
    inside = signal[heart > 0.5] if np.any(heart > 0.5) else signal[heart > 0] if np.any(heart > 0) else signal
    rest = random_curve(image, rng) * rng.uniform(0.2, 1.0) * max(float(np.percentile(inside, 99)), 1e-3)
    out = heart * signal + weights[-1] * rest
    return SyntheticImage(out.astype(np.float32), modality, contrast, time, values)


def synthesise(
    image: np.ndarray, labels: np.ndarray, rng: np.random.Generator, modality: str | None = None
) -> SyntheticImage:
    """Render one synthetic mapping image of a labelled slice.

    Parameters
    ----------
    image : np.ndarray
        ``(H, W)`` float32 real image in [0, 1] (texture and the non-heart anatomy come from it).
    labels : np.ndarray
        ``(H, W)`` uint8 ACDC labels; a slice without any label gives a randomly remapped image.
    rng : np.random.Generator
        Source of every random number.
    modality : str, optional
        One of :data:`MODALITIES`; None draws one by its weight.

    Returns
    -------
    SyntheticImage
        The image normalised to [0, 1] (1st-99th percentile) and the parameters it was drawn with.
    """
    if modality is None:
        names = list(MODALITIES)
        p = np.array([MODALITIES[n] for n in names])
        modality = names[int(rng.choice(len(names), p=p / p.sum()))]
    if modality not in MODALITIES:
        raise ValueError(f"unknown modality {modality!r}; valid: {sorted(MODALITIES)}")
    if not np.any(np.isin(labels, _CLASSES)):
        return SyntheticImage(random_curve(image, rng), modality, "none", float("nan"), {})
    syn = _render(modality, image, labels, rng)
    sigma = float(rng.uniform(0.005, 0.04)) * max(float(np.percentile(syn.image, 99)), 1e-3)
    noisy = np.hypot(syn.image + rng.normal(0.0, sigma, image.shape), rng.normal(0.0, sigma, image.shape))
    norm = normalise_intensity(noisy.astype(np.float32))
    return SyntheticImage(norm, syn.modality, syn.contrast, syn.time_ms, syn.values)
