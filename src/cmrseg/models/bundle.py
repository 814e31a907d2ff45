"""The shippable model file: weights plus everything needed to use them.

A bundle is a ``torch.save`` dict ``{"format": "cmrseg-model/1", "model": ModelConfig dict,
"image_size": int, "train_config": dict, "metrics": dict, "state_dict": ...}``. Weights may be
stored in fp16 to halve the file; they are cast back to fp32 on load.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from cmrseg.io.atomic import atomic_write
from cmrseg.models.registry import ModelConfig, build_model

__all__ = ["ModelBundle", "load_bundle", "save_bundle", "bundle_from_checkpoint"]

FORMAT = "cmrseg-model/1"


@dataclass(frozen=True)
class ModelBundle:
    model: torch.nn.Module
    config: ModelConfig
    image_size: int
    train_config: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)


def _model_config(doc: dict[str, Any]) -> ModelConfig:
    doc = dict(doc)
    doc["decoder_channels"] = tuple(doc.get("decoder_channels", ModelConfig.decoder_channels))
    return ModelConfig(**doc)


def save_bundle(bundle: ModelBundle, path: Path | str, half: bool = True) -> None:
    """Write ``bundle`` to ``path`` (atomically); ``half`` stores float weights as fp16.

    Parameters
    ----------
    bundle : ModelBundle
        The network, its config, image size, training config and metrics.
    path : pathlib.Path or str
        The model file to write (a ``torch.save`` dict, see the module notes).
    half : bool
        Store floating-point weights as fp16 (default) to halve the file; other tensors as they are.

    Returns
    -------
    None
    """
    state = {k: (v.half() if half and v.is_floating_point() else v).cpu() for k, v in bundle.model.state_dict().items()}
    model_doc = asdict(bundle.config)
    model_doc["decoder_channels"] = list(bundle.config.decoder_channels)
    doc = {
        "format": FORMAT,
        "model": model_doc,
        "image_size": bundle.image_size,
        "train_config": bundle.train_config,
        "metrics": bundle.metrics,
        "state_dict": state,
    }
    atomic_write(Path(path), lambda tmp: torch.save(doc, tmp))


def _state_to_model(config: ModelConfig, state: dict[str, torch.Tensor]) -> torch.nn.Module:
    model = build_model(config)
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    return model.eval()


def load_bundle(path: Path | str) -> ModelBundle:
    """Load a model bundle, or a Lightning checkpoint written by ``cmrseg train``.

    Parameters
    ----------
    path : pathlib.Path or str
        A model bundle (``format`` ``cmrseg-model/1``) or a training checkpoint.

    Returns
    -------
    ModelBundle
        The network on the CPU in eval mode, with fp32 weights.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    ValueError
        The file cannot be read by ``torch.load``, is a damaged bundle, or is neither a bundle nor a
        cmrseg training checkpoint.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such model file: {path}")
    try:
        doc = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:
        raise ValueError(f"cannot read {path} as a cmrseg model: {exc}") from None
    if isinstance(doc, dict) and doc.get("format") == FORMAT:
        try:
            config = _model_config(doc["model"])
            return ModelBundle(
                _state_to_model(config, doc["state_dict"]),
                config,
                int(doc["image_size"]),
                doc.get("train_config", {}),
                doc.get("metrics", {}),
            )
        except (KeyError, TypeError, RuntimeError) as exc:
            raise ValueError(f"{path} is a damaged cmrseg model bundle: {type(exc).__name__} {exc}") from None
    if isinstance(doc, dict) and "cmrseg_config" in doc:
        return bundle_from_checkpoint(doc)
    raise ValueError(f"{path} is not a cmrseg model bundle or training checkpoint")


def bundle_from_checkpoint(ckpt: dict[str, Any]) -> ModelBundle:
    """A bundle from a loaded Lightning checkpoint dict of :class:`SegmentationModule`.

    Parameters
    ----------
    ckpt : dict
        The checkpoint as loaded by ``torch.load``: ``cmrseg_config`` (the training config, with
        ``model`` and ``image_size``) and a ``state_dict`` whose network weights start with ``net.``.

    Returns
    -------
    ModelBundle
        The network (CPU, eval mode, fp32 weights) with the training config and no metrics.
    """
    train_config = ckpt["cmrseg_config"]
    config = _model_config(train_config["model"])
    state = {k.removeprefix("net."): v for k, v in ckpt["state_dict"].items() if k.startswith("net.")}
    return ModelBundle(_state_to_model(config, state), config, int(train_config["image_size"]), train_config)
