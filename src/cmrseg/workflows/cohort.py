"""A cohort of DICOM studies through :func:`cmrseg.workflows.study.run_study`, in parallel with Dask.

>>> from cmrseg.workflows.cohort import run_cohort
>>> result = run_cohort("exports/", "cohort/", workers=2, hct=0.42)
>>> result.counts, [(s.study, s.reason) for s in result.failed]

Studies (:func:`list_studies`): every immediate sub-folder of ROOT that holds a DICOM file
(``DICM`` at byte 128, searched recursively; hidden folders and ``out_dir`` excluded) is one
study, its id the folder name; or a manifest CSV with columns ``study,path[,hct]`` (paths
relative to the manifest's folder; an empty or missing ``hct`` takes the ``hct`` argument).

Outputs in ``out_dir``: ``studies/<id>/`` (:func:`run_study`'s folder: results.json, results.csv,
provenance.json, index.html, dicom/, figures/, and DONE, written last), ``cohort.csv`` and
``cohort.parquet`` (:mod:`cmrseg.workflows.cohort_results`: a row per study and series) and
``qc.html`` (failed, partial and flagged studies first, each linked to its page).

Resume: a study whose ``studies/<id>/DONE`` exists is not run again; its rows are read from
its results. A study folder only ever appears complete (run_study builds it in a temporary
folder beside it and renames it), so a run killed at any moment leaves complete studies and
temporary ``studies/.tmp-*`` folders, which the next run removes before it starts. A study that
raised (no DICOM image, a folder not there, a crash) leaves no folder and runs again next time;
one that run_study finished as ``failed`` (nothing it could process) has its DONE and does not.
The tables and qc.html are rewritten, atomically, at the end of every run from every study.

Parallelism: one task per study, on a ``LocalCluster`` of ``workers`` single-threaded worker
processes, or on the workers of a running scheduler (``scheduler``; docs/cohort.md for SLURM).
Each worker process loads a model once, on its first study, and keeps it in a module-level
dict keyed by model name (:func:`process_study`): no plugin, nothing to register, and it holds
across the studies a worker runs. A task never raises: a study that raises is returned as
failed with its reason in one line, and the others go on. A worker that dies while running a
study (killed, out of memory) has that study rescheduled on another worker by the scheduler;
with a local cluster ``retries`` is how many worker deaths one study may cause before it is
recorded as failed (Dask's ``allowed-failures``; a scheduler started elsewhere uses its own
setting, 3 by default). Outputs go to ``out_dir`` from the workers, so with a remote scheduler
it must be a folder that every worker and this process see (a shared file system).
"""

from __future__ import annotations

import csv
import shutil
import sys
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dask
from distributed import Client, Future, KilledWorker, LocalCluster, as_completed
from tqdm import tqdm

from cmrseg.mapping.ecv import check_haematocrit
from cmrseg.models.shipped import cine_model_for
from cmrseg.predict import Predictor
from cmrseg.workflows.cohort_results import CohortResult, CohortStudy, StudyOutcome, read_outcome, write_cohort
from cmrseg.workflows.study import StudyResult, run_study

__all__ = ["run_cohort", "list_studies", "process_study", "CohortResult", "CohortStudy", "StudyOutcome"]

#: what runs one study: ``runner(dicom_dir, out_dir, hct, model)``, a module-level function
Runner = Callable[[Path, Path, float | None, str], StudyResult]

_MODELS: dict[str, Predictor] = {}  # model name -> the model, loaded once per worker process
_MODELS_LOCK = threading.Lock()


def _holds_dicom(folder: Path) -> bool:
    """Whether any file under ``folder`` starts like a DICOM file (``DICM`` at byte 128)."""
    for path in folder.rglob("*"):
        try:
            if path.is_file() and path.stat().st_size >= 132:
                with open(path, "rb") as fh:
                    if fh.read(132)[128:] == b"DICM":
                        return True
        except OSError:  # unreadable, or a broken link: not a DICOM file here
            continue
    return False


def _check_id(study: str, where: str) -> str:
    if not study or study.startswith(".") or "/" in study or "\\" in study:
        raise ValueError(f"{where}: study id {study!r} is not usable as a folder name (empty, hidden or with a slash)")
    return study


