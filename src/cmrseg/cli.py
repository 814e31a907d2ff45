"""The ``cmrseg`` command: a thin layer over the Python API.

Heavy imports happen inside each command so ``cmrseg --help`` is instant. Before any of them,
:func:`_preflight` checks with the standard library only that inputs exist and are images and
that outputs can be written, so those refusals take well under a second. Errors in the user's
input, and ``OSError`` from writing (no space left, read-only folder), become one line on stderr
and exit status 2; warnings print as one line; a failed command removes the outputs it created.
"""

from __future__ import annotations

import argparse
import errno
import gzip
import os
import shutil
import struct
import sys
import tempfile
import warnings
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from cmrseg.aha import AhaConvention

__all__ = ["main"]


def _convert(a: argparse.Namespace) -> None:
    from cmrseg.io.datasets import convert

    ds = convert(a.dataset, a.src, a.dst)
    print(f"wrote {len(ds.cases)} cases of {len(ds.subjects)} subjects to {a.dst}")


def _train(a: argparse.Namespace) -> None:
    from dataclasses import replace

    from cmrseg.train import load_config, train

    config = load_config(a.config)
    overrides = {k: v for k, v in (("output", a.output), ("epochs", a.epochs), ("fold", a.fold)) if v is not None}
    result = train(replace(config, **overrides), resume=not a.restart)
    print(f"model written to {result['model']}")


def _finetune(a: argparse.Namespace) -> None:
    from cmrseg.train import finetune_config, train

    config = finetune_config(
        str(a.init_from),
        tuple(a.data),
        str(a.output),
        scratch=a.scratch,
        lr=a.lr,
        unfrozen_lr=a.unfrozen_lr,
        epochs=a.epochs,
        freeze_encoder_epochs=a.freeze_epochs,
        batch_size=a.batch_size,
        augment=a.augment,
        invert_probability=a.invert_probability,
        folds=a.folds,
        fold=a.fold,
        subset=a.subset,
        seed=a.seed,
        max_batches_per_epoch=a.max_batches,
    )
    print(f"model written to {train(config, resume=not a.restart)['model']}")


def _predict(a: argparse.Namespace) -> None:
    if a.alpha is not None and a.guide is None:
        raise ValueError("--alpha weighs a guide: give --guide MASK too")
    from cmrseg.predict import predict_file

    for path in predict_file(
        a.input,
        a.output,
        model=a.model or ("guided" if a.guide else "default"),
        device=a.device,
        tta=a.tta,
        overwrite=a.overwrite,
        invert=a.invert,
        series=a.series,
        guide=a.guide,
        alpha=0.25 if a.alpha is None else a.alpha,
    ):
        print(path)


def _segment_series(a: argparse.Namespace) -> None:
    import numpy as np

    from cmrseg.series_segmentation import segment_series_file

    result = segment_series_file(
        a.series_path, a.output, guide=str(a.guide), alpha=a.alpha, model=a.model, overwrite=a.overwrite
    )
    for z, row in enumerate(result.guide_dice):
        src = f"image {result.reference[z] + 1}" if result.reference[z] >= 0 else "given"
        print(f"slice {z}: guide {src}; myocardium Dice to the guide per image: {np.round(row, 3).tolist()}")
    print(a.output)


def _aha_convention(a: argparse.Namespace) -> AhaConvention:
    from cmrseg.aha import AhaConvention

    return AhaConvention(reference=a.aha_reference, rotation_deg=a.aha_rotation)


def _add_aha_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--aha-reference",
        default="septum",
        choices=["septum", "anterior", "inferior"],
        help="where AHA segments start: septal midpoint = boundary 2|3 (default), anterior RV insertion = 1|2, "
        "inferior RV insertion = 3|4",
    )
    parser.add_argument(
        "--aha-rotation",
        type=float,
        default=0.0,
        metavar="DEG",
        help="extra rotation of every AHA boundary in degrees, positive towards higher segment numbers",
    )


def _t1_pipeline(a: argparse.Namespace) -> None:
    from cmrseg.mapping.pipeline import PipelineOptions, t1_pipeline

    options = PipelineOptions(alpha=a.alpha, register=not a.no_register, model=a.model, aha=_aha_convention(a))
    summary = t1_pipeline(a.pre, a.output, a.post, a.hct, options, overwrite=a.overwrite)
    for row in summary["slices"]:
        text = f"slice {row['slice']}: myocardial T1 pre {row['t1_pre_ms']:.0f} ms"
        if "t1_post_ms" in row:
            text += f", post {row['t1_post_ms']:.0f} ms, ECV {row.get('ecv_percent', float('nan')):.1f} %"
        print(text)
    print(f"report: {a.output / 'index.html'}")


def _pseudo_label(a: argparse.Namespace) -> None:
    from cmrseg.train.pseudo import pseudo_label_dataset

    ds, predicted, reference = pseudo_label_dataset(
        a.data, a.output, a.tolerance, a.volumes, model=a.model, overwrite=a.overwrite
    )
    kept = {c.subject for c in ds.cases}
    for s in sorted(predicted):
        p, r = predicted[s], reference[s]
        mark = "kept" if s in kept else "rejected"
        print(f"{s}: EDV {p.edv:.1f}/{r.edv:.1f} ESV {p.esv:.1f}/{r.esv:.1f} EF {p.ef:.1f}/{r.ef:.1f} % {mark}")
    print(f"{len(kept)} of {len(predicted)} subjects within +-{a.tolerance:g} % written to {a.output}")


