"""The models shipped in the package, by name (no torch import: checked before any model loads)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["MODEL_NAMES", "WEIGHTS_DIR", "resolve_model_path"]

#: the folder of shipped weights
WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"
#: shipped model names -> files in :data:`WEIGHTS_DIR`
MODEL_NAMES: dict[str, str] = {"default": "default.pt", "guided": "guided.pt", "anycontrast": "anycontrast.pt"}


def resolve_model_path(model: str | Path) -> Path:
    """The file of a shipped model name (``default``, ``guided``, ``anycontrast``) or of a given path.

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