def _read_manifest(path: Path, hct: float | None) -> list[CohortStudy]:
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        missing = {"study", "path"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"manifest {path}: no column {', '.join(sorted(missing))}; columns are study,path[,hct]")
        rows = list(reader)
    studies = []
    for line, row in enumerate(rows, start=2):
        where, text = f"manifest {path}, line {line}", (row["path"] or "").strip()
        study = _check_id((row["study"] or "").strip(), where)
        if not text:
            raise ValueError(f"{where}: study {study!r} has no path")
        folder = Path(text)
        text = (row.get("hct") or "").strip()
        try:
            value = check_haematocrit(float(text)) if text else hct
        except ValueError as exc:
            raise ValueError(f"manifest {path}, line {line}: hct {text!r}: {exc}") from None
        studies.append(CohortStudy(study, folder if folder.is_absolute() else path.parent / folder, value))
    return studies


def list_studies(
    root_or_manifest: Path | str, hct: float | None = None, exclude: Path | None = None
) -> list[CohortStudy]:
    """The studies of a cohort: a folder's sub-folders holding DICOM, or a manifest's rows.

    Parameters
    ----------
    root_or_manifest : Path or str
        A folder with one sub-folder per study, or a CSV file with columns ``study,path[,hct]``.
    hct : float, optional
        Haematocrit (a fraction) of every study whose manifest row gives none.
    exclude : Path, optional
        A folder not to take as a study (the cohort's output folder, when it lies in ROOT).

    Returns
    -------
    list of CohortStudy
        In the manifest's order, or sorted by folder name.

    Raises
    ------
    FileNotFoundError
        ``root_or_manifest`` is not there.
    ValueError
        A file that is not a ``.csv``, a manifest without its columns, a bad id or hct, an id
        twice, or no study at all.
    """
    source = Path(root_or_manifest)
    if not source.exists():
        raise FileNotFoundError(f"cohort {source}: no such folder or manifest file")
    if source.is_file() and source.suffix.lower() != ".csv":
        raise ValueError(f"cohort {source} is a file but not a .csv manifest; give a folder of studies or a CSV")
    if source.is_file():
        studies = _read_manifest(source, hct)
    else:
        skip = exclude.resolve() if exclude is not None else None
        folders = [p for p in sorted(source.iterdir()) if p.is_dir() and not p.name.startswith(".")]
        folders = [p for p in folders if p.resolve() != skip]
        studies = [CohortStudy(p.name, p, hct) for p in folders if _holds_dicom(p)]
        others = sorted({p.name for p in folders} - {s.study for s in studies})
        if others and studies:
            warnings.warn(f"not taken as studies, no DICOM file in them: {', '.join(others)}", stacklevel=2)
    twice = [study for study, n in Counter(s.study for s in studies).items() if n > 1]
    if twice:
        raise ValueError(f"cohort {source}: study id {twice[0]!r} given twice")
    if not studies:
        raise ValueError(f"cohort {source}: no study found (no sub-folder holding DICOM files, or an empty manifest)")
    return studies


def _cached_predictor(model: str) -> Predictor:
    """This process's ``model``, loaded on first use (one per worker process, module notes)."""
    with _MODELS_LOCK:
        if model not in _MODELS:
            _MODELS[model] = Predictor(model)
        return _MODELS[model]


def process_study(dicom_dir: Path, out_dir: Path, hct: float | None, model: str) -> StudyResult:
    """:func:`run_study` with this worker process's cached model: the default cohort runner.

    Parameters
    ----------
    dicom_dir : Path
        The study folder.
    out_dir : Path
        The study's output folder (``studies/<id>/``).
    hct : float, optional
        Haematocrit, a fraction in (0, 1), for ECV.
    model : str
        Segmentation model (shipped name or file), loaded once per worker process; with the
        shipped default, short-axis cines get the shipped ``cine`` model (:func:`run_study`).

    Returns
    -------
    StudyResult
    """
    cine = _cached_predictor(cine_model_for(model)) if cine_model_for(model) != model else None
    return run_study(dicom_dir, out_dir, hct=hct, model=model, predictor=_cached_predictor(model), cine_predictor=cine)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if isinstance(exc, (ValueError, OSError)) else f"{type(exc).__name__}: {text}"


