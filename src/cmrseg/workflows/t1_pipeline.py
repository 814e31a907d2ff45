"""The end-to-end T1 / ECV pipeline: MOLLI series in, registered maps, ECV and segment values out.

For each of the pre- and (optionally) post-contrast series: guided segmentation of every image
(:func:`cmrseg.series_segmentation.segment_series`) -> segmentation-based registration of each
image to the guide's image (:mod:`cmrseg.mapping.registration`) -> pixel-wise MOLLI T1 and R2 ->
blood T1 fitted to the mean signal of the (eroded) LV blood pool. With both series: the post
maps are aligned to the pre maps by the same mask registration, the ECV map is computed with
the haematocrit, and per-slice and AHA-segment values are tabulated and shown in an HTML report.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from dataclasses import fields as dc_fields
from pathlib import Path

import numpy as np
from scipy import ndimage

from cmrseg.aha import AhaConvention, aha_stack, myocardial_values, segment_values
from cmrseg.geometry import apex_side
from cmrseg.image import Image, LabelMap
from cmrseg.io.atomic import atomic_directory, check_output
from cmrseg.io.mapping_series import read_series
from cmrseg.io.nifti import write_image, write_labels
from cmrseg.io.tables import write_rows
from cmrseg.labels import Label
from cmrseg.mapping.ecv import blood_t1, check_haematocrit, ecv_map, map_quality
from cmrseg.mapping.fits import MappingResult
from cmrseg.mapping.maps import SeriesMaps, fit_series
from cmrseg.mapping.registration import RigidTransform, register_masks, register_series, warp_image, warp_labels
from cmrseg.mapping.series import MappingSeries
from cmrseg.masks import check_midwall_offset, midwall_mask
from cmrseg.report.pipeline import PhaseView, write_pipeline_report
from cmrseg.series_segmentation import SeriesSegmentation, segment_series
from cmrseg.workflows.maps import write_maps

__all__ = [
    "PipelineOptions",
    "PhaseResult",
    "process_series",
    "align_post",
    "ecv_from_phases",
    "slice_table",
    "segment_table",
    "slice_result",
    "reference_images",
    "phase_view",
    "t1_pipeline",
]


@dataclass(frozen=True)
class PipelineOptions:
    """``alpha``: guidance; ``guide``: ``auto`` or labels; ``register``: align images before fitting;
    ``blood_erode_px``: erosion of the LV blood pool before the blood T1 fit (partial volume);
    ``myo_erode_px``: erosion of the myocardium for the per-slice values; ``midwall_offset``: the
    fraction of the wall thickness left out next to the blood pool and next to the epicardium for
    every myocardial value (per slice, per AHA segment, ECV; :func:`cmrseg.masks.midwall_mask`; 0:
    the whole myocardium); ``consensus_passes``: see
    :func:`cmrseg.series_segmentation.segment_series`; ``aha``: where the AHA segments start."""

    alpha: float = 0.25
    guide: str | np.ndarray = "auto"
    register: bool = True
    model: str = "guided"
    guide_model: str = "default"
    blood_erode_px: int = 1
    myo_erode_px: int = 0
    midwall_offset: float = 0.25
    consensus_passes: int = 0
    aha: AhaConvention = AhaConvention()

    def __post_init__(self) -> None:
        check_midwall_offset(self.midwall_offset)


@dataclass(frozen=True)
class PhaseResult:
    """One series through the pipeline. ``labels`` ``(X, Y, Z)`` are the guide, the analysis mask on
    the reference image (the frame every image was registered to); ``blood_t1_ms`` ``(Z,)``; ``transforms[z][n]``;
    ``registration_kept`` ``(Z,)`` whether slice z's fit uses the registered images."""

    series: MappingSeries
    segmentation: SeriesSegmentation
    registered: np.ndarray
    labels: np.ndarray
    maps: SeriesMaps
    blood_t1_ms: np.ndarray
    transforms: list[list[RigidTransform]] = field(default_factory=list)
    registration_kept: np.ndarray | None = None


def reference_images(seg: SeriesSegmentation) -> np.ndarray:
    """The guide's image per slice, or where a guide was given, the image agreeing best with it.

    Parameters
    ----------
    seg : SeriesSegmentation
        The series' segmentation.

    Returns
    -------
    numpy.ndarray
        ``(Z,)`` 0-based image index per slice.
    """
    return np.where(seg.reference >= 0, seg.reference, np.nanargmax(seg.guide_dice, axis=1))


