"""Sunnybrook Cardiac Data (DICOM cine + expert contours) -> cmrseg layout.

For each patient (``link.csv`` maps ``dicoms/SCD...`` to ``contourfiles/SC-HF-...``) the
contoured frames become cases ``<patient>_tNN`` (a 3D stack of frame NN). Labels: inside the
endocardial (i) contour -> 3 LV; between the epicardial (o) and endocardial contour -> 2 MYO.
Sunnybrook has no RV contours and epicardium on about half the images, so
``labelled_classes`` is (2, 3) and ``extra`` lists the slices with each contour.

An epicardial contour that does not contain the endocardial one of its image (more than 5% of
the cavity outside it: contours shifted against each other) gives no myocardium on that slice:
the slice is left out of ``epi_slices`` (so training skips it), listed in
``epi_rejected_slices``, and one warning names the images.
"""

from __future__ import annotations

import csv
import re
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np
from skimage.draw import polygon

from cmrseg.image import Image, LabelMap
from cmrseg.io.datasets.layout import Case, Dataset, save_dataset
from cmrseg.io.dicom import read_dicom_folder
from cmrseg.io.nifti import write_image, write_labels
from cmrseg.labels import Label

__all__ = ["convert_sunnybrook", "read_contour", "contour_to_mask", "epicardium_contains"]

_NAME = re.compile(r"IM-\d{4}-(\d{4})-([io])contour-manual\.txt$")

#: largest fraction of the endocardial area that may lie outside the epicardial contour
_OUTSIDE = 0.05


def read_contour(path: Path) -> np.ndarray:
    """``(N, 2)`` float ``(x, y)`` pixel coordinates of a Sunnybrook contour file.

    Parameters
    ----------
    path : pathlib.Path
        A ``IM-NNNN-NNNN-{i,o}contour-manual.txt`` file of ``x y`` lines.

    Returns
    -------
    np.ndarray
        ``(N, 2)`` float points, ``N >= 3``.

    Raises
    ------
    ValueError
        The file does not hold at least 3 points of two columns.
    """
    pts = np.loadtxt(path, ndmin=2)
    if pts.shape[1] != 2 or len(pts) < 3:
        raise ValueError(f"{path} is not a contour of >= 3 'x y' points")
    return pts


def contour_to_mask(points_xy: np.ndarray, shape_xy: tuple[int, int]) -> np.ndarray:
    """Fill a closed ``(x, y)`` contour on an array indexed ``(X, Y)``.

    Parameters
    ----------
    points_xy : np.ndarray
        ``(N, 2)`` ``(x, y)`` pixel coordinates of the contour.
    shape_xy : tuple of int
        The ``(X, Y)`` shape of the slice; parts of the polygon outside it are clipped.

    Returns
    -------
    np.ndarray
        Boolean ``(X, Y)`` mask, true inside the polygon.
    """
    mask = np.zeros(shape_xy, bool)
    rr, cc = polygon(points_xy[:, 0], points_xy[:, 1], shape_xy)
    mask[rr, cc] = True
    return mask


def epicardium_contains(epi: np.ndarray, endo: np.ndarray, tolerance: float = _OUTSIDE) -> bool:
    """Whether the filled epicardial contour ``epi`` holds the endocardial ``endo`` (boolean masks
    of one slice), up to ``tolerance`` of the endocardial area outside it.

    Parameters
    ----------
    epi : np.ndarray
        Boolean ``(X, Y)`` mask of the filled epicardial contour.
    endo : np.ndarray
        Boolean ``(X, Y)`` mask of the filled endocardial contour.
    tolerance : float
        The largest fraction of the endocardial area that may lie outside ``epi`` (default 0.05).

    Returns
    -------
    bool
        True when at most ``tolerance`` of ``endo`` lies outside ``epi``, or ``endo`` is empty.
    """
    return not endo.any() or float((endo & ~epi).sum()) <= tolerance * float(endo.sum())


def _read_contours(
    contour_dir: Path, cine: Image
) -> tuple[dict[int, dict[int, dict[str, np.ndarray]]], dict[tuple[int, int], str]]:
    """``{frame: {slice: {"i" | "o": (K, 2) points}}}`` of a patient's manual contours, and the
    image number each (frame, slice) came from."""
    index = {name: (z, t) for z, row in enumerate(cine.metadata["files"]) for t, name in enumerate(row)}
    contours: dict[int, dict[int, dict[str, np.ndarray]]] = defaultdict(lambda: defaultdict(dict))
    image_number: dict[tuple[int, int], str] = {}
    for path in sorted(contour_dir.rglob("*contour-manual.txt")):
        m = _NAME.search(path.name)
        if m and f"{int(m.group(1))}.dcm" in index:
            z, t = index[f"{int(m.group(1))}.dcm"]
            contours[t][z][m.group(2)] = read_contour(path)
            image_number[t, z] = m.group(1)
    return contours, image_number


