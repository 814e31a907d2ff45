"""File-level workflows on one study: function and report from images or label maps on disk.

The CLI's ``function`` and ``report`` commands call these; they read files, segment images when
needed (with the given model) and hand arrays to the pure functions of :mod:`cmrseg.function`,
:mod:`cmrseg.aha` and :mod:`cmrseg.report`.
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np

from cmrseg.aha import AhaConvention, map_value_tables
from cmrseg.evaluate import apex_side
from cmrseg.function import (
    CardiacFunction,
    cardiac_function,
    cine_function,
    label_volumes_ml,
    slice_table,
    volume_curve_ml,
)
from cmrseg.image import LabelMap
from cmrseg.io.loader import read_any
from cmrseg.io.nifti import read_image, read_labels
from cmrseg.io.tables import read_rows, write_rows
from cmrseg.labels import Label, check_label_convention

__all__ = ["labels_or_segment", "function_from_files", "report_from_files", "evaluation_cases", "evaluation_report"]


@lru_cache(maxsize=2)
def _predictor(model: str):  # noqa: ANN202 - loaded once per model name for a study's files
    from cmrseg.predict import Predictor

    return Predictor(model)


def labels_or_segment(
    path: Path | str, model: str = "default", spacing: tuple[float, ...] | None = None, predictor=None
):  # noqa: ANN001, ANN201
    """``(labels, spacing, apex)`` from a file: used as labels if its values are 0-3, else segmented
    first. ``spacing`` overrides the file's; files that record none are refused for mm/mL work.
    ``apex``: the stack's orientation from its affine (:func:`cmrseg.evaluate.apex_side`).
    """
    image = read_any(Path(path))
    if np.all(np.isin(np.unique(image.array), [0, 1, 2, 3])):
        labels = image.array.astype(np.uint8)
        if (text := check_label_convention(labels)) is not None:
            warnings.warn(f"{Path(path).name}: {text}", stacklevel=2)
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
    return labels, sp, apex_side(image.affine)


def function_from_files(
    cine: Path | None = None,
    ed: Path | None = None,
    es: Path | None = None,
    model: str = "default",
    spacing: tuple[float, ...] | None = None,
) -> tuple[CardiacFunction, list[dict]]:
    """Cardiac function from a 4D cine, or from ED and ES stacks (label maps or images), and the
    per-slice areas and wall thickness at ED and ES (:func:`cmrseg.function.slice_table`)."""
    if cine is not None:
        if ed or es:
            raise ValueError("give either a CINE or --ed and --es, not both")
        labels, sp, apex = labels_or_segment(cine, model, spacing)
        if labels.ndim != 4:
            raise ValueError(f"{cine} has shape {labels.shape}; a cine must be (X, Y, Z, T) (or use --ed/--es)")
        fn = cine_function(labels, sp)
        return fn, slice_table(labels[..., fn.ed_frame], labels[..., fn.es_frame], sp, apex)
    if not (ed and es):
        raise ValueError("give a 4D CINE, or both --ed and --es stacks")
    ed_labels, sp, apex = labels_or_segment(ed, model, spacing)
    es_labels, _, _ = labels_or_segment(es, model, spacing)
    fn = cardiac_function(ed_labels, es_labels, sp)
    return fn, slice_table(ed_labels, es_labels, sp, apex)


def _metrics_parts(metrics_csv: Path) -> dict:
    """metrics.csv of ``cmrseg evaluate`` and, beside it, its summary, agreement table and plots."""
    folder = Path(metrics_csv).parent
    parts: dict = {"metrics": read_rows(Path(metrics_csv))}
    if (folder / "summary.csv").exists():
        parts["summary"] = read_rows(folder / "summary.csv")
    if (folder / "agreement.csv").exists():
        parts["agreement"] = read_rows(folder / "agreement.csv")
    parts["bland_altman"] = tuple(sorted(folder.glob("bland_altman_*.png")))
    return parts


def _function_parts(labels: LabelMap) -> tuple[dict, dict[str, int] | None]:
    if labels.array.ndim == 4:
        fn = cine_function(labels.array, labels.spacing)
        curves = {lab.name: volume_curve_ml(labels.array, labels.spacing, lab) for lab in (Label.LV, Label.RV)}
        parts = {"function": fn.to_dict(), "volume_curves": curves, "warnings": tuple(fn.warnings())}
        return parts, {"ED": fn.ed_frame or 0, "ES": fn.es_frame or 0}
    if labels.array.ndim == 3:
        vols = label_volumes_ml(labels.array, labels.spacing)
        return {"function": {f"{k.lower()}_volume_ml": v for k, v in vols.items()}}, None
    return {}, None


def report_from_files(
    image_path: Path,
    output: Path,
    labels_path: Path | None = None,
    model: str = "default",
    title: str | None = None,
    metrics_csv: Path | None = None,
    map_path: Path | None = None,
    aha: AhaConvention | None = None,
    map_unit: str = "ms",
    erode_px: int = 0,
) -> Path:
    """Write the HTML report of a study (segmenting the image unless labels are given).

    ``metrics_csv``: ``cmrseg evaluate``'s metrics.csv (its summary, agreement and Bland-Altman
    plots beside it are shown too); ``map_path``: a map on the labels' grid, shown as AHA segment
    and per-slice myocardial values (``erode_px``) and written to ``segments.csv`` / ``slices.csv``;
    ``aha``: where the AHA segments start.
    """
    from cmrseg.report.html import ReportParts, write_report

    if erode_px < 0:
        raise ValueError(f"--erode must be >= 0 pixels, got {erode_px}")
    image = read_any(Path(image_path))
    if labels_path:
        labels = read_labels(labels_path)
        if (text := check_label_convention(labels.array)) is not None:
            warnings.warn(f"{Path(labels_path).name}: {text}", stacklevel=2)
    else:
        labels = LabelMap.like(image, _predictor(str(model)).predict_array(image.array))
    fields, frames = _function_parts(labels) if image.metadata.get("spacing_known", True) else ({}, None)
    if metrics_csv:
        fields.update(_metrics_parts(metrics_csv))
    if map_path:
        frame = (frames or {}).get("ED", 0)  # a map of a cine goes with its ED frame
        shown = labels.array[..., frame] if labels.array.ndim == 4 else labels.array
        value_map = read_image(map_path).array
        apex = apex_side(labels.affine)
        fields["segments"], fields["map_slices"] = map_value_tables(value_map, shown, aha, erode_px, apex)
        fields["map_unit"] = map_unit
    page = write_report(image, labels, output, title or Path(image_path).name, ReportParts(**fields), frames)
    if map_path:
        write_rows(Path(output) / "segments.csv", fields["segments"] or [{"segment": "none (no RV contact)"}])
        write_rows(Path(output) / "slices.csv", fields["map_slices"])
    return page


def evaluation_cases(
    loaded: list, pred: Path | str, images: Path | str | None = None
) -> dict[str, tuple[np.ndarray | None, np.ndarray, np.ndarray, int | None]]:
    """``{case: (image, pred, ref, apex)}`` of an evaluation, for its report, from the cases of
    :func:`cmrseg.evaluate.load_cases` (first reference): label maps as ``(X, Y, Z)`` (2D as one
    slice), the image from ``images`` (a file, or a folder matched by case name like PRED ``pred``,
    on the labels' grid) or None. Checks everything before anything is written."""
    from cmrseg.evaluate import case_files

    if images is not None and Path(images).is_dir() != Path(pred).is_dir():
        raise ValueError(f"--images {images} must be a file when PRED is a file and a folder when PRED is a folder")
    image_files = {} if images is None else {c: p for c, p, _ in case_files(images, pred)}
    cases = {}
    for case, lp, (lr, *_) in loaded:
        image = None
        if images is not None:
            path = image_files.get(case)
            if path is None:
                raise ValueError(f"no image named like case {case} in {images}")
            image = read_image(path).array
            if image.shape != lr.shape:
                raise ValueError(f"image {path} {image.shape} and labels of case {case} {lr.shape} differ in shape")
        stack = [a if a is None or a.ndim != 2 else a[:, :, None] for a in (image, lp.array, lr.array)]
        if stack[1].ndim != 3:
            raise ValueError(f"case {case}: the evaluation report takes 2D or 3D label maps, got {lp.shape}")
        cases[case] = (stack[0], stack[1], stack[2], apex_side(lr.affine))
    return cases


def evaluation_report(out_dir: Path | str, cases: dict, metrics_csv: Path | str) -> Path:
    """``out_dir/index.html`` of an evaluation from its metrics.csv (and summary, agreement and
    Bland-Altman files beside it) and the cases of :func:`evaluation_cases`."""
    from cmrseg.report.html import ReportParts, write_evaluation_report

    return write_evaluation_report(out_dir, ReportParts(**_metrics_parts(Path(metrics_csv))), cases)
