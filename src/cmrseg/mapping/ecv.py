"""Blood T1, extracellular volume (ECV) and fit-quality figures."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cmrseg.mapping.fits import MappingResult, fit_t1_molli

__all__ = [
    "blood_t1",
    "ecv_map",
    "ecv_region",
    "MapQuality",
    "map_quality",
    "check_haematocrit",
    "check_contrast_order",
    "region_median",
]


def check_haematocrit(hct: float) -> float:
    """The haematocrit as a float, checked to be a fraction in (0, 1).

    Parameters
    ----------
    hct : float
        Haematocrit as a fraction, e.g. 0.42.

    Returns
    -------
    float
        ``hct``.

    Raises
    ------
    ValueError
        When ``hct`` is not finite or not in (0, 1) (e.g. given in percent).
    """
    if not np.isfinite(hct) or not 0.0 < hct < 1.0:
        raise ValueError(f"haematocrit must be a fraction in (0, 1), e.g. 0.42; got {hct}")
    return float(hct)


def blood_t1(series: np.ndarray, ti_ms: np.ndarray, blood_mask: np.ndarray) -> MappingResult:
    """T1 of the blood pool from the mean signal inside ``blood_mask`` of each image.

    Parameters
    ----------
    series : np.ndarray
        ``(H, W, N)`` MOLLI images.
    ti_ms : np.ndarray
        ``(N,)`` inversion times in ms, in image order.
    blood_mask : np.ndarray
        ``(H, W)`` boolean blood-pool mask.

    Returns
    -------
    MappingResult
        A 0-d result of :func:`cmrseg.mapping.fits.fit_t1_molli` on the mean curve (T1 in ms).

    Raises
    ------
    ValueError
        When the mask does not match the images or is empty, or the times do not fit the images
        (:func:`cmrseg.mapping.fits.validate_times`; MOLLI needs at least 4).
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

    Parameters
    ----------
    t1_pre_ms, t1_post_ms : np.ndarray
        Co-registered pre- and post-contrast T1 maps of one shape, in ms.
    blood_pre_ms, blood_post_ms : float
        Blood T1 before and after contrast, in ms.
    hct : float
        Haematocrit as a fraction in (0, 1).

    Returns
    -------
    np.ndarray
        float32 ECV in percent, the maps' shape; not finite where a map's T1 is 0 or not finite.

    Raises
    ------
    ValueError
        When ``hct`` is not in (0, 1), the maps differ in shape, or the blood T1 is not shorter after
        contrast.
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


def check_contrast_order(
    t1_pre_ms: np.ndarray,
    t1_post_ms: np.ndarray,
    blood_pre_ms: float,
    blood_post_ms: float,
    myocardium: np.ndarray | None = None,
) -> None:
    """Refuse pre- and post-contrast T1 that look swapped (or not of one subject and slice).

    Gadolinium shortens T1 wherever it goes: the blood T1 must be shorter after contrast, and so
    must the T1 of most of ``myocardium``. Without a mask, the pixels with a T1 in both maps (> 0,
    finite) whose T1 changes at least twofold are counted: tissue (about 0.3-0.5x after contrast)
    outnumbers the background's noise, which goes either way (on the three T1NET slices 13-33% of
    them get longer with the maps in order, 67-87% swapped).

    Parameters
    ----------
    t1_pre_ms, t1_post_ms : np.ndarray
        Pre- and post-contrast T1 maps of one shape, in ms.
    blood_pre_ms, blood_post_ms : float
        Blood T1 before and after contrast, in ms.
    myocardium : np.ndarray, optional
        Boolean myocardial mask of the maps' shape.

    Raises
    ------
    ValueError
        When the blood T1 is not shorter after contrast, the maps (or the mask) differ in shape, no pixel
        of the mask has a T1 in both maps, or more than half of the counted pixels get longer after
        contrast.
    """
    if not blood_post_ms < blood_pre_ms:
        raise ValueError(
            f"blood T1 is not shorter after contrast (pre {blood_pre_ms:.0f} ms, post {blood_post_ms:.0f} ms): "
            "are the pre- and post-contrast maps swapped?"
        )
    pre, post = np.asarray(t1_pre_ms, float), np.asarray(t1_post_ms, float)
    if pre.shape != post.shape:
        raise ValueError(f"pre-contrast map {pre.shape} and post-contrast map {post.shape} differ in shape")
    region = np.ones(pre.shape, bool) if myocardium is None else np.asarray(myocardium, bool)
    if region.shape != pre.shape:
        raise ValueError(f"myocardium mask {region.shape} does not match the maps {pre.shape}")
    with np.errstate(invalid="ignore"):
        valid = region & (pre > 0) & (post > 0) & np.isfinite(pre) & np.isfinite(post)
    ratio = post[valid] / pre[valid]
    if myocardium is not None:
        if not ratio.size:
            raise ValueError("no pixel of the myocardium mask has a T1 value in both maps")
        longer, where = float(np.mean(ratio > 1)), "of the myocardium"
    else:
        changed = (ratio <= 0.5) | (ratio >= 2)
        longer = float(np.mean(ratio[changed] >= 2)) if changed.any() else 0.0
        where = "of the map's pixels whose T1 changes twofold (give --myo MASK to check the myocardium)"
    if longer > 0.5:
        raise ValueError(
            f"T1 is longer after contrast than before on {longer:.0%} {where}: "
            "are the pre- and post-contrast maps swapped?"
        )


