"""Name -> constructor registry of segmentation networks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

__all__ = ["MODELS", "ModelConfig", "build_model"]

BACKBONES = ("resnet18", "resnet34", "resnet50")


@dataclass(frozen=True)
class ModelConfig:
    """How to build a network. Saved inside every checkpoint.

    ``in_channels`` is 1 for an image, more for guided models (image + guide masks).
    """

    name: str = "unet"
    backbone: str = "resnet18"
    in_channels: int = 1
    num_classes: int = 4
    decoder_channels: tuple[int, ...] = (256, 128, 64, 32, 16)


def _flexible_unet(config: ModelConfig) -> torch.nn.Module:
    from monai.networks.nets import FlexibleUNet

    if config.backbone not in BACKBONES:
        raise ValueError(f"unknown backbone {config.backbone!r}; valid: {list(BACKBONES)}")
    return FlexibleUNet(
        in_channels=config.in_channels,
        out_channels=config.num_classes,
        backbone=config.backbone,
        pretrained=False,
        decoder_channels=tuple(config.decoder_channels),
        spatial_dims=2,
    )


#: name -> builder; every builder returns logits ``(B, num_classes, H, W)``.
MODELS: dict[str, Callable[[ModelConfig], torch.nn.Module]] = {
    "unet": _flexible_unet,
}


def build_model(config: ModelConfig) -> torch.nn.Module:
    """Build the network named by ``config.name``.

    Parameters
    ----------
    config : ModelConfig
        Name (a key of :data:`MODELS`), backbone, input channels, classes and decoder channels.

    Returns
    -------
    torch.nn.Module
        An untrained 2D network returning logits ``(B, num_classes, H, W)``.

    Raises
    ------
    ValueError
        ``config.name`` is not in :data:`MODELS`, or the backbone is not one of :data:`BACKBONES`.
    """
    if config.name not in MODELS:
        raise ValueError(f"unknown model {config.name!r}; valid: {sorted(MODELS)}")
    return MODELS[config.name](config)
