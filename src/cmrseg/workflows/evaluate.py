"""``cmrseg evaluate``: prediction and reference files in, metrics tables, agreement and report out.

The numbers come from :mod:`cmrseg.evaluate` (arrays in, rows out); this module finds and reads
the files, writes the tables and figures, and runs the whole command as :func:`evaluate_folder`.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from cmrseg.agreement import agreement
from cmrseg.evaluate import NO_SPACING, Case, Row, evaluate_cases, spacing_of, summarise
from cmrseg.function import voxel_volume_ml
from cmrseg.geometry import apex_side
from cmrseg.io.atomic import check_output
from cmrseg.io.nifti import is_nifti, nifti_stem, read_image, read_labels
from cmrseg.io.tables import write_rows
from cmrseg.labels import FOREGROUND, LABEL_NAMES, check_label_convention
from cmrseg.masks import as_stack
from cmrseg.report.figures import save_figure
from cmrseg.report.html import ReportParts, write_evaluation_report
from cmrseg.report.plots import bland_altman_figure
from cmrseg.workflows.report import metrics_parts

__all__ = [
    "EvaluationResult",
    "case_files",
    "load_cases",
    "evaluate_paths",
    "write_metrics",
    "volume_agreement",
    "evaluation_cases",
    "evaluation_report",
    "evaluate_folder",
]


def _case_name(path: Path) -> str:
    return nifti_stem(path)


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

    Parameters
    ----------
    pred : path
        A prediction NIfTI file, or a folder of them.
    refs : path or list of paths
        One reference per reader, shaped like ``pred``.

    Returns
    -------
    list of (str, pathlib.Path, list of pathlib.Path)
        In file name order.

    Raises
    ------
    FileNotFoundError
        If ``pred`` or a reference is not there.
    ValueError
        If files and folders are mixed, or no case name is common to all.
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


def load_cases(pred: Path | str, refs: list[Path | str] | Path | str) -> list[Case]:
    """Read every prediction and its references (:func:`case_files`) once, checking that they share
    one grid; the tables, the volume agreement and the report all work from these.

    Label maps that break the label convention are read with a warning.

    Parameters
    ----------
    pred : path
        A prediction NIfTI file, or a folder of them.
    refs : path or list of paths
        One reference per reader, shaped like ``pred``.

    Returns
    -------
    list of Case
        ``(name, prediction, references)`` of :class:`cmrseg.image.LabelMap`.

    Raises
    ------
    FileNotFoundError
        If ``pred`` or a reference is not there.
    ValueError
        If the files cannot be paired, or a reference is on another grid than its prediction.
    """
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


def evaluate_paths(
    pred: Path | str, refs: list[Path | str] | Path | str, spacing: tuple[float, ...] | None = None
) -> list[Row]:
    """Evaluate a prediction (file or folder) against one or more references (matched by file name):
    :func:`evaluate_cases` of :func:`load_cases`.

    Parameters
    ----------
    pred : path
        A prediction NIfTI file, or a folder of them.
    refs : path or list of paths
        One reference per reader, shaped like ``pred``.
    spacing : tuple of float, optional
        Voxel spacing in mm, overriding the files'.

    Returns
    -------
    list of Row
        Model vs each reference, and reader vs reader with several references.

    Raises
    ------
    FileNotFoundError
        If ``pred`` or a reference is not there.
    ValueError
        If the files cannot be paired or are on different grids.
    """
    return evaluate_cases(load_cases(pred, refs), spacing)


def _write_csv(records: list[dict], path: Path) -> None:
    write_rows(path, records)


def write_metrics(rows: list[Row], path: Path | str, summary_path: Path | str | None = None) -> None:
    """Write rows (and optionally the summary) as CSV, atomically.

    Parameters
    ----------
    rows : list of Row
        The metrics rows.
    path : path
        The rows' CSV file.
    summary_path : path, optional
        CSV file of the rows' summary (:func:`cmrseg.evaluate.summarise`).
    """
    _write_csv([asdict(r) for r in rows], Path(path))
    if summary_path is not None:
        _write_csv(summarise(rows), Path(summary_path))


def volume_agreement(cases: list[Case], out_dir: Path, spacing: tuple[float, ...] | None = None) -> list[str]:
    """With >= 3 cases: per-label volume agreement (ICC(2,1), Bland-Altman) of the prediction with
    each reference and of every pair of references (inter-observer), written as ``agreement.csv``
    (columns compared, reference, label, ...) and ``bland_altman_<label>_<compared>_vs_<reference>.png``
    in ``out_dir``. Volumes in mL when the files record their spacing (or ``spacing`` is given), else
    in voxels.

    Parameters
    ----------
    cases : list of Case
        The cases of :func:`load_cases`.
    out_dir : pathlib.Path
        Folder for ``agreement.csv`` and the plots.
    spacing : tuple of float, optional
        Voxel spacing in mm, overriding the files'.

    Returns
    -------
    list of str
        Printable lines (none with < 3 cases).
    """
    if len(cases) < 3:
        return []
    names = ["model"] + [f"ref{k + 1}" for k in range(len(cases[0][2]))]
    vols = {n: {LABEL_NAMES[c]: [] for c in FOREGROUND} for n in names}  # name -> label -> mL per case
    unit = "mL"
    for _, lp, lrs in cases:
        maps = [lp, *lrs]
        sp = spacing_of(lrs[0], spacing)
        unit = unit if sp is not None else "voxels"
        voxel = voxel_volume_ml(sp) if sp is not None else 1.0
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


def evaluation_cases(
    loaded: list, pred: Path | str, images: Path | str | None = None
) -> dict[str, tuple[np.ndarray | None, np.ndarray, np.ndarray, int | None]]:
    """``{case: (image, pred, ref, apex)}`` of an evaluation, for its report, from the cases of
    :func:`load_cases` (first reference): label maps as ``(X, Y, Z)`` (2D as one
    slice), the image from ``images`` (a file, or a folder matched by case name like PRED ``pred``,
    on the labels' grid) or None. Checks everything before anything is written.

    Parameters
    ----------
    loaded : list of Case
        The cases of :func:`load_cases`.
    pred : path
        The prediction file or folder the cases were read from.
    images : path, optional
        The images the labels belong to.

    Returns
    -------
    dict of str to tuple
        ``{case: (image, pred, ref, apex)}``: ``(X, Y, Z)`` arrays (image None without ``images``)
        and the apex side of the reference's affine.

    Raises
    ------
    ValueError
        If ``images`` is a folder where ``pred`` is a file (or the reverse), a case has no image or
        one of another shape, or a label map is neither 2D nor 3D.
    FileNotFoundError
        If ``images`` is not there.
    """
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
        stack = [a if a is None else as_stack(a) for a in (image, lp.array, lr.array)]
        if stack[1].ndim != 3:
            raise ValueError(f"case {case}: the evaluation report takes 2D or 3D label maps, got {lp.shape}")
        cases[case] = (stack[0], stack[1], stack[2], apex_side(lr.affine))
    return cases


def evaluation_report(out_dir: Path | str, cases: dict, metrics_csv: Path | str) -> Path:
    """``out_dir/index.html`` of an evaluation from its metrics.csv (and summary, agreement and
    Bland-Altman files beside it) and the cases of :func:`evaluation_cases`.

    Parameters
    ----------
    out_dir : path
        The evaluation's output folder.
    cases : dict
        ``{case: (image, pred, ref, apex)}`` of :func:`evaluation_cases`.
    metrics_csv : path
        The evaluation's metrics.csv.

    Returns
    -------
    pathlib.Path
        The page written.
    """
    return write_evaluation_report(out_dir, ReportParts(**metrics_parts(Path(metrics_csv))), cases)


@dataclass(frozen=True)
class EvaluationResult:
    """What :func:`evaluate_folder` wrote and found."""

    rows: list[Row]
    summary: list[dict[str, object]]
    metrics_csv: Path
    summary_csv: Path
    agreement: list[str]
    no_spacing: list[str]
    report: Path | None


def evaluate_folder(
    pred: Path | str,
    refs: list[Path | str] | Path | str,
    output: Path | str,
    images: Path | str | None = None,
    spacing: tuple[float, ...] | None = None,
    report: bool = True,
    overwrite: bool = False,
) -> EvaluationResult:
    """Evaluate predictions against one or more references and write every output of ``cmrseg evaluate``.

    Parameters
    ----------
    pred : path
        A label map file, or a folder of them (paired with the references by file name).
    refs : path or list of paths
        One reference per reader, shaped like ``pred``.
    output : path
        Folder for ``metrics.csv``, ``summary.csv``, ``agreement.csv`` and Bland-Altman plots
        (3 or more cases) and ``index.html`` (unless ``report`` is False).
    images : path, optional
        The images the labels belong to, for the report's overlays.
    spacing : tuple of float, optional
        Voxel spacing in mm, overriding the files'.
    report : bool
        Write the HTML report.
    overwrite : bool
        Replace existing outputs.

    Returns
    -------
    EvaluationResult
        The rows, their summary, the files written, agreement lines, the cases without spacing.
    """
    output = Path(output)
    metrics_csv, summary_csv = output / "metrics.csv", output / "summary.csv"
    check_output(metrics_csv, overwrite)
    loaded = load_cases(pred, refs)
    rows = evaluate_cases(loaded, spacing)
    cases = evaluation_cases(loaded, pred, images) if report else None
    write_metrics(rows, metrics_csv, summary_csv)
    lines = volume_agreement(loaded, output, spacing)
    page = evaluation_report(output, cases, metrics_csv) if cases is not None else None
    return EvaluationResult(
        rows=rows,
        summary=summarise(rows),
        metrics_csv=metrics_csv,
        summary_csv=summary_csv,
        agreement=lines,
        no_spacing=sorted({r.case for r in rows if NO_SPACING in r.note}),
        report=page,
    )
