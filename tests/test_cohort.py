"""The cohort workflow (cmrseg cohort) on tiny synthetic studies, with stand-in study runners.

Most tests run Dask in this process (``LocalCluster(processes=False)``, passed by its address as
``scheduler``), so a monkeypatch and :data:`tests.cohort_standin.CALLS` reach the tasks. The
stand-ins (:mod:`tests.cohort_standin`) run the real run_study with a phantom predictor, no model.
The slow tests use real worker processes (the default local cluster) and a killed run.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from distributed import LocalCluster

from cmrseg.cli import main
from cmrseg.workflows import cohort
from cmrseg.workflows.cohort import list_studies, run_cohort
from cmrseg.workflows.cohort_results import COHORT_COLUMNS, StudyOutcome, write_cohort
from tests import cohort_standin as standin
from tests.test_study import DiscPredictor

pytestmark = pytest.mark.filterwarnings("ignore:not taken as studies")  # exports/notes (tested once)
REPO = Path(__file__).resolve().parents[1]
GOOD = ("s1", "s2", "s3", "s4")


def _write_cohort(root: Path) -> Path:
    """Four tiny cine studies, one broken (DICOM-looking, unreadable), a folder with no DICOM."""
    for i, name in enumerate(GOOD):
        standin.write_cine_study(root / name, seed=i)
    standin.write_broken_study(root / "s5")
    (root / "notes").mkdir()
    (root / "notes" / "README.txt").write_text("not a study\n")
    return root


@pytest.fixture(scope="module")
def cluster():
    """Dask in this process: one single-threaded worker (matplotlib is drawn one figure at a time)."""
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as local:
        yield local.scheduler_address


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    return _write_cohort(tmp_path_factory.mktemp("cohort") / "exports")


@pytest.fixture(scope="module")
def first(root, cluster, tmp_path_factory):
    """The cohort run once: (result, out, the studies run)."""
    out = tmp_path_factory.mktemp("out") / "cohort"
    standin.CALLS.clear()
    result = run_cohort(root, out, scheduler=cluster, progress=False, runner=standin.disc_study)
    return result, out, list(standin.CALLS)


def _rows(out: Path) -> list[dict[str, str]]:
    with open(out / "cohort.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def test_four_done_one_failed_with_its_reason(first):
    result, out, calls = first
    assert sorted(calls) == ["s1", "s2", "s3", "s4", "s5"]  # "notes" holds no DICOM: not a study
    by_id = {s.study: s for s in result.studies}
    assert [s.study for s in result.studies] == [*GOOD, "s5"] and result.counts == {"complete": 4, "failed": 1}
    assert by_id["s5"].status == "failed" and "no DICOM images found" in by_id["s5"].reason
    assert "broken.dcm" in by_id["s5"].reason and "\n" not in by_id["s5"].reason
    assert all((out / "studies" / s / "DONE").is_file() for s in GOOD) and not (out / "studies" / "s5").exists()
    assert not list((out / "studies").glob(".*")), "no temporary folder left"
    assert result.files == (out / "cohort.csv", out / "cohort.parquet", out / "qc.html")


def test_tables_a_row_per_study_and_series(first):
    _, out, _ = first
    rows = _rows(out)
    assert tuple(rows[0]) == COHORT_COLUMNS
    assert [(r["study"], r["study_status"], r["kind"]) for r in rows] == [(s, "complete", "sax_cine") for s in GOOD] + [
        ("s5", "failed", "")
    ]
    assert "no DICOM images found" in rows[-1]["study_reason"] and rows[-1]["series_uid"] == ""
    assert all(float(r["lv_ef_percent"]) > 0 and "lv_coverage" in r["qc_flags"] for r in rows[:4])
    table = pq.read_table(out / "cohort.parquet")
    assert table.column_names == list(COHORT_COLUMNS) and table.num_rows == 5
    cols = table.to_pydict()
    assert cols["series_number"] == [10, 10, 10, 10, None] and cols["qc_lv_coverage"][:4] == [True] * 4
    assert cols["lv_ef_percent"][0] == pytest.approx(float(rows[0]["lv_ef_percent"]))
    assert cols["lv_ef_percent"][4] is None


def test_qc_page_failed_then_flagged_with_links_and_overlays(first):
    _, out, _ = first
    page = (out / "qc.html").read_text()
    assert page.index("<h3 id='s5'>s5: failed") < page.index("studies/s1/index.html") < page.index("studies/s4/")
    assert "no DICOM images found" in page and "FLAG Series 10 (sax_cine): lv_coverage" in page
    images = [part.split("'")[0] for part in page.split("<img src='")[1:]]
    assert images and all((out / image).is_file() for image in images)
    assert "studies/s1/figures/00_sax_cine_10_z00.png" in images


def test_qc_page_order_failed_partial_flagged_then_the_others(tmp_path):
    def outcome(study: str, status: str) -> StudyOutcome:
        return StudyOutcome(study, status, f"why {study}", tmp_path / study, None, 1.0)

    outcomes = (outcome("a", "complete"), outcome("b", "partial"), outcome("c", "failed"), outcome("d", "complete"))
    write_cohort(tmp_path, outcomes)
    page = (tmp_path / "qc.html").read_text()
    first, rest = page.split("Complete, without QC flags")
    assert first.index("<h3 id='c'>") < first.index("<h3 id='b'>") and "why b" in first and "why a" not in first
    assert "<a href='studies/a/index.html'>a</a>, <a href='studies/d/index.html'>d</a>" in rest
    assert [r["study_status"] for r in _rows(tmp_path)] == ["complete", "partial", "failed", "complete"]


def test_rerun_skips_done_studies(first, root, cluster):
    result, out, _ = first
    done = {s: (out / "studies" / s / "DONE").stat().st_mtime_ns for s in GOOD}
    standin.CALLS.clear()
    again = run_cohort(root, out, scheduler=cluster, progress=False, runner=standin.disc_study)
    assert standin.CALLS == ["s5"], "only the study without DONE runs again"
    assert {s: (out / "studies" / s / "DONE").stat().st_mtime_ns for s in GOOD} == done
    assert [(s.study, s.status, s.resumed) for s in again.studies] == [(s, "complete", True) for s in GOOD] + [
        ("s5", "failed", False)
    ]
    assert len(_rows(out)) == 5


def test_interrupted_run_resumes_every_study_once(first, root, cluster, tmp_path):
    """What a killed run leaves (module notes): complete study folders, a half-written temporary
    one, and (not made by run_study, but possible by hand) a study folder without DONE."""
    _, done_out, _ = first
    out = tmp_path / "cohort"
    for s in ("s1", "s2"):
        shutil.copytree(done_out / "studies" / s, out / "studies" / s)
    (out / "studies" / ".tmp-s3-x1y2" / "figures").mkdir(parents=True)
    (out / "studies" / "s4").mkdir()
    (out / "studies" / "s4" / "results.csv").write_text("half\n")
    standin.CALLS.clear()
    result = run_cohort(root, out, scheduler=cluster, progress=False, runner=standin.disc_study)
    assert sorted(standin.CALLS) == ["s3", "s4", "s5"]
    assert sorted(p.name for p in (out / "studies").iterdir()) == list(GOOD)
    assert [r["study"] for r in _rows(out)] == [*GOOD, "s5"] and result.counts == {"complete": 4, "failed": 1}


def test_manifest_with_hct_and_a_missing_folder(root, cluster, tmp_path):
    manifest = tmp_path / "cohort.csv"
    manifest.write_text(f"study,path,hct\npatient-a,{root / 's1'},0.4\npatient-b,missing,\n")
    standin.HCT.clear()
    result = run_cohort(manifest, tmp_path / "out", cluster, hct=0.45, progress=False, runner=standin.disc_study)
    assert standin.HCT == {"s1": 0.4, "missing": 0.45}  # a row's hct, else the argument's
    failed = result.failed[0]  # a relative path is taken from the manifest's folder
    assert failed.study == "patient-b" and "no such folder" in failed.reason
    assert str(tmp_path / "missing") in failed.reason
    assert (tmp_path / "out" / "studies" / "patient-a" / "DONE").is_file()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("study,folder\na,b\n", "no column path"),
        ("study,path\na,x\na,y\n", "'a' given twice"),
        ("study,path\n../a,x\n", "not usable as a folder name"),
        ("study,path\na,\n", "line 2: study 'a' has no path"),
        ("study,path,hct\na,x,1.5\n", "line 2: hct '1.5'"),
        ("study,path\n", "no study found"),
    ],
)
def test_bad_manifest_refused_up_front(tmp_path, content, message):
    manifest = tmp_path / "m.csv"
    manifest.write_text(content)
    with pytest.raises(ValueError, match=message):
        run_cohort(manifest, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_bad_arguments_refused(root, tmp_path):
    with pytest.raises(FileNotFoundError, match="no such folder or manifest"):
        list_studies(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="not both"):
        run_cohort(root, tmp_path / "out", scheduler="tcp://127.0.0.1:1", workers=2)
    with pytest.raises(ValueError, match="workers must be"):
        run_cohort(root, tmp_path / "out", workers=0)
    with pytest.raises(ValueError, match="haematocrit"):
        run_cohort(root, tmp_path / "out", hct=42)
    with pytest.raises(ValueError, match="inside the folder of study s1"):
        run_cohort(root, root / "s1" / "out")
    with pytest.warns(UserWarning, match="no DICOM file in them: notes"):
        assert [s.study for s in list_studies(root, exclude=root / "s1")] == ["s2", "s3", "s4", "s5"]
    assert not (tmp_path / "out").exists() and not (root / "s1" / "out").exists()


def test_model_loaded_once_per_process(monkeypatch):
    made: list[str] = []
    monkeypatch.setattr(cohort, "Predictor", lambda model: made.append(model) or DiscPredictor())
    monkeypatch.setattr(cohort, "_MODELS", {})
    first = cohort._cached_predictor("default")
    assert cohort._cached_predictor("default") is first and cohort._cached_predictor("guided") is not first
    assert made == ["default", "guided"]


def test_cli_cohort_loads_the_model_once(root, cluster, tmp_path, monkeypatch, capsys):
    made: list[str] = []
    monkeypatch.setattr(cohort, "Predictor", lambda model: made.append(model) or DiscPredictor())
    monkeypatch.setattr(cohort, "_MODELS", {})
    out = tmp_path / "out"
    assert main(["cohort", str(root), "-o", str(out), "--scheduler", cluster]) == 0
    captured = capsys.readouterr()
    assert sorted(made) == ["cine", "default"], "each model once for the 5 studies of the one worker"
    lines = captured.out.splitlines()
    assert any(line.startswith("s5") and "failed" in line for line in lines) and str(out / "qc.html") in lines
    assert lines[-1] == "cohort: 4 complete, 0 partial, 1 failed" and "cmrseg cohort" in captured.err  # progress bar
    assert main(["cohort", str(root), "-o", str(out), "--workers", "2", "--scheduler", cluster]) == 2
    assert main(["cohort", str(tmp_path / "nowhere"), "-o", str(out)]) == 2
    assert "no such file or folder" in capsys.readouterr().err


@pytest.mark.slow
def test_killed_worker_has_its_study_retried(tmp_path):
    """Two worker processes (the default local cluster), retries=1: s2 kills its worker once and is
    retried and completed; s3 kills a worker twice and is recorded as failed; s1 is not affected."""
    root = tmp_path / "exports"
    for i, name in enumerate(("s1", "s2", "s3")):
        standin.write_cine_study(root / name, seed=i)
    (root / "s2.kill").write_text("1")
    (root / "s3.kill").write_text("2")
    result = run_cohort(root, tmp_path / "out", workers=2, progress=False, runner=standin.dying_study)
    assert (root / "s2.died").read_text() == "x" and (root / "s3.died").read_text() == "xx"
    assert [(s.study, s.status) for s in result.studies] == [
        ("s1", "complete"),
        ("s2", "complete"),
        ("s3", "failed"),
    ], [(s.study, s.reason) for s in result.studies]
    assert result.failed[0].reason.startswith("the worker running it died 2 times (killed, or out of memory")
    assert sorted(p.name for p in (tmp_path / "out" / "studies").iterdir()) == ["s1", "s2"]  # no temporary left


def test_a_study_task_run_again_after_its_study_finished_reads_it_back(tmp_path):
    """Dask reruns a finished task whose worker died before its result was collected: the rerun
    returns what the first run wrote instead of failing on the existing output."""
    standin.write_cine_study(tmp_path / "exports" / "s1")
    (first,) = run_cohort(
        tmp_path / "exports", tmp_path / "out", workers=1, progress=False, runner=standin.disc_study
    ).studies

    def must_not_run(*args):
        raise AssertionError("a finished study ran again")

    (study,) = list_studies(tmp_path / "exports")
    again = cohort._study_task(study, tmp_path / "out", "default", must_not_run)
    assert (again.study, again.status, again.reason) == (first.study, "complete", first.reason)


_KILLED_RUN = """
import sys
sys.path.insert(0, {repo!r})
from distributed import LocalCluster
from cmrseg.workflows.cohort import run_cohort
from tests import cohort_standin

