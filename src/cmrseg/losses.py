"""Segmentation loss builders (MONAI) behind a name registry.

Every loss takes logits ``(B, C, H, W)`` and an integer target ``(B, 1, H, W)``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

__all__ = ["LOSSES", "build_loss", "ce_dice_per_sample", "guided_loss"]


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
        """Mean cross-entropy of ``logits`` against ``target``.

        Parameters
        ----------
        logits : torch.Tensor
            ``(B, C, H, W)`` logits.
        target : torch.Tensor
            ``(B, 1, H, W)`` integer class labels.

        Returns
        -------
        torch.Tensor
            The scalar loss.
        """
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
    """The loss named ``name``; raises ``ValueError`` listing valid names otherwise.

    Parameters
    ----------
    name : str
        A key of :data:`LOSSES`: ``dice``, ``jaccard``, ``ce``, ``dice_ce``, ``focal`` or
        ``generalised_dice``.

    Returns
    -------
    torch.nn.Module
        The loss; it takes logits ``(B, C, H, W)`` and an integer target ``(B, 1, H, W)``.

    Raises
    ------
    ValueError
        ``name`` is not in :data:`LOSSES`.
    """
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; valid: {sorted(LOSSES)}")
    return LOSSES[name]()


def ce_dice_per_sample(logits: torch.Tensor, target: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Mean of cross-entropy and soft Dice loss (foreground classes), one value per sample.

    Parameters
    ----------
    logits : torch.Tensor
        ``(B, C, H, W)`` logits.
    target : torch.Tensor
        ``(B, H, W)`` integer class labels.
    eps : float
        Smoothing of the Dice ratio.

    Returns
    -------
    torch.Tensor
        ``(B,)``: per sample, half the sum of the mean cross-entropy and the soft Dice loss averaged
        over classes 1 to C - 1.

    Notes
    -----
    A class absent from both target and prediction counts as Dice 1 (smoothed by ``eps``).
    """
    ce = torch.nn.functional.cross_entropy(logits, target.long(), reduction="none").mean((1, 2))
    prob = torch.softmax(logits, 1)[:, 1:]
    onehot = torch.nn.functional.one_hot(target.long(), logits.shape[1]).permute(0, 3, 1, 2)[:, 1:].float()
    inter = (prob * onehot).sum((2, 3))
    dice = (2 * inter + eps) / (prob.sum((2, 3)) + onehot.sum((2, 3)) + eps)
    return 0.5 * (ce + (1 - dice).mean(1))


def guided_loss(
    logits: torch.Tensor, target: torch.Tensor, guide_target: torch.Tensor, alpha: torch.Tensor
) -> torch.Tensor:
    """The guided-segmentation paper's loss, ``(1 - a) f(pred, y) + a f(pred, T_(1-a)(guide))``, batch mean.

    Parameters
    ----------
    logits : torch.Tensor
        ``(B, C, H, W)`` logits.
    target : torch.Tensor
        ``(B, H, W)`` integer ground truth.
    guide_target : torch.Tensor
        ``(B, H, W)`` the guide translated towards the ground truth
        (:func:`cmrseg.guide.translate_guide`).
    alpha : torch.Tensor
        ``(B,)`` guidance weight per sample, in [0, 1].

    Returns
    -------
    torch.Tensor
        The scalar loss, averaged over the batch.

    Notes
    -----
    ``f`` is :func:`ce_dice_per_sample` (the paper's mean of cross-entropy and Dice loss).
    """
    alpha = alpha.to(logits.dtype)
    return ((1 - alpha) * ce_dice_per_sample(logits, target) + alpha * ce_dice_per_sample(logits, guide_target)).mean()
