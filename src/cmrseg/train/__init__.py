"""Training with PyTorch Lightning: config, data, module, runner."""

from cmrseg.train.config import TrainConfig, load_config
from cmrseg.train.split import kfold_subjects

__all__ = ["TrainConfig", "finetune_config", "kfold_subjects", "load_config", "train"]


def train(config: TrainConfig, resume: bool = True):  # noqa: ANN201 - lazy import of torch
    """Train a model from ``config``; see :func:`cmrseg.train.run.train`.

    Parameters
    ----------
    config : TrainConfig
        The training run.
    resume : bool
        Resume from ``OUTPUT/checkpoints/last.ckpt`` when it exists.

    Returns
    -------
    TrainResult
        ``{"model": path of the exported bundle, "best_checkpoint": ..., "val_dice_mean": ...}``.
    """
    from cmrseg.train.run import train as _train

    return _train(config, resume=resume)


def finetune_config(
    init_from: str, data: tuple[str, ...], output: str, scratch: bool = False, **options
) -> TrainConfig:  # noqa: ANN003
    """The config of the 7T paper's fine-tuning recipe, starting from a model bundle.

    Network and input size come from the starting model (``default`` or a file); the encoder is
    frozen for ``freeze_encoder_epochs`` at ``lr``, then trains at ``unfrozen_lr`` (constant
    schedule).

    Parameters
    ----------
    init_from : str
        The starting model bundle: ``default`` or a model file.
    data : tuple of str
        Dataset folders to train on.
    output : str
        The run's output folder.
    scratch : bool
        Keep the architecture but start from random weights (no encoder freezing).
    **options
        Further :class:`TrainConfig` fields (epochs, batch_size, augment, subset, folds, ...);
        ``freeze_encoder_epochs`` defaults to 30.

    Returns
    -------
    TrainConfig
        Loss ``dice_ce``, optimizer ``adamw``, scheduler ``none``.
    """
    from cmrseg.models.bundle import load_bundle
    from cmrseg.models.shipped import resolve_model_path

    start = load_bundle(resolve_model_path(init_from))
    options.setdefault("freeze_encoder_epochs", 30)
    if scratch:
        options["freeze_encoder_epochs"] = 0
    return TrainConfig(
        data=tuple(str(d) for d in data),
        output=str(output),
        model=start.config,
        image_size=start.image_size,
        loss="dice_ce",
        optimizer="adamw",
        scheduler="none",
        init_from=None if scratch else str(init_from),
        **options,
    )
