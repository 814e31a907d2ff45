"""Which way round each dataset's short-axis arrays are, from their geometry.

Usage: python benchmarks/handedness.py

For an array read by cmrseg (NIfTI affine, or the affine ``read_dicom_folder`` builds from the DICOM
orientation and position tags), the slice normal is the cross product of the physical directions
of the first two array axes. A short-axis array whose normal points from the base to the apex (the
patient's left, anterior and inferior; RAS direction (-0.6, 0.5, -0.6), normalised) is one way
round, one whose normal points back the other: a mirror image of it on screen. Prints the cosine
of the angle between the two (near +1 or -1 for a true short-axis plane) per file.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DATA, REPO  # noqa: E402

from cmrseg.io.dicom import read_dicom_folder  # noqa: E402
from cmrseg.io.nifti import read_image  # noqa: E402

APEX_RAS = np.array([-0.6, 0.5, -0.6]) / np.linalg.norm([-0.6, 0.5, -0.6])


def normal_cosine(affine: np.ndarray) -> float:
    """Cosine between the slice normal of an array's first two axes and the base-to-apex direction."""
    a = np.asarray(affine)[:3, :3]
    n = np.cross(a[:, 0], a[:, 1])
    return float(n @ APEX_RAS / np.linalg.norm(n))


def main() -> None:
    print("| file | reader | cosine(normal, base-to-apex) |")
    print("|---|---|---|")
    for path in sorted((DATA / "myops").glob("Case*/Case*_C0.nii.gz")):
        print(f"| {path.name} | NIfTI | {normal_cosine(read_image(path).affine):+.2f} |")
    mnms2 = read_image(REPO / "examples" / "mnms2_001_SA_ED.nii.gz")
    print(f"| M&Ms-2 001_SA_ED | NIfTI | {normal_cosine(mnms2.affine):+.2f} |")
    for pid in ("SCD0000101", "SCD0000201"):
        cine = read_dicom_folder(DATA / "sunnybrook/dicoms" / pid)
        print(f"| Sunnybrook {pid} | DICOM | {normal_cosine(cine.affine):+.2f} |")


if __name__ == "__main__":
    main()
