"""``cmrseg function`` and ``cmrseg report``: function and an HTML report from images or label maps on disk.

The CLI's ``function`` and ``report`` commands call these; they read files, segment images when
needed (with the given model) and hand arrays to the pure functions of :mod:`cmrseg.function`,
:mod:`cmrseg.aha` and :mod:`cmrseg.report`.
"""

from __future__ import annotations

import json
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np

from cmrseg.aha import AhaConvention, map_value_tables
from cmrseg.function import (
    CardiacFunction,
    cardiac_function,
    cine_function,
    label_volumes_ml,
    slice_table,
    volume_curve_ml,
)
from cmrseg.geometry import apex_side
from cmrseg.image import LabelMap
from cmrseg.io.atomic import atomic_write, check_output
from cmrseg.io.loader import read_any
from cmrseg.io.nifti import read_image, read_labels
from cmrseg.io.tables import read_rows, write_rows
from cmrseg.labels import Label, check_label_convention, is_label_map
from cmrseg.masks import check_midwall_offset
from cmrseg.predict import Predictor
from cmrseg.report.html import ReportParts, write_report

__all__ = ["labels_or_segment", "function_from_files", "report_from_files", "metrics_parts"]


@lru_cache(maxsize=2)
def _predictor(model: str):  # noqa: ANN202 - loaded once per model name for a study's files
    return Predictor(model)


def labels_or_segment(path: Path | str, model: str = "cine", spacing: tuple[float, ...] | None = None, predictor=None):  # noqa: ANN001, ANN201
    """``(labels, spacing, apex)`` from a file: used as labels if its values are 0-3, else segmented
    first. ``spacing`` overrides the file's; files that record none are refused for mm/mL work.
    ``apex``: the stack's orientation from its affine (:func:`cmrseg.evaluate.apex_side`).

    Parameters
    ----------
    path : path
        A label map or image file (anything :func:`cmrseg.io.loader.read_any` reads).
    model : str
        Segmentation model for images, when no ``predictor`` is given (the shipped ``cine``
        model: these functions take a cine).
    spacing : tuple of float, optional
        ``(dx, dy, dz)`` in mm, overriding the file's.
    predictor : Predictor, optional
        An already loaded model.

    Returns
    -------
    labels : numpy.ndarray
        uint8 labels of the file's shape, ``(X, Y, Z)`` or ``(X, Y, Z, T)``.
    spacing : tuple of float
        Voxel spacing in mm.
    apex : int or None
        +1 when the slice index grows towards the apex, -1 towards the base, None when unknown.

    Raises
    ------
    ValueError
        If ``spacing`` has not three values, the file records no spacing and none is given, or the
        file is 2D.
    """
    image = read_any(Path(path))
    if is_label_map(image.array):
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
    model: str = "cine",
    spacing: tuple[float, ...] | None = None,
    output: Path | str | None = None,
    overwrite: bool = False,
) -> tuple[CardiacFunction, list[dict]]:
    """Cardiac function from a 4D cine, or from ED and ES stacks (label maps or images).

    Parameters
    ----------
    cine : path, optional
        A 4D cine ``(X, Y, Z, T)``, labels or images (segmented with ``model``); ED and ES detected.
    ed, es : path, optional
        End-diastolic and end-systolic stacks ``(X, Y, Z)``, instead of ``cine``.
    model : str
        Segmentation model used when images are given (the shipped ``cine`` model).
    spacing : tuple of float, optional
        ``(dx, dy, dz)`` in mm, overriding the files' (needed when they record none).
    output : path, optional
        JSON file for the values, their warnings and the per-slice table.
    overwrite : bool
        Replace an existing ``output``.

    Returns
    -------
    tuple of (CardiacFunction, list of dict)
        Volumes (mL), EF (%), mass (g); and per-slice areas (mm^2) and wall thickness (mm) at ED
        and ES (:func:`cmrseg.function.slice_table`).
    """
    if output is not None:
        check_output(Path(output), overwrite)
    fn, slices = _function(cine, ed, es, model, spacing)
    if output is not None:
        doc = {**fn.to_dict(), "warnings": fn.warnings(), "slices": slices}
        atomic_write(Path(output), lambda p: p.write_text(json.dumps(doc, indent=1)))
    return fn, slices


def _function(
    cine: Path | None, ed: Path | None, es: Path | None, model: str, spacing: tuple[float, ...] | None
) -> tuple[CardiacFunction, list[dict]]:
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


