"""Checks that run before any heavy import (standard library only), so refusals take well under a second.

:func:`check_arguments` refuses inputs that are missing or not images, outputs that exist (without
``--overwrite``) or cannot be written, a missing model and a device that is not there;
:class:`Rollback` removes what a failed command created.
"""

from __future__ import annotations

import argparse
import errno
import gzip
import os
import shutil
import struct
import tempfile
import zlib
from pathlib import Path

__all__ = ["OUTPUTS", "check_arguments", "Rollback", "parse_spacing"]


def parse_spacing(text: str | None) -> tuple[float, ...] | None:
    if text is None:
        return None
    try:
        spacing = tuple(float(v) for v in text.split(","))
    except ValueError:
        spacing = ()
    if len(spacing) not in (2, 3) or not all(0 < v < float("inf") for v in spacing):
        raise ValueError(f"--spacing needs positive numbers dx,dy[,dz] in mm, got {text!r}")
    return spacing


#: command -> (argument, kind) of its inputs; kinds: image (a NIfTI file or a non-empty folder: DICOM
#: or NIfTI files), nifti (a NIfTI file), file, dir, mask (a number, or a NIfTI file), any (exists)
_INPUTS: dict[str, tuple[tuple[str, str], ...]] = {
    "convert": (("src", "dir"),),
    "train": (("config", "file"),),
    "finetune": (("data", "dir"),),
    "predict": (("input", "image"), ("guide", "image")),
    "pseudo-label": (("data", "dir"), ("volumes", "file")),
    "segment-series": (("series_path", "image"), ("guide", "nifti")),
    "t1-pipeline": (("pre", "image"), ("post", "image")),
    "evaluate": (("pred", "image"), ("ref", "image"), ("images", "image")),
    "augment-preview": (("image", "nifti"), ("label", "nifti")),
    "t1map": (("series_path", "image"),),
    "t2map": (("series_path", "image"),),
    "t1rhomap": (("series_path", "image"),),
    "ecv": (("pre", "nifti"), ("post", "nifti"), ("blood_pre", "mask"), ("blood_post", "mask"), ("myo", "nifti")),
    "contours": (("labels", "nifti"),),
    "contours-to-mask": (("contours", "file"), ("like", "image")),
    "report": (("image", "image"), ("labels", "nifti"), ("metrics", "file"), ("map", "nifti")),
    "function": (("cine", "image"), ("ed", "image"), ("es", "image")),
    "study": (("dicom_dir", "dir"),),
    "cohort": (("source", "any"),),
}

#: command -> (argument, kind, what must not exist without --overwrite, remove when the command fails);
#: kind file, dir or either; what: "" the output itself, a name inside it, or None (not checked)
OUTPUTS: dict[str, tuple[str, str, str | None, bool]] = {
    "convert": ("dst", "dir", None, True),
    "finetune": ("output", "dir", None, False),  # a run folder resumes: kept after a failure
    "predict": ("output", "either", "", True),
    "pseudo-label": ("output", "dir", "", True),
    "segment-series": ("output", "file", "", True),
    "t1-pipeline": ("output", "dir", "", True),
    "evaluate": ("output", "dir", "metrics.csv", True),
    "augment-preview": ("output", "file", "", True),
    "t1map": ("output", "file", "", True),
    "t2map": ("output", "file", "", True),
    "t1rhomap": ("output", "file", "", True),
    "ecv": ("output", "file", "", True),
    "contours": ("output", "file", "", True),
    "contours-to-mask": ("output", "file", "", True),
    "report": ("output", "dir", "index.html", True),
    "function": ("output", "file", "", True),
    "study": ("output", "dir", "", False),  # a failed study keeps its results.json (why each series failed)
    "cohort": ("output", "dir", None, False),  # an existing one resumes; its complete studies are kept
}

#: commands whose --model is used whatever the input (function and report may read labels instead)
_MODEL_COMMANDS = ("predict", "segment-series", "t1-pipeline", "pseudo-label", "study", "cohort")


def _is_nifti_name(path: Path) -> bool:
    return path.name.lower().endswith((".nii", ".nii.gz"))


def _nifti_header(path: Path) -> tuple[str, bytes]:
    """(byte order, first 352 bytes) of a NIfTI-1/2 file; ValueError when it is not one."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            head = fh.read(352)
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"cannot read {path} as NIfTI: {exc}") from None
    for order in "<>":
        if len(head) >= 352 and struct.unpack(order + "i", head[:4])[0] in (348, 540):
            return order, head
    raise ValueError(f"cannot read {path} as NIfTI: no NIfTI header")


def _records_spacing(path: Path) -> bool:
    """io.nifti's rule from the header alone: no orientation codes and unit voxels = never recorded."""
    order, head = _nifti_header(path)
    if struct.unpack(order + "i", head[:4])[0] == 348:
        dim, pixdim = struct.unpack(order + "8h", head[40:56]), struct.unpack(order + "8f", head[76:108])
        codes = struct.unpack(order + "2h", head[252:256])
    else:
        dim, pixdim = struct.unpack(order + "8q", head[16:80]), struct.unpack(order + "8d", head[104:168])
        codes = struct.unpack(order + "2i", head[344:352])
    zooms = [z if z > 0 else 1.0 for z in pixdim[1 : 1 + min(max(dim[0], 2), 3)]]
    return not (codes == (0, 0) and all(z == 1.0 for z in zooms))


