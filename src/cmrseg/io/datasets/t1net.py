"""T1NET MOLLI test sets (.mat) -> NIfTI mapping series with JSON sidecars.

``DST/series/{pre,post}_sliceK.nii.gz`` (128, 128, N) in acquisition order with
``{"InversionTime": [...]}`` sidecars; ``DST/reference/..._T1.nii.gz`` the shipped reference T1
map (ms); ``DST/masks/..._myo.nii.gz`` the myocardium mask with AHA segment numbers (1-6).
``DST/series/{pre,post}.nii.gz`` (128, 128, 3, N) stack the three slices with one TI list per
slice in the sidecar (input of ``cmrseg t1-pipeline``). Whether slice K of the pre and of the
post set come from one subject the source does not say.
No pixel spacing in the source: like the ACDC converter we write 1 mm voxels with no orientation
(no qform/sform) and mark ``spacing_known: false`` in the files and in ``dataset.json``, so
commands that need mm or mL refuse them unless given ``--spacing``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import scipy.io

from cmrseg.image import Image, LabelMap, default_affine
from cmrseg.io.atomic import atomic_write
from cmrseg.io.datasets.layout import Case, Dataset, save_dataset
from cmrseg.io.nifti import write_image, write_labels

__all__ = ["convert_t1net", "load_t1net"]


def load_t1net(path: Path) -> dict[str, np.ndarray]:
    """``input`` (S, H, W, N), ``TI`` (S, N) ms, ``T1`` (S, H, W) ms, ``myoMask`` (S, H, W) of one .mat file.

    Parameters
    ----------
    path : pathlib.Path
        A T1NET ``{pre,post}contrast_testsets.mat`` file holding a ``test`` struct.

    Returns
    -------
    dict of str to np.ndarray
        The arrays ``input``, ``TI``, ``T1`` and ``myoMask`` of the struct (shapes above).
    """
    test = scipy.io.loadmat(path, squeeze_me=True, struct_as_record=False)["test"]
    return {k: np.asarray(getattr(test, k)) for k in ("input", "TI", "T1", "myoMask")}


#: the source records no pixel spacing: written as 1 mm, flagged unknown (see io/nifti.py)
_UNKNOWN = {"spacing_known": False}


def _image(array: np.ndarray) -> Image:
    spacing = (1.0,) * min(array.ndim, 3)
    return Image(array.astype(np.float32), spacing, default_affine(spacing), dict(_UNKNOWN))


def convert_t1net(src: Path, dst: Path) -> Dataset:
    """Convert the T1NET MOLLI test sets in ``src`` into NIfTI mapping series at ``dst``.

    Parameters
    ----------
    src : pathlib.Path
        The folder holding ``precontrast_testsets.mat`` and ``postcontrast_testsets.mat``.
    dst : pathlib.Path
        The dataset folder to write: ``series/``, ``reference/``, ``masks/`` (see the module notes)
        and ``dataset.json``.

    Returns
    -------
    Dataset
        One case ``{pre,post}_sliceK`` per slice: image the ``(H, W, N)`` series, label the
        myocardium mask, phase ``pre`` / ``post``, ``extra["reference_t1"]`` the reference T1 map;
        ``spacing_known`` false and no ``labelled_classes``.

    Raises
    ------
    FileNotFoundError
        One of the two ``.mat`` files is missing.
    """
    cases = []
    for contrast in ("pre", "post"):
        path = Path(src) / f"{contrast}contrast_testsets.mat"
        if not path.exists():
            raise FileNotFoundError(f"missing {path}")
        d = load_t1net(path)
        stack = np.moveaxis(d["input"].astype(np.float32), 0, 2)  # (H, W, S, N)
        write_image(_image(stack), dst / "series" / f"{contrast}.nii.gz")
        doc = {"InversionTime": d["TI"].astype(float).tolist(), "source": "T1NET " + path.name}
        atomic_write(dst / "series" / f"{contrast}.json", lambda p, doc=doc: p.write_text(json.dumps(doc)))
        for k in range(d["input"].shape[0]):
            cid = f"{contrast}_slice{k}"
            write_image(_image(d["input"][k]), dst / "series" / f"{cid}.nii.gz")
            side = dst / "series" / f"{cid}.json"
            doc = {"InversionTime": [float(v) for v in d["TI"][k]], "source": "T1NET " + path.name}
            atomic_write(side, lambda p, doc=doc: p.write_text(json.dumps(doc)))
            write_image(_image(d["T1"][k]), dst / "reference" / f"{cid}_T1.nii.gz")
            mask = d["myoMask"][k].astype(np.uint8)
            write_labels(
                LabelMap(mask, (1.0, 1.0), default_affine((1.0, 1.0)), dict(_UNKNOWN)),
                dst / "masks" / f"{cid}_myo.nii.gz",
            )
            cases.append(
                Case(
                    cid,
                    f"slice{k}",
                    f"series/{cid}.nii.gz",
                    f"masks/{cid}_myo.nii.gz",
                    contrast,
                    {"reference_t1": f"reference/{cid}_T1.nii.gz"},
                )
            )
    ds = Dataset(
        Path(dst),
        "t1net",
        tuple(cases),
        source="gadluru/T1NET-rapid-T1mapping (University of Utah)",
        licence="no licence file; testing only",
        spacing_known=False,
        labelled_classes=(),
    )
    save_dataset(ds)
    return ds
