"""One HTML page per study: overlays, function, metrics and plots, with the images beside it."""

from __future__ import annotations

import html
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cmrseg.geometry import apex_side, slice_levels
from cmrseg.image import Image, LabelMap
from cmrseg.io.atomic import atomic_write
from cmrseg.preprocess import normalise_intensity
from cmrseg.report.figures import save_figure
from cmrseg.report.plots import (
    bullseye_figure,
    comparison_figure,
    metric_violins,
    overlay_figure,
    volume_curve_figure,
)

__all__ = ["write_report", "ReportParts", "page_html", "table_html", "write_evaluation_report"]


def _table(rows: list[dict], keys: list[str]) -> str:
    head = "".join(f"<th>{html.escape(k)}</th>" for k in keys)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(r.get(k))}</td>" for k in keys) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def page_html(title: str, parts: list[str]) -> str:
    """A self-contained page of HTML ``parts`` (images are relative files beside it).

    Parameters
    ----------
    title : str
        The page title (escaped).
    parts : list of str
        HTML fragments of the body, in order (inserted as they are).

    Returns
    -------
    str
        The HTML document, with its style sheet inline.
    """
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>" + html.escape(title) + "</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #ccc;padding:2px 6px;font-size:12px}img{margin:2px}</style></head><body>"
        + "\n".join(parts)
        + "</body></html>"
    )


def table_html(rows: list[dict], keys: list[str] | None = None) -> str:
    """An HTML table of ``rows`` (numbers to 3 significant digits, NaN as a dash).

    Parameters
    ----------
    rows : list of dict
        One dict per table row.
    keys : list of str, optional
        The columns, in order; default: the keys of the first row. A missing key gives ``None``.

    Returns
    -------
    str
        The ``<table>`` HTML (cells escaped; floats of 10 or more to one decimal), or ``<p>(none)</p>``
        when ``rows`` is empty.
    """
    return _table(rows, keys or list(rows[0])) if rows else "<p>(none)</p>"


def _fmt(v: object) -> str:
    if isinstance(v, float):
        return "—" if not np.isfinite(v) else f"{v:.3g}" if abs(v) < 10 else f"{v:.1f}"
    return html.escape(str(v))


@dataclass(frozen=True)
class ReportParts:
    """What a study page shows besides the overlays; every part optional.

    ``function``: volumes / EF / mass; ``volume_curves``: mL per cine frame by name (``LV``, ``RV``),
    with ED/ES marked from ``function``; ``metrics``: rows of ``cmrseg evaluate``'s metrics.csv;
    ``summary``: its summary.csv; ``agreement``: its agreement.csv; ``bland_altman``: its PNGs;
    ``segments``: AHA rows (segment, median, q1, q3, n) of a map in ``map_unit``; ``map_slices``:
    per-slice myocardial rows of the same map; ``warnings``: lines shown at the top of the page.
    """

    function: dict | None = None
    volume_curves: dict[str, np.ndarray] | None = None
    metrics: list[dict] | None = None
    summary: list[dict] | None = None
    agreement: list[dict] | None = None
    bland_altman: tuple[Path, ...] = ()
    segments: list[dict] | None = None
    map_slices: list[dict] | None = None
    map_unit: str = "ms"
    warnings: tuple[str, ...] = ()


def _heart_box(lab: np.ndarray, margin: float = 0.25, min_px: int = 64) -> tuple[slice, slice]:
    """A square crop around all labelled pixels of an ``(X, Y, Z)`` stack (the whole slice if none)."""
    pts = np.argwhere(lab.any(2))
    if len(pts) == 0:
        return slice(None), slice(None)
    lo, hi = pts.min(0), pts.max(0) + 1
    centre, half = (lo + hi) / 2, max(max(hi - lo) * (1 + 2 * margin), min_px) / 2
    box = [(max(int(c - half), 0), min(int(c + half), n)) for c, n in zip(centre, lab.shape[:2], strict=True)]
    return slice(*box[0]), slice(*box[1])


