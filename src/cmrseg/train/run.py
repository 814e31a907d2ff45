"""Run a training: data, Lightning trainer, checkpoints, resume, CSV log, exported model."""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path

import lightning as L
import torch
import yaml
from lightning.pytorch.callbacks import ModelCheckpoint, TQDMProgressBar
from lightning.pytorch.loggers import CSVLogger

from cmrseg.models.bundle import ModelBundle, bundle_from_checkpoint, save_bundle
from cmrseg.predict import Predictor
from cmrseg.train.config import TrainConfig
from cmrseg.train.curves import write_learning_curve
from cmrseg.train.data import SliceSet, concat_slices, load_slices, make_loaders, oversample, split_cases
from cmrseg.train.guided import GuidedModule, concat_guided, guided_loader, load_guided_slices
from cmrseg.train.module import SegmentationModule
from cmrseg.train.subsets import apply_subset, subset_images, subset_kshot

__all__ = ["train", "TrainResult"]

log = logging.getLogger(__name__)


class TrainResult(dict):
    """``{"model": path of the exported bundle, "best_checkpoint": ..., "val_dice_mean": ...}``."""


def _check_resumable(saved: dict, config: TrainConfig) -> None:
    """Resuming continues the same run: only ``epochs`` may grow, and not under a one-cycle schedule.
    ``init_from`` may be renamed (a resumed run takes its weights from the checkpoint)."""
    current = config.to_dict()
    free = ("epochs", "output", "init_from")
    changed = sorted(k for k in current if k not in free and saved.get(k) != current[k])
    if changed:
        raise ValueError(
            f"{config.output} holds a run with a different config ({', '.join(changed)}); "
            "use another output folder or --restart"
        )
    if saved["epochs"] != config.epochs and config.scheduler == "onecycle":
        raise ValueError("a one-cycle schedule cannot be extended on resume; use --restart or cosine_restarts")


def _resumable_logger(out: Path, resumed_epoch: int | None) -> CSVLogger:
    """A CSV logger writing ``out/metrics.csv``; on resume it keeps the rows of the epochs up to
    ``resumed_epoch`` (those in the checkpoint) and drops the rows of the epoch that was cut off.

    Lightning's CSV writer deletes an existing ``metrics.csv`` when it starts, so the kept rows are
    written back after it has started and its header seeded with theirs.
    """
    path = out / "metrics.csv"
    kept, header = [], []
    if resumed_epoch is not None and path.exists():
        with path.open(newline="") as f:
            reader = csv.DictReader(f)
            header = list(reader.fieldnames or [])
            kept = [r for r in reader if r.get("epoch") and int(r["epoch"]) <= resumed_epoch]
    logger = CSVLogger(out, name="", version="")
    if not kept:
        return logger
    writer = logger.experiment  # created now: removes the old file
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=sorted(header))
        w.writeheader()
        w.writerows(kept)
    writer.metrics_keys = sorted(header)
    return logger


def _loaders(config: TrainConfig, train_parts: list, val_parts: list) -> tuple:
    train_slices = concat_slices([load_slices(ds, cases, config.image_size) for ds, cases in train_parts])
    keep = subset_images(len(train_slices), config.subset, config.seed)
    if keep is None:
        keep = subset_kshot(train_slices.case, train_slices.labels, config.subset)
    if keep is not None:
        train_slices = SliceSet(train_slices.images[keep], train_slices.labels[keep], train_slices.case[keep])
    names = {c.id: ds.name for ds, cases in train_parts for c in cases}
    train_slices = oversample(train_slices, names, config.oversample)
    val_slices = (
        concat_slices([load_slices(ds, cases, config.image_size) for ds, cases in val_parts if cases])
        if val_parts
        else None
    )
    log.info("training on %d slices, validating on %d", len(train_slices), len(val_slices) if val_slices else 0)
    labelled = {c.id: tuple(ds.labelled_classes) for ds, cases in (*train_parts, *val_parts) for c in cases}
    scale = {c.id: (config.randomise_scale or {}).get(ds.name, 1.0) for ds, cases in train_parts for c in cases}
    return make_loaders(config, train_slices, val_slices, labelled, scale)


def _guided_loaders(config: TrainConfig, train_parts: list) -> object:
    """Guided runs train on all pairs of the training subjects; held-out folds are not validated on
    (they are the benchmark's test cases), so the checkpoint kept is the lowest training loss."""
    predictor = Predictor(config.guide_model) if config.guide_model else None
    parts = [load_guided_slices(ds, cases, config.image_size, predictor) for ds, cases in train_parts if cases]
    slices = concat_guided(parts)
    log.info("guided training on %d slices with %d guide candidates", len(slices), len(slices.guides))
    scale = {c.id: (config.randomise_scale or {}).get(ds.name, 1.0) for ds, cases in train_parts for c in cases}
    return guided_loader(config, slices, scale)


