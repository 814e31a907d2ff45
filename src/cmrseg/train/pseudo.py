"""Pseudo-labels with confidence sets (7T transfer-learning paper).

Segment an unlabelled set with a model, compute each subject's EDV, ESV and EF from the
predictions, and keep the subjects whose three values all lie within +-``tolerance`` percent of
reference values (e.g. from clinical reports). The kept subjects, with the predictions as labels,
form a new dataset to train on. Volumes are compared as ratios, so voxel counts serve when the
files carry no spacing.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cmrseg.function import ejection_fraction, voxel_volume_ml
from cmrseg.image import LabelMap
from cmrseg.io.atomic import atomic_directory, check_output
from cmrseg.io.datasets import load_dataset
from cmrseg.io.datasets.layout import Case, Dataset, save_dataset
from cmrseg.io.nifti import read_image, read_labels, write_image, write_labels
from cmrseg.labels import Label
from cmrseg.predict import Predictor

__all__ = [
    "SubjectVolumes",
    "volumes_from_labels",
    "predicted_volumes",
    "select_confident",
    "write_pseudo_dataset",
    "read_volumes_csv",
    "pseudo_label_dataset",
]


@dataclass(frozen=True)
class SubjectVolumes:
    """LV end-diastolic and end-systolic volume (any consistent unit) and EF in percent."""

    edv: float
    esv: float

    @property
    def ef(self) -> float:
        return ejection_fraction(self.edv, self.esv)


def _lv(labels: np.ndarray, spacing: tuple[float, ...], known: bool) -> float:
    voxel = voxel_volume_ml(spacing) if known else 1.0
    return float((labels == Label.LV).sum()) * voxel


def volumes_from_labels(dataset: Dataset) -> dict[str, SubjectVolumes]:
    """Reference volumes per subject from a dataset's own ED/ES label maps.

    Parameters
    ----------
    dataset : Dataset
        A dataset with labelled ED and ES cases.

    Returns
    -------
    dict of str to SubjectVolumes
        LV volumes in mL when the dataset's spacing is known, else in voxels; only subjects with
        both an ED and an ES label map.
    """
    out: dict[str, dict[str, float]] = {}
    for c in dataset.cases:
        if c.label and c.phase in ("ED", "ES"):
            lab = read_labels(dataset.root / c.label)
            out.setdefault(c.subject, {})[c.phase] = _lv(lab.array, lab.spacing, dataset.spacing_known)
    return {s: SubjectVolumes(v["ED"], v["ES"]) for s, v in out.items() if {"ED", "ES"} <= set(v)}


def predicted_volumes(predictor, dataset: Dataset, subjects: list[str] | None = None):  # noqa: ANN001, ANN201
    """``({subject: SubjectVolumes}, {case id: predicted labels})`` for the ED/ES cases of ``dataset``.

    Parameters
    ----------
    predictor : Predictor
        The model segmenting the images.
    dataset : Dataset
        The dataset whose ED/ES cases are segmented.
    subjects : list of str, optional
        Only these subjects; None segments all.

    Returns
    -------
    volumes : dict of str to SubjectVolumes
        Predicted LV volumes in mL when the dataset's spacing is known, else in voxels; only
        subjects with both phases.
    predictions : dict of str to numpy.ndarray
        Case id -> predicted label map, on the image's grid.
    """
    vols: dict[str, dict[str, float]] = {}
    preds: dict[str, np.ndarray] = {}
    for c in dataset.cases:
        if c.phase not in ("ED", "ES") or (subjects is not None and c.subject not in subjects):
            continue
        image = read_image(dataset.root / c.image)
        preds[c.id] = predictor.predict_array(image.array)
        vols.setdefault(c.subject, {})[c.phase] = _lv(preds[c.id], image.spacing, dataset.spacing_known)
    return {s: SubjectVolumes(v["ED"], v["ES"]) for s, v in vols.items() if {"ED", "ES"} <= set(v)}, preds


def select_confident(
    predicted: dict[str, SubjectVolumes], reference: dict[str, SubjectVolumes], tolerance_percent: float
) -> list[str]:
    """Subjects whose predicted EDV, ESV and EF are all within +-tolerance % of the reference.

    Parameters
    ----------
    predicted : dict of str to SubjectVolumes
        Predicted volumes per subject.
    reference : dict of str to SubjectVolumes
        Reference volumes per subject, in the unit of ``predicted`` (ratios are compared);
        subjects without a positive reference EDV and ESV are skipped.
    tolerance_percent : float
        Largest relative deviation in percent, in (0, 100).

    Returns
    -------
    list of str
        The kept subjects, sorted.

    Raises
    ------
    ValueError
        If ``tolerance_percent`` is not in (0, 100).
    """
    if not 0 < tolerance_percent < 100:
        raise ValueError(f"tolerance must be a percentage in (0, 100), got {tolerance_percent}")
    keep = []
    for s, p in predicted.items():
        r = reference.get(s)
        if r is None or r.edv <= 0 or r.esv <= 0:
            continue
        rel = [abs(p.edv / r.edv - 1), abs(p.esv / r.esv - 1), abs(p.ef / r.ef - 1) if r.ef else np.inf]
        if max(rel) * 100 <= tolerance_percent:
            keep.append(s)
    return sorted(keep)


def write_pseudo_dataset(
    dataset: Dataset, predictions: dict[str, np.ndarray], subjects: list[str], dst: Path | str
) -> Dataset:
    """A new dataset at ``dst`` with the kept subjects' images and their predicted labels.

    Parameters
    ----------
    dataset : Dataset
        The segmented dataset.
    predictions : dict of str to numpy.ndarray
        Case id -> predicted label map on the case image's grid; cases not in it are left out.
    subjects : list of str
        The subjects to keep.
    dst : path
        Folder of the new dataset (``images/``, ``labels/`` and its index).

    Returns
    -------
    Dataset
        Named ``<name>-pseudo``; its cases carry ``pseudo_label: True`` in ``extra``.
    """
    dst = Path(dst)
    cases = []
    for c in dataset.cases:
        if c.subject not in subjects or c.id not in predictions:
            continue
        image = read_image(dataset.root / c.image)
        write_image(image, dst / "images" / f"{c.id}.nii.gz")
        write_labels(LabelMap.like(image, predictions[c.id]), dst / "labels" / f"{c.id}.nii.gz")
        cases.append(
            Case(
                c.id,
                c.subject,
                f"images/{c.id}.nii.gz",
                f"labels/{c.id}.nii.gz",
                c.phase,
                {**c.extra, "pseudo_label": True},
            )
        )
    ds = Dataset(
        dst,
        f"{dataset.name}-pseudo",
        tuple(cases),
        source=f"pseudo-labels of {dataset.name}",
        licence=dataset.licence,
        spacing_known=dataset.spacing_known,
    )
    save_dataset(ds)
    return ds


def read_volumes_csv(path: Path | str) -> dict[str, SubjectVolumes]:
    """Reference volumes from a CSV with columns ``subject``, ``edv``, ``esv`` (any one unit, e.g. mL).

    Parameters
    ----------
    path : path
        The CSV file.

    Returns
    -------
    dict of str to SubjectVolumes

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is empty or lacks one of the columns.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such volumes file: {path}")
    with path.open() as f:
        rows = list(csv.DictReader(f))
    if not rows or not {"subject", "edv", "esv"} <= set(rows[0]):
        raise ValueError(f"{path} needs the columns subject, edv, esv")
    return {r["subject"]: SubjectVolumes(float(r["edv"]), float(r["esv"])) for r in rows}


