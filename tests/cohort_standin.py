"""Stand-ins for the cohort tests: study runners that worker processes can import.

A monkeypatch does not reach a Dask worker process, so the cohort workflow takes its study
runner as an argument (``run_cohort(..., runner=...)``), pickled by reference: these are
module-level functions that a spawned worker imports from ``tests.cohort_standin``. Each runs the
real :func:`run_study` with :class:`tests.test_study.DiscPredictor` (a phantom heart on every
image, no model) on the tiny studies of :func:`write_cine_study`.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np

from cmrseg.workflows.study import StudyResult, run_study
from tests.dicom_writer import LONG_AXIS, plane_orientation, retag, write_study_series
from tests.test_study import DiscPredictor

CALLS: list[str] = []  # study folder names, in the order run (in this process)
HCT: dict[str, float | None] = {}  # study folder name -> the hct it was run with


def write_cine_study(folder: Path, seed: int = 0) -> None:
    """A tiny study: one short-axis cine of 2 slices x 3 phases of 32 x 32 noise images."""
    stored = np.random.default_rng(seed).integers(0, 1000, size=(32, 32, 2, 3))
    write_study_series(folder / "S010", stored, orientation=plane_orientation(LONG_AXIS), order=np.arange(6))
    retag(folder / "S010", lambda z, t: {"SeriesDescription": "SA cine", "SeriesNumber": 10}, 3)


def write_broken_study(folder: Path) -> None:
    """A folder that looks like DICOM (``DICM`` at byte 128) and is not: run_study raises."""
    folder.mkdir(parents=True)
    (folder / "broken.dcm").write_bytes(b"\0" * 128 + b"DICM" + b"cut short")


def disc_study(dicom_dir: Path, out_dir: Path, hct: float | None, model: str) -> StudyResult:
    """run_study with the phantom predictor; records the call in :data:`CALLS`."""
    CALLS.append(Path(dicom_dir).name)
    HCT[Path(dicom_dir).name] = hct
    return run_study(dicom_dir, out_dir, hct=hct, model=model, predictor=DiscPredictor())


class _DyingPredictor(DiscPredictor):
    """Kills its own process (SIGKILL) when it segments, mid-study with the output half-written,
    until it has died ``times`` times (one byte appended to ``died`` per death)."""

    def __init__(self, died: Path, times: int) -> None:
        self.died, self.times = died, times

    def predict_array(self, array: np.ndarray) -> np.ndarray:
        if (self.died.stat().st_size if self.died.exists() else 0) >= self.times:
            return super().predict_array(array)
        with open(self.died, "ab") as fh:
            fh.write(b"x")
        os.kill(os.getpid(), signal.SIGKILL)
        raise AssertionError("unreachable")


def dying_study(dicom_dir: Path, out_dir: Path, hct: float | None, model: str) -> StudyResult:
    """As :func:`disc_study`, but a study marked to die (a file ``ROOT/<study>.kill`` holding a
    number, empty for 1) kills the process running it that many times, mid-study (``ROOT/<study>.died``
    has a byte per death): killed Dask workers, or a killed run when the cluster is in-process."""
    dicom_dir = Path(dicom_dir)
    CALLS.append(dicom_dir.name)
    kill = dicom_dir.parent / f"{dicom_dir.name}.kill"
    times = int(kill.read_text() or 1) if kill.exists() else 0
    predictor = _DyingPredictor(dicom_dir.parent / f"{dicom_dir.name}.died", times) if times else DiscPredictor()
    return run_study(dicom_dir, out_dir, hct=hct, model=model, predictor=predictor)
