"""One HTML page per study: overlays, function, metrics and plots, with the images beside it."""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np

from cmrseg.image import Image, LabelMap
from cmrseg.io.atomic import atomic_write
from cmrseg.preprocess import normalise_intensity
from cmrseg.report.figures import save_figure
from cmrseg.report.plots import bullseye_figure, overlay_figure, violin_figure

__all__ = ["write_report", "page_html", "table_html"]


def _table(rows: list[dict], keys: list[str]) -> str:
    head = "".join(f"<th>{html.escape(k)}</th>" for k in keys)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(r.get(k))}</td>" for k in keys) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def page_html(title: str, parts: list[str]) -> str:
    """A self-contained page of HTML ``parts`` (images are relative files beside it)."""
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>" + html.escape(title) + "</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #ccc;padding:2px 6px;font-size:12px}img{margin:2px}</style></head><body>"
        + "\n".join(parts)
        + "</body></html>"
    )


def table_html(rows: list[dict], keys: list[str] | None = None) -> str:
    """An HTML table of ``rows`` (numbers to 3 significant digits, NaN as a dash)."""
    return _table(rows, keys or list(rows[0])) if rows else "<p>(none)</p>"


def _fmt(v: object) -> str:
    if isinstance(v, float):
        return "—" if not np.isfinite(v) else f"{v:.3g}" if abs(v) < 10 else f"{v:.1f}"
    return html.escape(str(v))


def write_report(
    image: Image,
    labels: LabelMap,
    out_dir: Path | str,
    title: str = "cmrseg study",
    function: dict | None = None,
    metrics: list[dict] | None = None,
    segment_values: dict[int, float] | None = None,
    frame: int = 0,
) -> Path:
    """Write ``out_dir/index.html`` and its PNGs; returns the page's path.

    ``image``/``labels`` are ``(X, Y, Z)`` stacks (or ``(X, Y, Z, T)``: ``frame`` is shown).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    img, lab = image.array, labels.array
    if img.shape != lab.shape:
        raise ValueError(f"image {img.shape} and labels {lab.shape} must share one grid")
    if img.ndim == 4:
        img, lab = img[..., frame], lab[..., frame]
    if img.ndim == 2:
        img, lab = img[:, :, None], lab[:, :, None]
    norm = normalise_intensity(img)
    figs = []
    for z in range(img.shape[2]):
        name = f"slice{z:02d}.png"
        save_figure(overlay_figure(norm[:, :, z], lab[:, :, z], f"slice {z}"), out / name, dpi=80)
        figs.append(name)
    parts = [
        f"<h1>{html.escape(title)}</h1>",
        f"<p>Grid {img.shape[0]}×{img.shape[1]}, {img.shape[2]} slices, spacing "
        f"{' × '.join(f'{s:.2f}' for s in image.spacing)} mm. "
        "Contours: endocardium red, epicardium green, RV blue.</p>",
    ]
    if function:
        parts.append("<h2>Function</h2>" + _table([function], list(function)))
    if metrics:
        parts.append("<h2>Metrics</h2>" + _table(metrics, list(metrics[0])))
        by_level: dict[str, list[float]] = {}
        for r in metrics:
            if r.get("level") not in (None, "all"):
                by_level.setdefault(str(r["level"]), []).append(float(r.get("dice", np.nan)))
        if by_level:
            save_figure(violin_figure(by_level, "Dice"), out / "violin_dice.png")
            parts.append('<img src="violin_dice.png" alt="Dice per slice level">')
    if segment_values:
        save_figure(bullseye_figure(segment_values), out / "bullseye.png")
        parts.append('<h2>AHA segments</h2><img src="bullseye.png" alt="bullseye">')
    parts.append("<h2>Slices</h2>" + "".join(f'<img src="{f}" alt="{f}">' for f in figs))
    atomic_write(out / "index.html", lambda p: p.write_text(page_html(title, parts)))
    (out / "report.json").write_text(json.dumps({"function": function, "segments": segment_values}, default=float))
    return out / "index.html"
