"""The HTML page of a T1 / ECV pipeline run: guides to check, consistency, maps, tables, bullseye."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from cmrseg.preprocess import normalise_intensity
from cmrseg.report.figures import save_figure
from cmrseg.report.html import page_html, table_html
from cmrseg.report.plots import bullseye_figure, overlay_figure

__all__ = ["PhaseView", "write_pipeline_report"]


@dataclass(frozen=True)
class PhaseView:
    """What the report shows of one phase (pre or post contrast), as plain arrays.

    Attributes
    ----------
    labels : numpy.ndarray
        ``(X, Y, Z)`` reference label map (the guide of each slice).
    guide_images : numpy.ndarray
        ``(X, Y, Z)`` the registered image each slice's guide was drawn on.
    guide_index : numpy.ndarray
        ``(Z,)`` that image's index in the series (0-based).
    guide_dice : numpy.ndarray
        ``(Z, N)`` myocardium Dice of each image's segmentation to the guide.
    t1_ms : numpy.ndarray
        ``(X, Y, Z)`` T1 map in ms.
    r2 : numpy.ndarray
        ``(X, Y, Z)`` coefficient of determination of the fit.
    """

    labels: np.ndarray
    guide_images: np.ndarray
    guide_index: np.ndarray
    guide_dice: np.ndarray
    t1_ms: np.ndarray
    r2: np.ndarray


def _maps_figure(panels: list[tuple[str, np.ndarray, tuple[float, float], str]]) -> plt.Figure:
    fig, axes = plt.subplots(1, len(panels), figsize=(3 * len(panels), 3))
    for ax, (title, arr, (lo, hi), unit) in zip(np.atleast_1d(axes), panels, strict=True):
        im = ax.imshow(arr, cmap="viridis", vmin=lo, vmax=hi)
        ax.set_title(title, fontsize=9)
        ax.axis("off")
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.02, label=unit)
    fig.tight_layout()
    return fig


def _consistency_figure(dice_pre: np.ndarray, dice_post: np.ndarray | None) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(5, 3))
    for name, d in (("pre", dice_pre), ("post", dice_post)):
        if d is None:
            continue
        for z, row in enumerate(d):
            ax.plot(range(1, len(row) + 1), row, marker="o", label=f"{name} slice {z}")
    ax.set_xlabel("image of the series (acquisition order)")
    ax.set_ylabel("myocardium Dice to the guide")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=6)
    fig.tight_layout()
    return fig


def write_pipeline_report(
    out: Path,
    pre: PhaseView,
    post: PhaseView | None,
    ecv: np.ndarray | None,
    slice_rows: list[dict],
    segment_rows: list[dict],
    title: str,
    values_note: str = "",
) -> Path:
    """Write ``out/index.html`` and its PNGs for a T1 pipeline run (:mod:`cmrseg.workflows.t1_pipeline`).

    Parameters
    ----------
    out : pathlib.Path
        Existing folder to write into.
    pre, post : PhaseView
        The pre-contrast phase, and the post-contrast one or None.
    ecv : numpy.ndarray or None
        ``(X, Y, Z)`` ECV map in percent, on the pre grid.
    slice_rows, segment_rows : list of dict
        The per-slice and per-AHA-segment tables.
    title : str
        Page title.
    values_note : str
        A sentence on where the values are read (e.g. the mid-wall), shown above the tables.

    Returns
    -------
    pathlib.Path
        ``out/index.html``.
    """
    parts = [
        f"<h1>{html.escape(title)}</h1>",
        "<p>Guided segmentation of every image, segmentation-based registration, pixel-wise MOLLI T1. "
        "Contours: endocardium red, epicardium green, RV blue. Check the guides first: every other "
        "result follows from them." + (f" {html.escape(values_note)}" if values_note else "") + "</p>",
        "<h2>Per slice</h2>" + table_html(slice_rows),
    ]
    if segment_rows:
        parts.append("<h2>AHA segments</h2>" + table_html(segment_rows))
        key = "ecv_median" if "ecv_median" in segment_rows[0] else "t1_pre_median"
        save_figure(
            bullseye_figure({r["segment"]: r[key] for r in segment_rows}, "%" if "ecv" in key else "ms"),
            out / "bullseye.png",
        )
        parts.append(f'<p>Bullseye of {key}:</p><img src="bullseye.png" alt="bullseye">')
    save_figure(
        _consistency_figure(pre.guide_dice, None if post is None else post.guide_dice),
        out / "consistency.png",
    )
    parts.append('<h2>Consistency</h2><img src="consistency.png" alt="Dice of each image to the guide">')
    parts.append("<h2>Guides and maps</h2>")
    for z in range(pre.labels.shape[2]):
        for name, phase in (("pre", pre), ("post", post)):
            if phase is None:
                continue
            ref = int(phase.guide_index[z])
            img = normalise_intensity(phase.guide_images[:, :, z])
            save_figure(
                overlay_figure(img, phase.labels[:, :, z], f"{name} slice {z}: guide image {ref + 1}"),
                out / f"guide_{name}_{z}.png",
                dpi=80,
            )
            parts.append(f'<img src="guide_{name}_{z}.png" alt="guide {name} {z}">')
        panels = [("T1 pre", pre.t1_ms[:, :, z], (0, 2000), "ms")]
        if post is not None:
            panels.append(("T1 post", post.t1_ms[:, :, z], (0, 1000), "ms"))
        if ecv is not None:
            panels.append(("ECV", ecv[:, :, z], (0, 60), "%"))
        panels.append(("R2 pre", pre.r2[:, :, z], (0.8, 1.0), ""))
        save_figure(_maps_figure(panels), out / f"maps_{z}.png", dpi=80)
        parts.append(f'<br><img src="maps_{z}.png" alt="maps slice {z}"><br>')
    (out / "index.html").write_text(page_html(title, parts))
    return out / "index.html"
