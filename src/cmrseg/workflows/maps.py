"""Mapping files: write a series' maps beside each other, ECV from two T1 map files.

The fits themselves are :func:`cmrseg.mapping.maps.fit_series` (arrays in, arrays out).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cmrseg.image import Image, LabelMap
from cmrseg.io.atomic import check_output
from cmrseg.io.mapping_series import read_series
from cmrseg.io.nifti import nifti_stem, read_image, read_labels, write_image, write_labels
from cmrseg.mapping.ecv import check_contrast_order, check_haematocrit, ecv_map, region_median
from cmrseg.mapping.maps import FITTERS, SeriesMaps, fit_series

__all__ = ["write_maps", "map_outputs", "fit_map_file", "blood_t1_value", "ecv_from_files", "EcvResult", "ecv_file"]


def map_outputs(output: Path) -> dict[str, Path]:
    """Paths of the map and its companions: ``T1.nii.gz`` -> ``T1_r2.nii.gz``, ``T1_failed.nii.gz`` ...

    Parameters
    ----------
    output : pathlib.Path
        The map file.

    Returns
    -------
    dict of str to pathlib.Path
        Keys ``value`` (``output`` itself), ``r2``, ``a``, ``b``, ``failed`` and ``t1_star``.
    """
    stem = nifti_stem(output)
    return {
        k: output if k == "value" else output.with_name(f"{stem}_{k}.nii.gz")
        for k in ("value", "r2", "a", "b", "failed", "t1_star")
    }


def write_maps(maps: SeriesMaps, output: Path | str, overwrite: bool = False) -> list[Path]:
    """Write the value, R2, A, B, failure (and T1*) maps on the series grid; squeeze a single slice.

    Parameters
    ----------
    maps : SeriesMaps
        The fitted maps, ``(X, Y, Z)``.
    output : path
        The value map file; the others are written beside it (:func:`map_outputs`).
    overwrite : bool
        Replace existing maps.

    Returns
    -------
    list of pathlib.Path
        The files written: float32 maps, and the failure map as uint8 labels.

    Raises
    ------
    FileExistsError
        If a map exists and ``overwrite`` is false (checked before anything is written).
    """
    output = Path(output)
    paths = map_outputs(output)
    img = maps.series.image
    single = img.shape[2] == 1
    spacing = img.spacing[:2] if single else img.spacing[:3]
    todo = {k: getattr(maps.result, k) for k in paths if getattr(maps.result, k) is not None}
    for k in todo:
        check_output(paths[k], overwrite)
    written = []
    for k, arr in todo.items():
        arr = arr[:, :, 0] if single else arr
        if k == "failed":
            write_labels(LabelMap(arr.astype(np.uint8), spacing, img.affine), paths[k])
        else:
            write_image(Image(arr.astype(np.float32), spacing, img.affine), paths[k])
        written.append(paths[k])
    return written


def blood_t1_value(value_or_mask: str | float, t1_map: np.ndarray, name: str = "blood") -> float:
    """Blood T1 in ms: a number as given, or the median of ``t1_map`` inside a mask file.

    Parameters
    ----------
    value_or_mask : str or float
        Blood T1 in ms, or a mask file (non-zero inside) on the map's grid.
    t1_map : numpy.ndarray
        The T1 map in ms.
    name : str
        What the value is called in error messages.

    Returns
    -------
    float
        Blood T1 in ms (NaN pixels ignored in the median).

    Raises
    ------
    ValueError
        If the mask's shape differs from the map's, or the mask is empty.
    """
    try:
        return float(value_or_mask)
    except ValueError:
        pass
    mask = read_labels(value_or_mask).array > 0
    if mask.shape != t1_map.shape:
        raise ValueError(f"{name} mask {value_or_mask} has shape {mask.shape}, the T1 map {t1_map.shape}")
    if not mask.any():
        raise ValueError(f"{name} mask {value_or_mask} is empty")
    return float(np.nanmedian(t1_map[mask]))


def ecv_from_files(
    pre: Path | str,
    post: Path | str,
    blood_pre: str | float,
    blood_post: str | float,
    hct: float,
    output: Path | str,
    overwrite: bool = False,
) -> tuple[float, float, np.ndarray]:
    """Write the ECV map (percent) of co-registered pre/post T1 map files; returns (blood pre, blood post, ECV).

    Parameters
    ----------
    pre, post : path
        Pre- and post-contrast T1 maps (ms) on one grid.
    blood_pre, blood_post : str or float
        Blood T1 in ms, or a blood-pool mask file on the respective map.
    hct : float
        Haematocrit as a fraction in (0, 1).
    output : path
        The ECV map file (percent).
    overwrite : bool
        Replace an existing output.

    Returns
    -------
    tuple of (float, float, numpy.ndarray)
        Blood T1 pre and post (ms) and the ECV map (percent).

    Raises
    ------
    ValueError
        If ``hct`` is not in (0, 1), the maps are on different grids, or a blood mask is wrong.
    FileExistsError
        If ``output`` exists and ``overwrite`` is false.
    """
    check_haematocrit(hct)
    check_output(Path(output), overwrite)
    t1_pre, t1_post = read_image(pre), read_image(post)
    if t1_pre.shape != t1_post.shape or not np.allclose(t1_pre.affine, t1_post.affine, atol=1e-3):
        raise ValueError(
            f"pre ({t1_pre.shape}) and post ({t1_post.shape}) T1 maps must share one grid; register them first"
        )
    bpre = blood_t1_value(blood_pre, t1_pre.array, "--blood-pre")
    bpost = blood_t1_value(blood_post, t1_post.array, "--blood-post")
    ecv = ecv_map(t1_pre.array, t1_post.array, bpre, bpost, hct)
    write_image(Image(ecv, t1_pre.spacing, t1_pre.affine, {"unit": "percent"}), output)
    return bpre, bpost, ecv


def fit_map_file(
    series_path: Path | str,
    output: Path | str,
    quantity: str,
    times: object | None = None,
    series: str | None = None,
    overwrite: bool = False,
) -> tuple[SeriesMaps, list[Path]]:
    """Fit a mapping series file and write its maps (``cmrseg t1map`` / ``t2map`` / ``t1rhomap``).

    Parameters
    ----------
    series_path : path
        NIfTI ``(X, Y, N)`` / ``(X, Y, Z, N)`` with a JSON sidecar of times, or a DICOM folder.
    output : path
        The map file (``T1.nii.gz``); R2, A, B, failure (and T1*) maps are written beside it.
    quantity : str
        ``t1`` (MOLLI), ``t2`` or ``t1rho``.
    times : sequence of float, optional
        Times in ms in image order, overriding the stored ones.
    series : str, optional
        SeriesInstanceUID or SeriesNumber when a DICOM folder holds several.
    overwrite : bool
        Replace existing maps.

    Returns
    -------
    tuple of (SeriesMaps, list of pathlib.Path)
        The fitted maps (values in ms) and the files written.
    """
    if quantity not in FITTERS:
        raise ValueError(f"unknown quantity {quantity!r}; valid: {sorted(FITTERS)}")
    for path in map_outputs(Path(output)).values():
        check_output(path, overwrite)
    maps = fit_series(read_series(series_path, FITTERS[quantity][1], times, series), quantity)
    return maps, write_maps(maps, output, overwrite=overwrite)


@dataclass(frozen=True)
class EcvResult:
    """Blood T1 values used (ms), the ECV map (percent) and its printed median, if any."""

    blood_pre_ms: float
    blood_post_ms: float
    ecv_percent: np.ndarray
    median_percent: float | None
    median_pixels: int
    summary: str


def ecv_file(
    pre: Path | str,
    post: Path | str,
    blood_pre: str | float,
    blood_post: str | float,
    hct: float,
    output: Path | str,
    myo: Path | str | None = None,
    summary: str | None = None,
    overwrite: bool = False,
) -> EcvResult:
    """``cmrseg ecv``: the ECV map of two co-registered T1 map files, after refusing swapped maps.

    Parameters
    ----------
    pre, post : path
        Pre- and post-contrast T1 maps (ms) on one grid.
    blood_pre, blood_post : str or float
        Blood T1 in ms, or a blood-pool mask file on the respective map.
    hct : float
        Haematocrit as a fraction in (0, 1).
    output : path
        The ECV map file (percent).
    myo : path, optional
        Myocardium mask (non-zero) on the maps' grid: the contrast-order check and the median use it.
    summary : {"myo", "whole"}, optional
        The median to report: over ``myo`` (the default when given) or over the whole map.
    overwrite : bool
        Replace an existing output.

    Returns
    -------
    EcvResult
    """
    summary = summary or ("myo" if myo is not None else "none")
    if summary not in ("myo", "whole", "none"):
        raise ValueError(f"unknown summary {summary!r}; valid: ['myo', 'whole']")
    if summary == "myo" and myo is None:
        raise ValueError("--summary myo needs the myocardium: give --myo MASK (or --summary whole)")
    check_output(Path(output), overwrite)
    t1_pre, t1_post = read_image(pre).array, read_image(post).array
    mask = None if myo is None else read_labels(myo).array > 0
    if mask is not None and mask.shape != t1_pre.shape:
        raise ValueError(f"--myo {myo} has shape {mask.shape}, the T1 maps {t1_pre.shape}")
    if t1_pre.shape == t1_post.shape:  # refuse swapped or unregistered maps before anything is written
        blood = blood_t1_value(blood_pre, t1_pre, "--blood-pre"), blood_t1_value(blood_post, t1_post, "--blood-post")
        check_contrast_order(t1_pre, t1_post, *blood, mask)
    bpre, bpost, ecv = ecv_from_files(pre, post, blood_pre, blood_post, hct, output, overwrite)
    median, n = region_median(ecv, mask if summary == "myo" else None) if summary != "none" else (None, 0)
    return EcvResult(bpre, bpost, ecv, median, n, summary)