def _evaluate(a: argparse.Namespace) -> None:
    from cmrseg.evaluate import NO_SPACING, evaluate_cases, load_cases, summarise, volume_agreement, write_metrics
    from cmrseg.io.atomic import check_output
    from cmrseg.study import evaluation_cases, evaluation_report

    out = Path(a.output) / "metrics.csv"
    check_output(out, a.overwrite)
    spacing = _spacing(a.spacing)
    loaded = load_cases(a.pred, a.ref)
    rows = evaluate_cases(loaded, spacing)
    cases = evaluation_cases(loaded, a.pred, a.images) if not a.no_report else None
    write_metrics(rows, out, Path(a.output) / "summary.csv")
    missing = sorted({r.case for r in rows if NO_SPACING in r.note})
    if missing:
        print(f"warning: {', '.join(missing)}: {NO_SPACING}", file=sys.stderr)
    for line in volume_agreement(loaded, Path(a.output), spacing):
        print(line)
    print(f"{'compared':8s} {'ref':5s} {'level':7s} {'label':5s} {'n':>4s} {'dice':>6s} {'hd_mm':>7s} {'msd_mm':>7s}")
    for s in summarise(rows):
        print(
            f"{s['compared']:8s} {s['reference']:5s} {s['level']:7s} {s['label']:5s} {s['n']:4d} {s['dice']:6.3f} "
            f"{s['hd_mm']:7.2f} {s['msd_mm']:7.2f}"
        )
    print(f"wrote {out} and {Path(a.output) / 'summary.csv'}")
    if cases is not None:
        print(f"report: {evaluation_report(a.output, cases, out)}")


