"""The training configuration: one frozen dataclass, read from YAML, saved in checkpoints."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from cmrseg.models.registry import ModelConfig

__all__ = ["TrainConfig", "load_config", "config_from_dict"]

OPTIMIZERS = ("adam", "adamw")
SCHEDULERS = ("none", "onecycle", "cosine_restarts")
PRECISIONS = ("32", "bf16-mixed", "16-mixed")


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run depends on. Paths are relative to the working directory.

    ``folds`` > 1 selects k-fold cross-validation at subject level and ``fold`` the held-out
    fold; ``folds`` = 1 trains on all subjects with no validation. ``subset`` selects a data
    subset strategy (``all``, ``ed_es``, ``subjects:N``, ``images:N``); ``contrasts`` keeps only
    cases of those contrasts (e.g. MyoPS ``C0``; cases without a contrast are kept). Fine-tuning:
    ``init_from`` (``default`` or a model file) starts from trained weights, the encoder stays
    frozen for ``freeze_encoder_epochs`` and then trains at ``unfrozen_lr`` (default ``lr / 10``).
    ``guided`` trains a guided model (image + guide channels, ``model.in_channels`` = 4) on pairs
    of images of the same subject (see :mod:`cmrseg.train.guided`): guides are the other images'
    labels and ``guide_model``'s predictions on them, perturbed with ``guide_perturb_probability``;
    ``guide_alpha`` fixes alpha for every sample (0: the unguided baseline of the same recipe),
    None draws it per sample.

    Training for any contrast: ``contrast_probability``, ``synth_probability`` and
    ``crop_probability`` switch on :class:`cmrseg.train.randomise.ContrastRandomiser` (intensity
    remapping / GIN, synthetic mapping images, tight heart crops); ``augment: anycontrast`` adds
    any rotation, wide scaling and scanner degradations. Splits: ``test_fold`` (and any
    ``test_subjects``) are held out of training and validation altogether, the test split of the
    figures; validation is then fold ``fold``, or with ``val_folds`` >= 2 fold ``fold`` of a
    ``val_folds``-way split of the remaining subjects. ``oversample`` maps a dataset name to how
    many times its slices appear per epoch; ``randomise_scale`` maps a dataset name to a factor on
    the synthesis and contrast probabilities of its slices (e.g. ``{acdc: 0.3}``: cine slices
    randomised less often, so the cine contrast keeps a larger share of training). ``mirror``
    false drops the preset's flips (no mirror image of a heart in training; see
    :func:`cmrseg.augment.build_transforms`).
    """

    data: tuple[str, ...]
    output: str
    model: ModelConfig = field(default_factory=ModelConfig)
    image_size: int = 192
    loss: str = "dice_ce"
    optimizer: str = "adamw"
    lr: float = 1e-3
    weight_decay: float = 1e-4
    scheduler: str = "onecycle"
    restart_epochs: int = 10
    epochs: int = 50
    batch_size: int = 16
    augment: str = "basic"
    mirror: bool = True
    invert_probability: float = 0.0
    contrast_probability: float = 0.0
    synth_probability: float = 0.0
    crop_probability: float = 0.0
    test_fold: int | None = None
    test_subjects: tuple[str, ...] = ()
    val_folds: int = 0
    oversample: dict[str, float] | None = None
    randomise_scale: dict[str, float] | None = None
    folds: int = 5
    fold: int = 0
    subset: str = "all"
    seed: int = 0
    precision: str = "bf16-mixed"
    accelerator: str = "auto"
    devices: int | str = "auto"
    num_workers: int = 0
    max_batches_per_epoch: int | None = None
    contrasts: tuple[str, ...] | None = None
    init_from: str | None = None
    freeze_encoder_epochs: int = 0
    unfrozen_lr: float | None = None
    guided: bool = False
    guide_model: str | None = "default"
    guide_perturb_probability: float = 0.5
    guide_alpha: float | None = None

    def __post_init__(self) -> None:
        if not self.data:
            raise ValueError("config 'data' must list at least one dataset folder")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}; valid: {list(OPTIMIZERS)}")
        if self.scheduler not in SCHEDULERS:
            raise ValueError(f"unknown scheduler {self.scheduler!r}; valid: {list(SCHEDULERS)}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"unknown precision {self.precision!r}; valid: {list(PRECISIONS)}")
        if self.folds < 1 or not 0 <= self.fold < self.folds:
            raise ValueError(f"need folds >= 1 and 0 <= fold < folds, got {self.folds}, {self.fold}")
        if self.freeze_encoder_epochs and self.scheduler != "none":
            raise ValueError("freeze_encoder_epochs needs scheduler 'none' (constant lr, then unfrozen_lr)")
        if self.guided and self.model.in_channels != 4:
            raise ValueError(
                f"a guided model needs model.in_channels 4 (image + RV, MYO, LV), got {self.model.in_channels}"
            )
        if not self.guided and self.model.in_channels != 1:
            raise ValueError(
                f"model.in_channels {self.model.in_channels} needs guided: true (image + 3 guide channels)"
            )
        if self.guide_alpha is not None and not 0.0 <= self.guide_alpha <= 1.0:
            raise ValueError(f"guide_alpha must be in [0, 1] or null, got {self.guide_alpha}")
        for name in ("invert_probability", "contrast_probability", "synth_probability", "crop_probability"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"config {name!r} must be in [0, 1], got {getattr(self, name)}")
        bad = {k: v for k, v in (self.randomise_scale or {}).items() if not 0.0 <= v <= 10.0}
        if bad:
            raise ValueError(f"config 'randomise_scale' factors must be in [0, 10], got {bad}")
        if self.test_fold is not None and not 0 <= self.test_fold < self.folds:
            raise ValueError(f"test_fold must be in [0, folds), got {self.test_fold} with folds {self.folds}")
        if self.test_fold is not None and self.val_folds < 2 and self.fold == self.test_fold:
            raise ValueError("with test_fold, validate on another fold (fold != test_fold) or set val_folds >= 2")
        if not 0.0 <= self.guide_perturb_probability <= 1.0:
            raise ValueError(f"guide_perturb_probability must be in [0, 1], got {self.guide_perturb_probability}")
        if self.image_size % 32:
            raise ValueError(f"image_size must be a multiple of 32, got {self.image_size}")
        for name in ("lr", "epochs", "batch_size"):
            if getattr(self, name) <= 0:
                raise ValueError(f"config {name!r} must be positive, got {getattr(self, name)}")

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["data"] = list(self.data)
        out["model"]["decoder_channels"] = list(self.model.decoder_channels)
        out["contrasts"] = None if self.contrasts is None else list(self.contrasts)
        out["test_subjects"] = list(self.test_subjects)
        return out


def config_from_dict(doc: dict[str, Any]) -> TrainConfig:
    """Build a :class:`TrainConfig` from a dict; unknown keys raise ``ValueError``.

    Parameters
    ----------
    doc : dict
        Config keys as in the YAML file; ``model`` is a dict of :class:`ModelConfig` fields, and
        ``data`` may be a single folder name.

    Returns
    -------
    TrainConfig

    Raises
    ------
    ValueError
        On unknown config or model keys, or values :class:`TrainConfig` refuses.
    """
    known = {f.name for f in fields(TrainConfig)}
    unknown = set(doc) - known
    if unknown:
        raise ValueError(f"unknown config keys {sorted(unknown)}; valid: {sorted(known)}")
    doc = dict(doc)
    model = dict(doc.pop("model", {}) or {})
    model_known = {f.name for f in fields(ModelConfig)}
    if set(model) - model_known:
        raise ValueError(f"unknown model keys {sorted(set(model) - model_known)}; valid: {sorted(model_known)}")
    if "decoder_channels" in model:
        model["decoder_channels"] = tuple(model["decoder_channels"])
    if doc.get("contrasts") is not None:
        doc["contrasts"] = tuple(doc["contrasts"])
    if doc.get("test_subjects") is not None:
        doc["test_subjects"] = tuple(doc["test_subjects"])
    data = doc.pop("data", None)
    if isinstance(data, str):
        data = [data]
    return TrainConfig(data=tuple(data or ()), model=ModelConfig(**model), **doc)


def load_config(path: Path | str) -> TrainConfig:
    """Read a YAML training config.

    Parameters
    ----------
    path : path
        The YAML file: a mapping of :class:`TrainConfig` keys.

    Returns
    -------
    TrainConfig

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not a YAML mapping, or holds unknown keys or invalid values.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such config file: {path}")
    doc = yaml.safe_load(path.read_text())
    if not isinstance(doc, dict):
        raise ValueError(f"{path} is not a YAML mapping of config keys")
    return config_from_dict(doc)