def phase_view(phase: PhaseResult) -> PhaseView:
    """What the report shows of one phase, as plain arrays.

    Parameters
    ----------
    phase : PhaseResult
        One series through the pipeline.

    Returns
    -------
    PhaseView
    """
    ref = reference_images(phase.segmentation)
    guide = np.stack([phase.registered[:, :, z, int(ref[z])] for z in range(phase.labels.shape[2])], axis=2)
    return PhaseView(
        labels=phase.labels,
        guide_images=guide,
        guide_index=np.asarray(ref, int),
        guide_dice=phase.segmentation.guide_dice,
        t1_ms=phase.maps.result.value,
        r2=phase.maps.result.r2,
    )


def _blood_t1(images: np.ndarray, times: np.ndarray, labels: np.ndarray, erode_px: int) -> float:
    pool = labels == Label.LV
    eroded = ndimage.binary_erosion(pool, iterations=erode_px) if erode_px else pool
    pool = eroded if eroded.sum() >= 5 else pool
    if not pool.any():
        return float("nan")
    return float(blood_t1(images, times, pool).value)


def _mean_r2(result: MappingResult, mask: np.ndarray) -> float:
    r2 = result.r2[mask]
    return float(np.nanmean(r2)) if r2.size and np.isfinite(r2).any() else float("nan")


def _keep_better_fit(plain: SeriesMaps, moved: SeriesMaps, labels: np.ndarray) -> np.ndarray:
    """Per slice, whether the registered fit is at least as good as the fit as acquired (mean
    myocardial R2). Registration driven by a wrong mask can only make a fit worse, so a slice whose
    registered fit is worse keeps the images as acquired."""
    keep = np.ones(labels.shape[2], bool)
    for z in range(labels.shape[2]):
        myo = labels[:, :, z] == Label.MYO
        r_moved, r_plain = _mean_r2(slice_result(moved, z), myo), _mean_r2(slice_result(plain, z), myo)
        keep[z] = not (np.isfinite(r_plain) and (not np.isfinite(r_moved) or r_moved < r_plain))
    return keep


def process_series(series: MappingSeries, options: PipelineOptions = PipelineOptions()) -> PhaseResult:
    """Segment, register and fit one MOLLI series ``(X, Y, Z, N)``.

    Each slice is registered to its guide's image, fitted, and kept registered where that does
    not lower the mean myocardial R2 (``PhaseResult.registration_kept``).

    Parameters
    ----------
    series : MappingSeries
        A MOLLI series ``(X, Y, Z, N)`` with its inversion times (ms).
    options : PipelineOptions
        Guidance, models, registration and erosions.

    Returns
    -------
    PhaseResult
        Maps in ms, blood T1 ``(Z,)`` in ms (NaN for a slice without LV blood pool).
    """
    arr = series.image.array
    seg = segment_series(
        arr, options.guide, options.alpha, options.model, options.guide_model, consensus_passes=options.consensus_passes
    )
    refs = reference_images(seg)
    registered = arr.astype(np.float32).copy()
    # the analysis mask is the guide: the mask the user checks (or gave) on the reference image,
    # to whose frame every image is registered (by the guided masks, which share one style)
    labels = seg.guide.astype(np.uint8)
    identity = [RigidTransform(cost=0.0)] * arr.shape[3]
    transforms = [list(identity) for _ in range(arr.shape[2])]
    plain = fit_series(series, "t1")
    maps, kept = plain, np.zeros(arr.shape[2], bool)
    if options.register:
        for z in range(arr.shape[2]):
            registered[:, :, z], _, transforms[z] = register_series(arr[:, :, z], seg.labels[:, :, z], int(refs[z]))
        moved = fit_series(_with_images(series, registered), "t1")
        kept = _keep_better_fit(plain, moved, labels)
        for z in np.flatnonzero(~kept):
            registered[:, :, z], transforms[z] = arr[:, :, z], list(identity)
        maps = _merge(plain, moved, kept)
    blood = np.array(
        [
            _blood_t1(registered[:, :, z], series.times_ms[z], labels[:, :, z], options.blood_erode_px)
            for z in range(arr.shape[2])
        ]
    )
    return PhaseResult(_with_images(series, registered), seg, registered, labels, maps, blood, transforms, kept)


def _with_images(series: MappingSeries, images: np.ndarray) -> MappingSeries:
    return MappingSeries(Image(images, series.image.spacing, series.image.affine), series.times_ms, series.kind)


