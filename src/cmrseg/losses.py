"""Segmentation loss builders (MONAI) behind a name registry.

Every loss takes logits ``(B, C, H, W)`` and an integer target ``(B, 1, H, W)``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

__all__ = ["LOSSES", "build_loss"]


def _dice(**kw: object) -> torch.nn.Module:
    from monai.losses import DiceLoss

    return DiceLoss(softmax=True, to_onehot_y=True, **kw)


def _jaccard() -> torch.nn.Module:
    return _dice(jaccard=True)


def _ce() -> torch.nn.Module:
    return _TargetCE()


def _dice_ce() -> torch.nn.Module:
    from monai.losses import DiceCELoss

    return DiceCELoss(softmax=True, to_onehot_y=True)


def _focal() -> torch.nn.Module:
    from monai.losses import FocalLoss

    return FocalLoss(to_onehot_y=True, use_softmax=True, gamma=2.0)


def _generalised_dice() -> torch.nn.Module:
    from monai.losses import GeneralizedDiceLoss

    return GeneralizedDiceLoss(softmax=True, to_onehot_y=True)


class _TargetCE(torch.nn.Module):
    """Cross-entropy on an integer target with a channel axis, like the MONAI losses."""

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.cross_entropy(logits, target[:, 0].long())


LOSSES: dict[str, Callable[[], torch.nn.Module]] = {
    "dice": _dice,
    "jaccard": _jaccard,
    "ce": _ce,
    "dice_ce": _dice_ce,
    "focal": _focal,
    "generalised_dice": _generalised_dice,
}


def build_loss(name: str) -> torch.nn.Module:
    """The loss named ``name``; raises ``ValueError`` listing valid names otherwise."""
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; valid: {sorted(LOSSES)}")
    return LOSSES[name]()
