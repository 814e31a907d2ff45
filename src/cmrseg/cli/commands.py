"""Every ``cmrseg`` command: its arguments (one small ``_add_*`` function each) and a handler that
calls one public function of the library and prints its result.

Heavy imports happen inside each handler so ``cmrseg --help`` is instant.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from cmrseg.cli.preflight import parse_spacing

if TYPE_CHECKING:
    from cmrseg.aha import AhaConvention

__all__ = ["build_parser"]


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


def _MIDWALL(text: str) -> float:  # noqa: N802 (an argparse type, named like the others)
    """An argparse type: a fraction of the wall thickness in [0, 0.5), as the library checks it."""
    from cmrseg.masks import check_midwall_offset

    try:
        return check_midwall_offset(float(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--midwall must be a fraction in [0, 0.5), got {text}") from None


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors on one line (exit status 2), like every other refusal."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _convert(a: argparse.Namespace) -> None:
    from cmrseg.io.datasets import convert

    ds = convert(a.dataset, a.src, a.dst)
    print(f"wrote {len(ds.cases)} cases of {len(ds.subjects)} subjects to {a.dst}")


def _add_convert(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser("convert", help="convert a public dataset into the cmrseg layout")
    c.add_argument("dataset", help="acdc, myops, mnms2, sunnybrook or t1net")
    c.add_argument("src", type=Path)
    c.add_argument("dst", type=Path)
    c.set_defaults(func=_convert)


def _train(a: argparse.Namespace) -> None:
    from dataclasses import replace

    from cmrseg.train import load_config, train

    config = load_config(a.config)
    overrides = {k: v for k, v in (("output", a.output), ("epochs", a.epochs), ("fold", a.fold)) if v is not None}
    result = train(replace(config, **overrides), resume=not a.restart)
    print(f"model written to {result['model']}")


def _add_train(sub: argparse._SubParsersAction) -> None:
    t = sub.add_parser("train", help="train a segmentation model from a YAML config")
    t.add_argument("config", type=Path)
    t.add_argument("--output", help="run folder (overrides the config)")
    t.add_argument("--epochs", type=int)
    t.add_argument("--fold", type=int)
    t.add_argument("--restart", action="store_true", help="ignore an existing last.ckpt instead of resuming")
    t.set_defaults(func=_train)


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


def _add_finetune(sub: argparse._SubParsersAction) -> None:
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


def _predict(a: argparse.Namespace) -> None:
    if a.alpha is not None and a.guide is None:
        raise ValueError("--alpha weighs a guide: give --guide MASK too")
    from cmrseg.workflows.predict import predict_file

    chosen: dict[Path, str] = {}
    for path in predict_file(
        a.input,
        a.output,
        model=a.model or ("guided" if a.guide else "auto"),
        device=a.device,
        tta=a.tta,
        overwrite=a.overwrite,
        invert=a.invert,
        series=a.series,
        guide=a.guide,
        alpha=0.25 if a.alpha is None else a.alpha,
        chosen=chosen,
        precision=a.precision,
        mirror=a.mirror,
    ):
        print(f"{path}  (model {chosen[path]})")


def _add_predict(sub: argparse._SubParsersAction) -> None:
    pr = sub.add_parser("predict", help="segment a NIfTI file, a DICOM folder or a folder of NIfTI files")
    pr.add_argument("input", type=Path)
    pr.add_argument("-o", "--output", type=Path, required=True)
    pr.add_argument(
        "--model",
        help="'auto' (default: 'cine' for a cine, a 4D image with >= 15 frames or an input whose series description, "
        "JSON sidecar or file name says cine, ssfp, ED, ES or frame01; 'default' for anything else), "
        "'default' (every short-axis contrast), 'cine' (cine only, more accurate there), 'guided' (with --guide, "
        "its default) or a model file",
    )
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
        "--precision",
        default="fp32",
        choices=["fp32", "bf16"],
        help="bf16: bfloat16 autocast, faster on CPUs with AMX / AVX512-BF16 (and GPUs), slower on other CPUs; "
        "labels differ from fp32 on a few boundary pixels",
    )
    pr.add_argument(
        "--invert",
        default="off",
        choices=["off", "on", "auto"],
        help="invert intensities before segmenting (black-blood images with --model cine); auto: keep the polarity "
        "the model is more confident in (wrong on 5 of 50 MyoPS LGE / T2 volumes with the cine model; the default "
        "model needs no --invert)",
    )
    pr.add_argument(
        "--mirror",
        default="auto",
        choices=["auto", "off", "on"],
        help="auto: also segment the slices with the most heart mirrored and, when the model is surer of the mirror "
        "image (an array written in the other handedness), segment the input mirrored and mirror the labels back",
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


def _add_pseudo_label(sub: argparse._SubParsersAction) -> None:
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
    pl.add_argument("--model", default="cine")
    pl.add_argument("--overwrite", action="store_true")
    pl.set_defaults(func=_pseudo_label)


def _segment_series(a: argparse.Namespace) -> None:
    import numpy as np

    from cmrseg.workflows.segment_series import segment_series_file

    result = segment_series_file(
        a.series_path,
        a.output,
        guide=str(a.guide),
        alpha=a.alpha,
        model=a.model,
        guide_model=a.guide_model,
        overwrite=a.overwrite,
    )
    for z, row in enumerate(result.guide_dice):
        src = f"image {result.reference[z] + 1}" if result.reference[z] >= 0 else "given"
        print(f"slice {z}: guide {src}; myocardium Dice to the guide per image: {np.round(row, 3).tolist()}")
    print(a.output)


def _add_segment_series(sub: argparse._SubParsersAction) -> None:
    ss = sub.add_parser("segment-series", help="segment every image of a mapping series consistently from one guide")
    ss.add_argument("series_path", metavar="SERIES", type=Path, help="NIfTI (X, Y, N) / (X, Y, Z, N) or DICOM folder")
    ss.add_argument("-o", "--output", type=Path, required=True, help="label map of every image (.nii.gz)")
    ss.add_argument(
        "--guide", default="auto", help="'auto' (the highest-contrast image, segmented) or a mask file (X, Y[, Z])"
    )
    ss.add_argument("--alpha", type=_ALPHA, default=0.25, help="guidance in [0, 1] (default 0.25)")
    ss.add_argument("--model", default="guided", help="guided model: 'guided' or a file")
    ss.add_argument(
        "--guide-model",
        default="default",
        help="model that makes the auto guide: 'default' (any contrast; the default) or 'cine' (T1 closer to the "
        "ring on mid pre-contrast T1NET slices, but misses most of the apical pre-contrast myocardium)",
    )
    ss.add_argument("--overwrite", action="store_true")
    ss.set_defaults(func=_segment_series)


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
    from cmrseg.workflows.t1_pipeline import PipelineOptions, t1_pipeline

    options = PipelineOptions(
        alpha=a.alpha,
        register=not a.no_register,
        model=a.model,
        guide_model=a.guide_model,
        midwall_offset=a.midwall,
        aha=_aha_convention(a),
    )
    summary = t1_pipeline(a.pre, a.output, a.post, a.hct, options, overwrite=a.overwrite)
    for row in summary["slices"]:
        text = f"slice {row['slice']}: myocardial T1 pre {row['t1_pre_ms']:.0f} ms"
        if "t1_post_ms" in row:
            text += f", post {row['t1_post_ms']:.0f} ms, ECV {row.get('ecv_percent', float('nan')):.1f} %"
        print(text)
    print(f"report: {a.output / 'index.html'}")


def _add_t1_pipeline(sub: argparse._SubParsersAction) -> None:
    tp = sub.add_parser("t1-pipeline", help="MOLLI series -> registered T1/R2 maps, blood T1, ECV, AHA values, report")
    tp.add_argument("pre", type=Path, help="pre-contrast MOLLI series (NIfTI + JSON sidecar, or DICOM folder)")
    tp.add_argument("post", type=Path, nargs="?", help="post-contrast MOLLI series of the same slices")
    tp.add_argument("--hct", type=_HCT, help="haematocrit as a fraction (e.g. 0.42); needed with a post series")
    tp.add_argument("--alpha", type=_ALPHA, default=0.25, help="guidance of the series segmentation")
    tp.add_argument("--no-register", action="store_true", help="fit the series as acquired (no registration)")
    tp.add_argument("--model", default="guided", help="guided model: 'guided' or a file")
    tp.add_argument(
        "--guide-model",
        default="default",
        help="model that makes the auto guide: 'default' (any contrast; the default) or 'cine' (T1 closer to the "
        "ring on mid pre-contrast T1NET slices, but misses most of the apical pre-contrast myocardium)",
    )
    tp.add_argument(
        "--midwall",
        type=_MIDWALL,
        default=0.25,
        metavar="FRACTION",
        help="read T1 and ECV in the mid-wall: leave out this fraction of the wall thickness next to the blood "
        "pool and next to the epicardium (default 0.25, the middle half; 0: the whole myocardium)",
    )
    tp.add_argument("-o", "--output", type=Path, required=True, help="folder (created) for maps, tables, report")
    tp.add_argument("--overwrite", action="store_true")
    _add_aha_args(tp)
    tp.set_defaults(func=_t1_pipeline)


def _evaluate(a: argparse.Namespace) -> None:
    from cmrseg.evaluate import NO_SPACING
    from cmrseg.workflows.evaluate import evaluate_folder

    result = evaluate_folder(a.pred, a.ref, a.output, a.images, parse_spacing(a.spacing), not a.no_report, a.overwrite)
    if result.no_spacing:
        print(f"warning: {', '.join(result.no_spacing)}: {NO_SPACING}", file=sys.stderr)
    for line in result.agreement:
        print(line)
    print(f"{'compared':8s} {'ref':5s} {'level':7s} {'label':5s} {'n':>4s} {'dice':>6s} {'hd_mm':>7s} {'msd_mm':>7s}")
    for s in result.summary:
        print(
            f"{s['compared']:8s} {s['reference']:5s} {s['level']:7s} {s['label']:5s} {s['n']:4d} {s['dice']:6.3f} "
            f"{s['hd_mm']:7.2f} {s['msd_mm']:7.2f}"
        )
    print(f"wrote {result.metrics_csv} and {result.summary_csv}")
    if result.report is not None:
        print(f"report: {result.report}")


def _add_evaluate(sub: argparse._SubParsersAction) -> None:
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


def _augment_preview(a: argparse.Namespace) -> None:
    from cmrseg.workflows.preview import augmentation_preview

    print(augmentation_preview(a.image, a.output, a.label, a.preset, a.n, a.seed, a.slice, a.overwrite))


def _add_augment_preview(sub: argparse._SubParsersAction) -> None:
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


def _parse_times(text: str | None) -> list[float] | None:
    if text is None:
        return None
    try:
        return [float(v) for v in text.replace(" ", "").split(",") if v]
    except ValueError:
        raise ValueError(f"--times must be comma-separated numbers in ms, got {text!r}") from None


def _map(a: argparse.Namespace) -> None:
    import numpy as np

    from cmrseg.workflows.maps import fit_map_file

    maps, written = fit_map_file(a.series_path, a.output, a.quantity, _parse_times(a.times), a.series, a.overwrite)
    for path in written:
        print(path)
    failed, r2 = maps.result.failed, float(np.nanmedian(maps.result.r2))
    print(f"fitted {failed.size} pixels: {(failed > 0).mean():.1%} failed; median R2 {r2:.3f}")


def _add_map(sub: argparse._SubParsersAction) -> None:
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
        m.set_defaults(func=_map, quantity=quantity)


def _ecv(a: argparse.Namespace) -> None:
    from cmrseg.workflows.maps import ecv_file

    r = ecv_file(a.pre, a.post, a.blood_pre, a.blood_post, a.hct, a.output, a.myo, a.summary, a.overwrite)
    text = f"blood T1 pre {r.blood_pre_ms:.0f} ms, post {r.blood_post_ms:.0f} ms"
    if r.summary == "myo":
        text += f"; median myocardial ECV {r.median_percent:.1f}% ({r.median_pixels} pixels of --myo)"
    elif r.summary == "whole":
        text += (
            f"; median ECV over the whole map (background included) {r.median_percent:.1f}% ({r.median_pixels} pixels)"
        )
    else:
        text += " (give --myo MASK for the median myocardial ECV)"
    print(text)
    print(a.output)


def _add_ecv(sub: argparse._SubParsersAction) -> None:
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


def _contours(a: argparse.Namespace) -> None:
    from cmrseg.workflows.contours import export_contours

    contours = export_contours(a.labels, a.output, a.overwrite)
    found = sum(c is not None for cs in contours.values() for c in cs.values())
    print(f"{found} contours on {len(contours)} slices -> {a.output}")


def _add_contours(sub: argparse._SubParsersAction) -> None:
    ct = sub.add_parser("contours", help="smooth endo/epicardial contours of a label map, as JSON or CSV")
    ct.add_argument("labels", type=Path)
    ct.add_argument("-o", "--output", type=Path, required=True, help="contours.json or contours.csv")
    ct.add_argument("--overwrite", action="store_true")
    ct.set_defaults(func=_contours)


def _contours_to_mask(a: argparse.Namespace) -> None:
    from cmrseg.workflows.contours import contours_to_labelmap

    arr = contours_to_labelmap(a.contours, a.like, a.output, a.overwrite).array
    n = arr.shape[2] if arr.ndim == 3 else 1
    print(f"LV {int((arr == 3).sum())} px, MYO {int((arr == 2).sum())} px on {n} slices -> {a.output}")


def _add_contours_to_mask(sub: argparse._SubParsersAction) -> None:
    cm = sub.add_parser("contours-to-mask", help="label map (LV, MYO) from a contour JSON/CSV, on an image's grid")
    cm.add_argument("contours", type=Path, help="contours.json or contours.csv (the format `cmrseg contours` writes)")
    cm.add_argument("--like", type=Path, required=True, help="image (NIfTI or DICOM folder) whose grid the mask takes")
    cm.add_argument("-o", "--output", type=Path, required=True, help="label map .nii.gz")
    cm.add_argument("--overwrite", action="store_true")
    cm.set_defaults(func=_contours_to_mask)


def _report(a: argparse.Namespace) -> None:
    from cmrseg.workflows.report import report_from_files

    aha = _aha_convention(a)
    print(
        report_from_files(
            a.image,
            a.output,
            a.labels,
            a.model,
            a.title,
            a.metrics,
            a.map,
            aha,
            a.map_unit,
            a.erode,
            a.overwrite,
            midwall_offset=a.midwall,
        )
    )


def _add_report(sub: argparse._SubParsersAction) -> None:
    rp = sub.add_parser("report", help="HTML page of a study: contour overlays per slice, function, plots")
    rp.add_argument("image", type=Path, help="NIfTI stack/cine or DICOM folder")
    rp.add_argument("--labels", type=Path, help="label map (default: segment the image)")
    rp.add_argument("--model", default="cine", help="model when images are given (default: the cine model)")
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
    rp.add_argument(
        "--midwall",
        type=_MIDWALL,
        default=0.25,
        metavar="FRACTION",
        help="read --map values in the mid-wall: leave out this fraction of the wall thickness next to the blood "
        "pool and next to the epicardium (default 0.25; 0: the whole myocardium)",
    )
    rp.add_argument("-o", "--output", type=Path, required=True, help="folder for index.html and its PNGs")
    rp.add_argument("--overwrite", action="store_true")
    _add_aha_args(rp)
    rp.set_defaults(func=_report)


def _function(a: argparse.Namespace) -> None:
    from cmrseg.workflows.report import function_from_files

    fn, slices = function_from_files(a.cine, a.ed, a.es, a.model, parse_spacing(a.spacing), a.output, a.overwrite)
    for line in fn.warnings():
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
        print(a.output)


def _add_function(sub: argparse._SubParsersAction) -> None:
    fn = sub.add_parser("function", help="LV/RV volumes, EF and LV mass from a short-axis cine or ED/ES stacks")
    fn.add_argument("cine", nargs="?", type=Path, help="4D cine (labels or images); ED/ES detected")
    fn.add_argument("--ed", type=Path, help="end-diastolic stack (labels or image)")
    fn.add_argument("--es", type=Path, help="end-systolic stack (labels or image)")
    fn.add_argument("--model", default="cine", help="model used when images are given (default: the cine model)")
    fn.add_argument("--spacing", help="dx,dy,dz in mm when the files carry none")
    fn.add_argument("-o", "--output", type=Path, help="JSON file for the results")
    fn.add_argument("--overwrite", action="store_true")
    fn.set_defaults(func=_function)


def _series(a: argparse.Namespace) -> None:
    from cmrseg.workflows.series import list_series

    for item in list_series(a.folder, a.json, a.overwrite):
        print(item.line())


def _add_series(sub: argparse._SubParsersAction) -> None:
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


def _add_study(sub: argparse._SubParsersAction) -> None:
    st = sub.add_parser("study", help="process every series of a DICOM study: segmentation, function, T1/ECV, QC")
    st.add_argument("dicom_dir", type=Path, help="study folder (scanner export, PACS download), searched recursively")
    st.add_argument("-o", "--output", type=Path, required=True, help="folder (created) for results, DICOM, report")
    st.add_argument("--hct", type=_HCT, help="haematocrit as a fraction (e.g. 0.42), for ECV from pre/post MOLLI")
    st.add_argument(
        "--model",
        default="default",
        help="segmentation model: shipped name or file (default: every contrast; short-axis cines get the cine model)",
    )
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


def _add_cohort(sub: argparse._SubParsersAction) -> None:
    co = sub.add_parser("cohort", help="run `study` on every study of a cohort in parallel (Dask), resumable")
    co.add_argument("source", type=Path, help="folder with one sub-folder per study, or a CSV: study,path[,hct]")
    co.add_argument("-o", "--output", type=Path, required=True, help="folder: studies/, cohort.csv, qc.html")
    where = co.add_mutually_exclusive_group()
    where.add_argument("--scheduler", help="address of a running Dask scheduler (docs/cohort.md), e.g. tcp://host:8786")
    where.add_argument("--workers", type=int, help="local worker processes (default 1), each holding a model")
    co.add_argument("--hct", type=_HCT, help="haematocrit for studies whose CSV row gives none (ECV)")
    co.add_argument(
        "--model",
        default="default",
        help="segmentation model: shipped name or file (default: every contrast; short-axis cines get the cine model)",
    )
    co.add_argument("--retries", type=int, default=1, help="worker deaths a study may cause before it fails")
    co.set_defaults(func=_cohort)


#: the commands in the order ``cmrseg --help`` lists them
_COMMANDS = (
    _add_convert,
    _add_train,
    _add_finetune,
    _add_predict,
    _add_pseudo_label,
    _add_segment_series,
    _add_t1_pipeline,
    _add_evaluate,
    _add_augment_preview,
    _add_map,
    _add_ecv,
    _add_contours,
    _add_contours_to_mask,
    _add_report,
    _add_function,
    _add_series,
    _add_study,
    _add_cohort,
)


def build_parser() -> argparse.ArgumentParser:
    """The ``cmrseg`` argument parser, one sub-command per :data:`_COMMANDS` entry."""
    parser = _Parser(prog="cmrseg", description="Cardiac MRI segmentation, mapping and quantification.")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in _COMMANDS:
        add(sub)
    return parser
