"""What the cohort workflow (:mod:`cmrseg.workflows.cohort`) records and writes.

:class:`CohortStudy` (a study to run), :class:`StudyOutcome` (how it ended), :class:`CohortResult`
(the cohort), and the files made of them by :func:`write_cohort`, each written atomically:

* ``cohort.csv`` and ``cohort.parquet``: one row per study and series, columns
  :data:`COHORT_COLUMNS`: ``study`` (the cohort's id), ``study_status`` and ``study_reason``, then
  the columns of the study's results.csv (:data:`cmrseg.workflows.study_results.CSV_COLUMNS`); a
  study that failed before writing results has one row, with its reason. In the parquet file
  ``series_number`` is an integer, ``qc_<check>`` booleans, values floats (NaN as null).
* ``qc.html``: failed, then partial, then flagged studies, each with its reason, the failed and
  partial series and the QC flags with their reasons, a link to the study's ``index.html`` and
  the overlays of its flagged series; then the other studies, as links.
"""

from __future__ import annotations

import csv
import html
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from cmrseg.io.atomic import atomic_write
from cmrseg.io.tables import write_rows
from cmrseg.report.html import page_html
from cmrseg.workflows.study_results import CSV_COLUMNS

__all__ = ["CohortStudy", "StudyOutcome", "CohortResult", "COHORT_COLUMNS", "read_outcome", "write_cohort"]

#: cohort.csv / cohort.parquet columns (results.csv's, after the study's status and reason)
COHORT_COLUMNS = ("study", "study_status", "study_reason") + tuple(c for c in CSV_COLUMNS if c != "study")
_TEXT = {"study", "study_status", "study_reason", "series_uid", "description", "kind", "status", "reason", "qc_flags"}
_RANK = {"failed": 0, "partial": 1}  # order in qc.html; then flagged, then the others
_MAX_FIGURES = 6  # overlays per study in qc.html


@dataclass(frozen=True)
class CohortStudy:
    """A study of a cohort: its id (its output folder's name), DICOM folder and haematocrit."""

    study: str
    path: Path
    hct: float | None = None


@dataclass(frozen=True)
class StudyOutcome:
    """How a study ended: ``status`` complete, partial or failed (run_study's, or failed with the
    error when it raised or its workers died), ``reason``, ``folder`` (``OUT/studies/<id>`` when
    written), ``seconds`` it took in this run (None when resumed or lost), ``resumed``: done earlier."""

    study: str
    status: str
    reason: str
    dicom_dir: Path
    folder: Path | None
    seconds: float | None
    resumed: bool = False


@dataclass(frozen=True)
class CohortResult:
    """A cohort through :func:`cmrseg.workflows.cohort.run_cohort`: every study's outcome and the
    files written (``files``: cohort.csv, cohort.parquet, qc.html)."""

    out_dir: Path
    studies: tuple[StudyOutcome, ...]
    files: tuple[Path, ...]

    @property
    def counts(self) -> dict[str, int]:
        """Studies per status."""
        return dict(Counter(s.status for s in self.studies))

    @property
    def failed(self) -> list[StudyOutcome]:
        """The studies that failed."""
        return [s for s in self.studies if s.status == "failed"]


def _results(folder: Path | None) -> dict[str, Any] | None:
    try:
        return json.loads((folder / "results.json").read_text()) if folder is not None else None
    except (OSError, ValueError):
        return None


def read_outcome(study: CohortStudy, folder: Path) -> StudyOutcome | None:
    """The outcome of a study an earlier run completed (``folder/DONE`` and its results), else None.

    Parameters
    ----------
    study : CohortStudy
        The study.
    folder : Path
        Its output folder (``OUT/studies/<id>``).

    Returns
    -------
    StudyOutcome or None
        Marked ``resumed``, with no ``seconds``; None without ``DONE`` or a readable results.json.
    """
    doc = _results(folder) if (folder / "DONE").is_file() else None
    if doc is None:
        return None
    return StudyOutcome(study.study, doc["status"], doc["reason"], study.path, folder, None, resumed=True)


