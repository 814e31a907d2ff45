"""Training with PyTorch Lightning: config, data, module, runner."""

from cmrseg.train.config import TrainConfig, load_config
from cmrseg.train.split import kfold_subjects

__all__ = ["TrainConfig", "kfold_subjects", "load_config", "train"]


def train(config: TrainConfig, resume: bool = True):  # noqa: ANN201 - lazy import of torch
    """Train a model from ``config``; see :func:`cmrseg.train.run.train`."""
    from cmrseg.train.run import train as _train

    return _train(config, resume=resume)