def region_median(values: np.ndarray, region: np.ndarray | None = None) -> tuple[float, int]:
    """Median of the finite ``values`` inside ``region`` and their count.

    Parameters
    ----------
    values : np.ndarray
        A map, e.g. ECV in percent or T1 in ms.
    region : np.ndarray, optional
        Boolean mask of the same shape (None: all pixels).

    Returns
    -------
    tuple of (float, int)
        The median (NaN when no value is finite) and the number of finite values.
    """
    v = np.asarray(values, float)
    inside = v[np.asarray(region, bool)] if region is not None else v.ravel()
    inside = inside[np.isfinite(inside)]
    return (float(np.median(inside)) if inside.size else float("nan")), int(inside.size)


def ecv_region(t1_pre_ms: float, t1_post_ms: float, blood_pre_ms: float, blood_post_ms: float, hct: float) -> float:
    """ECV in percent of a region from its (e.g. median) pre/post T1 values.

    Parameters
    ----------
    t1_pre_ms, t1_post_ms : float
        The region's T1 before and after contrast, in ms.
    blood_pre_ms, blood_post_ms : float
        Blood T1 before and after contrast, in ms.
    hct : float
        Haematocrit as a fraction in (0, 1).

    Returns
    -------
    float
        ECV in percent, as :func:`ecv_map`.

    Raises
    ------
    ValueError
        When ``hct`` is not in (0, 1) or the blood T1 is not shorter after contrast.
    """
    return float(ecv_map(np.array([t1_pre_ms]), np.array([t1_post_ms]), blood_pre_ms, blood_post_ms, hct)[0])


@dataclass(frozen=True)
class MapQuality:
    mean_r2: float
    fraction_r2_below_0_95: float
    fraction_failed: float
    n_pixels: int


def map_quality(result: MappingResult, mask: np.ndarray) -> MapQuality:
    """Fit-quality figures inside ``mask``: mean R2, fraction with R2 < 0.95, fraction failed.

    Parameters
    ----------
    result : MappingResult
        A fitted map.
    mask : np.ndarray
        Boolean mask of the map's shape, e.g. the myocardium.

    Returns
    -------
    MapQuality
        ``mean_r2`` over the finite R2 values; ``fraction_r2_below_0_95`` (failed fits, NaN R2, count as
        below); ``fraction_failed`` (any :class:`~cmrseg.mapping.fitter.FitFailure` code); ``n_pixels`` in the mask.

    Raises
    ------
    ValueError
        When the mask does not match the map or is empty.
    """
    m = np.asarray(mask, bool)
    if m.shape != result.r2.shape:
        raise ValueError(f"mask shape {m.shape} does not match the map {result.r2.shape}")
    if not m.any():
        raise ValueError("quality mask is empty")
    r2 = result.r2[m]
    return MapQuality(
        float(np.nanmean(r2)), float(np.mean(~(r2 >= 0.95))), float(np.mean(result.failed[m] > 0)), int(m.sum())
    )
