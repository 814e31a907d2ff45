"""Fit a whole mapping series (all slices) and write the maps beside each other."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cmrseg.image import Image, LabelMap
from cmrseg.io.atomic import check_output
from cmrseg.io.nifti import write_image, write_labels
from cmrseg.mapping.fits import MappingResult, fit_t1_molli, fit_t1rho, fit_t2
from cmrseg.mapping.series import MappingSeries

__all__ = ["fit_series", "write_maps", "map_outputs", "FITTERS", "blood_t1_value", "ecv_from_files"]

FITTERS = {"t1": (fit_t1_molli, "InversionTime"), "t2": (fit_t2, "EchoTime"), "t1rho": (fit_t1rho, "SpinLockTime")}


@dataclass(frozen=True)
class SeriesMaps:
    """Stacked per-slice results ``(X, Y, Z)`` of one series."""

    result: MappingResult
    series: MappingSeries


def fit_series(series: MappingSeries, quantity: str) -> SeriesMaps:
    """Fit every slice of ``series`` with its own times; ``quantity`` is t1, t2 or t1rho."""
    if quantity not in FITTERS:
        raise ValueError(f"unknown quantity {quantity!r}; valid: {sorted(FITTERS)}")
    fit, _ = FITTERS[quantity]
    arr = series.image.array
    per_slice = [fit(arr[:, :, z, :], series.times_ms[z]) for z in range(arr.shape[2])]

    def stack(name: str) -> np.ndarray | None:
        vals = [getattr(r, name) for r in per_slice]
        return None if vals[0] is None else np.stack(vals, 2)

    result = MappingResult(
        stack("value"), stack("a"), stack("b"), stack("r2"), stack("failed"), stack("t1_star"), stack("flips")
    )
    return SeriesMaps(result, series)


def map_outputs(output: Path) -> dict[str, Path]:
    """Paths of the map and its companions: ``T1.nii.gz`` -> ``T1_r2.nii.gz``, ``T1_failed.nii.gz`` ..."""
    name = output.name
    stem = name[: -len(".nii.gz")] if name.endswith(".nii.gz") else name.removesuffix(".nii")
    return {
        k: output if k == "value" else output.with_name(f"{stem}_{k}.nii.gz")
        for k in ("value", "r2", "a", "b", "failed", "t1_star")
    }


def write_maps(maps: SeriesMaps, output: Path | str, overwrite: bool = False) -> list[Path]:
    """Write the value, R2, A, B, failure (and T1*) maps on the series grid; squeeze a single slice."""
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
    """Blood T1 in ms: a number as given, or the median of ``t1_map`` inside a mask file."""
    from cmrseg.io.nifti import read_labels

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
    """Write the ECV map (percent) of co-registered pre/post T1 map files; returns (blood pre, blood post, ECV)."""
    from cmrseg.io.nifti import read_image
    from cmrseg.mapping.ecv import check_haematocrit, ecv_map

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
