"""M&Ms-2 -> cmrseg layout (short-axis ED/ES only).

M&Ms-2 labels are 1 LV blood pool, 2 myocardium, 3 RV; we map them to ACDC (3, 2, 1).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cmrseg.image import LabelMap
from cmrseg.io.datasets.layout import Case, Dataset, save_dataset
from cmrseg.io.nifti import nifti_stem, read_image, read_labels, write_image, write_labels
from cmrseg.labels import Label

__all__ = ["convert_mnms2", "map_mnms2_labels"]


def map_mnms2_labels(gt: np.ndarray) -> np.ndarray:
    """M&Ms label values (1 LV, 2 MYO, 3 RV) -> ACDC (3 LV, 2 MYO, 1 RV).

    Parameters
    ----------
    gt : np.ndarray
        An M&Ms-2 label array of any shape, values 0-3.

    Returns
    -------
    np.ndarray
        uint8 ACDC labels, same shape as ``gt``.

    Raises
    ------
    ValueError
        ``gt`` holds a value other than 0, 1, 2 or 3.
    """
    unknown = sorted(set(np.unique(gt).tolist()) - {0, 1, 2, 3})
    if unknown:
        raise ValueError(f"unexpected M&Ms-2 label values {unknown}")
    lut = np.array([Label.BACKGROUND, Label.LV, Label.MYO, Label.RV], np.uint8)
    return lut[gt.astype(np.int64)]


def convert_mnms2(src: Path, dst: Path) -> Dataset:
    """Convert the M&Ms-2 short-axis ED/ES images found under ``src`` into the cmrseg layout at ``dst``.

    Parameters
    ----------
    src : pathlib.Path
        A folder searched recursively for ``NNN_SA_ED.nii.gz`` / ``NNN_SA_ES.nii.gz`` images, each
        with an optional ``NNN_SA_ED_gt.nii.gz`` / ``NNN_SA_ES_gt.nii.gz`` label file beside it.
    dst : pathlib.Path
        The dataset folder to write: ``images/``, ``labels/`` (labels mapped to ACDC values by
        :func:`map_mnms2_labels`) and ``dataset.json``.

    Returns
    -------
    Dataset
        One case per image, ``NNN_SA_ED`` / ``NNN_SA_ES`` of subject ``NNN`` with phase ED / ES;
        ``label`` is None where no label file exists.

    Raises
    ------
    FileNotFoundError
        No ``*_SA_ED`` / ``*_SA_ES`` image under ``src``.
    ValueError
        A label file holds values other than 0-3.
    """
    cases = []
    for image_path in sorted(Path(src).rglob("*_SA_E[DS].nii.gz")):
        case_id = nifti_stem(image_path)
        subject, phase = case_id.split("_SA_")
        gt_path = image_path.with_name(f"{case_id}_gt.nii.gz")
        write_image(read_image(image_path), dst / "images" / f"{case_id}.nii.gz")
        label = None
        if gt_path.exists():
            gt = read_labels(gt_path)
            write_labels(LabelMap.like(gt, map_mnms2_labels(gt.array)), dst / "labels" / f"{case_id}.nii.gz")
            label = f"labels/{case_id}.nii.gz"
        cases.append(Case(case_id, subject, f"images/{case_id}.nii.gz", label, phase))
    if not cases:
        raise FileNotFoundError(f"no M&Ms-2 NNN_SA_ED/ES.nii.gz files under {src}")
    ds = Dataset(
        Path(dst),
        "mnms2",
        tuple(cases),
        source="M&Ms-2 challenge via masadcv/ScribblesSampleData",
        licence="research use; cite the M&Ms-2 challenge",
    )
    save_dataset(ds)
    return ds
