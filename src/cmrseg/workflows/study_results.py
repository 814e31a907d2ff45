"""What the study workflow (:mod:`cmrseg.workflows.study`) records and writes.

:class:`SeriesResult` (one series: status, reason, values, QC checks, files) and
:class:`StudyResult` (the study), and the files made of them: ``results.json``, ``results.csv``
(:data:`CSV_COLUMNS`), ``provenance.json`` (:func:`provenance`), ``index.html`` and the ``DONE``
marker, written last (:func:`write_results`).
"""

from __future__ import annotations

import hashlib
import html
import json
import platform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from cmrseg import __version__, qc
from cmrseg.io.series import ClassifiedSeries
from cmrseg.io.tables import write_rows
from cmrseg.models.shipped import resolve_model_path
from cmrseg.report.html import page_html, table_html

__all__ = ["SeriesResult", "StudyResult", "STATUSES", "CSV_COLUMNS", "model_records", "provenance", "write_results"]

STATUSES = ("complete", "partial", "failed", "skipped")
_VALUES = (
    "lv_edv_ml",
    "lv_esv_ml",
    "lv_ef_percent",
    "lv_mass_g",
    "rv_edv_ml",
    "rv_esv_ml",
    "rv_ef_percent",
    "myo_t1_ms",
    "myo_t2_ms",
    "blood_t1_ms",
    "ecv_percent",
    "mean_r2",
)
_QC_NAMES = (
    "classes_present",
    "lv_coverage",
    "mid_slice_lv_rv",
    "lv_ef_percent",
    "lv_edv_ml",
    "lv_mass_g",
    "myo_t1_ms",
    "ecv_percent",
    "fit_quality",
    "uncertainty",
)
#: results.csv: values in the units their names end in; ``qc_flags`` the flagged checks (``;``);
#: ``qc_<check>`` True when flagged, False when passed, empty when not run
CSV_COLUMNS = (
    ("study", "series_uid", "series_number", "description", "kind", "status", "reason")
    + _VALUES
    + ("qc_flags",)
    + tuple(f"qc_{n}" for n in _QC_NAMES)
)
_SHOWN = {  # values printed in a series' line: label, unit, decimals
    "lv_ef_percent": ("LV EF", "%", 1),
    "lv_edv_ml": ("EDV", " mL", 0),
    "lv_esv_ml": ("ESV", " mL", 0),
    "lv_mass_g": ("mass", " g", 0),
    "rv_ef_percent": ("RV EF", "%", 1),
    "myo_t1_ms": ("T1", " ms", 0),
    "myo_t2_ms": ("T2", " ms", 0),
    "ecv_percent": ("ECV", "%", 1),
}
_PACKAGES = ("torch", "monai", "numpy", "scipy", "pydicom", "highdicom")


def _finite(v: Any) -> Any:
    return None if isinstance(v, float) and not np.isfinite(v) else v