def _merge(plain: SeriesMaps, moved: SeriesMaps, kept: np.ndarray) -> SeriesMaps:
    """Slices of ``moved`` where ``kept``, of ``plain`` elsewhere."""

    def pick(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
        """``b`` on the kept slices, ``a`` elsewhere; None when ``a`` is None."""
        return None if a is None else np.where(kept.reshape((1, 1, -1) + (1,) * (a.ndim - 3)), b, a)

    merged = {
        f.name: pick(getattr(plain.result, f.name), getattr(moved.result, f.name))
        for f in dc_fields(MappingResult)
        if f.name != "quantity"
    }
    return SeriesMaps(MappingResult(**merged, quantity=plain.result.quantity), moved.series)


def align_post(pre: PhaseResult, post: PhaseResult) -> tuple[np.ndarray, np.ndarray]:
    """The post-contrast T1 map and labels resampled onto the pre-contrast reference frame, per slice.

    Each slice is aligned by registering its post-contrast labels to the pre-contrast ones.

    Parameters
    ----------
    pre, post : PhaseResult
        The pre- and post-contrast series through the pipeline.

    Returns
    -------
    t1 : numpy.ndarray
        ``(X, Y, Z)`` float32 post-contrast T1 in ms, NaN where no valid value maps.
    labels : numpy.ndarray
        ``(X, Y, Z)`` uint8 post-contrast labels.

    Raises
    ------
    ValueError
        If the two series' labels differ in shape.
    """
    if pre.labels.shape != post.labels.shape:
        raise ValueError(
            f"pre {pre.labels.shape} and post {post.labels.shape} series must hold the same slices on one grid"
        )
    t1 = post.maps.result.value
    out_t1, out_lab = np.full(t1.shape, np.nan, np.float32), np.zeros(post.labels.shape, np.uint8)
    for z in range(t1.shape[2]):
        t = register_masks(post.labels[:, :, z], pre.labels[:, :, z])
        valid = np.isfinite(t1[:, :, z])
        warped = warp_image(np.where(valid, t1[:, :, z], 0.0), t)
        weight = warp_image(valid.astype(np.float32), t)
        out_t1[:, :, z] = np.where(weight > 0.99, warped, np.nan)
        out_lab[:, :, z] = warp_labels(post.labels[:, :, z], t)
    return out_t1, out_lab


def _values_note(options: PipelineOptions) -> str:
    """Where the report's myocardial values are read, in words."""
    if options.midwall_offset == 0:
        return "Myocardial values are medians over the whole segmented myocardium (--midwall 0)."
    kept = 100 * (1 - 2 * options.midwall_offset)
    return (
        f"Myocardial values are medians in the mid-wall: the middle {kept:.0f}% of the wall thickness "
        f"(--midwall {options.midwall_offset:g}), away from partial volume with blood and fat."
    )


def slice_table(
    pre: PhaseResult,
    post: PhaseResult | None = None,
    ecv: np.ndarray | None = None,
    erode_px: int = 0,
    midwall_offset: float = 0.25,
) -> list[dict]:
    """One row per slice: myocardial median T1 (ms), fit quality, blood T1, and ECV (%) where given.

    Parameters
    ----------
    pre : PhaseResult
        The pre-contrast series.
    post : PhaseResult, optional
        The post-contrast series.
    ecv : numpy.ndarray, optional
        ``(X, Y, Z)`` ECV map (percent) on the pre-contrast frame.
    erode_px : int
        Erosion of the myocardium in pixels for the per-slice values.
    midwall_offset : float
        Fraction of the wall thickness left out on each side for the values
        (:func:`cmrseg.masks.midwall_mask`; 0: the whole myocardium).

    Returns
    -------
    list of dict
        Reference images numbered from 1; T1 median, q1 and q3 in ms, myocardial pixels, mean R2
        and fraction of R2 below 0.95, blood T1 (ms), consistency Dice and registration per phase.
    """
    rows = []
    for z in range(pre.labels.shape[2]):
        # images are numbered from 1 in acquisition order, as in the report and segment-series
        row: dict = {"slice": z, "reference_image": int(reference_images(pre.segmentation)[z]) + 1}
        for name, phase in (("pre", pre), ("post", post)):
            if phase is None:
                continue
            lab = phase.labels[:, :, z]
            v = myocardial_values(phase.maps.result.value[:, :, z], lab, erode_px, midwall_offset)
            row[f"t1_{name}_ms"], row[f"t1_{name}_q1_ms"], row[f"t1_{name}_q3_ms"] = v.median, v.q1, v.q3
            row[f"myo_pixels_{name}"] = v.n
            if (lab == Label.MYO).any():
                q = map_quality(slice_result(phase.maps, z), lab == Label.MYO)
                row[f"mean_r2_{name}"], row[f"frac_r2_below_0.95_{name}"] = q.mean_r2, q.fraction_r2_below_0_95
            row[f"blood_t1_{name}_ms"] = float(phase.blood_t1_ms[z])
            row[f"consistency_dice_{name}"] = float(np.nanmean(phase.segmentation.guide_dice[z]))
            if phase.registration_kept is not None:
                row[f"registered_{name}"] = bool(phase.registration_kept[z])
        if ecv is not None:
            row["ecv_percent"] = myocardial_values(ecv[:, :, z], pre.labels[:, :, z], erode_px, midwall_offset).median
        rows.append(row)
    return rows


def slice_result(maps: SeriesMaps, z: int) -> MappingResult:
    """The fit result of slice ``z`` of a series' maps.

    Parameters
    ----------
    maps : SeriesMaps
        ``(X, Y, Z)`` maps of a series.
    z : int
        The slice.

    Returns
    -------
    MappingResult
        ``(X, Y)`` value, A, B, R2 and failure maps.
    """
    r = maps.result
    return MappingResult(
        r.value[:, :, z], r.a[:, :, z], r.b[:, :, z], r.r2[:, :, z], r.failed[:, :, z], quantity=r.quantity
    )


def segment_table(
    labels: np.ndarray,
    maps: dict[str, np.ndarray],
    convention: AhaConvention | None = None,
    apex: int | None = None,
    midwall_offset: float = 0.25,
) -> tuple[np.ndarray, list[dict]]:
    """AHA segments of ``labels`` ``(X, Y, Z)`` and each map's median / IQR per segment.

    Parameters
    ----------
    labels : numpy.ndarray
        ``(X, Y, Z)`` label map.
    maps : dict of str to numpy.ndarray
        Name -> ``(X, Y, Z)`` map on the labels' grid.
    convention : AhaConvention, optional
        Where the AHA segments start.
    apex : int, optional
        The stack's orientation, :func:`cmrseg.geometry.slice_levels`.
    midwall_offset : float
        Values are read in each segment's mid-wall (:func:`cmrseg.masks.midwall_mask`; 0: all of it).

    Returns
    -------
    segments : numpy.ndarray
        ``(X, Y, Z)`` uint8 AHA segment numbers (0 outside), the whole myocardium.
    rows : list of dict
        Per segment, in order: ``segment``, ``pixels`` (finite values read) and ``<name>_median`` /
        ``_q1`` / ``_q3``.
    """
    segments = aha_stack(labels, convention=convention, apex=apex)
    read = np.where(midwall_mask(labels, midwall_offset), segments, 0)
    rows: dict[int, dict] = {}
    for name, value in maps.items():
        for s, v in segment_values(value, read).items():
            row = rows.setdefault(s, {"segment": s, "pixels": v.n})
            row[f"{name}_median"], row[f"{name}_q1"], row[f"{name}_q3"] = v.median, v.q1, v.q3
    return segments, [rows[s] for s in sorted(rows)]


def ecv_from_phases(pre: PhaseResult, post: PhaseResult, hct: float) -> np.ndarray:
    """ECV map (percent) on the pre-contrast frame, blood T1 per slice.

    Parameters
    ----------
    pre, post : PhaseResult
        The pre- and post-contrast series; ``post`` is aligned with :func:`align_post`.
    hct : float
        Haematocrit as a fraction in (0, 1).

    Returns
    -------
    numpy.ndarray
        ``(X, Y, Z)`` float32 ECV in percent; NaN on slices without finite blood T1s or whose post
        blood T1 is not below the pre.

    Raises
    ------
    ValueError
        If ``hct`` is not in (0, 1), or the series differ in shape.
    """
    check_haematocrit(hct)
    post_t1, _ = align_post(pre, post)
    out = np.full(post_t1.shape, np.nan, np.float32)
    for z in range(out.shape[2]):
        bpre, bpost = pre.blood_t1_ms[z], post.blood_t1_ms[z]
        if np.isfinite(bpre) and np.isfinite(bpost) and bpost < bpre:
            out[:, :, z] = ecv_map(pre.maps.result.value[:, :, z], post_t1[:, :, z], bpre, bpost, hct)
    return out


def _write_phase(out: Path, phase: PhaseResult) -> None:
    out.mkdir()
    img = phase.series.image
    write_maps(phase.maps, out / "T1.nii.gz")
    write_labels(LabelMap(phase.labels, img.spacing[:3], img.affine), out / "labels.nii.gz")
    write_labels(LabelMap(phase.segmentation.labels, img.spacing, img.affine), out / "series_labels.nii.gz")
    write_image(Image(phase.registered, img.spacing, img.affine), out / "registered.nii.gz")
    (out / "registered.json").write_text(json.dumps({phase.series.kind: phase.series.times_ms.tolist()}))
    moves = [
        [{"shift_px": list(t.shift), "angle_deg": float(np.degrees(t.angle))} for t in row] for row in phase.transforms
    ]
    (out / "transforms.json").write_text(json.dumps(moves, indent=1))


def t1_pipeline(
    pre: Path | str,
    output: Path | str,
    post: Path | str | None = None,
    hct: float | None = None,
    options: PipelineOptions = PipelineOptions(),
    times_pre: object | None = None,
    times_post: object | None = None,
    overwrite: bool = False,
) -> dict:
    """Run the pipeline on MOLLI series files (NIfTI + JSON sidecar, or DICOM folders) into ``output``.

    Writes ``pre/`` (and ``post/``): T1 and R2 maps, reference labels, per-image labels, the
    registered series; ``ECV.nii.gz``; ``slices.csv``; ``segments.csv``; ``summary.json``;
    ``index.html``. Everything is checked before anything is written, and the folder appears
    only when complete.

    Parameters
    ----------
    pre : path
        Pre-contrast MOLLI series.
    output : path
        Output folder to create.
    post : path, optional
        Post-contrast MOLLI series on the same slices; needs ``hct``.
    hct : float, optional
        Haematocrit as a fraction in (0, 1); needs ``post``.
    options : PipelineOptions
        Guidance, models, registration, erosions and the AHA convention.
    times_pre, times_post : sequence of float, optional
        Inversion times in ms in image order, overriding the stored ones.
    overwrite : bool
        Replace an existing ``output``.

    Returns
    -------
    dict
        The summary (``summary.json``): ``slices`` and ``segments`` rows, ``hct``, ``alpha``,
        ``registered`` and ``aha``.

    Raises
    ------
    FileExistsError
        If ``output`` exists and ``overwrite`` is false.
    ValueError
        If only one of ``post`` and ``hct`` is given, ``hct`` is not in (0, 1), or the series hold
        different slices.
    """
    output = Path(output)
    check_output(output, overwrite)
    if (post is None) != (hct is None):
        raise ValueError("ECV needs both a post-contrast series and --hct (haematocrit, e.g. 0.42)")
    if hct is not None:
        check_haematocrit(hct)
    pre_s = read_series(pre, "InversionTime", times_pre)
    post_s = None if post is None else read_series(post, "InversionTime", times_post)
    if post_s is not None and post_s.map_shape != pre_s.map_shape:
        raise ValueError(
            f"pre {pre_s.map_shape} and post {post_s.map_shape} series must hold the same slices on one grid"
        )
    pre_r = process_series(pre_s, options)
    post_r = None if post_s is None else process_series(post_s, options)
    ecv = None if post_r is None else ecv_from_phases(pre_r, post_r, hct)
    rows = slice_table(pre_r, post_r, ecv, options.myo_erode_px, options.midwall_offset)
    maps = {"t1_pre": pre_r.maps.result.value}
    if post_r is not None:
        maps["t1_post"], _ = align_post(pre_r, post_r)
        maps["ecv"] = ecv
    _, seg_rows = segment_table(pre_r.labels, maps, options.aha, apex_side(pre_s.image.affine), options.midwall_offset)
    summary = {
        "slices": rows,
        "segments": seg_rows,
        "hct": hct,
        "alpha": options.alpha,
        "registered": options.register,
        "midwall_offset": options.midwall_offset,
        "aha": {"reference": options.aha.reference, "rotation_deg": options.aha.rotation_deg},
    }

    def fill(tmp: Path) -> None:
        """Write every output into the temporary folder ``tmp``."""
        _write_phase(tmp / "pre", pre_r)
        if post_r is not None:
            _write_phase(tmp / "post", post_r)
            img = pre_s.image
            write_image(Image(ecv, img.spacing[:3], img.affine, {"unit": "percent"}), tmp / "ECV.nii.gz")
        write_rows(tmp / "slices.csv", rows)
        write_rows(tmp / "segments.csv", seg_rows or [{"segment": "none (no RV insertion found)"}])
        (tmp / "summary.json").write_text(json.dumps(summary, indent=1, default=float))
        views = (phase_view(pre_r), None if post_r is None else phase_view(post_r))
        write_pipeline_report(tmp, *views, ecv, rows, seg_rows, f"T1 pipeline: {Path(pre).name}", _values_note(options))

    atomic_directory(output, overwrite, fill)
    return summary
