"""ACDC (HDF5 as redistributed by WSL4MIS) -> cmrseg layout.

Files ``patientNNN_frameFF.h5`` with ``image`` (S, H, W) float in [0, 1] and ``label``
(S, H, W) in ACDC values. Frame 01 is ED, the other frame is ES. The files carry no spacing:
we write 1 x 1 x 1 mm and mark ``spacing_known: false``.
"""

from __future__ import annotations

import re
from pathlib import Path

import h5py
import numpy as np

from cmrseg.image import Image, LabelMap, default_affine
from cmrseg.io.datasets.layout import Case, Dataset, save_dataset
from cmrseg.io.nifti import write_image, write_labels

__all__ = ["convert_acdc"]

_NAME = re.compile(r"(patient\d{3})_frame(\d{2})\.h5$")


def convert_acdc(src: Path, dst: Path) -> Dataset:
    """Convert the ACDC HDF5 files in ``src`` into the cmrseg layout at ``dst``.

    Parameters
    ----------
    src : pathlib.Path
        The folder holding ``patientNNN_frameFF.h5`` files (``image`` and ``label`` ``(S, H, W)``).
    dst : pathlib.Path
        The dataset folder to write: ``images/`` and ``labels/`` ``(H, W, S)`` NIfTI files named
        ``patientNNN_frameFF.nii.gz`` and ``dataset.json``.

    Returns
    -------
    Dataset
        One case per file, subject ``patientNNN``, phase ED for frame 01 and ES otherwise,
        ``extra["frame"]`` the frame number; ``spacing_known`` false (1 x 1 x 1 mm written).

    Raises
    ------
    FileNotFoundError
        ``src`` holds no ``patientNNN_frameFF.h5`` file.
    """
    files = sorted(p for p in Path(src).glob("*.h5") if _NAME.search(p.name))
    if not files:
        raise FileNotFoundError(f"no ACDC patientNNN_frameFF.h5 files in {src}")
    cases = []
    for path in files:
        subject, frame = _NAME.search(path.name).groups()
        case_id = f"{subject}_frame{frame}"
        with h5py.File(path, "r") as h5:
            image = np.asarray(h5["image"], np.float32).transpose(1, 2, 0)
            label = np.asarray(h5["label"], np.uint8).transpose(1, 2, 0)
        spacing = (1.0, 1.0, 1.0)
        unknown = {"spacing_known": False}
        write_image(Image(image, spacing, default_affine(spacing), unknown), dst / "images" / f"{case_id}.nii.gz")
        write_labels(LabelMap(label, spacing, default_affine(spacing), unknown), dst / "labels" / f"{case_id}.nii.gz")
        cases.append(
            Case(
                case_id,
                subject,
                f"images/{case_id}.nii.gz",
                f"labels/{case_id}.nii.gz",
                "ED" if frame == "01" else "ES",
                {"frame": int(frame)},
            )
        )
    ds = Dataset(
        Path(dst),
        "acdc",
        tuple(cases),
        source="ACDC challenge (Bernard et al., IEEE TMI 2018) via HiLab-git/WSL4MIS",
        licence="CC BY-NC-SA 4.0",
        spacing_known=False,
    )
    save_dataset(ds)
    return ds