def metrics_parts(metrics_csv: Path) -> dict:
    """metrics.csv of ``cmrseg evaluate`` and, beside it, its summary, agreement table and plots.

    Parameters
    ----------
    metrics_csv : pathlib.Path
        The evaluation's metrics.csv.

    Returns
    -------
    dict
        :class:`cmrseg.report.html.ReportParts` fields: ``metrics``, ``summary`` and ``agreement``
        rows (the last two when their files exist) and ``bland_altman`` plot paths.
    """
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
    model: str = "cine",
    title: str | None = None,
    metrics_csv: Path | None = None,
    map_path: Path | None = None,
    aha: AhaConvention | None = None,
    map_unit: str = "ms",
    erode_px: int = 0,
    overwrite: bool = False,
    midwall_offset: float = 0.25,
) -> Path:
    """Write the HTML report of a study (segmenting the image unless labels are given).

    ``metrics_csv``: ``cmrseg evaluate``'s metrics.csv (its summary, agreement and Bland-Altman
    plots beside it are shown too); ``map_path``: a map on the labels' grid, shown as AHA segment
    and per-slice myocardial values (in the mid-wall, ``midwall_offset``; ``erode_px``) and written
    to ``segments.csv`` / ``slices.csv``;
    ``aha``: where the AHA segments start.

    Parameters
    ----------
    image_path : pathlib.Path
        The image: an ``(X, Y, Z)`` stack or ``(X, Y, Z, T)`` cine.
    output : pathlib.Path
        Folder for ``index.html`` and its PNGs.
    labels_path : pathlib.Path, optional
        Label map on the image's grid; without it the image is segmented with ``model``.
    model : str
        Segmentation model (the shipped ``cine`` model: a report is of a cine).
    title : str, optional
        The page's title; the image's file name by default.
    metrics_csv : pathlib.Path, optional
        ``cmrseg evaluate``'s metrics.csv.
    map_path : pathlib.Path, optional
        A map on the labels' grid (with a cine, read against its ED frame).
    aha : AhaConvention, optional
        Where the AHA segments start.
    map_unit : str
        Unit of the map's values.
    erode_px : int
        Pixels to erode the myocardium by for the map values, >= 0.
    overwrite : bool
        Replace an existing ``index.html``.
    midwall_offset : float
        The map values are read in the mid-wall: this fraction of the wall thickness left out next
        to the blood pool and next to the epicardium (:func:`cmrseg.masks.midwall_mask`; 0: the
        whole myocardium), in [0, 0.5).

    Returns
    -------
    pathlib.Path
        The page written.

    Raises
    ------
    FileExistsError
        If ``output/index.html`` exists and ``overwrite`` is false.
    ValueError
        If ``erode_px`` < 0 or ``midwall_offset`` is not in [0, 0.5).
    """
    check_output(Path(output) / "index.html", overwrite)
    if erode_px < 0:
        raise ValueError(f"--erode must be >= 0 pixels, got {erode_px}")
    check_midwall_offset(midwall_offset)
    image = read_any(Path(image_path))
    if labels_path:
        labels = read_labels(labels_path)
        if (text := check_label_convention(labels.array)) is not None:
            warnings.warn(f"{Path(labels_path).name}: {text}", stacklevel=2)
    else:
        labels = LabelMap.like(image, _predictor(str(model)).predict_array(image.array))
    fields, frames = _function_parts(labels) if image.metadata.get("spacing_known", True) else ({}, None)
    if metrics_csv:
        fields.update(metrics_parts(metrics_csv))
    if map_path:
        frame = (frames or {}).get("ED", 0)  # a map of a cine goes with its ED frame
        shown = labels.array[..., frame] if labels.array.ndim == 4 else labels.array
        value_map = read_image(map_path).array
        apex = apex_side(labels.affine)
        fields["segments"], fields["map_slices"] = map_value_tables(
            value_map, shown, aha, erode_px, apex, midwall_offset
        )
        fields["map_unit"] = map_unit
    page = write_report(image, labels, output, title or Path(image_path).name, ReportParts(**fields), frames)
    if map_path:
        write_rows(Path(output) / "segments.csv", fields["segments"] or [{"segment": "none (no RV contact)"}])
        write_rows(Path(output) / "slices.csv", fields["map_slices"])
    return page
