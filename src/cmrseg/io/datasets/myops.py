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
    """MyoPS ``gd`` values -> ACDC labels; unknown values raise ``ValueError``."""
    unknown = sorted(set(np.unique(gd).tolist()) - set(_MAP))
    if unknown:
        raise ValueError(f"unexpected MyoPS label values {unknown}")
    out = np.zeros(gd.shape, np.uint8)
    for value, label in _MAP.items():
        out[gd == value] = label
    return out


def convert_myops(src: Path, dst: Path) -> Dataset:
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
