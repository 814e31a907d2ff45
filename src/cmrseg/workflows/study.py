"""A whole DICOM study in one call: every series found, classified and run through its chain.

>>> from cmrseg.workflows import run_study
>>> result = run_study("export/", "out/", hct=0.42)
>>> result.status, [(s.kind, s.status, s.reason) for s in result.series]

Chains, by the kind :func:`cmrseg.io.series.discover_series` gives each series:

=================  ===========================================================================
sax_cine           segmentation (``cine_model``) -> function (LV/RV EDV, ESV, EF, LV mass; only when the
                   spacing is known) -> QC (classes, LV coverage, mid slice, ranges, uncertainty)
lge, t2_weighted   segmentation -> QC (classes, uncertainty)
t1_map, t2_map     segmentation -> median map value in the myocardium (ms) -> QC
molli              the T1 pipeline (:func:`cmrseg.workflows.t1_pipeline.process_series`: guided
                   segmentation, registration, T1 and R² maps, blood T1) -> QC (classes, T1
                   range, fit quality); a post-contrast series on the slices of a pre-contrast
                   one, with ``hct``, gives the ECV map and value (on the pre-contrast row)
others             lax_cine, localiser, other: skipped, saying why
=================  ===========================================================================

Status of a series: ``complete`` (every step of its chain ran), ``partial`` (the segmentation or
fit ran, a later step did not: the reason names it), ``failed`` (the first step failed, or the
segmentation found no heart: the reason is the error in one line), ``skipped`` (no chain for its
kind). Of the study: ``failed`` when no series is complete or partial; ``partial`` when a series
failed or is partial, or ``hct`` was given and no ECV came of it; else ``complete``. QC flags
(:mod:`cmrseg.qc`) never change a status: they mark the results to look at first.

A MOLLI series is post-contrast when its description says so (``post_contrast`` of the
classification); when it says nothing, when its fitted blood T1 is under 1000 ms (native blood
T1 is about 1500-2000 ms at 1.5 and 3 T, post-contrast 200-500 ms); when neither is known, it is
taken as pre-contrast. A post-contrast series pairs with the first pre-contrast one on the same
slices (same grid and orientation, slice positions within 1 mm).

Outputs, built in a temporary folder beside ``out_dir`` and renamed to it at the end, ``DONE``
written last: ``results.json`` (every series: uid, number, kind, status, reason, values, QC
flags, files), ``results.csv`` (one row per series, columns
:data:`cmrseg.workflows.study_results.CSV_COLUMNS`), ``provenance.json``
(versions, weights SHA-256, device, parameters, input series, start/end time), ``dicom/`` (a
DICOM-SEG series per segmented series, T1 and ECV Parametric Maps from the T1 pipeline),
``figures/`` and ``index.html``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from cmrseg import qc
from cmrseg.device import resolve_device
from cmrseg.function import CardiacFunction, cine_function
from cmrseg.image import Image, LabelMap
from cmrseg.io.atomic import atomic_directory, check_output
from cmrseg.io.dicom import read_dicom_folder, split_frame_name
from cmrseg.io.dicom_out import write_dicom_seg, write_parametric_map
from cmrseg.io.mapping_series import read_series
from cmrseg.io.series import ClassifiedSeries, discover_series
from cmrseg.labels import FOREGROUND, Label
from cmrseg.mapping.ecv import check_haematocrit, map_quality, region_median
from cmrseg.mapping.series import MappingSeries
from cmrseg.masks import midwall_mask
from cmrseg.models.shipped import cine_model_for
from cmrseg.predict import Predictor
from cmrseg.preprocess import normalise_intensity
from cmrseg.report.figures import save_figure
from cmrseg.report.plots import overlay_figure
from cmrseg.workflows.study_results import SeriesResult, StudyResult, model_records, provenance, write_results
from cmrseg.workflows.t1_pipeline import PhaseResult, PipelineOptions, ecv_from_phases, process_series, reference_images

__all__ = ["run_study", "StudyResult", "SeriesResult"]

_SKIPPED = {
    "lax_cine": "long-axis cine: not processed (the shipped model segments short-axis images)",
    "localiser": "localiser: nothing to measure",
    "other": "not a kind this workflow processes",
}
_POST_BLOOD_T1_MS = 1000.0  # fitted blood T1 under this: post-contrast (module notes)
_SAME_POSITION_MM = 1.0  # pre and post MOLLI slices this close pair up for ECV
_MAX_FIGURES = 12  # overlays per series


@dataclass(frozen=True)
class _Mapped:
    """A MOLLI series through the T1 pipeline, kept for the pre/post pairing."""

    item: ClassifiedSeries
    result: SeriesResult
    series: MappingSeries
    phase: PhaseResult
    post: bool


class _Run:
    """What the chains of one study share: folders, options, and the models, each loaded once."""

    def __init__(
        self, folder: Path, models: tuple[str, str], predictor: Predictor | None, cine_predictor: Predictor | None
    ) -> None:
        self.folder, (self.model, self.cine_model), self.given = folder, models, predictor is not None
        self.tmp = Path()
        self.pipeline = PipelineOptions()
        self.used: dict[str, str] = {}  # role -> model name
        self._predictors = {"segmentation": predictor, "cine segmentation": cine_predictor or predictor}

    def predictor(self, kind: str) -> Predictor:
        """The model for a series of ``kind``: the cine model for a short-axis cine, the default
        for the others; the one given, or loaded on first use."""
        role = "cine segmentation" if kind == "sax_cine" else "segmentation"
        name = self.cine_model if role == "cine segmentation" else self.model
        if self._predictors[role] is None:
            self._predictors[role] = Predictor(name)
        self.used[role] = name
        return self._predictors[role]

    def device(self) -> str:
        loaded = [p for p in self._predictors.values() if p is not None]
        if loaded:
            return str(getattr(loaded[0], "device", "unknown"))
        return str(resolve_device("auto")) if self.used else "none (no model ran)"


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if isinstance(exc, (ValueError, OSError)) else f"{type(exc).__name__}: {text}"


def _attempt(res: SeriesResult, step: str, fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)``; a failure is recorded as a problem of ``step`` (the series becomes partial)."""
    try:
        return fn(*args)
    except Exception as exc:  # noqa: BLE001 - a later step failing leaves the earlier results
        res.problems.append(f"{step} not done: {_one_line(exc)}")
        return None