def _overlays(
    norm: np.ndarray, lab: np.ndarray, out: Path, apex: int | None, crop: tuple[slice, slice], tag: str = ""
) -> list[str]:
    rows, cols = crop
    names = []
    for z, level in enumerate(slice_levels(lab, apex)):
        name = f"slice{z:02d}{tag}.png"
        title = f"slice {z}" + ("" if level == "outside" else f" ({level})")
        save_figure(overlay_figure(norm[rows, cols, z], lab[rows, cols, z], title), out / name, dpi=80)
        names.append(name)
    return names


def _metrics_parts(parts: ReportParts, out: Path) -> list[str]:
    html_parts = ["<h2>Metrics</h2>"]
    if parts.summary:
        html_parts.append("<h3>Summary per label and slice level (means)</h3>" + table_html(parts.summary))
    rows = [r for r in parts.metrics or [] if r.get("level") not in (None, "all", "outside")]
    if rows:
        save_figure(metric_violins(rows), out / "violin_metrics.png")
        html_parts.append('<img src="violin_metrics.png" alt="Dice, Hausdorff and surface distance per slice level">')
    if parts.agreement:
        html_parts.append("<h3>Volume agreement: ICC(2,1) and Bland-Altman</h3>" + table_html(parts.agreement))
    for png in parts.bland_altman:
        if png.resolve() != (out / png.name).resolve():
            shutil.copyfile(png, out / png.name)
        html_parts.append(f'<img src="{html.escape(png.name)}" alt="{html.escape(png.stem)}" width="360">')
    if parts.metrics:
        html_parts.append(
            f"<details><summary>All {len(parts.metrics)} metric rows</summary>"
            + table_html(parts.metrics)
            + "</details>"
        )
    return html_parts


def _map_parts(parts: ReportParts, out: Path) -> list[str]:
    html_parts = [f"<h2>Map values ({html.escape(parts.map_unit)})</h2>"]
    if parts.segments:
        medians = {int(r["segment"]): float(r["median"]) for r in parts.segments}
        save_figure(bullseye_figure(medians, parts.map_unit), out / "bullseye.png")
        html_parts.append('<img src="bullseye.png" alt="bullseye">' + table_html(parts.segments))
    else:
        html_parts.append("<p>No AHA segments: the labels need the RV touching the myocardium.</p>")
    if parts.map_slices:
        html_parts.append("<h3>Myocardium per slice</h3>" + table_html(parts.map_slices))
    return html_parts


