"""``cmrseg series``: every DICOM series of a study folder, classified, optionally as JSON."""

from __future__ import annotations

import json
from pathlib import Path

from cmrseg.io.atomic import atomic_write, check_output
from cmrseg.io.series import ClassifiedSeries, discover_series

__all__ = ["list_series"]


def list_series(
    folder: Path | str, json_path: Path | str | None = None, overwrite: bool = False
) -> list[ClassifiedSeries]:
    """Find and classify every series under ``folder`` (:func:`cmrseg.io.series.discover_series`).

    Parameters
    ----------
    folder : path
        A study folder, searched recursively.
    json_path : path, optional
        Also write every field of every series there as a JSON list.
    overwrite : bool
        Replace an existing ``json_path``.

    Returns
    -------
    list of ClassifiedSeries
        With the reason for each class; unreadable and non-image files listed last.
    """
    if json_path is not None:
        check_output(Path(json_path), overwrite)
    found = discover_series(folder)
    if json_path is not None:
        doc = json.dumps([s.to_dict() for s in found], indent=1)
        atomic_write(Path(json_path), lambda p: p.write_text(doc))
    return found