def _frames(array: np.ndarray) -> np.ndarray:
    """``(X, Y[, Z[, T]])`` as ``(X, Y, Z, T)``: the DICOM reader drops length-1 axes, T first."""
    return array[:, :, None, None] if array.ndim == 2 else array[..., None] if array.ndim == 3 else array


def _read(run: _Run, item: ClassifiedSeries) -> Image:
    with warnings.catch_warnings():  # files that are not DICOM are listed once, by discover_series
        warnings.filterwarnings("ignore", message=".*skipped as not DICOM images")
        return read_dicom_folder(run.folder, series=item.stack or item.uid)


def _sources(run: _Run, image: Image) -> list[Path] | Path:
    """The source files of ``image`` (in one folder, as usual), else the study folder to search."""
    folder = Path(image.metadata.get("source", ""))
    files = _files(folder, image.metadata.get("files", []))
    return files if files and all(f.is_file() for f in files) else run.folder


def _files(folder: Path, names: list[list[str]]) -> list[Path]:
    """The files holding the images ``names`` (``cine.dcm#3`` is frame 3 of ``cine.dcm``), each once."""
    return list(dict.fromkeys(folder / split_frame_name(name)[0] for col in names for name in col))


def _write_seg(run: _Run, res: SeriesResult, labels: LabelMap) -> None:
    """A DICOM-SEG series on the source series; a stack of single-slice series gets one per slice
    series (a SEG references the images of one series), in ``<tag>_seg/slice_NN``."""
    name, description = f"dicom/{res.tag}_seg", f"cmrseg {res.kind} segmentation"
    if not labels.metadata.get("series_uids"):
        files = write_dicom_seg(labels, _sources(run, labels), run.tmp / name, description)
        res.outputs += [f"{name}/{f.name}" for f in files]
    else:
        source, cine = Path(labels.metadata["source"]), _frames(labels.array)
        (run.tmp / name).mkdir(parents=True, exist_ok=True)
        for z, col in enumerate(labels.metadata["files"]):
            part = f"{name}/slice_{z:02d}"
            files = write_dicom_seg(cine[:, :, z : z + 1], _files(source, [col]), run.tmp / part, description)
            res.outputs += [f"{part}/{f.name}" for f in files]
    res.steps.append("DICOM-SEG")


def _write_map(run: _Run, res: SeriesResult, values: np.ndarray, image: Image, quantity: str) -> None:
    name = f"dicom/{res.tag}_{quantity.lower()}.dcm"
    source, uid = _sources(run, image), image.metadata.get("series_uid")
    write_parametric_map(values, source, run.tmp / name, quantity=quantity, series=uid)
    res.outputs.append(name)
    res.steps.append(f"{quantity} map")


