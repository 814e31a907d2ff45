"""Compare predicted label maps with one or more references, per volume and per slice (arrays in, rows out).

Files are found, read and written by :mod:`cmrseg.workflows.evaluate`.

Rows of the metrics table: ``case, slice, level, label, reference, compared, dice, iou, hd_mm,
msd_mm, hd_contour_mm, note``. ``slice`` is ``all`` for the whole volume, else the slice index;
``level`` is basal / mid / apical (thirds of the reference LV's extent, basal at the end with
the larger heart), ``outside`` beyond it, ``all`` for volume rows. ``compared`` is ``model`` for
the prediction, or ``refN`` for reader-vs-reader agreement. Surface distances are in mm on the
masks; ``hd_contour_mm`` is the Hausdorff distance between fitted contours (endocardium on LV
rows, epicardium on MYO rows), as the mapping-segmentation paper measures it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.distance import directed_hausdorff

from cmrseg.contours import contour_to_mask, densify, mask_contour, slice_contours
from cmrseg.geometry import apex_side, slice_levels
from cmrseg.image import LabelMap
from cmrseg.labels import FOREGROUND, LABEL_NAMES, Label, unknown_label_values
from cmrseg.masks import as_stack
from cmrseg.metrics import dice, hausdorff_mm, iou, mean_surface_distance_mm

__all__ = [
    "Row",
    "Case",
    "NO_SPACING",
    "discretisation_floor_mm",
    "evaluate_arrays",
    "evaluate_cases",
    "spacing_of",
    "summarise",
]

NO_SPACING = "no voxel spacing recorded: distances in mm not computed (give --spacing)"


@dataclass(frozen=True)
class Row:
    case: str
    slice: str
    level: str
    label: str
    reference: str
    compared: str
    dice: float
    iou: float
    hd_mm: float
    msd_mm: float
    hd_contour_mm: float = float("nan")
    hd_floor_mm: float = float("nan")
    note: str = ""


def _check_labels(arr: np.ndarray, name: str) -> None:
    bad = unknown_label_values(arr)
    if bad:
        raise ValueError(
            f"{name} holds label values {bad} that cmrseg does not know; "
            f"valid: {sorted(LABEL_NAMES)} (0 bg, 1 RV, 2 MYO, 3 LV); convert it first"
        )


def _contour_hd(pred: np.ndarray | None, ref: np.ndarray | None, spacing: tuple[float, float]) -> float:
    if pred is None or ref is None:
        return float("nan")
    p, r = densify(pred) * np.asarray(spacing), densify(ref) * np.asarray(spacing)
    return float(max(directed_hausdorff(p, r)[0], directed_hausdorff(r, p)[0]))


def discretisation_floor_mm(
    contour: np.ndarray | None, shape: tuple[int, int], spacing: tuple[float, float], hull: bool = False
) -> float:
    """The best contour Hausdorff distance (mm) a mask can reach (the paper's Figure 9).

    The reference contour against the contour fitted again after rasterising it to pixels.

    Parameters
    ----------
    contour : numpy.ndarray or None
        ``(N, 2)`` ``(i, j)`` reference contour (clipped to the grid before rasterising).
    shape : tuple of int
        ``(X, Y)`` of the slice.
    spacing : tuple of float
        ``(dx, dy)`` pixel spacing in mm.
    hull : bool
        Allow the convex hull replacement when fitting again (the endocardium), as in
        :func:`cmrseg.contours.mask_contour`.

    Returns
    -------
    float
        Hausdorff distance in mm; NaN without a contour.
    """
    if contour is None:
        return float("nan")
    again = mask_contour(contour_to_mask(np.clip(contour, 0, np.asarray(shape) - 1), shape), hull=hull)
    return _contour_hd(again, contour, spacing)


def _row(
    case: str,
    z: str,
    level: str,
    label: int,
    ref_name: str,
    compared: str,
    p: np.ndarray,
    r: np.ndarray,
    spacing: tuple[float, ...] | None,
    hd_contour: float = float("nan"),
    floor: float = float("nan"),
) -> Row:
    note = "empty prediction" if r.any() and not p.any() else "empty reference" if p.any() and not r.any() else ""
    if spacing is None:
        note = "; ".join(filter(None, [note, NO_SPACING]))
    nan = float("nan")
    return Row(
        case,
        z,
        level,
        LABEL_NAMES[label],
        ref_name,
        compared,
        dice(p, r),
        iou(p, r),
        nan if spacing is None else hausdorff_mm(p, r, spacing),
        nan if spacing is None else mean_surface_distance_mm(p, r, spacing),
        hd_contour,
        floor,
        note,
    )


def evaluate_arrays(
    case: str,
    pred: np.ndarray,
    ref: np.ndarray,
    spacing: tuple[float, ...] | None,
    reference: str = "ref1",
    compared: str = "model",
    apex: int | None = None,
) -> list[Row]:
    """Volume and per-slice rows for one prediction/reference pair of ``(X, Y[, Z])`` label maps.

    Parameters
    ----------
    case : str
        The case name of the rows.
    pred, ref : numpy.ndarray
        ``(X, Y)`` or ``(X, Y, Z)`` label maps of one shape (cmrseg classes).
    spacing : tuple of float or None
        ``(dx, dy[, dz])`` in mm (a missing ``dz`` counts as 1); None when unknown: Dice and IoU only,
        distances NaN with a note.
    reference : str
        The rows' ``reference`` column, e.g. ``ref1``.
    compared : str
        The rows' ``compared`` column: ``model``, or ``refN`` for reader-vs-reader agreement.
    apex : int, optional
        The stack's orientation for the slice levels (:func:`cmrseg.geometry.slice_levels`).

    Returns
    -------
    list of Row
        One volume row (slice and level ``all``) per foreground class in either map, then one row per
        slice and class in either slice; LV and MYO slice rows also carry the contour Hausdorff distance
        (endocardium, epicardium) and its discretisation floor when the spacing is known.

    Raises
    ------
    ValueError
        When the shapes differ, a map holds label values that cmrseg does not know, or the maps are not
        2D or 3D.
    """
    if pred.shape != ref.shape:
        raise ValueError(f"case {case}: prediction shape {pred.shape} differs from reference {ref.shape}")
    _check_labels(pred, f"prediction {case}")
    _check_labels(ref, f"reference {case}")
    pred3 = as_stack(pred)
    ref3 = as_stack(ref)
    if pred3.ndim != 3:
        raise ValueError(f"case {case}: evaluate takes 2D slices or 3D stacks, got shape {pred.shape}")
    sp = None if spacing is None else tuple(spacing[:3]) + (1.0,) * max(0, 3 - len(spacing))
    sp2 = None if sp is None else sp[:2]
    rows = [
        _row(case, "all", "all", c, reference, compared, pred3 == c, ref3 == c, sp)
        for c in FOREGROUND
        if (pred3 == c).any() or (ref3 == c).any()
    ]
    for z, level in enumerate(slice_levels(ref3, apex)):
        p, r = pred3[:, :, z], ref3[:, :, z]
        cp, cr = slice_contours(p), slice_contours(r)
        for c in FOREGROUND:
            if not (p == c).any() and not (r == c).any():
                continue
            key = {Label.LV: "endo", Label.MYO: "epi"}.get(c)
            hdc = floor = float("nan")
            if key and sp2 is not None:
                hdc = _contour_hd(cp[key], cr[key], sp2)
                floor = discretisation_floor_mm(cr[key], r.shape, sp2, hull=key == "endo")
            rows.append(_row(case, str(z), level, c, reference, compared, p == c, r == c, sp2, hdc, floor))
    return rows


def spacing_of(labels: LabelMap, spacing: tuple[float, ...] | None) -> tuple[float, ...] | None:
    """The given spacing (mm), else the file's, else None when the file records none.

    Parameters
    ----------
    labels : LabelMap
        A label map read from a file; ``metadata["spacing_known"]`` False means the file records no spacing.
    spacing : tuple of float or None
        Voxel size in mm that overrides the file's.

    Returns
    -------
    tuple of float or None
        The spacing in mm, or None.
    """
    if spacing is not None:
        return spacing
    return labels.spacing if labels.metadata.get("spacing_known", True) else None


Case = tuple[str, LabelMap, list[LabelMap]]  # name, prediction, references


def evaluate_cases(cases: list[Case], spacing: tuple[float, ...] | None = None) -> list[Row]:
    """Rows of every case: model vs each reference, and reader vs reader (several references).

    The cases are those of :func:`cmrseg.workflows.evaluate.load_cases`.

    Parameters
    ----------
    cases : list of Case
        ``(name, prediction, references)`` per case.
    spacing : tuple of float, optional
        Voxel size in mm that overrides the files'; a reference that records none gets no distances
        (NaN, with a note).

    Returns
    -------
    list of Row
        :func:`evaluate_arrays` rows of the prediction against each reference (``compared`` = ``model``,
        ``reference`` = ``refK``) and, with several references, of each pair of them (``compared`` =
        ``refN``); slice levels use the orientation of each reference's affine
        (:func:`cmrseg.geometry.apex_side`).

    Raises
    ------
    ValueError
        When a prediction and a reference differ in shape, are not 2D or 3D, or hold label values that
        cmrseg does not know.
    """
    rows: list[Row] = []
    for case, lp, lrs in cases:
        for k, lr in enumerate(lrs):
            sp, apex = spacing_of(lr, spacing), apex_side(lr.affine)
            rows += evaluate_arrays(case, lp.array, lr.array, sp, f"ref{k + 1}", "model", apex)
        for i in range(len(lrs)):
            for j in range(i + 1, len(lrs)):
                sp, apex = spacing_of(lrs[j], spacing), apex_side(lrs[j].affine)
                rows += evaluate_arrays(case, lrs[i].array, lrs[j].array, sp, f"ref{j + 1}", f"ref{i + 1}", apex)
    return rows


def summarise(rows: list[Row]) -> list[dict[str, object]]:
    """Mean metrics per (compared, reference, level, label): volume rows as level ``all``.

    Parameters
    ----------
    rows : list of Row
        Rows of :func:`evaluate_arrays` or :func:`evaluate_cases`.

    Returns
    -------
    list of dict
        One dict per group in order of first appearance: ``compared``, ``reference``, ``level``, ``label``,
        ``n`` (rows) and the means of ``dice``, ``iou``, ``hd_mm``, ``msd_mm`` and ``hd_contour_mm`` over
        their finite values (NaN when there is none).
    """
    groups: dict[tuple[str, str, str, str], list[Row]] = {}
    for r in rows:
        groups.setdefault((r.compared, r.reference, r.level, r.label), []).append(r)
    out = []
    for (comp, ref, level, label), rs in groups.items():

        def mean(name: str, rs: list[Row] = rs) -> float:
            v = np.array([getattr(r, name) for r in rs], float)
            return float(np.nanmean(v)) if np.any(np.isfinite(v)) else float("nan")

        out.append(
            {
                "compared": comp,
                "reference": ref,
                "level": level,
                "label": label,
                "n": len(rs),
                "dice": mean("dice"),
                "iou": mean("iou"),
                "hd_mm": mean("hd_mm"),
                "msd_mm": mean("msd_mm"),
                "hd_contour_mm": mean("hd_contour_mm"),
            }
        )
    return out
