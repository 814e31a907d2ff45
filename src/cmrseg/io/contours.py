"""Contour files: cmrseg's JSON and CSV (written by ``cmrseg contours``), read back for import."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from cmrseg.contours import to_patient_mm
from cmrseg.io.atomic import atomic_write
from cmrseg.io.tables import write_rows

__all__ = ["write_contours_json", "write_contours_csv", "read_contours"]

Contours = dict[int, dict[str, np.ndarray | None]]
_NAMES = ("endo", "epi")
_COLUMNS = ["slice", "contour", "point", "i", "j", "x_mm", "y_mm", "z_mm"]


def write_contours_json(contours: Contours, affine: np.ndarray, path: Path | str) -> None:
    """Contours per slice as JSON: ``{slice: {name: {"ij": [[i, j]...], "mm": [[x, y, z]...]}}}``.

    Parameters
    ----------
    contours : dict
        ``{slice: {"endo": (N, 2), "epi": (M, 2)}}`` ``(i, j)`` pixel contours; a contour may be
        ``None`` (written as ``null``).
    affine : np.ndarray
        The 4x4 voxel -> patient (mm) matrix of the image, for the ``mm`` coordinates.
    path : pathlib.Path or str
        The JSON file to write (atomically).

    Returns
    -------
    None

    Notes
    -----
    Both pixel and mm coordinates are rounded to 3 decimals.
    """
    doc = {
        str(z): {
            name: None
            if pts is None
            else {"ij": pts.round(3).tolist(), "mm": to_patient_mm(pts, affine, z).round(3).tolist()}
            for name, pts in cs.items()
        }
        for z, cs in sorted(contours.items())
    }
    atomic_write(Path(path), lambda p: p.write_text(json.dumps(doc)))


def _rows(contours: Contours, affine: np.ndarray) -> list[dict]:
    rows = []
    for z, cs in sorted(contours.items()):
        for name, pts in cs.items():
            if pts is None:
                continue
            mm = to_patient_mm(pts, affine, z)
            rows += [
                dict(zip(_COLUMNS, (z, name, k, float(p[0]), float(p[1]), *map(float, m)), strict=True))
                for k, (p, m) in enumerate(zip(pts, mm, strict=True))
            ]
    return rows


def write_contours_csv(contours: Contours, affine: np.ndarray, path: Path | str) -> None:
    """Contours as CSV rows: slice, contour, point, i, j, x_mm, y_mm, z_mm.

    Parameters
    ----------
    contours : dict
        ``{slice: {"endo": (N, 2), "epi": (M, 2)}}`` ``(i, j)`` pixel contours; contours that are
        ``None`` are left out.
    affine : np.ndarray
        The 4x4 voxel -> patient (mm) matrix of the image, for ``x_mm``, ``y_mm``, ``z_mm``.
    path : pathlib.Path or str
        The CSV file to write (atomically).

    Returns
    -------
    None
    """
    write_rows(path, _rows(contours, affine), _COLUMNS)


def read_contours(path: Path | str) -> Contours:
    """``{slice: {"endo": (N, 2), "epi": (M, 2)}}`` ``(i, j)`` pixel contours from a cmrseg JSON or CSV
    contour file (``cmrseg contours`` writes both; other tools' exports can be written in either).

    Parameters
    ----------
    path : pathlib.Path or str
        A ``.json`` or ``.csv`` contour file (any case).

    Returns
    -------
    dict
        ``{slice: {name: points}}`` with ``points`` a float ``(N, 2)`` array of ``(i, j)`` pixel
        coordinates, or ``None`` where the JSON file holds ``null``.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    ValueError
        The name does not end in ``.json`` or ``.csv``, the content is not a cmrseg contour file,
        or a contour name is not ``endo`` or ``epi``.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    name = path.name.lower()
    out: Contours = {}
    try:
        if name.endswith(".json"):
            for z, cs in json.loads(path.read_text()).items():
                out[int(z)] = {k: None if v is None else np.asarray(v["ij"], float) for k, v in cs.items()}
        elif name.endswith(".csv"):
            points: dict[tuple[int, str], list[tuple[float, float]]] = {}
            with open(path, newline="") as fh:
                for r in csv.DictReader(fh):
                    points.setdefault((int(r["slice"]), r["contour"]), []).append((float(r["i"]), float(r["j"])))
            for (z, k), pts in points.items():
                out.setdefault(z, {})[k] = np.asarray(pts, float)
        else:
            raise ValueError(f"contour file {path} must end in .json or .csv")
    except (KeyError, TypeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} is not a cmrseg contour file ({type(exc).__name__}: {exc})") from None
    unknown = {k for cs in out.values() for k in cs} - set(_NAMES)
    if unknown:
        raise ValueError(f"{path}: unknown contour names {sorted(unknown)}; expected {list(_NAMES)}")
    return out