def _convert_patient(dicom_dir: Path, contour_dir: Path, dst: Path, patient: str) -> list[Case]:
    cine = read_dicom_folder(dicom_dir)
    contours, image_number = _read_contours(contour_dir, cine)
    rejected: list[tuple[int, int]] = []  # (frame, slice) whose epicardium misses the endocardium
    cases = []
    lv_voxels = []  # per case, to tell ED from ES without reading the files back
    spacing3 = cine.spacing
    for t, slices in sorted(contours.items()):
        frame = cine.array[..., t]
        labels = np.zeros(frame.shape, np.uint8)
        epi_slices = []
        for z, cs in slices.items():
            endo = contour_to_mask(cs["i"], frame.shape[:2]) if "i" in cs else None
            epi = contour_to_mask(cs["o"], frame.shape[:2]) if "o" in cs else None
            if epi is not None and endo is not None and not epicardium_contains(epi, endo):
                rejected.append((t, z))
                epi = None
            if epi is not None:
                labels[epi, z] = Label.MYO
                epi_slices.append(z)
            if endo is not None:
                labels[endo, z] = Label.LV
        case_id = f"{patient}_t{t:02d}"
        write_image(Image(frame, spacing3, cine.affine, {}), dst / "images" / f"{case_id}.nii.gz")
        write_labels(LabelMap(labels, spacing3, cine.affine), dst / "labels" / f"{case_id}.nii.gz")
        lv_voxels.append(int((labels == Label.LV).sum()))
        cases.append(
            Case(
                case_id,
                patient,
                f"images/{case_id}.nii.gz",
                f"labels/{case_id}.nii.gz",
                None,
                {
                    "frame": t,
                    "endo_slices": sorted(z for z, c in slices.items() if "i" in c),
                    "epi_slices": sorted(epi_slices),
                    "epi_rejected_slices": sorted(z for f, z in rejected if f == t),
                },
            )
        )
    if rejected:
        images = ", ".join(f"IM-{image_number[t, z]} (frame {t}, slice {z})" for t, z in rejected)
        warnings.warn(
            f"sunnybrook {patient}: the epicardial contour does not contain the endocardial one on "
            f"{len(rejected)} image(s): {images}; no myocardium written there",
            stacklevel=2,
        )
    if len(cases) == 2:  # the larger LV cavity is end-diastole
        ed = int(np.argmax(lv_voxels))
        cases = [
            Case(c.id, c.subject, c.image, c.label, "ED" if k == ed else "ES", c.extra) for k, c in enumerate(cases)
        ]
    return cases


def convert_sunnybrook(src: Path, dst: Path) -> Dataset:
    """Convert the Sunnybrook Cardiac Data in ``src`` into the cmrseg layout at ``dst``.

    Parameters
    ----------
    src : pathlib.Path
        The Sunnybrook folder: ``link.csv`` (columns ``patient_id``, ``original_id``),
        ``dicoms/<patient_id>/`` cines and ``contourfiles/<original_id>/`` expert contours.
    dst : pathlib.Path
        The dataset folder to write: ``images/`` and ``labels/`` ``<patient>_tNN.nii.gz`` 3D stacks
        of each contoured frame NN, and ``dataset.json``.

    Returns
    -------
    Dataset
        One case per contoured frame; ``labelled_classes`` (2, 3); ``extra`` holds ``frame``,
        ``endo_slices``, ``epi_slices`` and ``epi_rejected_slices``. When a patient has two
        contoured frames, the one with the larger LV cavity is ED and the other ES.

    Raises
    ------
    FileNotFoundError
        ``src`` has no ``link.csv``.
    ValueError
        ``link.csv`` lacks the ``patient_id`` / ``original_id`` columns, or a contour file holds
        fewer than 3 ``x y`` points.

    Warns
    -----
    UserWarning
        Per patient, naming the images whose epicardial contour does not contain the endocardial
        one (no myocardium is written there; see the module notes).
    """
    link = Path(src) / "link.csv"
    if not link.exists():
        raise FileNotFoundError(f"no link.csv in {src} (expected the Sunnybrook layout)")
    cases: list[Case] = []
    with open(link) as fh:
        rows = csv.DictReader(fh)
        if not {"patient_id", "original_id"} <= set(rows.fieldnames or ()):
            raise ValueError(f"{link} has columns {rows.fieldnames}; expected patient_id,original_id")
        for row in rows:
            cases += _convert_patient(
                Path(src) / "dicoms" / row["patient_id"],
                Path(src) / "contourfiles" / row["original_id"],
                Path(dst),
                row["patient_id"],
            )
    ds = Dataset(
        Path(dst),
        "sunnybrook",
        tuple(cases),
        source="Sunnybrook Cardiac Data (Radau et al. 2009)",
        licence="Cardiac Atlas Project terms; cite Radau et al.",
        labelled_classes=(2, 3),
    )
    save_dataset(ds)
    return ds
