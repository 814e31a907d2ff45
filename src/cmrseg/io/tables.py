"""CSV tables of dict rows: the one writer and reader of the per-slice / per-segment tables."""

from __future__ import annotations

import csv
from pathlib import Path

from cmrseg.io.atomic import atomic_write

__all__ = ["write_rows", "read_rows"]


def write_rows(path: Path | str, rows: list[dict], columns: list[str] | None = None) -> None:
    """Write ``rows`` as CSV, atomically; columns: ``columns``, else every key in first-seen order.

    Parameters
    ----------
    path : pathlib.Path or str
        The CSV file to write.
    rows : list of dict
        One dict per row, keyed by column name.
    columns : list of str, optional
        The columns, in order; by default every key of ``rows`` in first-seen order.

    Returns
    -------
    None
    """
    keys = columns or list(dict.fromkeys(k for r in rows for k in r))

    def write(tmp: Path) -> None:
        with open(tmp, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=keys)
            w.writeheader()
            w.writerows(rows)

    atomic_write(Path(path), write)


def read_rows(path: Path | str) -> list[dict]:
    """Read a CSV table; cells that parse as numbers become floats (``nan`` included).

    Parameters
    ----------
    path : pathlib.Path or str
        A CSV file with a header row.

    Returns
    -------
    list of dict
        One dict per row, keyed by column name; values are float or str.
    """

    def value(v: str) -> object:
        try:
            return float(v)
        except ValueError:
            return v

    with open(path, newline="") as fh:
        return [{k: value(v) for k, v in r.items()} for r in csv.DictReader(fh)]