#: attempt ledger (one file per study, one byte per start) under the output folder, removed after the run
_LEDGER = ".attempts"
#: runs of a study that Dask gave up on although it had not died that often itself
_MAX_RESUBMITS = 3
_DIED_OTHERS = "its workers kept dying while it was queued on them (see the workers' logs)"


def _study_task(study: CohortStudy, out: Path, model: str, runner: Runner) -> StudyOutcome:
    """One study on a worker; a study that raises comes back as failed with its reason, never raised.

    Idempotent: a study already complete (its DONE written) is read back, not run again. Dask keeps
    a task's result in the worker's memory; when that worker dies after the study finished and
    before the result reached this process, the scheduler runs the task again."""
    folder, started = out / "studies" / study.study, time.perf_counter()
    finished = read_outcome(study, folder)
    if finished is not None:
        return finished
    with open(out / _LEDGER / study.study, "ab") as fh:  # one byte per start: deaths it really caused
        fh.write(b"x")
    try:
        result = runner(study.path, folder, study.hct, model)
    except Exception as exc:  # noqa: BLE001 - one study failing must not stop the cohort
        return StudyOutcome(study.study, "failed", _one_line(exc), study.path, None, time.perf_counter() - started)
    return StudyOutcome(study.study, result.status, result.reason, study.path, folder, time.perf_counter() - started)


def _clear_temporary(studies_dir: Path) -> None:
    """Remove the temporary folders (``.tmp-*``, ``.old-*``) of studies whose run was killed."""
    for path in studies_dir.glob(".*"):
        if path.name.startswith((".tmp-", ".old-")):
            shutil.rmtree(path) if path.is_dir() else path.unlink()


def _clear_incomplete(studies_dir: Path, pending: list[CohortStudy]) -> None:
    """Remove what a killed run left: temporary folders, and pending studies' folders without DONE."""
    _clear_temporary(studies_dir)
    for study in pending:
        if (studies_dir / study.study).exists():
            shutil.rmtree(studies_dir / study.study)


@contextmanager
def _client(scheduler: str | None, workers: int | None, retries: int) -> Iterator[tuple[Client, dict | None]]:
    """A client of the scheduler at ``scheduler``, else of a new local cluster (closed at the end),
    and the resources a study task asks for: on the local cluster, each worker has one ``study``
    slot, so a worker holds one study at a time and a worker's death counts only against the
    study it was running (Dask counts it against every task assigned to that worker)."""
    if scheduler is not None:
        with Client(scheduler) as client:
            yield client, None
        return
    slot = {"study": 1}
    with dask.config.set({"distributed.scheduler.allowed-failures": retries}):  # read when the scheduler starts
        cluster = LocalCluster(
            n_workers=workers or 1, threads_per_worker=1, processes=True, dashboard_address=None, resources=slot
        )
    with cluster, Client(cluster) as client:
        yield client, slot


def _starts(out: Path, study: CohortStudy) -> int:
    path = out / _LEDGER / study.study
    return path.stat().st_size if path.exists() else 0


def _outcome(future: Future, study: CohortStudy, out: Path, retries: int) -> StudyOutcome | None:
    """The task's outcome; a task Dask gave up on (its workers died, retries spent) as failed, or
    None to run it again when it started fewer times than Dask counted deaths against it (two
    workers dying at once can charge a study with a death it did not cause)."""
    try:
        return future.result()
    except KilledWorker:
        starts = _starts(out, study)
        if starts <= retries:
            return None
        reason = f"the worker running it died {starts} times (killed, or out of memory; see the workers' logs)"
    except Exception as exc:  # noqa: BLE001 - recorded; the other studies go on
        reason = _one_line(exc)
    return StudyOutcome(study.study, "failed", reason, study.path, None, None)


