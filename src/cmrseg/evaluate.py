"""Compare predicted label maps with references: a metrics table per case and label."""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from cmrseg.io.atomic import atomic_write
from cmrseg.io.nifti import is_nifti, read_labels
from cmrseg.labels import FOREGROUND, LABEL_NAMES
from cmrseg.metrics import dice, hausdorff_mm, iou, mean_surface_distance_mm

__all__ = ["CaseMetrics", "evaluate_arrays", "evaluate_paths", "summarise", "write_metrics"]


@dataclass(frozen=True)
class CaseMetrics:
    case: str
    label: str
    dice: float
    iou: float
    hd_mm: float
    msd_mm: float


def _check_labels(arr: np.ndarray, name: str) -> None:
    bad = sorted(set(np.unique(arr).tolist()) - set(LABEL_NAMES))
    if bad:
        raise ValueError(
            f"{name} holds label values {bad} that cmrseg does not know; "
            f"valid: {sorted(LABEL_NAMES)} (0 bg, 1 RV, 2 MYO, 3 LV); convert it first"
        )


def evaluate_arrays(case: str, pred: np.ndarray, ref: np.ndarray, spacing: tuple[float, ...]) -> list[CaseMetrics]:
    """Per-label metrics of one case; ``pred``/``ref`` are label maps of one shape."""
    if pred.shape != ref.shape:
        raise ValueError(f"case {case}: prediction shape {pred.shape} differs from reference {ref.shape}")
    _check_labels(pred, f"prediction {case}")
    _check_labels(ref, f"reference {case}")
    sp = tuple(spacing[: pred.ndim]) + (1.0,) * max(0, pred.ndim - len(spacing))
    rows = []
    for label in FOREGROUND:
        p, r = pred == label, ref == label
        rows.append(
            CaseMetrics(
                case,
                LABEL_NAMES[label],
                dice(p, r),
                iou(p, r),
                hausdorff_mm(p, r, sp),
                mean_surface_distance_mm(p, r, sp),
            )
        )
    return rows


def _pairs(pred: Path, ref: Path) -> list[tuple[str, Path, Path]]:
    for p in (pred, ref):
        if not p.exists():
            raise FileNotFoundError(f"no such file or folder: {p}")
    if pred.is_dir() != ref.is_dir():
        raise ValueError("PRED and REF must both be NIfTI files or both folders of NIfTI files")
    if not pred.is_dir():
        return [(pred.name.split(".nii")[0], pred, ref)]
    refs = {p.name: p for p in ref.iterdir() if is_nifti(p)}
    pairs = [
        (p.name.split(".nii")[0], p, refs[p.name]) for p in sorted(pred.iterdir()) if is_nifti(p) and p.name in refs
    ]
    if not pairs:
        raise ValueError(f"no file names in common between {pred} and {ref}")
    return pairs


def evaluate_paths(pred: Path | str, ref: Path | str) -> list[CaseMetrics]:
    """Evaluate a prediction file (or folder) against a reference file (or folder, matched by name)."""
    rows = []
    for case, p, r in _pairs(Path(pred), Path(ref)):
        lp, lr = read_labels(p), read_labels(r)
        rows += evaluate_arrays(case, lp.array, lr.array, lr.spacing)
    return rows


def summarise(rows: list[CaseMetrics]) -> dict[str, dict[str, float]]:
    """Mean and standard deviation of Dice per label: ``{label: {"dice_mean", "dice_sd", "n"}}``."""
    out = {}
    for label in dict.fromkeys(r.label for r in rows):
        vals = np.array([r.dice for r in rows if r.label == label])
        out[label] = {"dice_mean": float(vals.mean()), "dice_sd": float(vals.std()), "n": len(vals)}
    return out


def write_metrics(rows: list[CaseMetrics], path: Path | str) -> None:
    """Write rows as CSV (atomically)."""

    def _write(tmp: Path) -> None:
        with open(tmp, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(asdict(rows[0])))
            writer.writeheader()
            writer.writerows(asdict(r) for r in rows)

    atomic_write(Path(path), _write)