def _overlays(run: _Run, res: SeriesResult, volume: np.ndarray, labels: np.ndarray, title: str) -> None:
    """PNG overlays of up to :data:`_MAX_FIGURES` slices of ``(X, Y, Z)`` images and labels."""
    norm = normalise_intensity(volume)
    n = volume.shape[2]
    for z in sorted({int(round(z)) for z in np.linspace(0, n - 1, min(n, _MAX_FIGURES))}):
        name = f"figures/{res.tag}_z{z:02d}.png"
        save_figure(overlay_figure(norm[:, :, z], labels[:, :, z], f"{title}, slice {z}"), run.tmp / name, dpi=72)
        res.figures.append(name)


def _uncertainty(predictor: Predictor, volume: np.ndarray, labels: np.ndarray) -> qc.QcCheck:
    """:func:`cmrseg.qc.check_uncertainty` of ``(X, Y, Z)`` labels, from the model's probabilities
    on the same images, normalised and oriented as :meth:`Predictor.predict_array` had them when
    it segmented the series (its last call, made by :func:`_segment`: mirrored or not)."""
    if getattr(predictor, "last_mirrored", False):  # a stand-in predictor may not mirror
        volume, labels = volume[::-1], labels[::-1]
    probabilities = predictor.predict_probabilities(np.moveaxis(normalise_intensity(volume), 2, 0))
    return qc.check_uncertainty(probabilities, np.moveaxis(labels, 2, 0))


def _segment(run: _Run, item: ClassifiedSeries, res: SeriesResult) -> tuple[Image, np.ndarray]:
    """The first step of the segmenting chains: the image and its labels; ValueError without a heart."""
    image = _read(run, item)
    labels = run.predictor(item.kind).predict_array(image.array)
    if not np.isin(labels, FOREGROUND).any():
        raise ValueError("the segmentation found no heart (no RV, myocardium or LV in any image)")
    res.steps.append("segmentation")
    return image, labels


def _after_segmentation(run: _Run, res: SeriesResult, image: Image, labels: np.ndarray, frame: int) -> None:
    """The steps every segmented series shares: uncertainty, DICOM-SEG, overlays (of ``frame``)."""
    volume, lab = _frames(image.array)[..., frame], _frames(labels)[..., frame]
    check = _attempt(res, "uncertainty", _uncertainty, run.predictor(res.kind), volume, lab)
    res.qc += [check] if check is not None else []
    _attempt(res, "DICOM-SEG", _write_seg, run, res, LabelMap.like(image, labels))
    _attempt(res, "figures", _overlays, run, res, volume, lab, f"{res.kind} {res.number}, frame {frame}")


def _function(image: Image, labels: np.ndarray) -> CardiacFunction:
    if not image.metadata.get("spacing_known", True):
        raise ValueError("the images record no spacing, so volumes in mL cannot be computed")
    if labels.shape[3] < 2:
        raise ValueError(f"{labels.shape[3]} frame: ED and ES need a cine")
    return cine_function(labels, tuple(image.spacing[:3]))


def _cine_chain(run: _Run, item: ClassifiedSeries, res: SeriesResult) -> None:
    image, labels = _segment(run, item, res)
    cine = _frames(labels)
    fn = _attempt(res, "function", _function, image, cine)
    frame = 0
    if fn is not None:
        res.values |= fn.to_dict()
        res.qc += qc.check_function(res.values)
        res.steps.append("function")
        frame = int(fn.ed_frame or 0)
    ed = cine[..., frame]
    res.qc = [qc.check_classes_present(ed), qc.check_lv_coverage(ed), qc.check_mid_slice(ed)] + res.qc
    _after_segmentation(run, res, image, labels, frame)


def _stack_chain(run: _Run, item: ClassifiedSeries, res: SeriesResult) -> None:
    """LGE, T2-weighted and scanner maps: segmentation (+ the myocardial median of a map) and QC."""
    image, labels = _segment(run, item, res)
    volume, lab = _frames(image.array)[..., 0], _frames(labels)[..., 0]
    res.qc.append(qc.check_classes_present(lab))
    if item.kind in ("t1_map", "t2_map"):
        median, n = region_median(volume, midwall_mask(lab, run.pipeline.midwall_offset))
        if n == 0:
            res.problems.append("map values not done: no finite map value in the segmented myocardium")
        else:
            res.values[f"myo_{item.kind[:2]}_ms"] = median
            res.steps.append("map values")
            if item.kind == "t1_map" and item.post_contrast is not None:
                res.qc.append(qc.check_t1(median, item.post_contrast))
    _after_segmentation(run, res, image, labels, 0)


