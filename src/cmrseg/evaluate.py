"""Compare predicted label maps with one or more references, per volume and per slice.

Rows of the metrics table: ``case, slice, level, label, reference, compared, dice, iou, hd_mm,
msd_mm, hd_contour_mm, note``. ``slice`` is ``all`` for the whole volume, else the slice index;
``level`` is basal / mid / apical (thirds of the reference LV's extent, basal at the end with
the larger heart), ``outside`` beyond it, ``all`` for volume rows. ``compared`` is ``model`` for
the prediction, or ``refN`` for reader-vs-reader agreement. Surface distances are in mm on the
masks; ``hd_contour_mm`` is the Hausdorff distance between fitted contours (endocardium on LV
rows, epicardium on MYO rows), as the mapping-segmentation paper measures it.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from scipy.spatial.distance import directed_hausdorff

from cmrseg.contours import contour_to_mask, densify, mask_contour, slice_contours
from cmrseg.image import LabelMap
from cmrseg.io.nifti import is_nifti, read_labels
from cmrseg.io.tables import write_rows
from cmrseg.labels import FOREGROUND, LABEL_NAMES, Label, check_label_convention
from cmrseg.metrics import dice, hausdorff_mm, iou, mean_surface_distance_mm

__all__ = [
    "Row",
    "volume_agreement",
    "discretisation_floor_mm",
    "slice_levels",
    "apex_side",
    "evaluate_arrays",
    "evaluate_paths",
    "summarise",
    "write_metrics",
    "case_files",
    "load_cases",
    "evaluate_cases",
]

LEVELS = ("basal", "mid", "apical")
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
    bad = sorted(set(np.unique(arr).tolist()) - set(LABEL_NAMES))
    if bad:
        raise ValueError(
            f"{name} holds label values {bad} that cmrseg does not know; "
            f"valid: {sorted(LABEL_NAMES)} (0 bg, 1 RV, 2 MYO, 3 LV); convert it first"
        )


def apex_side(affine: np.ndarray | None) -> int | None:
    """+1 when the slice index of a short-axis stack grows towards the apex, -1 towards the base,
    None when the geometry cannot tell.

    The apex lies inferior to the base, so the sign of the slice normal's superior component
    decides. That component is the same in RAS and LPS, so files that mix up the two (common in
    converted NIfTI) still read right. Axis-aligned affines (synthetic, e.g. identity) and slice
    normals within ~12 degrees of horizontal give None.
    """
    if affine is None:
        return None
    n = np.asarray(affine, float)[:3, 2]
    if not np.all(np.isfinite(n)) or np.linalg.norm(n) == 0:
        return None
    n = n / np.linalg.norm(n)
    if np.abs(n).max() > 0.95 or abs(n[2]) < 0.2:
        return None
    return 1 if n[2] < 0 else -1


def slice_levels(reference: np.ndarray, apex: int | None = None) -> list[str]:
    """basal / mid / apical per slice of an ``(X, Y, Z)`` label map, thirds of its LV extent.

    ``apex``: +1 when the slice index grows towards the apex, -1 towards the base
    (:func:`apex_side` of the file's affine). Without it the base is the end of the LV extent
    whose two slices hold more labelled heart (LV, myocardium and RV): right on all 160 ACDC
    reference volumes, which run base first.
    """
    lv = ((reference == Label.LV) | (reference == Label.MYO)).sum((0, 1))
    levels = ["outside"] * reference.shape[2]
    idx = np.flatnonzero(lv)
    if len(idx) == 0:
        return levels
    first, last = idx[0], idx[-1]
    if apex is None:
        heart = (reference > 0).sum((0, 1))
        base_first = heart[first : first + 2].mean() >= heart[max(last - 1, first) : last + 1].mean()
    else:
        base_first = apex > 0
    n = last - first + 1
    for z in range(first, last + 1):
        from_base = z - first if base_first else last - z
        levels[z] = LEVELS[min(int(3 * from_base / n), 2)]
    return levels


def _contour_hd(pred: np.ndarray | None, ref: np.ndarray | None, spacing: tuple[float, float]) -> float:
    if pred is None or ref is None:
        return float("nan")
    p, r = densify(pred) * np.asarray(spacing), densify(ref) * np.asarray(spacing)
    return float(max(directed_hausdorff(p, r)[0], directed_hausdorff(r, p)[0]))


def discretisation_floor_mm(
    contour: np.ndarray | None, shape: tuple[int, int], spacing: tuple[float, float], hull: bool = False
) -> float:
    """The best contour Hausdorff distance a mask can reach (the paper's Figure 9): the reference
    contour against the contour fitted again after rasterising it to pixels."""
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

    ``apex``: the stack's orientation for the slice levels (:func:`slice_levels`).

    ``spacing`` in mm; None when unknown: Dice and IoU only, distances NaN with a note."""
    if pred.shape != ref.shape:
        raise ValueError(f"case {case}: prediction shape {pred.shape} differs from reference {ref.shape}")
    _check_labels(pred, f"prediction {case}")
    _check_labels(ref, f"reference {case}")
    pred3 = pred[:, :, None] if pred.ndim == 2 else pred
    ref3 = ref[:, :, None] if ref.ndim == 2 else ref
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


def _case_name(path: Path) -> str:
    return path.name.split(".nii")[0]


def _files(path: Path) -> dict[str, Path]:
    if not path.exists():
        raise FileNotFoundError(f"no such file or folder: {path}")
    if path.is_dir():
        return {_case_name(p): p for p in sorted(path.iterdir()) if is_nifti(p)}
    return {_case_name(path): path}


def case_files(pred: Path | str, refs: list[Path | str] | Path | str) -> list[tuple[str, Path, list[Path]]]:
    """``(case, prediction file, reference files)`` for every case name found in PRED and all REFs.

    PRED and REFs are all NIfTI files (paired whatever their names) or all folders of NIfTI files
    (paired by file name).
    """
    refs = [refs] if isinstance(refs, str | Path) else list(refs)
    pred_files = _files(Path(pred))
    ref_files = [_files(Path(r)) for r in refs]
    if any(Path(pred).is_dir() != Path(r).is_dir() for r in refs):
        raise ValueError("PRED and REF must both be NIfTI files or both folders of NIfTI files")
    if not Path(pred).is_dir():
        ref_files = [{next(iter(pred_files)): next(iter(r.values()))} for r in ref_files]
    cases = [c for c in pred_files if all(c in r for r in ref_files)]
    if not cases:
        raise ValueError(f"no file names in common between {pred} and {', '.join(map(str, refs))}")
    return [(c, pred_files[c], [r[c] for r in ref_files]) for c in cases]


def _spacing_of(labels: LabelMap, spacing: tuple[float, ...] | None) -> tuple[float, ...] | None:
    """The given spacing (mm), else the file's, else None when the file records none."""
    if spacing is not None:
        return spacing
    return labels.spacing if labels.metadata.get("spacing_known", True) else None


Case = tuple[str, LabelMap, list[LabelMap]]  # name, prediction, references


def load_cases(pred: Path | str, refs: list[Path | str] | Path | str) -> list[Case]:
    """Read every prediction and its references (:func:`case_files`) once, checking that they share
    one grid; the tables, the volume agreement and the report all work from these."""
    cases: list[Case] = []
    for case, pred_file, ref_paths in case_files(pred, refs):
        lp = read_labels(pred_file)
        lrs = [read_labels(r) for r in ref_paths]
        for path, lab in zip((pred_file, *ref_paths), (lp, *lrs), strict=True):
            if (text := check_label_convention(lab.array)) is not None:
                warnings.warn(f"{Path(path).name}: {text}", stacklevel=2)
        for k, lr in enumerate(lrs):
            if lr.shape != lp.shape or not np.allclose(lr.affine, lp.affine, atol=1e-3):
                raise ValueError(
                    f"case {case}: prediction and reference {k + 1} are on different grids "
                    f"(shapes {lp.shape} vs {lr.shape}); resample one onto the other first"
                )
        cases.append((case, lp, lrs))
    return cases


def evaluate_cases(cases: list[Case], spacing: tuple[float, ...] | None = None) -> list[Row]:
    """Rows of every case of :func:`load_cases`: model vs each reference, and reader vs reader
    (``compared`` = ``refN``) with several. ``spacing`` (mm) overrides the files'; a reference that
    records none gets no distances (NaN, with a note)."""
    rows: list[Row] = []
    for case, lp, lrs in cases:
        for k, lr in enumerate(lrs):
            sp, apex = _spacing_of(lr, spacing), apex_side(lr.affine)
            rows += evaluate_arrays(case, lp.array, lr.array, sp, f"ref{k + 1}", "model", apex)
        for i in range(len(lrs)):
            for j in range(i + 1, len(lrs)):
                sp, apex = _spacing_of(lrs[j], spacing), apex_side(lrs[j].affine)
                rows += evaluate_arrays(case, lrs[i].array, lrs[j].array, sp, f"ref{j + 1}", f"ref{i + 1}", apex)
    return rows


def evaluate_paths(
    pred: Path | str, refs: list[Path | str] | Path | str, spacing: tuple[float, ...] | None = None
) -> list[Row]:
    """Evaluate a prediction (file or folder) against one or more references (matched by file name):
    :func:`evaluate_cases` of :func:`load_cases`."""
    return evaluate_cases(load_cases(pred, refs), spacing)


def summarise(rows: list[Row]) -> list[dict[str, object]]:
    """Mean metrics per (compared, reference, level, label): volume rows as level ``all``."""
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


def _write_csv(records: list[dict], path: Path) -> None:
    write_rows(path, records)


def write_metrics(rows: list[Row], path: Path | str, summary_path: Path | str | None = None) -> None:
    """Write rows (and optionally the summary) as CSV, atomically."""
    _write_csv([asdict(r) for r in rows], Path(path))
    if summary_path is not None:
        _write_csv(summarise(rows), Path(summary_path))


def volume_agreement(cases: list[Case], out_dir: Path, spacing: tuple[float, ...] | None = None) -> list[str]:
    """With >= 3 cases: per-label volume agreement (ICC(2,1), Bland-Altman) of the prediction with
    each reference and of every pair of references (inter-observer), written as ``agreement.csv``
    (columns compared, reference, label, ...) and ``bland_altman_<label>_<compared>_vs_<reference>.png``
    in ``out_dir``. Volumes in mL when the files record their spacing (or ``spacing`` is given), else
    in voxels. Returns printable lines (none with < 3 cases)."""
    if len(cases) < 3:
        return []
    names = ["model"] + [f"ref{k + 1}" for k in range(len(cases[0][2]))]
    vols = {n: {LABEL_NAMES[c]: [] for c in FOREGROUND} for n in names}  # name -> label -> mL per case
    unit = "mL"
    for _, lp, lrs in cases:
        maps = [lp, *lrs]
        sp = _spacing_of(lrs[0], spacing)
        unit = unit if sp is not None else "voxels"
        voxel = float(np.prod(sp[:3])) / 1000.0 if sp is not None else 1.0
        for name, lab in zip(names, maps, strict=True):
            for c in FOREGROUND:
                vols[name][LABEL_NAMES[c]].append(float((lab.array == c).sum()) * voxel)
    comparisons = [("model", r) for r in names[1:]] + [
        (names[i], names[j]) for i in range(1, len(names)) for j in range(i + 1, len(names))
    ]
    records, lines = [], []
    for a, b in comparisons:
        for label in vols[b]:
            rec = _volume_agreement(np.array(vols[a][label]), np.array(vols[b][label]), label, unit, a, b, out_dir)
            if rec is not None:
                records.append(rec)
                lines.append(
                    f"{a} vs {b}, {label} volume: ICC(2,1) {rec['icc_2_1']:.3f}, bias {rec['bias']:+.1f} {unit}, "
                    f"limits of agreement [{rec['loa_low']:.1f}, {rec['loa_high']:.1f}]"
                )
    if records:
        _write_csv(records, out_dir / "agreement.csv")
    return lines


def _volume_agreement(
    a: np.ndarray, b: np.ndarray, label: str, unit: str, name_a: str, name_b: str, out_dir: Path
) -> dict | None:
    """One agreement row and its Bland-Altman plot; None when the reference never has the label."""
    from cmrseg.agreement import agreement, bland_altman_figure
    from cmrseg.report.figures import save_figure

    if not b.any():
        return None
    ag = agreement(a, b)
    title = f"{name_a} - {name_b} ({unit})"
    fig = bland_altman_figure(a, b, f"mean {label} volume ({unit})", title)
    save_figure(fig, out_dir / f"bland_altman_{label}_{name_a}_vs_{name_b}.png")
    return {
        "compared": name_a,
        "reference": name_b,
        "label": label,
        "unit": unit,
        "n": ag.n,
        "icc_2_1": ag.icc,
        "icc_ci_low": ag.icc_ci95[0],
        "icc_ci_high": ag.icc_ci95[1],
        "bias": ag.bias,
        "loa_low": ag.loa_low,
        "loa_high": ag.loa_high,
    }
