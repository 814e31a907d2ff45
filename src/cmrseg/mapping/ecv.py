"""Blood T1, extracellular volume (ECV) and fit-quality figures."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cmrseg.mapping.fits import MappingResult, fit_t1_molli

__all__ = ["blood_t1", "ecv_map", "ecv_region", "MapQuality", "map_quality", "check_haematocrit"]


def check_haematocrit(hct: float) -> float:
    if not np.isfinite(hct) or not 0.0 < hct < 1.0:
        raise ValueError(f"haematocrit must be a fraction in (0, 1), e.g. 0.42; got {hct}")
    return float(hct)


def blood_t1(series: np.ndarray, ti_ms: np.ndarray, blood_mask: np.ndarray) -> MappingResult:
    """T1 of the blood pool from the mean signal inside ``blood_mask`` of each image.

    ``series`` is ``(H, W, N)``, ``blood_mask`` ``(H, W)`` boolean; returns a 0-d result.
    """
    mask = np.asarray(blood_mask, bool)
    if mask.shape != series.shape[:-1]:
        raise ValueError(f"blood mask shape {mask.shape} does not match the series images {series.shape[:-1]}")
    if not mask.any():
        raise ValueError("the blood-pool mask is empty")
    curve = np.asarray(series, float)[mask].mean(0)
    return fit_t1_molli(curve, ti_ms)


def ecv_map(
    t1_pre_ms: np.ndarray, t1_post_ms: np.ndarray, blood_pre_ms: float, blood_post_ms: float, hct: float
) -> np.ndarray:
    """Pixel-wise ECV in percent: ``100 (1 - Hct) (1/T1post - 1/T1pre) / (1/T1post_blood - 1/T1pre_blood)``.

    ``t1_pre_ms`` and ``t1_post_ms`` must be co-registered maps of one shape (ms).
    """
    hct = check_haematocrit(hct)
    pre, post = np.asarray(t1_pre_ms, float), np.asarray(t1_post_ms, float)
    if pre.shape != post.shape:
        raise ValueError(f"pre-contrast map {pre.shape} and post-contrast map {post.shape} differ in shape")
    d_blood = 1.0 / blood_post_ms - 1.0 / blood_pre_ms
    if not np.isfinite(d_blood) or d_blood <= 0:
        raise ValueError(f"blood T1 must fall after contrast (pre {blood_pre_ms} ms, post {blood_post_ms} ms)")
    with np.errstate(divide="ignore", invalid="ignore"):
        return (100.0 * (1.0 - hct) * (1.0 / post - 1.0 / pre) / d_blood).astype(np.float32)


def ecv_region(t1_pre_ms: float, t1_post_ms: float, blood_pre_ms: float, blood_post_ms: float, hct: float) -> float:
    """ECV in percent of a region from its (e.g. median) pre/post T1 values."""
    return float(ecv_map(np.array([t1_pre_ms]), np.array([t1_post_ms]), blood_pre_ms, blood_post_ms, hct)[0])


@dataclass(frozen=True)
class MapQuality:
    mean_r2: float
    fraction_r2_below_0_95: float
    fraction_failed: float
    n_pixels: int


def map_quality(result: MappingResult, mask: np.ndarray) -> MapQuality:
    """Fit-quality figures inside ``mask``: mean R2, fraction with R2 < 0.95, fraction failed."""
    m = np.asarray(mask, bool)
    if m.shape != result.r2.shape:
        raise ValueError(f"mask shape {m.shape} does not match the map {result.r2.shape}")
    if not m.any():
        raise ValueError("quality mask is empty")
    r2 = result.r2[m]
    return MapQuality(
        float(np.nanmean(r2)), float(np.mean(~(r2 >= 0.95))), float(np.mean(result.failed[m] > 0)), int(m.sum())
    )