def _augment_preview(a: argparse.Namespace) -> None:
    import numpy as np

    from cmrseg.io.atomic import check_output
    from cmrseg.io.nifti import read_image, read_labels
    from cmrseg.preprocess import normalise_intensity
    from cmrseg.report.figures import augmentation_grid, save_figure

    check_output(Path(a.output), a.overwrite)
    image = read_image(a.image).array
    z = a.slice if a.slice is not None else (image.shape[2] // 2 if image.ndim >= 3 else 0)
    sl = image[:, :, z] if image.ndim >= 3 else image
    sl = sl[..., 0] if sl.ndim == 3 else sl
    mask = np.zeros(sl.shape, np.uint8)
    if a.label:
        lab = read_labels(a.label).array
        mask = (lab[:, :, z] if lab.ndim >= 3 else lab).astype(np.uint8)
        mask = mask[..., 0] if mask.ndim == 3 else mask
    fig = augmentation_grid(normalise_intensity(sl).T, mask.T, a.preset, a.n, a.seed)
    save_figure(fig, a.output)
    print(a.output)


def _parse_times(text: str | None) -> list[float] | None:
    if text is None:
        return None
    try:
        return [float(v) for v in text.replace(" ", "").split(",") if v]
    except ValueError:
        raise ValueError(f"--times must be comma-separated numbers in ms, got {text!r}") from None


def _map(quantity: str):  # noqa: ANN202
    def run(a: argparse.Namespace) -> None:
        import numpy as np

        from cmrseg.io.atomic import check_output
        from cmrseg.mapping.maps import FITTERS, fit_series, map_outputs, write_maps
        from cmrseg.mapping.series import read_series

        for path in map_outputs(a.output).values():
            check_output(path, a.overwrite)
        series = read_series(a.series_path, FITTERS[quantity][1], _parse_times(a.times), a.series)
        maps = fit_series(series, quantity)
        for path in write_maps(maps, a.output, overwrite=a.overwrite):
            print(path)
        failed = maps.result.failed
        print(
            f"fitted {failed.size} pixels: {(failed > 0).mean():.1%} failed; median R2 "
            f"{float(np.nanmedian(maps.result.r2)):.3f}"
        )

    return run


def _ecv(a: argparse.Namespace) -> None:
    from cmrseg.io.nifti import read_image, read_labels
    from cmrseg.mapping.ecv import check_contrast_order, region_median
    from cmrseg.mapping.maps import blood_t1_value, ecv_from_files

    summary = a.summary or ("myo" if a.myo is not None else "none")
    if summary == "myo" and a.myo is None:
        raise ValueError("--summary myo needs the myocardium: give --myo MASK (or --summary whole)")
    # refuse swapped or unregistered maps before anything is written
    pre, post = read_image(a.pre).array, read_image(a.post).array
    myo = None if a.myo is None else read_labels(a.myo).array > 0
    if myo is not None and myo.shape != pre.shape:
        raise ValueError(f"--myo {a.myo} has shape {myo.shape}, the T1 maps {pre.shape}")
    if pre.shape == post.shape:
        blood = blood_t1_value(a.blood_pre, pre, "--blood-pre"), blood_t1_value(a.blood_post, post, "--blood-post")
        check_contrast_order(pre, post, *blood, myo)
    bpre, bpost, ecv = ecv_from_files(a.pre, a.post, a.blood_pre, a.blood_post, a.hct, a.output, a.overwrite)
    text = f"blood T1 pre {bpre:.0f} ms, post {bpost:.0f} ms"
    if summary == "myo":
        median, n = region_median(ecv, myo)
        text += f"; median myocardial ECV {median:.1f}% ({n} pixels of --myo)"
    elif summary == "whole":
        median, n = region_median(ecv, None)
        text += f"; median ECV over the whole map (background included) {median:.1f}% ({n} pixels)"
    else:
        text += " (give --myo MASK for the median myocardial ECV)"
    print(text)
    print(a.output)


def _spacing(text: str | None) -> tuple[float, ...] | None:
    if text is None:
        return None
    try:
        spacing = tuple(float(v) for v in text.split(","))
    except ValueError:
        spacing = ()
    if len(spacing) not in (2, 3) or not all(0 < v < float("inf") for v in spacing):
        raise ValueError(f"--spacing needs positive numbers dx,dy[,dz] in mm, got {text!r}")
    return spacing


def _function(a: argparse.Namespace) -> None:
    import json

    from cmrseg.io.atomic import atomic_write, check_output
    from cmrseg.study import function_from_files

    if a.output:
        check_output(a.output, a.overwrite)
    fn, slices = function_from_files(a.cine, a.ed, a.es, a.model, _spacing(a.spacing))
    doc = {**fn.to_dict(), "warnings": fn.warnings(), "slices": slices}
    for line in doc["warnings"]:
        print(f"warning: {line}", file=sys.stderr)
    for key, value in fn.to_dict().items():
        print(f"{key:16s} {value if isinstance(value, int) or value is None else round(value, 1)}")
    print("slice level    LV area ED/ES (mm2)  wall ED/ES (mm)  thickening (%)")
    for r in slices:
        if r["level"] != "outside":
            print(
                f"{r['slice']:5d} {r['level']:7s} {r['lv_area_ed_mm2']:8.0f} {r['lv_area_es_mm2']:8.0f}   "
                f"{r['wall_thickness_ed_mm']:6.1f} {r['wall_thickness_es_mm']:6.1f}   {r['thickening_percent']:8.0f}"
            )
    if a.output:
        atomic_write(a.output, lambda p: p.write_text(json.dumps(doc, indent=1)))
        print(a.output)


def _report(a: argparse.Namespace) -> None:
    from cmrseg.io.atomic import check_output
    from cmrseg.study import report_from_files

    check_output(Path(a.output) / "index.html", a.overwrite)
    aha = _aha_convention(a)
    page = report_from_files(a.image, a.output, a.labels, a.model, a.title, a.metrics, a.map, aha, a.map_unit, a.erode)
    print(page)


def _warn_label_convention(array, source: Path) -> None:  # noqa: ANN001
    from cmrseg.labels import check_label_convention

    if (text := check_label_convention(array)) is not None:
        warnings.warn(f"{source}: {text}", stacklevel=2)


def _contours(a: argparse.Namespace) -> None:
    from cmrseg.contours import slice_contours
    from cmrseg.io.atomic import check_output
    from cmrseg.io.contours import write_contours_csv, write_contours_json
    from cmrseg.io.nifti import read_labels

    check_output(a.output, a.overwrite)
    labels = read_labels(a.labels)
    _warn_label_convention(labels.array, a.labels)
    arr = labels.array[:, :, None] if labels.array.ndim == 2 else labels.array
    if arr.ndim != 3:
        raise ValueError(f"{a.labels} has shape {labels.shape}; contours take a 2D slice or 3D stack (one cine frame)")
    contours = {z: slice_contours(arr[:, :, z].astype("uint8")) for z in range(arr.shape[2])}
    suffix = a.output.name.lower()
    if suffix.endswith(".json"):
        write_contours_json(contours, labels.affine, a.output)
    elif suffix.endswith(".csv"):
        write_contours_csv(contours, labels.affine, a.output)
    else:
        raise ValueError(f"output {a.output} must end in .json or .csv")
    found = sum(c is not None for cs in contours.values() for c in cs.values())
    print(f"{found} contours on {arr.shape[2]} slices -> {a.output}")


def _contours_to_mask(a: argparse.Namespace) -> None:
    from cmrseg.contours import contours_to_labels
    from cmrseg.image import LabelMap
    from cmrseg.io.atomic import check_output
    from cmrseg.io.contours import read_contours
    from cmrseg.io.loader import read_any
    from cmrseg.io.nifti import write_labels

    check_output(a.output, a.overwrite)
    like = read_any(a.like)
    shape = like.array.shape[:2] + ((like.array.shape[2],) if like.array.ndim >= 3 else (1,))
    labels = contours_to_labels(read_contours(a.contours), shape)
    arr = labels[:, :, 0] if like.array.ndim == 2 else labels
    write_labels(LabelMap(arr, like.spacing[: arr.ndim], like.affine, dict(like.metadata)), a.output)
    print(f"LV {int((arr == 3).sum())} px, MYO {int((arr == 2).sum())} px on {shape[2]} slices -> {a.output}")


def _series(a: argparse.Namespace) -> None:
    import json

    from cmrseg.io.atomic import atomic_write, check_output
    from cmrseg.io.series import discover_series

    if a.json is not None:
        check_output(a.json, a.overwrite)
    found = discover_series(a.folder)
    for item in found:
        print(item.line())
    if a.json is not None:
        atomic_write(a.json, lambda p: p.write_text(json.dumps([s.to_dict() for s in found], indent=1)))


def _add_series_parser(sub: argparse._SubParsersAction) -> None:
    se = sub.add_parser("series", help="list the DICOM series of a study folder, each classified (cine, LGE, MOLLI...)")
    se.add_argument("folder", type=Path, help="study folder (scanner export, PACS download), searched recursively")
    se.add_argument("--json", type=Path, help="also write the list, every field of every series, as JSON")
    se.add_argument("--overwrite", action="store_true", help="replace an existing --json file")
    se.set_defaults(func=_series)


def _study(a: argparse.Namespace) -> None:
    from cmrseg.workflows.study import run_study

    result = run_study(a.dicom_dir, a.output, hct=a.hct, model=a.model, overwrite=a.overwrite)
    for item in result.series:
        print(item.line())
    for path in result.files:
        print(path)
    folders = sorted({path.parent for path in result.dicom_files})
    for folder in folders:
        n = sum(p.parent == folder for p in result.dicom_files)
        print(f"{folder}/ ({n} DICOM file{'' if n == 1 else 's'})")
    print(f"study {result.status}" + (f": {result.reason}" if result.reason else ""))
    if result.status == "failed":
        raise ValueError(f"{result.reason} (reasons per series in {result.out_dir / 'results.json'})")


def _add_study_parser(sub: argparse._SubParsersAction) -> None:
    st = sub.add_parser("study", help="process every series of a DICOM study: segmentation, function, T1/ECV, QC")
    st.add_argument("dicom_dir", type=Path, help="study folder (scanner export, PACS download), searched recursively")
    st.add_argument("-o", "--output", type=Path, required=True, help="folder (created) for results, DICOM, report")
    st.add_argument("--hct", type=_HCT, help="haematocrit as a fraction (e.g. 0.42), for ECV from pre/post MOLLI")
    st.add_argument("--model", default="default", help="segmentation model: shipped name or file")
    st.add_argument("--overwrite", action="store_true", help="replace an existing output folder")
    st.set_defaults(func=_study)


def _cohort(a: argparse.Namespace) -> None:
    from cmrseg.workflows.cohort import run_cohort

    result = run_cohort(a.source, a.output, a.scheduler, a.workers, a.hct, a.model, a.retries, progress=True)
    for s in result.studies:
        if s.status != "complete":
            print(f"{s.study}  {s.status}  {s.reason}")
    for path in result.files:
        print(path)
    counts, resumed = result.counts, sum(s.resumed for s in result.studies)
    line = ", ".join(f"{counts.get(k, 0)} {k}" for k in ("complete", "partial", "failed"))
    print(f"cohort: {line}" + (f" ({resumed} done by an earlier run)" if resumed else ""))
    if len(result.failed) == len(result.studies):
        raise ValueError(f"every study failed (reasons in {result.out_dir / 'qc.html'})")


def _add_cohort_parser(sub: argparse._SubParsersAction) -> None:
    co = sub.add_parser("cohort", help="run `study` on every study of a cohort in parallel (Dask), resumable")
    co.add_argument("source", type=Path, help="folder with one sub-folder per study, or a CSV: study,path[,hct]")
    co.add_argument("-o", "--output", type=Path, required=True, help="folder: studies/, cohort.csv, qc.html")
    where = co.add_mutually_exclusive_group()
    where.add_argument("--scheduler", help="address of a running Dask scheduler (docs/cohort.md), e.g. tcp://host:8786")
    where.add_argument("--workers", type=int, help="local worker processes (default 1), each holding a model")
    co.add_argument("--hct", type=_HCT, help="haematocrit for studies whose CSV row gives none (ECV)")
    co.add_argument("--model", default="default", help="segmentation model: shipped name or file")
    co.add_argument("--retries", type=int, default=1, help="worker deaths a study may cause before it fails")
    co.set_defaults(func=_cohort)


# ---- checks before any heavy import (standard library only) ----------------------------------

#: command -> (argument, kind) of its inputs; kinds: image (a NIfTI file or a non-empty folder: DICOM
#: or NIfTI files), nifti (a NIfTI file), file, dir, mask (a number, or a NIfTI file), any (exists)
_INPUTS: dict[str, tuple[tuple[str, str], ...]] = {
    "convert": (("src", "dir"),),
    "train": (("config", "file"),),
    "finetune": (("data", "dir"),),
    "predict": (("input", "image"), ("guide", "image")),
    "pseudo-label": (("data", "dir"), ("volumes", "file")),
    "segment-series": (("series_path", "image"), ("guide", "nifti")),
    "t1-pipeline": (("pre", "image"), ("post", "image")),
    "evaluate": (("pred", "image"), ("ref", "image"), ("images", "image")),
    "augment-preview": (("image", "nifti"), ("label", "nifti")),
    "t1map": (("series_path", "image"),),
    "t2map": (("series_path", "image"),),
    "t1rhomap": (("series_path", "image"),),
    "ecv": (("pre", "nifti"), ("post", "nifti"), ("blood_pre", "mask"), ("blood_post", "mask"), ("myo", "nifti")),
    "contours": (("labels", "nifti"),),
    "contours-to-mask": (("contours", "file"), ("like", "image")),
    "report": (("image", "image"), ("labels", "nifti"), ("metrics", "file"), ("map", "nifti")),
    "function": (("cine", "image"), ("ed", "image"), ("es", "image")),
    "study": (("dicom_dir", "dir"),),
    "cohort": (("source", "any"),),
}

#: command -> (argument, kind, what must not exist without --overwrite, remove when the command fails);
#: kind file, dir or either; what: "" the output itself, a name inside it, or None (not checked)
_OUTPUTS: dict[str, tuple[str, str, str | None, bool]] = {
    "convert": ("dst", "dir", None, True),
    "finetune": ("output", "dir", None, False),  # a run folder resumes: kept after a failure
    "predict": ("output", "either", "", True),
    "pseudo-label": ("output", "dir", "", True),
    "segment-series": ("output", "file", "", True),
    "t1-pipeline": ("output", "dir", "", True),
    "evaluate": ("output", "dir", "metrics.csv", True),
    "augment-preview": ("output", "file", "", True),
    "t1map": ("output", "file", "", True),
    "t2map": ("output", "file", "", True),
    "t1rhomap": ("output", "file", "", True),
    "ecv": ("output", "file", "", True),
    "contours": ("output", "file", "", True),
    "contours-to-mask": ("output", "file", "", True),
    "report": ("output", "dir", "index.html", True),
    "function": ("output", "file", "", True),
    "study": ("output", "dir", "", False),  # a failed study keeps its results.json (why each series failed)
    "cohort": ("output", "dir", None, False),  # an existing one resumes; its complete studies are kept
}

#: commands whose --model is used whatever the input (function and report may read labels instead)
_MODEL_COMMANDS = ("predict", "segment-series", "t1-pipeline", "pseudo-label", "study", "cohort")


def _is_nifti_name(path: Path) -> bool:
    return path.name.lower().endswith((".nii", ".nii.gz"))


def _nifti_header(path: Path) -> tuple[str, bytes]:
    """(byte order, first 352 bytes) of a NIfTI-1/2 file; ValueError when it is not one."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            head = fh.read(352)
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"cannot read {path} as NIfTI: {exc}") from None
    for order in "<>":
        if len(head) >= 352 and struct.unpack(order + "i", head[:4])[0] in (348, 540):
            return order, head
    raise ValueError(f"cannot read {path} as NIfTI: no NIfTI header")


def _records_spacing(path: Path) -> bool:
    """io.nifti's rule from the header alone: no orientation codes and unit voxels = never recorded."""
    order, head = _nifti_header(path)
    if struct.unpack(order + "i", head[:4])[0] == 348:
        dim, pixdim = struct.unpack(order + "8h", head[40:56]), struct.unpack(order + "8f", head[76:108])
        codes = struct.unpack(order + "2h", head[252:256])
    else:
        dim, pixdim = struct.unpack(order + "8q", head[16:80]), struct.unpack(order + "8d", head[104:168])
        codes = struct.unpack(order + "2i", head[344:352])
    zooms = [z if z > 0 else 1.0 for z in pixdim[1 : 1 + min(max(dim[0], 2), 3)]]
    return not (codes == (0, 0) and all(z == 1.0 for z in zooms))


def _check_input(path: Path, kind: str, arg: str) -> None:
    if kind == "mask":
        try:
            float(str(path))
            return
        except ValueError:
            path, kind = Path(path), "nifti"
    if not path.exists():
        raise FileNotFoundError(f"{arg} {path}: no such file or folder")
    if kind == "dir":
        if not path.is_dir():
            raise ValueError(f"{arg} {path} is a file; a folder is expected")
    elif kind == "file" and path.is_dir():
        raise ValueError(f"{arg} {path} is a folder; a file is expected")
    elif kind in ("nifti", "image") and path.is_dir():
        if kind == "nifti":
            raise ValueError(f"{arg} {path} is a folder; a NIfTI file (.nii or .nii.gz) is expected")
        if not any(p.is_file() for p in path.rglob("*")):
            raise ValueError(
                f"{arg} {path} is an empty folder; a NIfTI file or a folder of DICOM/NIfTI files is expected"
            )
    elif kind in ("nifti", "image"):
        if not _is_nifti_name(path):
            valid = "a NIfTI file (.nii or .nii.gz)" + (" or a DICOM folder" if kind == "image" else "")
            raise ValueError(f"{arg} {path} is not a NIfTI file (.nii or .nii.gz); expected {valid}")
        _nifti_header(path)


def _check_output(path: Path, kind: str, what: str | None, overwrite: bool) -> None:
    if kind == "file" and path.is_dir():
        raise ValueError(f"output {path} is a folder; give a file name")
    if kind == "dir" and path.exists() and not path.is_dir():
        raise ValueError(f"output {path} is a file; give a folder")
    if what is not None and (kind != "either" or _is_nifti_name(path)):
        target = path / what if what else path
        if target.exists() and not overwrite:  # io.atomic.check_output, without importing cmrseg.io (nibabel)
            raise FileExistsError(f"output {target} exists; pass --overwrite to replace it")
    folder = path if path.is_dir() else path.parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        raise ValueError(f"cannot write {path}: {folder} is a file, not a folder")
    try:  # os.access alone says yes to root on read-only mounts and /sys
        if not os.access(folder, os.W_OK | os.X_OK):
            raise PermissionError(errno.EACCES, "Permission denied")
        tempfile.TemporaryFile(dir=folder).close()  # a nameless file (O_TMPFILE): nothing left behind
    except OSError as exc:
        raise ValueError(f"cannot write {path}: the folder {folder} is not writable ({exc.strerror})") from None


def _check_model(model: str) -> None:
    weights = Path(__file__).parent / "weights"  # shipped models: weights/<name>.pt
    if not Path(model).exists() and not (weights / f"{model}.pt").exists():
        names = sorted(p.stem for p in weights.glob("*.pt"))
        raise FileNotFoundError(f"no model named {model!r}; give a file path or one of {names}")


def _preflight(a: argparse.Namespace) -> None:
    """Refuse, before torch or a model loads, inputs that are missing or not images, outputs that
    exist (without --overwrite) or cannot be written, a missing model and a device not there."""
    for arg, kind in _INPUTS.get(a.command, ()):
        values = getattr(a, arg, None)
        for value in values if isinstance(values, list) else [values]:
            if value is not None and str(value) != "auto":
                _check_input(Path(value) if kind != "mask" else value, kind, arg.replace("_path", ""))
    if a.command in _OUTPUTS:
        arg, kind, what, _ = _OUTPUTS[a.command]
        if getattr(a, arg, None) is not None:
            _check_output(Path(getattr(a, arg)), kind, what, getattr(a, "overwrite", False))
    if a.command in _MODEL_COMMANDS or a.command == "report" and a.labels is None:
        _check_model(str(a.model or ("guided" if getattr(a, "guide", None) else "default")))
    if a.command == "cohort" and (a.workers is not None and a.workers < 1 or a.retries < 0):
        raise ValueError(f"--workers must be >= 1 and --retries >= 0, got {a.workers} and {a.retries}")
    if getattr(a, "device", None) is not None:
        from cmrseg.device import check_device

        check_device(a.device)
    if a.command == "function":
        if a.spacing is not None:
            _spacing(a.spacing)
        else:
            for path in (p for p in (a.cine, a.ed, a.es) if p is not None and p.is_file()):
                if not _records_spacing(path):
                    raise ValueError(
                        f"{path} records no voxel spacing, so volumes in mL cannot be computed; "
                        "give it with --spacing dx,dy,dz (mm)"
                    )


class _Rollback:
    """Outputs a command creates, removed again when it fails (what existed before is kept)."""

    def __init__(self, a: argparse.Namespace) -> None:
        spec = _OUTPUTS.get(a.command)
        value = getattr(a, spec[0], None) if spec and spec[3] else None
        self.path = None if value is None else Path(value)
        if self.path is None:
            return
        self.existed = self.path.exists()
        self.inside = set(self.path.iterdir()) if self.path.is_dir() else None  # an output folder's entries
        self.new_dirs = [p for p in self.path.parents if not p.exists()]  # deepest first
        self.prefixes = tuple(self.path.name.split(".")[0] + c for c in "._")
        self.before = self._companions()

    def _companions(self) -> set[Path]:  # T1.nii.gz -> T1_r2.nii.gz ..., lab.nii.gz -> lab_guide.png ...
        folder = self.path.parent
        return {p for p in folder.iterdir() if p.name.startswith(self.prefixes)} if folder.is_dir() else set()

    def undo(self) -> None:
        if self.path is None:
            return
        created = self._companions() - self.before
        if not self.existed:
            created.add(self.path)
        elif self.inside is not None and self.path.is_dir():
            created |= set(self.path.iterdir()) - self.inside
        for p in created:
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
        for folder in self.new_dirs:
            try:
                folder.rmdir()
            except OSError:  # not empty: not ours alone
                return


def _within(lo: float, hi: float, closed: bool, what: str):  # noqa: ANN202
    """An argparse type: a number in [lo, hi] (``closed``) or (lo, hi), refused at parse time (fast);
    the library checks the same bounds for Python callers."""
    brackets = "[]" if closed else "()"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not (lo <= value <= hi if closed else lo < value < hi):
            raise argparse.ArgumentTypeError(f"{what} must be in {brackets[0]}{lo:g}, {hi:g}{brackets[1]}, got {text}")
        return value

    return parse


_ALPHA = _within(0.0, 1.0, True, "alpha")
_HCT = _within(0.0, 1.0, False, "haematocrit (a fraction, e.g. 0.42)")


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors on one line (exit status 2), like every other refusal."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="cmrseg", description="Cardiac MRI segmentation, mapping and quantification.")
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("convert", help="convert a public dataset into the cmrseg layout")
    c.add_argument("dataset", help="acdc, myops, mnms2, sunnybrook or t1net")
    c.add_argument("src", type=Path)
    c.add_argument("dst", type=Path)
    c.set_defaults(func=_convert)

    t = sub.add_parser("train", help="train a segmentation model from a YAML config")
    t.add_argument("config", type=Path)
    t.add_argument("--output", help="run folder (overrides the config)")
    t.add_argument("--epochs", type=int)
    t.add_argument("--fold", type=int)
    t.add_argument("--restart", action="store_true", help="ignore an existing last.ckpt instead of resuming")
    t.set_defaults(func=_train)

    ft = sub.add_parser("finetune", help="adapt a model to new data: frozen encoder, then all layers at a lower lr")
    ft.add_argument("--from", dest="init_from", default="default", help="'default' or a model file to start from")
    ft.add_argument("--scratch", action="store_true", help="same architecture, random initial weights")
    ft.add_argument("--data", type=Path, nargs="+", required=True, help="dataset folder(s) from cmrseg convert")
    ft.add_argument("-o", "--output", type=Path, required=True, help="run folder")
    ft.add_argument("--epochs", type=int, default=60, help="total epochs (paper: 30 frozen + 30 unfrozen)")
    ft.add_argument("--freeze-epochs", type=int, default=30, help="epochs with the encoder frozen")
    ft.add_argument("--lr", type=float, default=1e-4, help="learning rate while frozen")
    ft.add_argument("--unfrozen-lr", type=float, default=1e-5, help="learning rate after unfreezing")
    ft.add_argument("--batch-size", type=int, default=16)
    ft.add_argument("--augment", default="heavy", choices=["none", "basic", "heavy"])
    ft.add_argument("--invert-probability", type=float, default=0.0)
    ft.add_argument(
        "--subset", default="all", help="all, ed_es, subjects:N, images:N or kshot:K (K labelled slices per case)"
    )
    ft.add_argument("--folds", type=int, default=5)
    ft.add_argument("--fold", type=int, default=0)
    ft.add_argument("--seed", type=int, default=0)
    ft.add_argument("--max-batches", type=int, help="cap batches per epoch (smoke tests)")
    ft.add_argument("--restart", action="store_true")
    ft.set_defaults(func=_finetune)

    pr = sub.add_parser("predict", help="segment a NIfTI file, a DICOM folder or a folder of NIfTI files")
    pr.add_argument("input", type=Path)
    pr.add_argument("-o", "--output", type=Path, required=True)
    pr.add_argument("--model", help="'default', 'guided' or a model file (default: 'guided' with --guide)")
    pr.add_argument(
        "--tta",
        action="store_true",
        help="test-time augmentation: average over 90-degree rotations (incl. flipping both axes)",
    )
    pr.add_argument(
        "--device",
        default="auto",
        choices=["auto", "cpu", "cuda", "mps"],
        help="auto: cuda, else mps, else cpu; a device that is not there is refused, naming those that are",
    )
    pr.add_argument(
        "--invert",
        default="off",
        choices=["off", "on", "auto"],
        help="invert intensities (black-blood images); auto: keep the polarity the model is more confident in",
    )
    pr.add_argument("--series", help="SeriesInstanceUID or SeriesNumber when a DICOM folder holds several")
    pr.add_argument(
        "--guide",
        type=Path,
        help="guiding mask on the image's grid (folder mode: a folder of masks with the inputs' names)",
    )
    pr.add_argument("--alpha", type=_ALPHA, help="guidance in [0, 1]: 0 ignores the guide, 1 follows it (default 0.25)")
    pr.add_argument("--overwrite", action="store_true")
    pr.set_defaults(func=_predict)

    pl = sub.add_parser(
        "pseudo-label", help="segment unlabelled ED/ES data, keep subjects whose EDV/ESV/EF match reference values"
    )
    pl.add_argument("data", type=Path, help="dataset folder (cmrseg convert) with ED/ES cases")
    pl.add_argument("-o", "--output", type=Path, required=True, help="new dataset folder of the kept subjects")
    pl.add_argument(
        "--tolerance",
        type=_within(0.0, 100.0, False, "tolerance (percent)"),
        default=10.0,
        help="percent, in (0, 100); the paper: 5, 10, 15",
    )
    pl.add_argument("--volumes", type=Path, help="CSV subject,edv,esv (default: from the dataset's own labels)")
    pl.add_argument("--model", default="default")
    pl.add_argument("--overwrite", action="store_true")
    pl.set_defaults(func=_pseudo_label)

    ss = sub.add_parser("segment-series", help="segment every image of a mapping series consistently from one guide")
    ss.add_argument("series_path", metavar="SERIES", type=Path, help="NIfTI (X, Y, N) / (X, Y, Z, N) or DICOM folder")
    ss.add_argument("-o", "--output", type=Path, required=True, help="label map of every image (.nii.gz)")
    ss.add_argument(
        "--guide", default="auto", help="'auto' (the highest-contrast image, segmented) or a mask file (X, Y[, Z])"
    )
    ss.add_argument("--alpha", type=_ALPHA, default=0.25, help="guidance in [0, 1] (default 0.25)")
    ss.add_argument("--model", default="guided", help="guided model: 'guided' or a file")
    ss.add_argument("--overwrite", action="store_true")
    ss.set_defaults(func=_segment_series)

    tp = sub.add_parser("t1-pipeline", help="MOLLI series -> registered T1/R2 maps, blood T1, ECV, AHA values, report")
    tp.add_argument("pre", type=Path, help="pre-contrast MOLLI series (NIfTI + JSON sidecar, or DICOM folder)")
    tp.add_argument("post", type=Path, nargs="?", help="post-contrast MOLLI series of the same slices")
    tp.add_argument("--hct", type=_HCT, help="haematocrit as a fraction (e.g. 0.42); needed with a post series")
    tp.add_argument("--alpha", type=_ALPHA, default=0.25, help="guidance of the series segmentation")
    tp.add_argument("--no-register", action="store_true", help="fit the series as acquired (no registration)")
    tp.add_argument("--model", default="guided", help="guided model: 'guided' or a file")
    tp.add_argument("-o", "--output", type=Path, required=True, help="folder (created) for maps, tables, report")
    tp.add_argument("--overwrite", action="store_true")
    _add_aha_args(tp)
    tp.set_defaults(func=_t1_pipeline)

    e = sub.add_parser("evaluate", help="Dice (and surface distances) of predictions against references")
    e.add_argument("pred", type=Path)
    e.add_argument("ref", type=Path, nargs="+", help="one or more references (readers)")
    e.add_argument("-o", "--output", type=Path, required=True, help="folder for metrics.csv")
    e.add_argument("--spacing", help="dx,dy,dz in mm, overriding the files' (needed for mm when they record none)")
    e.add_argument(
        "--images", type=Path, help="image file, or folder matched by case name, to draw the outlines on in the report"
    )
    e.add_argument("--no-report", action="store_true", help="write the tables only, not DIR/index.html")
    e.add_argument("--overwrite", action="store_true")
    e.set_defaults(func=_evaluate)

    ap = sub.add_parser("augment-preview", help="PNG grid of augmented samples of one slice")
    ap.add_argument("image", type=Path)
    ap.add_argument("--label", type=Path)
    ap.add_argument("--preset", default="heavy", choices=["none", "basic", "heavy"])
    ap.add_argument("--slice", type=int)
    ap.add_argument("-n", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("-o", "--output", type=Path, required=True)
    ap.add_argument("--overwrite", action="store_true")
    ap.set_defaults(func=_augment_preview)
    for quantity, flag, help_ in (
        ("t1", "t1map", "MOLLI T1 map (ms) with R2, A, B, T1* and failure maps"),
        ("t2", "t2map", "T2 map (ms) from T2-prepared / multi-echo images"),
        ("t1rho", "t1rhomap", "T1rho map (ms) from spin-lock images"),
    ):
        m = sub.add_parser(flag, help=help_)
        m.add_argument("series_path", metavar="SERIES", type=Path, help="NIfTI (+ JSON sidecar) or DICOM folder")
        m.add_argument("-o", "--output", type=Path, required=True)
        m.add_argument("--times", help="comma-separated times in ms, in image order (overrides stored times)")
        m.add_argument("--series", help="SeriesInstanceUID or SeriesNumber when a DICOM folder holds several")
        m.add_argument("--overwrite", action="store_true")
        m.set_defaults(func=_map(quantity))

    ev = sub.add_parser(
        "ecv",
        help="ECV map (%%) from co-registered pre/post-contrast T1 maps and haematocrit",
        description="ECV map in percent. Swapped maps are refused: blood T1 must be shorter after contrast, and "
        "T1 must not be longer after contrast on most of the myocardium (--myo) or, without a mask, of the map. "
        "The printed median is over the myocardium of --myo; over the whole map (background included) only "
        "with --summary whole.",
    )
    ev.add_argument("--pre", type=Path, required=True, help="pre-contrast T1 map (ms)")
    ev.add_argument("--post", type=Path, required=True, help="post-contrast T1 map (ms) on the same grid")
    ev.add_argument("--blood-pre", required=True, help="blood T1 in ms, or a blood-pool mask on the pre map")
    ev.add_argument("--blood-post", required=True, help="blood T1 in ms, or a blood-pool mask on the post map")
    ev.add_argument("--hct", type=_HCT, required=True, help="haematocrit as a fraction, e.g. 0.42")
    ev.add_argument(
        "--myo", type=Path, help="myocardium mask (non-zero = myocardium) on the maps' grid: checks and median"
    )
    ev.add_argument(
        "--summary",
        choices=["myo", "whole"],
        help="printed median ECV: myo (the default with --myo) or whole (the whole map, background included); "
        "with neither option no median is printed",
    )
    ev.add_argument("-o", "--output", type=Path, required=True)
    ev.add_argument("--overwrite", action="store_true")
    ev.set_defaults(func=_ecv)
    ct = sub.add_parser("contours", help="smooth endo/epicardial contours of a label map, as JSON or CSV")
    ct.add_argument("labels", type=Path)
    ct.add_argument("-o", "--output", type=Path, required=True, help="contours.json or contours.csv")
    ct.add_argument("--overwrite", action="store_true")
    ct.set_defaults(func=_contours)

    cm = sub.add_parser("contours-to-mask", help="label map (LV, MYO) from a contour JSON/CSV, on an image's grid")
    cm.add_argument("contours", type=Path, help="contours.json or contours.csv (the format `cmrseg contours` writes)")
    cm.add_argument("--like", type=Path, required=True, help="image (NIfTI or DICOM folder) whose grid the mask takes")
    cm.add_argument("-o", "--output", type=Path, required=True, help="label map .nii.gz")
    cm.add_argument("--overwrite", action="store_true")
    cm.set_defaults(func=_contours_to_mask)

    rp = sub.add_parser("report", help="HTML page of a study: contour overlays per slice, function, plots")
    rp.add_argument("image", type=Path, help="NIfTI stack/cine or DICOM folder")
    rp.add_argument("--labels", type=Path, help="label map (default: segment the image)")
    rp.add_argument("--model", default="default")
    rp.add_argument("--title")
    rp.add_argument("--metrics", type=Path, help="metrics.csv of cmrseg evaluate: table and Dice violins per level")
    rp.add_argument(
        "--map",
        type=Path,
        help="parametric map (e.g. T1) on the labels' grid: AHA bullseye, per-segment and per-slice median/IQR, "
        "also written to DIR/segments.csv and DIR/slices.csv",
    )
    rp.add_argument("--map-unit", default="ms", help="unit of --map for labels and colour bars (default ms)")
    rp.add_argument(
        "--erode", type=int, default=0, metavar="PX", help="erode the myocardium by PX pixels for per-slice values"
    )
    rp.add_argument("-o", "--output", type=Path, required=True, help="folder for index.html and its PNGs")
    rp.add_argument("--overwrite", action="store_true")
    _add_aha_args(rp)
    rp.set_defaults(func=_report)

    fn = sub.add_parser("function", help="LV/RV volumes, EF and LV mass from a short-axis cine or ED/ES stacks")
    fn.add_argument("cine", nargs="?", type=Path, help="4D cine (labels or images); ED/ES detected")
    fn.add_argument("--ed", type=Path, help="end-diastolic stack (labels or image)")
    fn.add_argument("--es", type=Path, help="end-systolic stack (labels or image)")
    fn.add_argument("--model", default="default", help="model used when images are given")
    fn.add_argument("--spacing", help="dx,dy,dz in mm when the files carry none")
    fn.add_argument("-o", "--output", type=Path, help="JSON file for the results")
    fn.add_argument("--overwrite", action="store_true")
    fn.set_defaults(func=_function)
    _add_series_parser(sub)
    _add_study_parser(sub)
    _add_cohort_parser(sub)
    return p


_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS}


def _error_line(a: argparse.Namespace, exc: BaseException) -> str:
    """One line for an error: the message, or for an ``OSError`` from writing, which output failed."""
    msg: object = exc
    if isinstance(exc, OSError) and not isinstance(exc, FileExistsError) and exc.strerror:
        spec = _OUTPUTS.get(a.command)
        out = Path(getattr(a, spec[0])) if spec and getattr(a, spec[0], None) is not None else None
        name = Path(exc.filename) if exc.filename else None
        ours = name is not None and (name == out or out in name.parents or name.name[:5] in (".tmp-", ".old-"))
        if out is not None and (exc.errno in _WRITE_ERRNOS or ours):
            msg = f"cannot write {out}: {exc.strerror}"
        elif name is not None:
            msg = f"{exc.strerror}: {name}"
    return " ".join(str(msg).split("\n"))


def _show_warning(command: str):  # noqa: ANN202
    def show(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
        text = " ".join(str(message).split("\n"))
        print(f"cmrseg {command}: warning: {text}", file=sys.stderr if file is None else file)

    return show


def _run(a: argparse.Namespace) -> None:
    """Checks, then the command; the outputs it created are removed again if it fails."""
    _preflight(a)
    rollback = _Rollback(a)
    try:
        a.func(a)
    except BrokenPipeError:
        raise
    except BaseException:
        rollback.undo()
        raise


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2, one line already printed)
        return exc.code if isinstance(exc.code, int) else 2
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning(args.command)
            warnings.filterwarnings("default", module=r"cmrseg\.")  # our own warnings are for the user
            _run(args)
    except BrokenPipeError:  # output piped into e.g. `head`, which closed early: not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (ValueError, OSError) as exc:  # bad input, missing files, a full disk, a read-only folder
        print(f"cmrseg {args.command}: error: {_error_line(args, exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("cmrseg: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
