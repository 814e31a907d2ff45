"""`cmrseg cohort` on a synthetic archive: throughput with 1 and 2 workers, a killed run resumed, a dead worker.

Usage: python benchmarks/cohort.py [--studies 200] [--model default|phantom] [--work DIR] [--out docs/cohort-results.md]

The archive (written once into ``WORK/archive``, reused when its manifest matches): one folder per
study, each a DICOM export written with pydicom from real images of ``../shared/data`` (converted
first with ``cmrseg convert``): a short-axis cine (an ACDC patient's ED and ES frames, SeriesDescription
``SA cine``, TriggerTime 0 / 350 ms), an LGE stack (a MyoPS case's LGE, ``LGE PSIR``, InversionTime
300 ms), a pre- and a post-contrast MOLLI series (a T1NET slice, Siemens ``TI 100`` comments) and a
localiser; all series of a study share one patient, study and frame of reference, with realistic
tags (orientation, position, spacing, slope / intercept). Every 10th study is broken: in one study
in three of those a cine file is cut short (the cine is refused, the study is partial), in the others
the whole study is a truncated file (the study fails). A manifest CSV gives each study its folder
and a haematocrit, so MOLLI pre + post give ECV.

Runs (each a ``cmrseg cohort MANIFEST -o OUT --workers N`` process, as a user runs it):

1. ``--workers 1`` and ``--workers 2`` from scratch: studies per minute (wall clock of the process).
2. ``--workers 2`` with one worker process SIGKILLed when a quarter of the studies are done (Dask
   retries its study elsewhere), then the whole process group SIGKILLed when half are done, then
   rerun to the end (run first, untimed; one run for both faults to save an hour at 200 studies).

After 2, every study must be in ``cohort.csv`` exactly once with the same rows and values as
the uninterrupted 2-worker run (floats compared as written). ``--model phantom`` replaces the segmentation
network of the cine and LGE series by the test suite's phantom predictor (a disc on every image),
to measure mostly the orchestration; the MOLLI series still run the shipped guide and guided
networks (about 40% of a study's time on one core). Writes ``OUT`` (markdown) and prints the same lines.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import REPO  # noqa: E402
from pydicom.uid import generate_uid  # noqa: E402

from cmrseg.io.datasets import load_dataset  # noqa: E402
from cmrseg.io.nifti import read_image  # noqa: E402
from cmrseg.io.series import discover_series  # noqa: E402
from tests.dicom_writer import (  # noqa: E402
    LONG_AXIS,
    add_study_context,
    plane_orientation,
    retag,
    to_multiframe,
    write_series,
)

DATA = REPO / "data"
HCT = 0.42
BROKEN_EVERY = 10


def _stored(volume: np.ndarray, scale: float) -> np.ndarray:
    """Image intensities as stored integers (slope 2, intercept -10 in the writer)."""
    v = np.clip(np.nan_to_num(volume.astype(float)), 0, None)
    return np.round(v / max(float(np.percentile(v, 99.5)), 1e-6) * scale).astype(np.int32)


def _series(folder: Path, volume: np.ndarray, spacing, number: int, text: str, tags=None, trigger=None) -> None:
    """One series on the study's short-axis plane, stored values of ``volume`` (X, Y, Z[, T])."""
    sax = plane_orientation(LONG_AXIS)
    nz = volume.shape[2]
    nt = volume.shape[3] if volume.ndim == 4 else 1
    normal = np.cross(sax[:3], sax[3:])
    origin = np.array([-60.0, -90.0, 40.0]) - normal * spacing[2] * (nz - 1) / 2
    write_series(
        folder,
        volume,
        spacing_rc=(float(spacing[0]), float(spacing[1])),
        slice_mm=float(spacing[2]),
        orientation=sax,
        origin=tuple(origin),
        trigger_ms=trigger,
        order=np.arange(nz * nt),
    )
    extra = tags or (lambda z, t: {})
    retag(folder, lambda z, t: {"SeriesNumber": number, "SeriesDescription": text, **extra(z, t)}, nt)


