"""MyoPS 2020 -> cmrseg layout: three co-registered contrasts sharing one label map.

Cases are ``CaseNNNN_{C0,LGE,T2}`` of subject ``CaseNNNN``, all pointing to
``labels/CaseNNNN.nii.gz``. ``gd`` values map to ACDC: 200/1220/2221 (normal myocardium,
oedema, scar) -> 2 MYO, 500 -> 3 LV, 600 -> 1 RV. ``extra.contrast`` names the contrast.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cmrseg.image import LabelMap
from cmrseg.io.datasets.layout import Case, Dataset, save_dataset
from cmrseg.io.nifti import read_image, read_labels, write_image, write_labels
from cmrseg.labels import Label

__all__ = ["convert_myops", "map_myops_labels", "CONTRASTS"]

CONTRASTS = ("C0", "LGE", "T2")
_MAP = {0: Label.BACKGROUND, 200: Label.MYO, 1220: Label.MYO, 2221: Label.MYO, 500: Label.LV, 600: Label.RV}


def map_myops_labels(gd: np.ndarray) -> np.ndarray:
    """MyoPS ``gd`` values -> ACDC labels; unknown values raise ``ValueError``.

    Parameters
    ----------
    gd : np.ndarray
        A MyoPS label array of any shape: 0, 200, 1220, 2221 (myocardium, oedema, scar), 500 (LV
        blood pool) or 600 (RV blood pool).

    Returns
    -------
    np.ndarray
        uint8 ACDC labels (0 background, 1 RV, 2 MYO, 3 LV), same shape as ``gd``.

    Raises
    ------
    ValueError
        ``gd`` holds any other value.
    """
    unknown = sorted(set(np.unique(gd).tolist()) - set(_MAP))
    if unknown:
        raise ValueError(f"unexpected MyoPS label values {unknown}")
    out = np.zeros(gd.shape, np.uint8)
    for value, label in _MAP.items():
        out[gd == value] = label
    return out


def convert_myops(src: Path, dst: Path) -> Dataset:
    """Convert the MyoPS 2020 case folders in ``src`` into the cmrseg layout at ``dst``.

    Parameters
    ----------
    src : pathlib.Path
        A folder of ``CaseNNNN/`` folders, each with ``CaseNNNN_gd.nii.gz`` and the contrasts
        ``CaseNNNN_{C0,LGE,T2}.nii.gz`` (a missing contrast is skipped).
    dst : pathlib.Path
        The dataset folder to write: ``images/CaseNNNN_<contrast>.nii.gz``,
        ``labels/CaseNNNN.nii.gz`` (mapped by :func:`map_myops_labels`) and ``dataset.json``.

    Returns
    -------
    Dataset
        One case per contrast image, all of a subject sharing its label map;
        ``extra["contrast"]`` names the contrast.

    Raises
    ------
    FileNotFoundError
        ``src`` holds no ``CaseNNNN/CaseNNNN_gd.nii.gz`` folder.
    ValueError
        A ``gd`` file holds an unknown label value.
    """
    folders = sorted(p for p in Path(src).iterdir() if p.is_dir() and (p / f"{p.name}_gd.nii.gz").exists())
    if not folders:
        raise FileNotFoundError(f"no MyoPS CaseNNNN/CaseNNNN_gd.nii.gz folders in {src}")
    cases = []
    for folder in folders:
        subject = folder.name
        gd = read_labels(folder / f"{subject}_gd.nii.gz")
        write_labels(LabelMap.like(gd, map_myops_labels(gd.array)), dst / "labels" / f"{subject}.nii.gz")
        for contrast in CONTRASTS:
            path = folder / f"{subject}_{contrast}.nii.gz"
            if not path.exists():
                continue
            write_image(read_image(path), dst / "images" / f"{subject}_{contrast}.nii.gz")
            cases.append(
                Case(
                    f"{subject}_{contrast}",
                    subject,
                    f"images/{subject}_{contrast}.nii.gz",
                    f"labels/{subject}.nii.gz",
                    None,
                    {"contrast": contrast},
                )
            )
    ds = Dataset(
        Path(dst),
        "myops",
        tuple(cases),
        source="MyoPS 2020 (Zhuang et al.) via Tengjia-Kang/MyoPS",
        licence="research use; cite the MyoPS challenge",
    )
    save_dataset(ds)
    return ds
