"""Train a tiny phantom run in a subprocess and SIGKILL it at the start of one epoch (tests/test_resume.py).

Usage: python tests/train_killed.py DATASET RUN EPOCHS KILL_AT_EPOCH   (KILL_AT_EPOCH -1: never)
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import lightning as L
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cmrseg.image import Image, LabelMap  # noqa: E402
from cmrseg.io.datasets.layout import Case, Dataset, save_dataset  # noqa: E402
from cmrseg.io.nifti import write_image, write_labels  # noqa: E402
from cmrseg.train import run as run_module  # noqa: E402
from cmrseg.train.config import config_from_dict  # noqa: E402
from tests.conftest import heart_phantom  # noqa: E402


def make_dataset(root: Path) -> None:
    """Four subjects of three noisy, shifted phantom slices each."""
    rng = np.random.default_rng(0)
    cases = []
    for s in range(4):
        pairs = [heart_phantom((64, 64), tuple(32 + rng.integers(-5, 5, 2))) for _ in range(3)]
        image = np.stack([im + rng.normal(0, 10, im.shape) for im, _ in pairs], -1).astype(np.float32)
        write_image(Image(image, (1.5, 1.5, 8.0)), root / "images" / f"s{s}.nii.gz")
        write_labels(LabelMap(np.stack([lb for _, lb in pairs], -1), (1.5, 1.5, 8.0)), root / "labels" / f"s{s}.nii.gz")
        cases.append(Case(f"s{s}", f"s{s}", f"images/s{s}.nii.gz", f"labels/s{s}.nii.gz", "ED"))
    save_dataset(Dataset(root, "phantoms", tuple(cases)))


class _KillAt(L.Callback):
    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_train_epoch_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if trainer.current_epoch == self.epoch:
            os.kill(os.getpid(), signal.SIGKILL)


def main() -> None:
    data, out, epochs, kill_at = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    if not (data / "dataset.json").exists():
        make_dataset(data)
    config = config_from_dict(
        {
            "data": [str(data)],
            "output": out,
            "image_size": 32,
            "epochs": epochs,
            "batch_size": 4,
            "folds": 2,
            "scheduler": "cosine_restarts",
            "precision": "32",
        }
    )
    trainer_cls = L.Trainer

    def trainer(*args, **kwargs) -> L.Trainer:  # noqa: ANN002, ANN003
        return trainer_cls(*args, **{**kwargs, "callbacks": [*kwargs["callbacks"], _KillAt(kill_at)]})

    run_module.L.Trainer = trainer
    run_module.train(config)


if __name__ == "__main__":
    main()