CINE_LAYOUTS = ("one series", "one series per slice", "one enhanced multi-frame file")


def _write_study(folder: Path, acdc, myops, t1net, i: int) -> dict[int, str]:
    """One study; returns the kind each series (by SeriesNumber) must be classified as."""
    ed, es = acdc[(2 * i) % len(acdc)], acdc[(2 * i + 1) % len(acdc)]
    cine = np.stack([ed.array, es.array], axis=3)
    _series(folder / "S010", _stored(cine, 2000), ed.spacing, 10, "SA cine retro", trigger=(0.0, 350.0))
    layout = CINE_LAYOUTS[i % len(CINE_LAYOUTS)]
    expected = {1: "localiser", 20: "lge", 30: "molli", 31: "molli"}
    if layout == "one series per slice":  # as many scanners export a short-axis cine
        uids = [generate_uid() for _ in range(cine.shape[2])]
        retag(folder / "S010", lambda z, t: {"SeriesInstanceUID": uids[z], "SeriesNumber": 100 + z}, 2)
        expected |= {100 + z: "sax_cine" for z in range(cine.shape[2])}
    else:
        expected[10] = "sax_cine"
    lge = myops[i % len(myops)]
    lge_tags = lambda z, t: {"InversionTime": 300.0}  # noqa: E731
    _series(folder / "S020", _stored(lge.array, 2000), lge.spacing, 20, "LGE PSIR", lge_tags)
    for phase, number in (("pre", 30), ("post", 31)):
        image, times = t1net[phase][i % len(t1net[phase])]
        arr = image.array[:, :, None, :] if image.array.ndim == 3 else image.array
        ti = [int(round(t)) for t in times]
        spacing = (1.4, 1.4, 8.0)  # T1NET records none; a typical MOLLI in-plane spacing
        _series(
            folder / f"S0{number}",
            _stored(arr, 2000),
            spacing,
            number,
            f"MOLLI 5(3)3 {phase}",
            lambda z, t, ti=ti: {"ImageComments": f"TI {ti[t]}"},
        )
    loc = np.random.default_rng(i).integers(0, 1000, size=(64, 64, 1))
    write_series(folder / "S001", loc, orientation=(1, 0, 0, 0, 1, 0), order=np.arange(1))
    retag(folder / "S001", lambda z, t: {"SeriesNumber": 1, "SeriesDescription": "localizer"}, 1)
    add_study_context(folder)
    if layout == "one enhanced multi-frame file":
        files = sorted((folder / "S010").glob("*.dcm"))
        to_multiframe(files, folder / "S010mf" / "cine.dcm")
        shutil.rmtree(folder / "S010")
    return expected


def _break(folder: Path, i: int) -> str:
    """Damage a study: a cut-short cine file (partial) or the whole study one truncated file (failed)."""
    if (i // BROKEN_EVERY) % 3 == 0:
        path = sorted((folder / "S010").glob("*.dcm"))[0]
        path.write_bytes(path.read_bytes()[:600])
        return "cine file cut short"
    shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / "0.dcm").write_bytes(b"\0" * 128 + b"DICM" + b"cut short")
    return "truncated study"