def _molli_figures(run: _Run, res: SeriesResult, phase: PhaseResult) -> None:
    refs = reference_images(phase.segmentation)
    volume = np.stack([phase.registered[:, :, z, refs[z]] for z in range(len(refs))], axis=2)
    _overlays(run, res, volume, phase.labels, f"MOLLI {res.number}, guide")


def _molli_values(item: ClassifiedSeries, res: SeriesResult, phase: PhaseResult, midwall_offset: float) -> bool:
    """Myocardial (mid-wall) and blood T1, fit quality and the contrast phase; returns post-contrast or not."""
    myo = phase.labels == Label.MYO
    t1, n = region_median(phase.maps.result.value, midwall_mask(phase.labels, midwall_offset))
    blood = phase.blood_t1_ms[np.isfinite(phase.blood_t1_ms)]
    res.values |= {"myo_t1_ms": t1, "blood_t1_ms": float(np.median(blood)) if blood.size else float("nan")}
    post = item.post_contrast
    if post is None and blood.size:
        post = bool(np.median(blood) < _POST_BLOOD_T1_MS)
    said = "the description" if item.post_contrast is not None else "the fitted blood T1"
    res.values["contrast"] = "unknown" if post is None else f"{'post' if post else 'pre'} (from {said})"
    res.qc.append(qc.check_classes_present(phase.labels))
    if n == 0:
        res.problems.append("T1 values not done: no fitted pixel in the myocardium")
        return bool(post)
    quality = map_quality(phase.maps.result, myo)
    res.values |= {"mean_r2": quality.mean_r2, "fraction_r2_below_0_95": quality.fraction_r2_below_0_95}
    res.qc += [qc.check_fit_quality(phase.maps.result.r2, myo)]
    res.qc += [qc.check_t1(t1, post)] if post is not None else []
    return bool(post)


def _molli_chain(run: _Run, item: ClassifiedSeries, res: SeriesResult) -> _Mapped:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*skipped as not DICOM images")
        series = read_series(run.folder, "InversionTime", series=item.uid)
    run.used |= {"t1_pipeline_guide": run.pipeline.guide_model, "t1_pipeline": run.pipeline.model}
    phase = process_series(series, run.pipeline)
    res.steps.append("T1 pipeline")
    post = _molli_values(item, res, phase, run.pipeline.midwall_offset)
    _attempt(res, "DICOM-SEG", _write_seg, run, res, LabelMap.like(series.image, phase.segmentation.labels))
    _attempt(res, "T1 map", _write_map, run, res, phase.maps.result.value, series.image, "T1")
    _attempt(res, "figures", _molli_figures, run, res, phase)
    return _Mapped(item, res, series, phase, post)


_CHAINS: dict[str, Callable[[_Run, ClassifiedSeries, SeriesResult], _Mapped | None]] = {
    "sax_cine": _cine_chain,
    "lge": _stack_chain,
    "t2_weighted": _stack_chain,
    "t1_map": _stack_chain,
    "t2_map": _stack_chain,
    "molli": _molli_chain,
}


def _process(
    run: _Run, item: ClassifiedSeries, index: int, numbers: dict[str, int | None]
) -> tuple[SeriesResult, _Mapped | None]:
    """One series through its chain; a failure of its first step is recorded, never raised.
    A stack of single-slice series goes through it once, as its first series; ``numbers``: the
    SeriesNumber of each SeriesInstanceUID, to name it on the others."""
    tag = f"{index:02d}_{item.kind}_{item.number if item.number is not None else 'x'}"
    res = SeriesResult(item.uid, item.number, item.description, item.kind, item.reason, tag)
    chain = _CHAINS.get(item.kind)
    if chain is None:
        res.status, res.reason = "skipped", _SKIPPED.get(item.kind, "no chain for this kind")
        res.reason += f" ({item.reason})" if item.kind == "other" else ""
        return res, None
    if item.stack and item.uid != item.stack[0]:
        first = numbers.get(item.stack[0])
        res.status, res.reason = "skipped", f"a slice of the short-axis stack processed as series {first}"
        return res, None
    if item.problem:
        res.status, res.reason = "failed", f"not readable as one image: {item.problem}"
        return res, None
    try:
        return res, chain(run, item, res)
    except Exception as exc:  # noqa: BLE001 - one series failing must not stop the study
        res.status, res.reason = "failed", _one_line(exc)
        return res, None