def _check_input(path: Path, kind: str, arg: str) -> None:
    if kind == "mask":
        try:
            float(str(path))
            return
        except ValueError:
            path, kind = Path(path), "nifti"
    if not path.exists():
        raise FileNotFoundError(f"{arg} {path}: no such file or folder")
    if kind == "dir":
        if not path.is_dir():
            raise ValueError(f"{arg} {path} is a file; a folder is expected")
    elif kind == "file" and path.is_dir():
        raise ValueError(f"{arg} {path} is a folder; a file is expected")
    elif kind in ("nifti", "image") and path.is_dir():
        if kind == "nifti":
            raise ValueError(f"{arg} {path} is a folder; a NIfTI file (.nii or .nii.gz) is expected")
        if not any(p.is_file() for p in path.rglob("*")):
            raise ValueError(
                f"{arg} {path} is an empty folder; a NIfTI file or a folder of DICOM/NIfTI files is expected"
            )
    elif kind in ("nifti", "image"):
        if not _is_nifti_name(path):
            valid = "a NIfTI file (.nii or .nii.gz)" + (" or a DICOM folder" if kind == "image" else "")
            raise ValueError(f"{arg} {path} is not a NIfTI file (.nii or .nii.gz); expected {valid}")
        _nifti_header(path)


def _check_output(path: Path, kind: str, what: str | None, overwrite: bool) -> None:
    if kind == "file" and path.is_dir():
        raise ValueError(f"output {path} is a folder; give a file name")
    if kind == "dir" and path.exists() and not path.is_dir():
        raise ValueError(f"output {path} is a file; give a folder")
    if what is not None and (kind != "either" or _is_nifti_name(path)):
        target = path / what if what else path
        if target.exists() and not overwrite:  # io.atomic.check_output, without importing cmrseg.io (nibabel)
            raise FileExistsError(f"output {target} exists; pass --overwrite to replace it")
    folder = path if path.is_dir() else path.parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        raise ValueError(f"cannot write {path}: {folder} is a file, not a folder")
    try:  # os.access alone says yes to root on read-only mounts and /sys
        if not os.access(folder, os.W_OK | os.X_OK):
            raise PermissionError(errno.EACCES, "Permission denied")
        tempfile.TemporaryFile(dir=folder).close()  # a nameless file (O_TMPFILE): nothing left behind
    except OSError as exc:
        raise ValueError(f"cannot write {path}: the folder {folder} is not writable ({exc.strerror})") from None


def _check_model(model: str) -> None:
    from cmrseg.models.shipped import AUTO, resolve_model_path

    for name in ("default", "cine") if model == AUTO else (model,):
        resolve_model_path(name)


def check_arguments(a: argparse.Namespace) -> None:
    """Refuse, before torch or a model loads, inputs that are missing or not images, outputs that
    exist (without --overwrite) or cannot be written, a missing model and a device not there."""
    for arg, kind in _INPUTS.get(a.command, ()):
        values = getattr(a, arg, None)
        for value in values if isinstance(values, list) else [values]:
            if value is not None and str(value) != "auto":
                _check_input(Path(value) if kind != "mask" else value, kind, arg.replace("_path", ""))
    if a.command in OUTPUTS:
        arg, kind, what, _ = OUTPUTS[a.command]
        if getattr(a, arg, None) is not None:
            _check_output(Path(getattr(a, arg)), kind, what, getattr(a, "overwrite", False))
    if a.command in _MODEL_COMMANDS or a.command == "report" and a.labels is None:
        _check_model(str(a.model or ("guided" if getattr(a, "guide", None) else "auto")))
    if getattr(a, "guide_model", None) is not None:
        _check_model(str(a.guide_model))
    if a.command == "cohort" and (a.workers is not None and a.workers < 1 or a.retries < 0):
        raise ValueError(f"--workers must be >= 1 and --retries >= 0, got {a.workers} and {a.retries}")
    if getattr(a, "device", None) is not None:
        from cmrseg.device import check_device

        check_device(a.device)
    if a.command == "function":
        if a.spacing is not None:
            parse_spacing(a.spacing)
        else:
            for path in (p for p in (a.cine, a.ed, a.es) if p is not None and p.is_file()):
                if not _records_spacing(path):
                    raise ValueError(
                        f"{path} records no voxel spacing, so volumes in mL cannot be computed; "
                        "give it with --spacing dx,dy,dz (mm)"
                    )


class Rollback:
    """Outputs a command creates, removed again when it fails (what existed before is kept)."""

    def __init__(self, a: argparse.Namespace) -> None:
        spec = OUTPUTS.get(a.command)
        value = getattr(a, spec[0], None) if spec and spec[3] else None
        self.path = None if value is None else Path(value)
        if self.path is None:
            return
        self.existed = self.path.exists()
        self.inside = set(self.path.iterdir()) if self.path.is_dir() else None  # an output folder's entries
        self.new_dirs = [p for p in self.path.parents if not p.exists()]  # deepest first
        self.prefixes = tuple(self.path.name.split(".")[0] + c for c in "._")
        self.before = self._companions()

    def _companions(self) -> set[Path]:  # T1.nii.gz -> T1_r2.nii.gz ..., lab.nii.gz -> lab_guide.png ...
        folder = self.path.parent
        return {p for p in folder.iterdir() if p.name.startswith(self.prefixes)} if folder.is_dir() else set()

    def undo(self) -> None:
        if self.path is None:
            return
        created = self._companions() - self.before
        if not self.existed:
            created.add(self.path)
        elif self.inside is not None and self.path.is_dir():
            created |= set(self.path.iterdir()) - self.inside
        for p in created:
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
        for folder in self.new_dirs:
            try:
                folder.rmdir()
            except OSError:  # not empty: not ours alone
                return