def build_archive(work: Path, n: int) -> Path:
    """``WORK/archive/s###`` and ``WORK/archive/manifest.csv``; reused when built for the same n."""
    archive = work / "archive"
    stamp = archive / "built.json"
    if stamp.exists() and json.loads(stamp.read_text()).get("studies") == n:
        return archive / "manifest.csv"
    shutil.rmtree(archive, ignore_errors=True)
    acdc_ds, myops_ds, t1_ds = (load_dataset(DATA / name) for name in ("acdc", "myops", "t1net"))
    acdc = [read_image(acdc_ds.root / c.image) for c in acdc_ds.cases[:40]]
    myops = [read_image(myops_ds.root / c.image) for c in myops_ds.cases if c.extra.get("contrast") == "LGE"][:10]
    t1net = {"pre": [], "post": []}
    for c in t1_ds.cases:
        image = read_image(t1_ds.root / c.image)
        side = (t1_ds.root / c.image).with_name(Path(c.image).name.replace(".nii.gz", ".json"))
        t1net[c.phase].append((image, json.loads(side.read_text())["InversionTime"]))
    rows, broken, kinds = [], {}, {}
    for i in range(n):
        folder = archive / f"s{i:03d}"
        kinds[folder.name] = _write_study(folder, acdc, myops, t1net, i)
        if i % BROKEN_EVERY == BROKEN_EVERY - 1:
            broken[folder.name] = _break(folder, i)
        rows.append(f"{folder.name},{folder},{HCT}")
    (archive / "manifest.csv").write_text("study,path,hct\n" + "\n".join(rows) + "\n")
    stamp.write_text(json.dumps({"studies": n, "broken": broken, "kinds": kinds}))
    return archive / "manifest.csv"


def classification(archive: Path, built: dict) -> tuple[int, int, list[str]]:
    """Series classified as written (every study that is not broken), out of how many; and what
    went wrong: a wrong kind, or single-slice cine series not stacked into one cine."""
    right, total, wrong = 0, 0, []
    for study, expected in built["kinds"].items():
        if study in built["broken"]:
            continue
        found = {s.number: s for s in discover_series(archive / study) if s.uid}
        for number, kind in expected.items():
            total += 1
            got = found.get(int(number))
            if got is not None and got.kind == kind:
                right += 1
            else:
                wrong.append(f"{study} series {number}: {got.kind if got else 'missing'}, expected {kind}")
        slices = [int(n) for n in expected if int(n) >= 100]  # a cine exported one series per slice
        stacks = {found[n].stack for n in slices if n in found}
        if slices and (len(stacks) != 1 or len(next(iter(stacks))) != len(slices)):
            wrong.append(f"{study}: its {len(slices)} single-slice cine series are not stacked into one cine")
    return right, total, wrong


def _command(manifest: Path, out: Path, workers: int, model: str) -> list[str]:
    if model == "phantom":  # the test suite's phantom predictor instead of the network
        code = (
            f"import sys; sys.path.insert(0, {str(REPO)!r}); from tests import cohort_standin; "
            "from cmrseg.workflows.cohort import run_cohort; run_cohort(sys.argv[1], sys.argv[2], "
            "workers=int(sys.argv[3]), progress=False, runner=cohort_standin.disc_study)"
        )
        return [sys.executable, "-c", code, str(manifest), str(out), str(workers)]
    return [
        sys.executable,
        "-m",
        "cmrseg.cli",
        "cohort",
        str(manifest),
        "-o",
        str(out),
        "--workers",
        str(workers),
        "--model",
        model,
    ]


def _done(out: Path) -> int:
    return len(list((out / "studies").glob("*/DONE"))) if (out / "studies").is_dir() else 0