@dataclass
class SeriesResult:
    """One series through its chain (:mod:`cmrseg.workflows.study` for the statuses).

    ``values``: numbers in the units their names end in (``_ml``, ``_percent``, ``_g``, ``_ms``)
    and a few descriptions (``contrast``, ``ed_frame``); ``qc``: the checks run; ``outputs`` and
    ``figures``: files written, relative to the output folder; ``tag``: their name stem;
    ``steps`` done and ``problems`` (later steps that failed) make the reason.
    """

    uid: str
    number: int | None
    description: str
    kind: str
    classification: str
    tag: str
    status: str = "running"
    reason: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    qc: list[qc.QcCheck] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def finish(self) -> None:
        """Set the status of a series whose first step ran: complete, or partial with the reasons."""
        self.status = "partial" if self.problems else "complete"
        self.reason = "; ".join(self.problems) if self.problems else "done: " + ", ".join(self.steps)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (non-finite numbers as None)."""
        keys = ("uid", "number", "description", "kind", "classification", "status", "reason", "outputs")
        doc = {k: getattr(self, k) for k in keys}
        doc["values"] = {k: _finite(v) for k, v in self.values.items()}
        doc["qc_flags"] = qc.qc_table(self.qc)
        return doc

    def csv_row(self, study: str) -> dict[str, Any]:
        """The row of results.csv (:data:`CSV_COLUMNS`).

        Parameters
        ----------
        study : str
            The study's id, the row's ``study``.

        Returns
        -------
        dict of str to Any
            Only the values the series has; ``qc_flags`` the flagged checks joined by ``;``.
        """
        row = {"study": study, "series_uid": self.uid, "series_number": self.number, "description": self.description}
        row |= {"kind": self.kind, "status": self.status, "reason": self.reason}
        row |= {k: self.values[k] for k in _VALUES if k in self.values}
        row["qc_flags"] = ";".join(qc.flagged_names(self.qc))
        row |= {f"qc_{c.name}": c.flagged for c in self.qc if c.name in _QC_NAMES}
        return row

    def line(self) -> str:
        """One line: number, kind, status, the main values, the QC flags, and why when not complete."""
        number = "-" if self.number is None else str(self.number)
        shown = [
            f"{label} {self.values[k]:.{d}f}{unit}"
            for k, (label, unit, d) in _SHOWN.items()
            if isinstance(self.values.get(k), float) and np.isfinite(self.values[k])
        ]
        flags = qc.flagged_names(self.qc)
        text = f"{number:>5}  {self.kind:<11}  {self.status:<8}  {', '.join(shown)}"
        text += f"  flags: {', '.join(flags)}" if flags else ""
        return text.rstrip() + (f"  ({self.reason})" if self.status != "complete" else "")


@dataclass(frozen=True)
class StudyResult:
    """A study through :func:`cmrseg.workflows.study.run_study`: its status, why, every series,
    and the files written (``files``: results.json, results.csv, provenance.json, index.html, DONE)."""

    study: str
    status: str
    reason: str
    series: tuple[SeriesResult, ...]
    out_dir: Path
    files: tuple[Path, ...]

    @property
    def dicom_files(self) -> list[Path]:
        """The DICOM-SEG and Parametric Map files written."""
        return [self.out_dir / f for s in self.series for f in s.outputs if f.startswith("dicom/")]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def model_records(used: Mapping[str, str], given: bool = False) -> list[dict[str, Any]]:
    """``[{role, model, file, sha256}]`` of the models a study used.

    Parameters
    ----------
    used : mapping of str to str
        Role -> shipped name or file.
    given : bool
        The segmentation model came from the caller as a loaded predictor (its entry gets a ``note``).

    Returns
    -------
    list of dict
    """
    out = []
    for role, name in used.items():
        path = resolve_model_path(name)
        entry = {"role": role, "model": name, "file": str(path), "sha256": _sha256(path)}
        if role in ("segmentation", "cine segmentation") and given:
            entry["note"] = "predictor given by the caller: recorded as the model named by `model`"
        out.append(entry)
    return out


def provenance(
    models: list[dict[str, Any]],
    device: str,
    parameters: dict[str, Any],
    found: Sequence[ClassifiedSeries],
    times: tuple[datetime, datetime],
) -> dict[str, Any]:
    """provenance.json: versions (cmrseg, Python, key packages), ``models`` (:func:`model_records`),
    ``device``, every parameter, the input series and the start / end time (ISO 8601, UTC).

    Parameters
    ----------
    models : list of dict
        The records of :func:`model_records`.
    device : str
        The device the models ran on.
    parameters : dict
        Every parameter of the run.
    found : sequence of ClassifiedSeries
        The study's input series.
    times : tuple of datetime.datetime
        Start and end of the run (UTC).

    Returns
    -------
    dict
        JSON-ready; ``duration_s`` in seconds.
    """
    return {
        "cmrseg": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": {name: _version(name) for name in _PACKAGES},
        "models": models,
        "device": device,
        "parameters": parameters,
        "input_series": [
            {"uid": s.uid, "number": s.number, "kind": s.kind, "description": s.description, "files": s.n_files}
            for s in found
        ],
        "started": times[0].isoformat(),
        "finished": times[1].isoformat(),
        "duration_s": round((times[1] - times[0]).total_seconds(), 3),
    }


def _series_html(r: SeriesResult) -> list[str]:
    number = "-" if r.number is None else r.number
    why = f"{html.escape(r.description)}: {html.escape(r.reason)}"
    parts = [
        f"<h2 id='{r.tag}'>Series {number}: {r.kind}, {r.status}</h2>",
        f"<p>{why}<br><small>{html.escape(r.classification)}</small></p>",
    ]
    shown = {k: v for k, v in r.values.items() if v is not None}
    if shown:
        parts.append(table_html([shown]))
    if r.qc:
        rows = [{"check": c.name, "flag": "FLAG" if c.flagged else "ok", "reason": c.reason} for c in r.qc]
        parts.append(table_html(rows))
    parts.append("".join(f"<img src='{f}' alt='{f}'>" for f in r.figures))
    return parts


def _page(result: StudyResult) -> str:
    parts = [f"<h1>Study {html.escape(result.study)}: {result.status}</h1>"]
    parts += [f"<p>{html.escape(result.reason)}</p>"] if result.reason else []
    issues = [r for r in result.series if r.status != "complete"]
    if issues:
        items = "".join(
            f"<li><a href='#{r.tag}'>Series {r.number} ({r.kind})</a>: {r.status}: {html.escape(r.reason)}</li>"
            for r in issues
        )
        parts.append(f"<h2>Failed, partial and skipped series</h2><ul>{items}</ul>")
    for r in result.series:
        parts += _series_html(r)
    return page_html(f"cmrseg study {result.study}", parts)


def write_results(folder: Path, result: StudyResult, prov: dict[str, Any]) -> None:
    """Write results.json, results.csv, provenance.json and index.html into ``folder``, then
    ``DONE`` (its finish time and status) last.

    Parameters
    ----------
    folder : pathlib.Path
        The study's (temporary) output folder.
    result : StudyResult
        The study.
    prov : dict
        The provenance of :func:`provenance`.
    """
    doc = {"study": result.study, "status": result.status, "reason": result.reason}
    doc["series"] = [r.to_dict() for r in result.series]
    (folder / "results.json").write_text(json.dumps(doc, indent=1))
    write_rows(folder / "results.csv", [r.csv_row(result.study) for r in result.series], list(CSV_COLUMNS))
    (folder / "provenance.json").write_text(json.dumps(prov, indent=1))
    (folder / "index.html").write_text(_page(result))
    (folder / "DONE").write_text(f"{prov['finished']} {result.status}\n")
