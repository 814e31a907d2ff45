"""File-level workflows on one study: function and report from images or label maps on disk.

The CLI's ``function`` and ``report`` commands call these; they read files, segment images when
needed (with the given model) and hand arrays to the pure functions of :mod:`cmrseg.function`,
:mod:`cmrseg.aha` and :mod:`cmrseg.report`.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

import numpy as np

from cmrseg.aha import AhaConvention
from cmrseg.function import CardiacFunction, cardiac_function, cine_function, label_volumes_ml
from cmrseg.image import LabelMap
from cmrseg.io.loader import read_any
from cmrseg.io.nifti import read_image, read_labels

__all__ = ["labels_or_segment", "function_from_files", "report_from_files"]


@lru_cache(maxsize=2)
def _predictor(model: str):  # noqa: ANN202 - loaded once per model name for a study's files
    from cmrseg.predict import Predictor

    return Predictor(model)


def labels_or_segment(
    path: Path | str, model: str = "default", spacing: tuple[float, ...] | None = None, predictor=None
):  # noqa: ANN001, ANN201
    """``(labels, spacing)`` from a file: used as labels if its values are 0-3, else segmented first.

    ``spacing`` overrides the file's; files that record none are refused for mm/mL work.
    """
    image = read_any(Path(path))
    if np.all(np.isin(np.unique(image.array), [0, 1, 2, 3])):
        labels = image.array.astype(np.uint8)
    else:
        labels = (predictor or _predictor(str(model))).predict_array(image.array)
    if spacing is not None:
        if len(spacing) != 3:
            raise ValueError(f"spacing needs three values dx,dy,dz in mm, got {spacing}")
        sp = tuple(spacing)
    elif not image.metadata.get("spacing_known", True):
        raise ValueError(
            f"{path} records no voxel spacing, so volumes in mL cannot be computed; "
            "give it with --spacing dx,dy,dz (mm)"
        )
    else:
        sp = tuple(image.spacing)
    if len(sp) < 3:
        raise ValueError(f"{path} is 2D; function needs a short-axis stack (X, Y, Z) or cine (X, Y, Z, T)")
    return labels, sp


def function_from_files(
    cine: Path | None = None,
    ed: Path | None = None,
    es: Path | None = None,
    model: str = "default",
    spacing: tuple[float, ...] | None = None,
) -> CardiacFunction:
    """Cardiac function from a 4D cine, or from ED and ES stacks (label maps or images)."""
    if cine is not None:
        if ed or es:
            raise ValueError("give either a CINE or --ed and --es, not both")
        labels, sp = labels_or_segment(cine, model, spacing)
        if labels.ndim != 4:
            raise ValueError(f"{cine} has shape {labels.shape}; a cine must be (X, Y, Z, T) (or use --ed/--es)")
        return cine_function(labels, sp)
    if not (ed and es):
        raise ValueError("give a 4D CINE, or both --ed and --es stacks")
    ed_labels, sp = labels_or_segment(ed, model, spacing)
    es_labels, _ = labels_or_segment(es, model, spacing)
    return cardiac_function(ed_labels, es_labels, sp)


def _read_metrics(path: Path) -> list[dict]:
    with open(path) as fh:
        return [
            {k: (float(v) if k in ("dice", "iou", "hd_mm", "msd_mm") else v) for k, v in r.items()}
            for r in csv.DictReader(fh)
        ]


def _segment_medians(map_path: Path, labels: np.ndarray, convention: AhaConvention | None) -> dict[int, float]:
    from cmrseg.aha import aha_stack, segment_values

    value_map = read_image(map_path).array
    lab = labels[:, :, None] if labels.ndim == 2 else labels
    value_map = value_map[:, :, None] if value_map.ndim == 2 else value_map
    if value_map.shape != lab.shape:
        raise ValueError(f"map {map_path} has shape {value_map.shape}, the labels {lab.shape}; they must share a grid")
    values = segment_values(value_map, aha_stack(lab, convention=convention))
    medians = {s: float(np.round(v.median, 1)) for s, v in values.items()}
    if not medians:
        raise ValueError("no AHA segments found: the labels need RV touching the myocardium")
    return medians


def report_from_files(
    image_path: Path,
    output: Path,
    labels_path: Path | None = None,
    model: str = "default",
    title: str | None = None,
    metrics_csv: Path | None = None,
    map_path: Path | None = None,
    aha: AhaConvention | None = None,
) -> Path:
    """Write the HTML report of a study (segmenting the image unless labels are given); ``aha``: where
    the AHA segments of the map's bullseye start."""
    from cmrseg.report.html import write_report

    image = read_any(Path(image_path))
    if labels_path:
        labels = read_labels(labels_path)
    else:
        labels = LabelMap.like(image, _predictor(str(model)).predict_array(image.array))
    function, frame = None, 0
    if image.metadata.get("spacing_known", True):
        if labels.array.ndim == 4:
            fn = cine_function(labels.array, labels.spacing)
            function, frame = fn.to_dict(), fn.ed_frame or 0
        elif labels.array.ndim == 3:
            vols = label_volumes_ml(labels.array, labels.spacing)
            function = {f"{k.lower()}_volume_ml": v for k, v in vols.items()}
    metrics = _read_metrics(metrics_csv) if metrics_csv else None
    shown = labels.array[..., frame] if labels.array.ndim == 4 else labels.array
    segments = _segment_medians(map_path, shown, aha) if map_path else None
    return write_report(
        image,
        labels,
        output,
        title=title or Path(image_path).name,
        function=function,
        metrics=metrics,
        segment_values=segments,
        frame=frame,
    )
