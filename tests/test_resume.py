"""Training resumes after a SIGKILL where it stopped, with its whole log and the same weights."""

from __future__ import annotations

import csv
import signal
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("train_killed.py")


def _run(data: Path, out: Path, epochs: int, kill_at: int) -> int:
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(data), str(out), str(epochs), str(kill_at)], capture_output=True, timeout=300
    ).returncode


def _rows(run: Path) -> list[tuple[str, ...]]:
    with (run / "metrics.csv").open() as f:
        return [tuple(r.values()) for r in csv.DictReader(f)]


@pytest.mark.slow
def test_sigkill_then_resume_equals_an_uninterrupted_run(tmp_path):
    import torch

    data = tmp_path / "data"
    assert _run(data, tmp_path / "full", 4, -1) == 0
    assert _run(data, tmp_path / "cut", 4, 2) == -signal.SIGKILL  # killed as epoch 2 starts
    saved = torch.load(tmp_path / "cut" / "checkpoints" / "last.ckpt", weights_only=False)
    assert saved["epoch"] == 1  # the last finished epoch, improved or not
    assert _run(data, tmp_path / "cut", 4, -1) == 0
    full, cut = _rows(tmp_path / "full"), _rows(tmp_path / "cut")
    assert [r[0] for r in full] == ["0", "0", "1", "1", "2", "2", "3", "3"]  # train and validation row per epoch
    assert cut == full
    a = torch.load(tmp_path / "full" / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]
    b = torch.load(tmp_path / "cut" / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert (tmp_path / "cut" / "learning_curve.csv").read_text() == (
        tmp_path / "full" / "learning_curve.csv"
    ).read_text()