def write_report(
    image: Image,
    labels: LabelMap,
    out_dir: Path | str,
    title: str = "cmrseg study",
    parts: ReportParts = ReportParts(),
    frames: dict[str, int] | None = None,
) -> Path:
    """Write ``out_dir/index.html`` and its PNGs; returns the page's path.

    Parameters
    ----------
    image : Image
        ``(X, Y, Z)`` stack or ``(X, Y, Z, T)`` cine (an ``(X, Y)`` slice is shown as one slice).
    labels : LabelMap
        Labels on the same grid as ``image``.
    out_dir : pathlib.Path or str
        The folder to write into (created if missing).
    title : str
        Page title.
    parts : ReportParts
        What the page shows besides the overlays.
    frames : dict of str to int, optional
        For a cine, the frames shown: name -> frame index, e.g. ``{"ED": 0, "ES": 9}``; default
        frame 0.

    Returns
    -------
    pathlib.Path
        ``out_dir/index.html``; ``report.json`` (function, segments, map slices) is written beside it.

    Raises
    ------
    ValueError
        ``image`` and ``labels`` have different shapes.

    Notes
    -----
    Overlays are cropped to the labelled heart and titled with each slice's level.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    img, lab = image.array, labels.array
    if img.shape != lab.shape:
        raise ValueError(f"image {img.shape} and labels {lab.shape} must share one grid")
    if img.ndim == 2:
        img, lab = img[:, :, None], lab[:, :, None]
    if img.ndim == 4:
        frames = frames or {"frame 0": 0}
        views = {f"{name} (frame {f})": (img[..., f], lab[..., f]) for name, f in frames.items()}
    else:
        views = {"": (img, lab)}
    crop = _heart_box(np.concatenate([v[1] for v in views.values()], 2))
    apex = apex_side(image.affine)
    figs = {
        title: _overlays(normalise_intensity(im), lb, out, apex, crop, "" if k == 0 else f"_{k}")
        for k, (title, (im, lb)) in enumerate(views.items())
    }
    html_parts = [
        f"<h1>{html.escape(title)}</h1>",
        f"<p>Grid {img.shape[0]}×{img.shape[1]}, {img.shape[2]} slices, spacing "
        f"{' × '.join(f'{s:.2f}' for s in image.spacing)} mm"
        + (f", {img.shape[3]} frames" if img.ndim == 4 else "")
        + ". Contours: endocardium red, epicardium green, RV blue.</p>",
    ]
    if parts.warnings:
        items = "".join(f"<li>{html.escape(w)}</li>" for w in parts.warnings)
        html_parts.append(f"<div style='background:#fff3cd;padding:0.5em 1em'><b>Check:</b><ul>{items}</ul></div>")
    if parts.function:
        html_parts.append("<h2>Function</h2>" + table_html([parts.function]))
    if parts.volume_curves:
        fn = parts.function or {}
        curves = volume_curve_figure(parts.volume_curves, fn.get("ed_frame"), fn.get("es_frame"))
        save_figure(curves, out / "volumes.png")
        html_parts.append('<img src="volumes.png" alt="volume curves">')
    if parts.metrics or parts.summary:
        html_parts += _metrics_parts(parts, out)
    if parts.segments is not None or parts.map_slices:
        html_parts += _map_parts(parts, out)
    for view, names in figs.items():
        heading = "Slices" + (f": {html.escape(view)}" if view else "")
        html_parts.append(f"<h2>{heading}</h2>" + "".join(f'<img src="{f}" alt="{f}">' for f in names))
    atomic_write(out / "index.html", lambda p: p.write_text(page_html(title, html_parts)))
    doc = {"function": parts.function, "segments": parts.segments, "map_slices": parts.map_slices}
    (out / "report.json").write_text(json.dumps(doc, default=float))
    return out / "index.html"


def write_evaluation_report(
    out_dir: Path | str,
    parts: ReportParts,
    cases: dict[str, tuple[np.ndarray | None, np.ndarray, np.ndarray, int | None]],
    title: str = "cmrseg evaluation",
    max_cases: int = 50,
) -> Path:
    """``out_dir/index.html`` of an evaluation: the metric parts of ``parts`` and, per case, the
    reference and prediction outlines on every labelled slice.

    Parameters
    ----------
    out_dir : pathlib.Path or str
        The folder to write into (created if missing).
    parts : ReportParts
        Its ``metrics``, ``summary``, ``agreement`` and ``bland_altman`` are shown.
    cases : dict
        ``cases[name] = (image, pred, ref, apex)`` with ``(X, Y, Z)`` arrays (image in any range, or
        None) and the stack's orientation (:func:`cmrseg.geometry.apex_side`, or None).
    title : str
        Page title.
    max_cases : int
        Outlines are drawn for the first ``max_cases`` cases only.

    Returns
    -------
    pathlib.Path
        ``out_dir/index.html``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    shown = list(cases.items())[:max_cases]
    more = f" (outlines of the first {len(shown)})" if len(shown) < len(cases) else ""
    html_parts = [f"<h1>{html.escape(title)}</h1>", f"<p>{len(cases)} case(s){more}.</p>"]
    html_parts += _metrics_parts(parts, out)
    html_parts.append("<h2>Cases</h2>")
    for k, (name, (image, pred, ref, apex)) in enumerate(shown):
        norm = None if image is None else normalise_intensity(image)
        png = f"case{k:03d}.png"
        fig = comparison_figure(
            norm, pred, ref, slice_levels(ref, apex), _heart_box(np.concatenate([pred, ref], 2)), name
        )
        save_figure(fig, out / png, dpi=80)
        html_parts.append(f'<h3>{html.escape(name)}</h3><img src="{png}" alt="{html.escape(name)}">')
    atomic_write(out / "index.html", lambda p: p.write_text(page_html(title, html_parts)))
    return out / "index.html"
