"""Report plots: contour overlays, violins per slice level, AHA bullseye, Bland-Altman."""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pingouin as pg  # noqa: E402

from cmrseg.agreement import paired_finite  # noqa: E402
from cmrseg.contours import slice_contours  # noqa: E402
from cmrseg.labels import LABEL_COLOURS, Label  # noqa: E402

__all__ = [
    "overlay_figure",
    "bland_altman_figure",
    "bullseye_figure",
    "metric_violins",
    "volume_curve_figure",
    "comparison_figure",
]


def overlay_figure(image: np.ndarray, labels: np.ndarray, title: str = "") -> plt.Figure:
    """One slice ``(X, Y)`` in [0, 1] with endo/epicardial contours and the RV outline.

    Parameters
    ----------
    image : np.ndarray
        ``(X, Y)`` intensities in [0, 1].
    labels : np.ndarray
        ``(X, Y)`` label map of the slice.
    title : str
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        A 3 x 3 inch figure.

    Raises
    ------
    ValueError
        ``labels`` is not 2D.
    """
    fig, ax = plt.subplots(figsize=(3, 3))
    ax.imshow(image, cmap="gray", vmin=0, vmax=1)
    cs = slice_contours(labels)
    for name, colour in (("endo", LABEL_COLOURS[Label.LV]), ("epi", LABEL_COLOURS[Label.MYO])):
        if cs[name] is not None:
            c = np.vstack([cs[name], cs[name][:1]])
            ax.plot(c[:, 1], c[:, 0], color=colour, lw=1.2)
    if (labels == Label.RV).any():
        ax.contour(labels == Label.RV, levels=[0.5], colors=[LABEL_COLOURS[Label.RV]], linewidths=1.0)
    ax.set_title(title, fontsize=9)
    ax.axis("off")
    fig.tight_layout()
    return fig


def bland_altman_figure(a: np.ndarray, b: np.ndarray, xlabel: str = "mean", ylabel: str = "difference") -> plt.Figure:
    """A Bland-Altman plot (pingouin) of paired measurements ``a``, ``b`` ``(N,)`` (non-finite pairs dropped).

    Parameters
    ----------
    a, b : np.ndarray
        ``(N,)`` paired measurements.
    xlabel, ylabel : str
        Axis labels.

    Returns
    -------
    matplotlib.figure.Figure
        The plot.

    Raises
    ------
    ValueError
        ``a`` and ``b`` differ in size, or fewer than 3 finite pairs remain.
    """
    a, b = paired_finite(a, b)
    fig, ax = plt.subplots(figsize=(5, 4))
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # zero-spread differences: CI bands degenerate
        pg.plot_blandaltman(a, b, ax=ax)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    fig.tight_layout()
    return fig


def bullseye_figure(segment_values: dict[int, float], unit: str = "ms", cmap: str = "viridis") -> plt.Figure:
    """AHA 16-segment bullseye: rings basal (outer) -> apical (inner), segment 1 at the top (anterior).

    Parameters
    ----------
    segment_values : dict of int to float
        Value per AHA segment (1-16); missing or non-finite segments are grey.
    unit : str
        Label of the colour bar.
    cmap : str
        A matplotlib colour map name.

    Returns
    -------
    matplotlib.figure.Figure
        The bullseye, each segment labelled with its number and value (rounded).
    """
    fig = plt.figure(figsize=(4, 4))
    ax = fig.add_subplot(111, projection="polar")
    vals = [v for v in segment_values.values() if np.isfinite(v)]
    lo, hi = (min(vals), max(vals)) if vals else (0.0, 1.0)
    norm = plt.Normalize(lo, hi if hi > lo else lo + 1)
    colours = plt.get_cmap(cmap)
    rings = [(range(1, 7), 3, 2, 60), (range(7, 13), 2, 1, 60), (range(13, 17), 1, 0.35, 90)]
    for segs, outer, inner, width in rings:
        for k, s in enumerate(segs):
            centre = np.deg2rad(90 + width * k)  # segment 1 / 7 / 13 on top, numbers counter-clockwise
            v = segment_values.get(s, np.nan)
            face = colours(norm(v)) if np.isfinite(v) else (0.85, 0.85, 0.85, 1)
            ax.bar(centre, outer - inner, width=np.deg2rad(width), bottom=inner, color=face, edgecolor="white")
            label = f"{s}\n{v:.0f}" if np.isfinite(v) else str(s)
            ink = "w" if np.dot(face[:3], (0.299, 0.587, 0.114)) < 0.5 else "k"  # readable on dark faces
            ax.text(centre, (outer + inner) / 2, label, ha="center", va="center", fontsize=7, color=ink)
    ax.set_axis_off()
    sm = plt.cm.ScalarMappable(norm=norm, cmap=colours)
    fig.colorbar(sm, ax=ax, fraction=0.046, pad=0.04, label=unit)
    return fig


_METRICS = (("dice", "Dice"), ("hd_mm", "Hausdorff (mm)"), ("msd_mm", "mean surface distance (mm)"))