def _same_slices(a: Image, b: Image) -> bool:
    """Whether two mapping series image the same slices (shape, orientation, positions within 1 mm)."""
    if a.shape[:3] != b.shape[:3] or not np.allclose(a.affine[:3, :3], b.affine[:3, :3], atol=0.05):
        return False
    pa, pb = a.metadata.get("slice_positions_mm", []), b.metadata.get("slice_positions_mm", [])
    return len(pa) == len(pb) and np.allclose(pa, pb, atol=_SAME_POSITION_MM)


def _ecv(run: _Run, pre: _Mapped, post: _Mapped, hct: float) -> None:
    ecv = ecv_from_phases(pre.phase, post.phase, hct)
    value, n = region_median(ecv, midwall_mask(pre.phase.labels, run.pipeline.midwall_offset))
    if n == 0:
        raise ValueError("no finite ECV in the myocardium (blood T1 missing, or not shorter after contrast)")
    pre.result.values |= {"ecv_percent": value, "ecv_post_series": post.item.number}
    post.result.values["ecv_on_series"] = pre.item.number
    pre.result.qc.append(qc.check_plausible("ecv_percent", value))
    pre.result.steps.append("ECV")
    _attempt(pre.result, "ECV map", _write_map, run, pre.result, ecv, pre.series.image, "ECV")


def _pair_ecv(run: _Run, mapped: list[_Mapped], hct: float | None) -> str:
    """ECV of each post-contrast MOLLI with a pre-contrast one on its slices (with ``hct``); the
    study-level reason when ``hct`` was given and no ECV came of it, else ``""``."""
    pres, pairs = [m for m in mapped if not m.post], []
    for post in (m for m in mapped if m.post):
        pre = next((p for p in pres if _same_slices(p.series.image, post.series.image)), None)
        if pre is not None:
            pres.remove(pre)
            pairs.append((pre, post))
    if hct is None:
        return ""
    for pre, post in pairs:
        _attempt(pre.result, "ECV", _ecv, run, pre, post, hct)
    if any("ecv_percent" in pre.result.values for pre, _ in pairs):
        return ""
    if not any(m.post for m in mapped):
        return f"hct {hct:g} given but no post-contrast MOLLI series was processed, so no ECV"
    if not pairs:
        return f"hct {hct:g} given but no pre-contrast MOLLI lies on the slices of a post-contrast one, so no ECV"
    return f"hct {hct:g} given but the ECV failed (see the MOLLI series)"


def _study_status(results: list[SeriesResult], note: str) -> tuple[str, str]:
    processable = [r for r in results if r.status != "skipped"]
    done = [r for r in processable if r.status in ("complete", "partial")]
    if not done:
        why = "every series failed" if processable else "no series of a kind this workflow processes"
        return "failed", f"nothing could be processed: {why}"
    reasons = [f"{n} of {len(processable)} series {s}" for s in ("failed", "partial") if (n := _count(results, s))]
    reasons += [note] if note else []
    return ("partial", "; ".join(reasons)) if reasons else ("complete", "")


def _count(results: list[SeriesResult], status: str) -> int:
    return sum(r.status == status for r in results)


def _run_all(run: _Run, found: list[ClassifiedSeries], hct: float | None) -> tuple[list[SeriesResult], str, str]:
    """Every series through its chain, then ECV; the results and the study's status and reason."""
    numbers = {item.uid: item.number for item in found}
    processed = [_process(run, item, i, numbers) for i, item in enumerate(found)]
    results = [r for r, _ in processed]
    note = _pair_ecv(run, [m for _, m in processed if m is not None], hct)
    for r in results:
        if r.status == "running":
            r.finish()
    return (results, *_study_status(results, note))


