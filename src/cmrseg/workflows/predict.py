"""``cmrseg predict``: image files (NIfTI, DICOM folders, folders of NIfTI) in, label-map files out."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from cmrseg.guide import check_alpha, check_guide
from cmrseg.image import Image, LabelMap
from cmrseg.io.atomic import check_output
from cmrseg.io.loader import list_inputs, read_any
from cmrseg.io.mapping_series import sidecar_path
from cmrseg.io.nifti import read_labels, write_labels
from cmrseg.keywords import keywords
from cmrseg.labels import is_label_map
from cmrseg.models.shipped import AUTO, auto_model
from cmrseg.predict import Predictor, check_mirror, check_precision
from cmrseg.series_segmentation import segment_series

__all__ = ["predict_file", "described", "is_mapping_series", "SERIES_ROUTE"]


def _guide_for(guide: Path | None, source: Path, image: Image) -> np.ndarray | None:
    """The guide of one input: the file itself, or in folder mode the mask of the same file name."""
    if guide is None:
        return None
    path = guide / source.name if guide.is_dir() else guide
    if not path.exists():
        raise FileNotFoundError(f"no guide mask for {source.name}: expected {path}")
    labels = read_labels(path)
    # a 4D input (cine or mapping series) may take one 3D guide for all its frames
    shape = image.shape[:3] if len(image.shape) == 4 and labels.array.ndim == 3 else image.shape
    check_guide(labels.array, shape, f"guide {path.name}")
    if not np.allclose(labels.affine, image.affine, atol=1e-3):
        raise ValueError(f"guide {path.name} has another affine than {source.name}; they must share one grid")
    return labels.array


def _check_values(array: np.ndarray, source: Path) -> None:
    """Refuse, before any model loads, an image that holds NaN / inf or one value only."""
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{source.name} contains NaN or infinite values")
    if array.size and array.min() == array.max():
        raise ValueError(f"{source.name} is constant (all values {array.flat[0]}); nothing to segment")


#: what ``--model auto`` reports for a mapping series (:func:`is_mapping_series`)
SERIES_ROUTE = "guided (a mapping series, as segment-series: guide from the default model)"


def _sidecar(source: Path) -> dict:
    """The JSON sidecar beside a NIfTI file (as dcm2niix writes), or {} when there is none or it is broken."""
    side = sidecar_path(source)
    if not (source.is_file() and side.is_file()):
        return {}
    try:
        meta = json.loads(side.read_text())
    except (ValueError, OSError):
        return {}
    return meta if isinstance(meta, dict) else {}


def _numbers(value: object) -> list[float]:
    """Every number in a (nested) list, or in a single value; [] for anything else."""
    if isinstance(value, (list, tuple)):
        return [x for v in value for x in _numbers(v)]
    try:
        return [float(value)]  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return []


def is_mapping_series(source: Path, image: Image, sidecar: dict | None = None) -> bool:
    """Whether a 4D input is the images of a T1 mapping series (MOLLI, ShMOLLI, SASHA).

    Parameters
    ----------
    source : pathlib.Path
        The input file or DICOM folder.
    image : Image
        Its image, ``(X, Y, Z, N)``.
    sidecar : dict, optional
        Its JSON sidecar, when already read (default: read here).

    Returns
    -------
    bool
        True for a 4D image of 3 to 14 images per slice with >= 3 distinct inversion times (DICOM
        InversionTime, or ``InversionTime`` in its JSON sidecar), or whose description names MOLLI,
        ShMOLLI or SASHA (:func:`described`).
    """
    if image.array.ndim != 4 or not 3 <= image.array.shape[3] < 15:
        return False
    meta = _sidecar(source) if sidecar is None else sidecar
    times = _numbers(image.metadata.get("inversion_time_ms", [])) + _numbers(meta.get("InversionTime"))
    return len({round(t, 1) for t in times}) >= 3 or "molli" in keywords(described(source, image, meta))


def described(source: Path, image: Image, sidecar: dict | None = None) -> str:
    """What an input says it is, for ``--model auto``: its DICOM series description, the
    SeriesDescription and ProtocolName of a JSON sidecar beside a NIfTI file (as dcm2niix writes),
    and its file or folder name.

    Parameters
    ----------
    source : pathlib.Path
        The input file or DICOM folder.
    image : Image
        Its image (``series_description`` in its metadata when read from DICOM).
    sidecar : dict, optional
        Its JSON sidecar, when already read (default: read here).

    Returns
    -------
    str
        The texts joined by spaces.
    """
    meta = _sidecar(source) if sidecar is None else sidecar
    parts = [str(image.metadata.get("series_description", "")), source.name]
    return " ".join(parts + [str(meta.get(key, "")) for key in ("SeriesDescription", "ProtocolName")])


def predict_file(
    input_path: Path | str,
    output_path: Path | str,
    model: str | Path = AUTO,
    device: str = "auto",
    tta: bool = False,
    overwrite: bool = False,
    invert: bool | str = False,
    series: str | None = None,
    guide: Path | str | None = None,
    alpha: float = 0.25,
    chosen: dict[Path, str] | None = None,
    precision: str = "fp32",
    mirror: str = "auto",
) -> list[Path]:
    """One call: segment a NIfTI file, a DICOM folder, or a folder of NIfTI files.

    Every input (and guide) is read and checked before anything is written.

    Parameters
    ----------
    input_path : path
        A NIfTI file, a DICOM folder, or a folder of NIfTI files.
    output_path : path
        The label-map file; for a folder of NIfTI files a folder, where each output keeps its
        input's file name.
    model : str or path
        A shipped name (``default``: every short-axis contrast; ``cine``; ``guided``), a model
        file, or ``auto`` (the default, as ``cmrseg predict``'s): per input, for a T1 mapping
        series (:func:`is_mapping_series`) every image segmented as ``segment-series`` does (the
        guided model, guided by the default model's segmentation of the slice's highest-contrast
        image); the cine model for a cine (a
        4D image with >= 15 frames, or >= 10 at distinct trigger times, or an input whose
        description or file name names a cine or a cine phase, :func:`described`: ``cine``,
        ``ssfp``, ``ED``, ``frame01``); the default model for anything else
        (:func:`cmrseg.models.shipped.auto_model`).
    device : str
        ``auto``, ``cpu``, ``cuda`` or ``mps``.
    tta : bool
        Test-time augmentation.
    overwrite : bool
        Replace existing outputs.
    invert : bool or str
        ``off``/``False``, ``on``/``True`` (invert intensities before segmenting) or ``auto``.
    series : str, optional
        The series to read when a DICOM folder holds several.
    guide : path, optional
        A mask file, or in folder mode a folder of masks with the inputs' file names, on the
        inputs' grid: segments with a guided model at ``alpha``.
    alpha : float
        Guidance weight in [0, 1].
    chosen : dict, optional
        Filled with output path -> the model name that segmented it.
    precision : str
        ``fp32`` or ``bf16`` (:class:`cmrseg.predict.Predictor`); a mapping series (``auto``)
        is segmented in fp32.
    mirror : str
        ``auto`` (segment an input mirrored when the model is surer of its mirror image: arrays
        written in the other handedness), ``off`` or ``on`` (:class:`cmrseg.predict.Predictor`).

    Returns
    -------
    list of pathlib.Path
        The written label-map paths.

    Raises
    ------
    FileNotFoundError
        If ``guide`` (or an input's guide mask) is not there.
    FileExistsError
        If an output exists and ``overwrite`` is false.
    ValueError
        If ``alpha`` is not in [0, 1], ``precision`` is not ``fp32`` or ``bf16``, ``mirror`` is
        not ``auto``, ``off`` or ``on``, an input holds
        NaN / inf or one value only, ``invert`` is asked for a label map, a guide does not fit its
        input, or ``guide`` is given with a model that is not guided.
    """
    check_alpha(alpha)
    check_precision(precision)
    check_mirror(mirror)
    guide = None if guide is None else Path(guide)
    if guide is not None and not guide.exists():
        raise FileNotFoundError(f"no such guide file or folder: {guide}")
    jobs = list_inputs(Path(input_path), Path(output_path))
    for _, out in jobs:
        check_output(out, overwrite)
    images = []  # read and check every input (and guide) before writing anything
    for src, out in jobs:
        image = read_any(src, series=series)
        _check_values(image.array, src)
        if invert not in (False, "off") and is_label_map(image.array):
            raise ValueError(f"{src.name} looks like a label map (values 0-3 only); --invert applies to images")
        images.append((src, image, _guide_for(guide, src, image), out))
    predictors: dict[str, Predictor] = {}
    written = []
    for src, image, guide_labels, out in images:
        meta = _sidecar(src) if str(model) == AUTO else {}  # read once per input
        if str(model) == AUTO and guide_labels is None and is_mapping_series(src, image, meta):
            seg = segment_series(image.array, "auto", alpha, "guided", "default", mirror=mirror)
            write_labels(LabelMap.like(image, seg.labels), out)
            written.append(out)
            if chosen is not None:
                chosen[out] = SERIES_ROUTE
            continue
        triggers = image.metadata.get("trigger_time_ms", ())
        name = str(model) if str(model) != AUTO else auto_model(image.shape, triggers, described(src, image, meta))
        if name not in predictors:
            predictors[name] = Predictor(
                name, device=device, tta=tta, invert=invert, alpha=alpha, precision=precision, mirror=mirror
            )
            if guide is not None and not predictors[name].guided:
                raise ValueError(f"model {name!r} is not a guided model; use --model guided with --guide")
        write_labels(predictors[name].predict_image(image, guide_labels), out)
        written.append(out)
        if chosen is not None:
            chosen[out] = name
    return written
