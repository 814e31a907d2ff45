"""CSV tables of dict rows: the one writer and reader of the per-slice / per-segment tables."""

from __future__ import annotations

import csv
from pathlib import Path

from cmrseg.io.atomic import atomic_write

__all__ = ["write_rows", "read_rows"]


def write_rows(path: Path | str, rows: list[dict], columns: list[str] | None = None) -> None:
    """Write ``rows`` as CSV, atomically; columns: ``columns``, else every key in first-seen order."""
    keys = columns or list(dict.fromkeys(k for r in rows for k in r))

    def write(tmp: Path) -> None:
        with open(tmp, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=keys)
            w.writeheader()
            w.writerows(rows)

    atomic_write(Path(path), write)


def read_rows(path: Path | str) -> list[dict]:
    """Read a CSV table; cells that parse as numbers become floats (``nan`` included)."""

    def value(v: str) -> object:
        try:
            return float(v)
        except ValueError:
            return v

    with open(path, newline="") as fh:
        return [{k: value(v) for k, v in r.items()} for r in csv.DictReader(fh)]
