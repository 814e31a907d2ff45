"""The models shipped in the package, by name (no torch import: checked before any model loads)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cmrseg.keywords import names_a_cine

__all__ = ["AUTO", "MODEL_NAMES", "WEIGHTS_DIR", "auto_model", "cine_model_for", "resolve_model_path"]

#: the folder of shipped weights
WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"
#: shipped model names -> files in :data:`WEIGHTS_DIR`: ``default`` segments every short-axis contrast
#: (the any-contrast model; ``anycontrast`` is its former name), ``cine`` is the ACDC cine model
#: (better on cine, the model of the commands that take a cine), ``guided`` the guided model
MODEL_NAMES: dict[str, str] = {
    "default": "default.pt",
    "anycontrast": "default.pt",
    "cine": "cine.pt",
    "guided": "guided.pt",
}


#: ``cmrseg predict``'s default: the cine model for a cine, the default model for anything else
AUTO = "auto"
#: frames from which a 4D image counts as a cine (MOLLI: 7-11 images; T2 prep: 3-4; cines: 16-50)
CINE_MIN_FRAMES = 15
#: distinct trigger times from which a DICOM series counts as a cine
CINE_MIN_TRIGGERS = 10


def auto_model(shape: tuple[int, ...], trigger_times_ms: Sequence[float] = (), description: str = "") -> str:
    """The shipped model ``auto`` stands for: ``cine`` for a cine, ``default`` for anything else.

    Parameters
    ----------
    shape : tuple of int
        The image's shape, ``(X, Y[, Z[, T]])``.
    trigger_times_ms : sequence of float
        The trigger time of each frame (ms), when the image came from DICOM.
    description : str
        What the input says it is: its series description and protocol name (DICOM, or a
        dcm2niix JSON sidecar) and its file name.

    Returns
    -------
    str
        ``"cine"`` for a 4D image with at least :data:`CINE_MIN_FRAMES` frames, or at least
        :data:`CINE_MIN_TRIGGERS` frames at distinct trigger times, or an image whose
        ``description`` names a cine or one of its phases and nothing else
        (:func:`cmrseg.keywords.names_a_cine`: ``cine``, ``trufi``, ``ssfp``, ``ED``, ``ES``,
        ``frame01``; not with ``LGE``, ``T2w``, ``MOLLI``, ``map``...); else ``"default"``.

    Notes
    -----
    A 3D stack or 2D slice cannot be told from its shape: without a description naming a cine it
    gets the default model, which segments every contrast (on a cine frame it is less accurate
    than ``cine``: docs/any-contrast.md).
    """
    frames = shape[3] if len(shape) == 4 else 1
    distinct = len({round(float(t), 1) for t in trigger_times_ms})
    cine = frames >= CINE_MIN_FRAMES or (frames >= CINE_MIN_TRIGGERS and distinct >= CINE_MIN_TRIGGERS)
    return "cine" if cine or names_a_cine(description) else "default"


def cine_model_for(model: str | Path) -> str:
    """The model for short-axis cines in a run whose segmentation model is ``model``.

    Parameters
    ----------
    model : str or pathlib.Path
        The run's segmentation model: a shipped name or a file.

    Returns
    -------
    str
        ``"cine"`` when ``model`` is the shipped default (under either of its names): the cine
        model is more accurate on cine; else ``model`` itself (a model the user chose runs on
        every series).
    """
    return "cine" if str(model) in ("default", "anycontrast") else str(model)


def resolve_model_path(model: str | Path) -> Path:
    """The file of a shipped model name (``default``, ``cine``, ``guided``, ``anycontrast``) or of a given path.

    Parameters
    ----------
    model : str or pathlib.Path
        A name in :data:`MODEL_NAMES`, or a path to a model bundle / training checkpoint.

    Returns
    -------
    pathlib.Path
        An existing file.

    Raises
    ------
    FileNotFoundError
        When the name is unknown and no such file exists (the message lists the shipped names).
    """
    if str(model) in MODEL_NAMES:
        path = WEIGHTS_DIR / MODEL_NAMES[str(model)]
        if not path.exists():
            raise FileNotFoundError(f"shipped model {model!r} is missing from the package ({path})")
        return path
    path = Path(model)
    if not path.exists():
        raise FileNotFoundError(f"no model named {str(model)!r}; give a file path or one of {sorted(MODEL_NAMES)}")
    return path