with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
    run_cohort({root!r}, {out!r}, scheduler=cluster.scheduler_address, progress=False,
               runner=cohort_standin.dying_study)
"""


@pytest.mark.slow
def test_sigkill_of_the_whole_run_then_resume(tmp_path, cluster):
    """A run whose process is SIGKILLed during its third study; the rerun finishes the rest."""
    root, out = tmp_path / "exports", tmp_path / "cohort"
    for i, name in enumerate(("s1", "s2", "s3", "s4")):
        standin.write_cine_study(root / name, seed=i)
    (root / "s3.kill").touch()
    code = textwrap.dedent(_KILLED_RUN).format(repo=str(REPO), root=str(root), out=str(out))
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == -9 and (root / "s3.died").exists(), run.stderr[-2000:]
    studies = out / "studies"
    before = sorted(p.name for p in studies.iterdir() if not p.name.startswith("."))
    assert before == ["s1", "s2"], "studies run in submission order on one thread; s3 killed the run"
    assert all((studies / s / "DONE").is_file() for s in before) and list(studies.glob(".tmp-s3-*"))
    assert not (out / "cohort.csv").exists()
    done = {s: (studies / s / "DONE").stat().st_mtime_ns for s in before}
    standin.CALLS.clear()
    result = run_cohort(root, out, scheduler=cluster, progress=False, runner=standin.dying_study)
    assert sorted(standin.CALLS) == ["s3", "s4"] and result.counts == {"complete": 4}
    assert sorted(p.name for p in studies.iterdir()) == ["s1", "s2", "s3", "s4"]
    assert {s: (studies / s / "DONE").stat().st_mtime_ns for s in before} == done
    assert [r["study"] for r in _rows(out)] == ["s1", "s2", "s3", "s4"]