def _checkpoints(ckpt_dir: Path, has_val: bool) -> tuple[ModelCheckpoint, ModelCheckpoint]:
    """The best checkpoint (by validation Dice, else training loss) and ``last.ckpt`` every epoch."""
    best = ModelCheckpoint(
        dirpath=ckpt_dir,
        filename="best",
        save_top_k=1,
        monitor="val_dice_mean" if has_val else "train_loss",
        mode="max" if has_val else "min",
    )
    # every epoch, after the best checkpoint has been updated (so it carries the current best score)
    last = ModelCheckpoint(dirpath=ckpt_dir, filename="last", save_top_k=1, enable_version_counter=False)
    return best, last


def _resume_from(last: Path, resume: bool, config: TrainConfig) -> tuple[str | None, int | None]:
    """``(checkpoint path, its epoch)`` to resume from, after checking the config; ``(None, None)``."""
    if not (resume and last.exists()):
        return None, None
    saved = torch.load(last, map_location="cpu", weights_only=False)
    _check_resumable(saved["cmrseg_config"], config)
    return str(last), int(saved["epoch"])


def _export(checkpoint: str, config: TrainConfig, metrics: dict, path: Path) -> None:
    """The checkpoint's network as a model bundle with its training config and scores."""
    bundle = bundle_from_checkpoint(torch.load(checkpoint, map_location="cpu", weights_only=False))
    save_bundle(ModelBundle(bundle.model, bundle.config, bundle.image_size, config.to_dict(), metrics), path)


def train(config: TrainConfig, resume: bool = True) -> TrainResult:
    """Train, checkpointing every epoch to ``OUTPUT/checkpoints``; resume from ``last.ckpt``.

    Writes ``OUTPUT/config.yaml``, ``OUTPUT/metrics.csv`` (loss and per-class Dice per epoch),
    ``OUTPUT/learning_curve.csv`` / ``.png`` (validation Dice against training images seen) and
    ``OUTPUT/model.pt`` (the best checkpoint as an fp16 bundle).

    Parameters
    ----------
    config : TrainConfig
        The run; ``config.output`` is OUTPUT.
    resume : bool
        Continue from ``OUTPUT/checkpoints/last.ckpt`` when it exists (the config may differ only in
        ``epochs``, and not under a one-cycle schedule).

    Returns
    -------
    TrainResult
        Also written as ``OUTPUT/result.json``.

    Raises
    ------
    ValueError
        If resuming a run with a different config (or a longer one-cycle schedule), or the training
        datasets label no class.
    """
    out = Path(config.output)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.yaml").write_text(yaml.safe_dump(config.to_dict(), sort_keys=False))
    L.seed_everything(config.seed, workers=True, verbose=False)
    torch.set_float32_matmul_precision("medium")

    train_parts, val_parts = split_cases(config)
    train_parts = apply_subset(train_parts, config.subset, config.seed)
    if config.guided:
        train_loader, val_loader = _guided_loaders(config, train_parts), None
    else:
        train_loader, val_loader = _loaders(config, train_parts, val_parts)
    has_val = val_loader is not None
    checkpoint, every_epoch = _checkpoints(out / "checkpoints", has_val)
    last = out / "checkpoints" / "last.ckpt"
    ckpt_path, resumed_epoch = _resume_from(last, resume, config)
    logger = _resumable_logger(out, resumed_epoch)
    trainer = L.Trainer(
        max_epochs=config.epochs,
        accelerator=config.accelerator,
        devices=config.devices,
        precision=config.precision,
        deterministic="warn",
        callbacks=[checkpoint, every_epoch, TQDMProgressBar(refresh_rate=10)],
        logger=logger,
        limit_train_batches=config.max_batches_per_epoch or 1.0,
        log_every_n_steps=10,
        enable_model_summary=False,
        num_sanity_val_steps=0,
    )
    labelled = set.union(*(set(ds.labelled_classes) for ds, _ in train_parts))
    if not labelled:
        raise ValueError("the training datasets label no class")
    module_cls = GuidedModule if config.guided else SegmentationModule
    trainer.fit(module_cls(config, tuple(labelled)), train_loader, val_loader, ckpt_path=ckpt_path)

    best = checkpoint.best_model_path or str(last)
    score = checkpoint.best_model_score
    metrics = {"val_dice_mean": float(score)} if has_val and score is not None else {}
    _export(best, config, metrics, out / "model.pt")
    write_learning_curve(out, config.batch_size)
    result = TrainResult(model=str(out / "model.pt"), best_checkpoint=best, **metrics)
    (out / "result.json").write_text(json.dumps(result, indent=1))
    return result