def _study_rows(outcome: StudyOutcome) -> list[dict[str, str]]:
    """A study's rows: its results.csv rows under the cohort's id, status and reason, or one row."""
    head = {"study": outcome.study, "study_status": outcome.status, "study_reason": outcome.reason}
    table = outcome.folder / "results.csv" if outcome.folder is not None else None
    if table is None or not table.is_file():
        return [head]
    with open(table, newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [head | {k: v for k, v in r.items() if k != "study"} for r in rows] or [head]


def _column(name: str, values: list[str | None]) -> pa.Array:
    """A typed parquet column of CSV cells ('' and None as null): text, int, bool or float."""
    cells = [None if v in (None, "") else v for v in values]
    if name in _TEXT:
        return pa.array(cells, pa.string())
    try:
        if name == "series_number":
            return pa.array([None if v is None else int(float(v)) for v in cells], pa.int64())
        if name.startswith("qc_"):
            if not set(cells) <= {None, "True", "False"}:
                raise ValueError(name)
            return pa.array([None if v is None else v == "True" for v in cells], pa.bool_())
        return pa.array([None if v is None else float(v) for v in cells], pa.float64())
    except ValueError:  # a column of another kind (a newer results.csv): kept as text
        return pa.array(cells, pa.string())


def _write_tables(out: Path, rows: list[dict[str, str]]) -> tuple[Path, Path]:
    columns = list(dict.fromkeys([*COHORT_COLUMNS, *(k for r in rows for k in r)]))
    write_rows(out / "cohort.csv", rows, columns)
    table = pa.table({c: _column(c, [r.get(c) for r in rows]) for c in columns})
    atomic_write(out / "cohort.parquet", lambda tmp: pq.write_table(table, tmp))
    return out / "cohort.csv", out / "cohort.parquet"


def _figures(outcome: StudyOutcome, index: int, series: dict[str, Any]) -> list[str]:
    """A series' overlays, relative to the cohort folder: as results.json lists them, else by the
    name run_study gives them (``figures/<index>_<kind>_<number>_z<slice>.png``)."""
    folder = outcome.folder
    if folder is None:
        return []
    names = series.get("figures")
    if names is None:
        number = series.get("number")
        tag = f"{index:02d}_{series.get('kind')}_{'x' if number is None else number}"
        names = [p.relative_to(folder).as_posix() for p in sorted((folder / "figures").glob(f"{tag}_z*.png"))]
    return [f"studies/{outcome.study}/{name}" for name in names]


def _issues(outcome: StudyOutcome, doc: dict[str, Any] | None) -> tuple[list[str], list[str], list[str]]:
    """Lines of a study's failed and partial series, lines of its QC flags, its flagged overlays."""
    problems, flags, figures = [], [], []
    for i, s in enumerate(doc["series"] if doc else []):
        name = f"Series {'-' if s.get('number') is None else s['number']} ({s.get('kind')})"
        if s.get("status") in ("failed", "partial"):
            problems.append(f"{name}: {s['status']}: {s.get('reason', '')}")
        flagged = [(check, v["reason"]) for check, v in (s.get("qc_flags") or {}).items() if v.get("flagged")]
        flags += [f"{name}: {check}: {reason}" for check, reason in flagged]
        figures += _figures(outcome, i, s) if flagged else []
    return problems, flags, figures[:_MAX_FIGURES]


def _study_html(outcome: StudyOutcome, problems: list[str], flags: list[str], figures: list[str]) -> str:
    e = html.escape
    title = e(outcome.study)
    if outcome.folder is not None:
        title = f"<a href='studies/{e(outcome.study)}/index.html'>{title}</a>"
    parts = [f"<h3 id='{e(outcome.study)}'>{title}: {outcome.status}, {len(flags)} QC flag(s)</h3>"]
    parts.append(f"<p>{e(outcome.reason) or 'all series processed'} <small>({e(str(outcome.dicom_dir))})</small></p>")
    items = [f"<li>{e(line)}</li>" for line in problems] + [f"<li>FLAG {e(line)}</li>" for line in flags]
    parts += [f"<ul>{''.join(items)}</ul>"] if items else []
    parts += ["".join(f"<a href='{e(f)}'><img src='{e(f)}' width='160' alt='{e(f)}'></a>" for f in figures)]
    return "\n".join(parts)


def _qc_page(outcomes: tuple[StudyOutcome, ...]) -> str:
    """qc.html: the studies to look at first (failed, partial, flagged), then the others."""
    entries = []
    for o in outcomes:
        problems, flags, figures = _issues(o, _results(o.folder))
        rank = _RANK.get(o.status, 2 if flags else 3)
        entries.append((rank, o.study, _study_html(o, problems, flags, figures), o))
    entries.sort(key=lambda entry: entry[:2])
    counts = Counter(o.status for o in outcomes)
    summary = ", ".join(f"{counts[s]} {s}" for s in ("complete", "partial", "failed"))
    flagged = sum(rank == 2 for rank, *_ in entries)
    tables = "Tables: <a href='cohort.csv'>cohort.csv</a>, cohort.parquet."
    parts = [f"<h1>Cohort QC: {len(outcomes)} studies</h1>"]
    parts.append(f"<p>{summary}; {flagged} complete with QC flags. {tables}</p>")
    parts.append("<h2>To look at first: failed, partial and flagged studies</h2>")
    parts += [text for rank, _, text, _ in entries if rank < 3] or ["<p>(none)</p>"]
    clean = [o for rank, _, _, o in entries if rank == 3]
    links = ", ".join(f"<a href='studies/{html.escape(o.study)}/index.html'>{html.escape(o.study)}</a>" for o in clean)
    parts += ["<h2>Complete, without QC flags</h2>", f"<p>{links or '(none)'}</p>"]
    return page_html("cmrseg cohort QC", parts)


def write_cohort(out: Path, outcomes: tuple[StudyOutcome, ...]) -> tuple[Path, Path, Path]:
    """Write cohort.csv, cohort.parquet and qc.html into ``out`` (each atomically); their paths.

    Parameters
    ----------
    out : Path
        The cohort's output folder, holding ``studies/``.
    outcomes : tuple of StudyOutcome
        Every study of the cohort.

    Returns
    -------
    tuple of Path
        ``(cohort.csv, cohort.parquet, qc.html)``.
    """
    rows = [row for o in outcomes for row in _study_rows(o)]
    csv_path, parquet_path = _write_tables(out, rows)
    page = _qc_page(outcomes)
    atomic_write(out / "qc.html", lambda tmp: tmp.write_text(page))
    return csv_path, parquet_path, out / "qc.html"