def _parameters(run: _Run, out: Path, hct: float | None, overwrite: bool) -> dict[str, Any]:
    """Every parameter of a run, for provenance.json."""
    p = run.pipeline
    pipeline = {"alpha": p.alpha, "register": p.register, "model": p.model, "guide_model": p.guide_model}
    pipeline |= {"blood_erode_px": p.blood_erode_px, "myo_erode_px": p.myo_erode_px, "midwall_offset": p.midwall_offset}
    thresholds = {"plausible_ranges": qc.PLAUSIBLE_RANGES, "entropy_max": qc.ENTROPY_MAX}
    thresholds |= {"min_lv_slices": qc.MIN_LV_SLICES, "fit_mean_r2_min": qc.FIT_MEAN_R2_MIN}
    thresholds |= {"fit_low_r2": qc.FIT_LOW_R2, "fit_low_r2_fraction_max": qc.FIT_LOW_R2_FRACTION_MAX}
    given = "given by the caller" if run.given else "loaded here"
    return {
        "dicom_dir": str(run.folder.resolve()),
        "out_dir": str(out.resolve()),
        "hct": hct,
        "model": run.model,
        "cine_model": run.cine_model,
        "overwrite": overwrite,
        "predictor": given,
        "t1_pipeline": pipeline,
        "post_contrast_below_blood_t1_ms": _POST_BLOOD_T1_MS,
        "same_slice_mm": _SAME_POSITION_MM,
        "qc": thresholds,
    }


def _check_arguments(dicom_dir: Path | str, out_dir: Path | str, hct: float | None, overwrite: bool) -> None:
    folder, out = Path(dicom_dir), Path(out_dir)
    if not folder.exists():
        raise FileNotFoundError(f"DICOM folder {folder}: no such folder")
    if not folder.is_dir():
        raise ValueError(f"DICOM folder {folder} is a file; give the folder of the study")
    if hct is not None:
        check_haematocrit(hct)
    check_output(out, overwrite)
    if folder.resolve() == out.resolve() or folder.resolve() in out.resolve().parents:
        raise ValueError(f"output {out} lies inside the DICOM folder {folder}; a rerun would read it as input")


def run_study(
    dicom_dir: Path | str,
    out_dir: Path | str,
    hct: float | None = None,
    model: str = "default",
    overwrite: bool = False,
    predictor: Predictor | None = None,
    cine_model: str | None = None,
    cine_predictor: Predictor | None = None,
) -> StudyResult:
    """Find, classify and process every series of a DICOM study; write results, DICOM and a page.

    Parameters
    ----------
    dicom_dir : Path or str
        The study folder (a scanner export or PACS download), searched recursively.
    out_dir : Path or str
        Output folder to create (module notes for what it holds); it appears only when complete.
    hct : float, optional
        Haematocrit, a fraction in (0, 1), for ECV from a pre- and post-contrast MOLLI pair.
    model : str
        Segmentation model (shipped name or file) of every series but short-axis cines, loaded
        when ``predictor`` is not given; the shipped default segments every contrast.
    overwrite : bool
        Replace an existing ``out_dir`` (only once the new one is complete).
    predictor : Predictor, optional
        An already loaded model, e.g. shared by the studies of a cohort; used for short-axis
        cines too unless ``cine_predictor`` is given.
    cine_model : str, optional
        Segmentation model of short-axis cines (classified from their tags), loaded when neither
        predictor is given. Default: the shipped ``cine`` model when ``model`` is the shipped
        default (it is more accurate on cine), else ``model`` itself.
    cine_predictor : Predictor, optional
        An already loaded model for short-axis cines.

    Returns
    -------
    StudyResult
        The study's status and reason, and every series with its status, reason, values and QC.

    Raises
    ------
    FileNotFoundError
        ``dicom_dir`` is not there.
    FileExistsError
        ``out_dir`` exists and ``overwrite`` is false.
    ValueError
        A bad ``hct``, ``out_dir`` inside ``dicom_dir``, or no DICOM image in ``dicom_dir``.
        A series that fails does not raise: it is recorded, and the others go on.
    """
    _check_arguments(dicom_dir, out_dir, hct, overwrite)
    folder, out = Path(dicom_dir), Path(out_dir)
    started = datetime.now(UTC)
    found = discover_series(folder)
    cine_model = cine_model or cine_model_for(model)
    run, done = _Run(folder, (model, cine_model), predictor, cine_predictor), []
    params = _parameters(run, out, hct, overwrite)

    def fill(tmp: Path) -> None:
        """Process every series into the temporary folder ``tmp`` and write the study's files there."""
        run.tmp = tmp
        results, status, reason = _run_all(run, found, hct)
        names = ("results.json", "results.csv", "provenance.json", "index.html", "DONE")
        result = StudyResult(folder.resolve().name, status, reason, tuple(results), out, tuple(out / n for n in names))
        times = (started, datetime.now(UTC))
        write_results(tmp, result, provenance(model_records(run.used, run.given), run.device(), params, found, times))
        done.append(result)

    atomic_directory(out, overwrite, fill)
    return done[0]