def run(
    manifest: Path,
    out: Path,
    workers: int,
    model: str,
    kill_at: float | None = None,
    kill_worker_at: float | None = None,
    total: int = 0,
) -> float:
    """Run the cohort command; SIGKILL it (``kill_at``) or one worker (``kill_worker_at``) when that
    fraction of studies is done. Returns the wall time in seconds."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        _command(manifest, out, workers, model),
        cwd=REPO,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    killed_worker = False
    while proc.poll() is None:
        time.sleep(0.5)
        done = _done(out)
        if kill_at is not None and done >= kill_at * total:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            if kill_worker_at is not None and not killed_worker:
                raise RuntimeError("the run reached its kill point before a worker could be killed")
            return time.perf_counter() - start
        if kill_worker_at is not None and not killed_worker and done >= kill_worker_at * total:
            children = psutil.Process(proc.pid).children(recursive=True)
            spawned = [p for p in children if "spawn" in " ".join(p.cmdline())]  # Dask's worker processes
            if spawned:
                spawned[0].send_signal(signal.SIGKILL)
                killed_worker = True
    if proc.returncode not in (0,):
        raise RuntimeError(f"cohort run failed ({proc.returncode}): {proc.stderr.read()[-2000:]}")
    if kill_worker_at is not None and not killed_worker:
        raise RuntimeError("the run ended before a worker could be killed")
    return time.perf_counter() - start


def table(out: Path) -> dict[str, list[tuple]]:
    """study -> its rows of cohort.csv (every column but timings and paths), as written."""
    skip = {"seconds", "out_dir", "study_seconds"}
    rows: dict[str, list[tuple]] = {}
    with open(out / "cohort.csv", newline="") as fh:
        for r in csv.DictReader(fh):
            rows.setdefault(r["study"], []).append(tuple((k, v) for k, v in r.items() if k not in skip))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--studies", type=int, default=200)
    ap.add_argument("--model", default="default", help="shipped model name, file, or 'phantom' (no network)")
    ap.add_argument("--work", type=Path, default=Path("/tmp/cmrseg-cohort-benchmark"))
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "cohort-results.md")
    args = ap.parse_args()
    t0 = time.perf_counter()
    manifest = build_archive(args.work, args.studies)
    built = json.loads((manifest.parent / "built.json").read_text())
    broken = built["broken"]
    lines = [f"archive: {args.studies} studies ({len(broken)} broken) built in {time.perf_counter() - t0:.0f} s"]
    lines.append("cine layouts in turn: " + ", ".join(CINE_LAYOUTS))
    right, total, wrong = classification(manifest.parent, built)
    lines.append(f"series classified as written (studies not broken): {right} of {total}")
    lines += [f"  {w}" for w in wrong[:5]]
    # The interrupted run first (its timing is not reported), then the timed runs back to back.
    name = "one worker SIGKILLed at 25%, then the whole run SIGKILLed at 50%, then rerun"
    interrupted = args.work / "sigkill"
    shutil.rmtree(interrupted, ignore_errors=True)
    run(manifest, interrupted, 2, args.model, kill_at=0.5, kill_worker_at=0.25, total=args.studies)
    done = _done(interrupted)
    run(manifest, interrupted, 2, args.model)
    name += f" ({done} studies done before the kill)"
    runs, rate = {}, {}
    for workers in (1, 2):
        out = args.work / f"run{workers}"
        shutil.rmtree(out, ignore_errors=True)
        load = os.getloadavg()[0]
        seconds = run(manifest, out, workers, args.model)
        runs[workers], rate[workers] = table(out), 60 * args.studies / seconds
        lines.append(
            f"{workers} worker(s): {seconds:.0f} s, {rate[workers]:.1f} studies/min (1-min load {load:.1f} at start)"
        )
    reference = runs[2]
    lines.append(f"2 workers / 1 worker throughput: {rate[2] / rate[1]:.2f}x")
    lines.append(f"1- and 2-worker tables equal: {runs[1] == reference}")
    got = table(interrupted)
    once = all(len(got.get(s, [])) == len(rows) for s, rows in reference.items()) and set(got) == set(reference)
    lines.append(f"{name}: every study once: {once}; values equal to the uninterrupted run: {got == reference}")
    statuses = {}
    with open(args.work / "run2" / "cohort.csv", newline="") as fh:
        for r in csv.DictReader(fh):
            statuses[r["study"]] = (r["study_status"], r["study_reason"])
    bad = {s: statuses[s] for s in broken}
    lines.append(
        f"broken studies: {sum(v[0] != 'complete' for v in bad.values())} of {len(bad)} not complete, "
        f"each with a reason: {all(v[1] for v in bad.values() if v[0] != 'complete')}"
    )
    for s, (status, reason) in list(bad.items())[:3]:
        lines.append(f"  {s} ({broken[s]}): {status}: {reason[:160]}")
    text = "\n".join(lines)
    print(text)
    command = f"python benchmarks/cohort.py --studies {args.studies} --model {args.model}"
    args.out.write_text(f"# Cohort benchmark\n\n`{command}` (2-core CPU)\n\n```\n{text}\n```\n")


if __name__ == "__main__":
    main()