def _run_pending(client: Client, pending: list[CohortStudy], out: Path, opts: dict[str, Any]) -> list[StudyOutcome]:
    """Submit one task per study and collect the outcomes as they finish, with a progress bar."""
    args, kwargs = (out, opts["model"], opts["runner"]), {"resources": opts["resources"], "pure": False}
    shutil.rmtree(out / _LEDGER, ignore_errors=True)
    (out / _LEDGER).mkdir(parents=True)
    futures = {client.submit(_study_task, s, *args, **kwargs): s for s in pending}
    resubmitted: dict[str, int] = {}
    outcomes: list[StudyOutcome] = []
    bar = tqdm(total=len(futures), desc="cmrseg cohort", unit="study", disable=not opts["progress"], file=sys.stderr)
    with bar:
        queue = as_completed(futures)
        for future in queue:
            study = futures[future]
            outcome = _outcome(future, study, out, opts["retries"])
            if outcome is None and resubmitted.get(study.study, 0) < _MAX_RESUBMITS:
                resubmitted[study.study] = resubmitted.get(study.study, 0) + 1
                again = client.submit(_study_task, study, *args, **kwargs)
                futures[again] = study
                queue.add(again)
                continue
            outcome = outcome or StudyOutcome(study.study, "failed", _DIED_OTHERS, study.path, None, None)
            outcomes.append(outcome)
            bar.set_postfix(failed=sum(o.status == "failed" for o in outcomes), refresh=False)
            bar.update(1)
    shutil.rmtree(out / _LEDGER, ignore_errors=True)
    return outcomes


def _check_arguments(out: Path, scheduler: str | None, workers: int | None, hct: float | None, retries: int) -> None:
    if scheduler is not None and workers is not None:
        raise ValueError("give workers or a scheduler, not both: a scheduler's workers are started with it")
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers must be a whole number >= 1, got {workers!r}")
    if not isinstance(retries, int) or retries < 0:
        raise ValueError(f"retries must be a whole number >= 0, got {retries!r}")
    if hct is not None:
        check_haematocrit(hct)
    if out.exists() and not out.is_dir():
        raise ValueError(f"output {out} is a file; give a folder")


def run_cohort(
    root_or_manifest: Path | str,
    out_dir: Path | str,
    scheduler: str | None = None,
    workers: int | None = None,
    hct: float | None = None,
    model: str = "default",
    retries: int = 1,
    progress: bool = True,
    *,
    runner: Runner = process_study,
) -> CohortResult:
    """Run :func:`run_study` on every study of a cohort, in parallel; resume what a run left.

    Parameters
    ----------
    root_or_manifest : Path or str
        A folder with one sub-folder per study, or a manifest CSV (``study,path[,hct]``).
    out_dir : Path or str
        Output folder (module notes); created, or resumed when it holds an earlier run.
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``); default: a local cluster.
    workers : int, optional
        Worker processes of the local cluster (default 1); each holds a model in memory.
    hct : float, optional
        Haematocrit (a fraction in (0, 1)) of studies whose manifest row gives none, for ECV.
    model : str
        Segmentation model (shipped name or file), loaded once per worker process.
    retries : int
        Worker deaths one study may cause before it is recorded as failed (local cluster).
    progress : bool
        Show a progress bar on stderr.
    runner : callable, keyword only
        What runs one study (default :func:`process_study`); a module-level function, so that
        worker processes can import it (tests pass stand-ins).

    Returns
    -------
    CohortResult
        Every study (resumed or run) with its status and reason, and the files written.

    Raises
    ------
    FileNotFoundError, ValueError
        Bad arguments or studies (:func:`list_studies`), before any study runs. A study that
        fails does not raise: it is recorded, and the others go on.
    """
    out = Path(out_dir)
    _check_arguments(out, scheduler, workers, hct, retries)
    studies = list_studies(root_or_manifest, hct, exclude=out)
    inside = [s.study for s in studies if s.path.resolve() in (out.resolve(), *out.resolve().parents)]
    if inside:
        raise ValueError(f"output {out} lies inside the folder of study {inside[0]}; a rerun would read it as input")
    done = {s.study: read_outcome(s, out / "studies" / s.study) for s in studies}
    pending = [s for s in studies if done[s.study] is None]
    _clear_incomplete(out / "studies", pending)
    ran: dict[str, StudyOutcome] = {}
    if pending:
        with _client(scheduler, workers, retries) as (client, resources):
            opts = {"model": model, "runner": runner, "resources": resources, "progress": progress, "retries": retries}
            ran = {o.study: o for o in _run_pending(client, pending, out, opts)}
        _clear_temporary(out / "studies")  # of attempts that died with their worker
    outcomes = tuple(done[s.study] or ran[s.study] for s in studies)
    return CohortResult(out, outcomes, write_cohort(out, outcomes))