def pseudo_label_dataset(
    data: Path | str,
    output: Path | str,
    tolerance_percent: float,
    volumes: Path | str | None = None,
    model: str = "cine",
    overwrite: bool = False,
) -> tuple[Dataset, dict[str, SubjectVolumes], dict[str, SubjectVolumes]]:
    """Segment a dataset's ED/ES cases and write the confident subjects as a new dataset at ``output``.

    Reference volumes come from ``volumes`` (CSV: subject, edv, esv) or, without it, from the
    dataset's own label maps (to measure the method on labelled data with its labels hidden).

    Parameters
    ----------
    data : path
        The dataset folder to segment.
    output : path
        Folder of the new dataset, written atomically.
    tolerance_percent : float
        Largest deviation of EDV, ESV and EF from the reference, in percent, in (0, 100).
    volumes : path, optional
        CSV of reference volumes (columns subject, edv, esv).
    model : str
        A shipped name (``cine``: the datasets are cine ED/ES) or a model file.
    overwrite : bool
        Replace an existing output.

    Returns
    -------
    tuple of (Dataset, dict, dict)
        The new dataset, the predicted and the reference volumes (``{subject: SubjectVolumes}``).

    Raises
    ------
    ValueError
        If ``tolerance_percent`` is not in (0, 100), there are no reference volumes, or no subject
        is confident.
    FileNotFoundError
        If the ``volumes`` file does not exist.
    """
    if not 0 < tolerance_percent < 100:
        raise ValueError(f"tolerance must be a percentage in (0, 100), got {tolerance_percent}")
    output = Path(output)
    check_output(output, overwrite)
    ds = load_dataset(data)
    reference = read_volumes_csv(volumes) if volumes is not None else volumes_from_labels(ds)
    if not reference:
        raise ValueError("no reference volumes: give --volumes CSV (subject, edv, esv) or a dataset with ED/ES labels")
    predicted, preds = predicted_volumes(Predictor(model), ds, sorted(reference))
    kept = select_confident(predicted, reference, tolerance_percent)
    if not kept:
        raise ValueError(
            f"no subject's predicted EDV, ESV and EF are within +-{tolerance_percent:g} % of the reference"
        )
    atomic_directory(output, overwrite, lambda tmp: write_pseudo_dataset(ds, preds, kept, tmp))
    return load_dataset(output), predicted, reference