def metric_violins(rows: list[dict]) -> plt.Figure:
    """Violins of Dice, Hausdorff and mean surface distance (rows) per label (columns) and slice level,
    from per-slice metric rows (keys label, level, dice, hd_mm, msd_mm).

    Parameters
    ----------
    rows : list of dict
        Per-slice metric rows: ``label`` (LV, MYO, RV), ``level`` (basal, mid, apical), ``dice``,
        ``hd_mm`` and ``msd_mm`` (mm); non-finite values are left out.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per metric and label; a level with a single value is shown as a dot.
    """
    labels = [lab for lab in ("LV", "MYO", "RV") if any(r.get("label") == lab for r in rows)]
    levels = [lev for lev in ("basal", "mid", "apical") if any(r.get("level") == lev for r in rows)]
    fig, axes = plt.subplots(
        len(_METRICS), max(len(labels), 1), figsize=(2.6 * max(len(labels), 1), 6.6), squeeze=False
    )
    for i, (key, name) in enumerate(_METRICS):
        for j, lab in enumerate(labels):
            ax = axes[i, j]
            data = [[float(r[key]) for r in rows if r.get("label") == lab and r.get("level") == lev] for lev in levels]
            data = [[x for x in d if np.isfinite(x)] for d in data]
            shown = [k for k, d in enumerate(data) if len(d) > 1]
            if shown:
                ax.violinplot([data[k] for k in shown], positions=[k + 1 for k in shown], showmedians=True)
            for k, d in enumerate(data):
                if len(d) == 1:
                    ax.plot([k + 1], d, "o", color="C0")
            ax.set_xticks(range(1, len(levels) + 1), levels, fontsize=8)
            ax.set_title(f"{lab}: {name}" if i == 0 else name, fontsize=8)
    fig.tight_layout()
    return fig


def volume_curve_figure(curves: dict[str, np.ndarray], ed: int | None = None, es: int | None = None) -> plt.Figure:
    """Volume (mL) per cine frame for each named structure, with ED and ES marked.

    Parameters
    ----------
    curves : dict of str to np.ndarray
        ``(T,)`` volumes in mL per frame, by structure name (``LV``, ``RV``).
    ed, es : int, optional
        The ED and ES frame indices, marked when given.

    Returns
    -------
    matplotlib.figure.Figure
        The plot.
    """
    fig, ax = plt.subplots(figsize=(4.5, 3))
    for name, v in curves.items():
        ax.plot(np.arange(len(v)), v, marker=".", label=name)
    for frame, tag in ((ed, "ED"), (es, "ES")):
        if frame is not None:
            ax.axvline(frame, color="grey", ls="--", lw=0.8)
            ax.text(frame, ax.get_ylim()[1], tag, ha="center", va="bottom", fontsize=8)
    ax.set_xlabel("frame")
    ax.set_ylabel("volume (mL)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def comparison_figure(
    image: np.ndarray | None,
    pred: np.ndarray,
    ref: np.ndarray,
    levels: list[str],
    crop: tuple[slice, slice] = (slice(None), slice(None)),
    title: str = "",
) -> plt.Figure:
    """Reference (solid) and prediction (dashed) outlines of the LV cavity, LV epicardium and RV on
    every labelled slice of ``(X, Y, Z)`` stacks, over ``image`` in [0, 1] (black when None).

    Parameters
    ----------
    image : np.ndarray or None
        ``(X, Y, Z)`` intensities in [0, 1], or None for a black background.
    pred : np.ndarray
        ``(X, Y, Z)`` predicted label map.
    ref : np.ndarray
        ``(X, Y, Z)`` reference label map.
    levels : list of str
        Level of each slice (:func:`cmrseg.geometry.slice_levels`), shown in the panel titles.
    crop : tuple of slice
        In-plane crop ``(rows, cols)`` applied to every panel.
    title : str
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per slice labelled in ``ref`` or ``pred`` (slice 0 when none is), at most 6 per row.
    """
    zs = [z for z in range(ref.shape[2]) if ref[:, :, z].any() or pred[:, :, z].any()] or [0]
    cols = min(6, len(zs))
    rows = int(np.ceil(len(zs) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(2.2 * cols, 2.3 * rows), squeeze=False)
    outlines = (
        ("LV", lambda lab: lab == Label.LV, LABEL_COLOURS[Label.LV]),
        ("epi", lambda lab: (lab == Label.LV) | (lab == Label.MYO), LABEL_COLOURS[Label.MYO]),
        ("RV", lambda lab: lab == Label.RV, LABEL_COLOURS[Label.RV]),
    )
    for ax in axes.flat:
        ax.axis("off")
    for ax, z in zip(axes.flat, zs, strict=False):
        back = np.zeros(ref.shape[:2]) if image is None else image[:, :, z]
        ax.imshow(back[crop], cmap="gray", vmin=0, vmax=1)
        for _, mask, colour in outlines:
            for lab, style in ((ref, "solid"), (pred, "dashed")):
                m = mask(lab[:, :, z])[crop]
                if m.any():
                    ax.contour(m, levels=[0.5], colors=[colour], linewidths=1.0, linestyles=style)
        ax.set_title(f"slice {z}" + ("" if levels[z] == "outside" else f" ({levels[z]})"), fontsize=7)
    fig.suptitle(f"{title}  (reference solid, prediction dashed)", fontsize=8)
    fig.tight_layout()
    return fig
