"""The Lightning module: network + loss + optimiser, per-class Dice in validation."""

from __future__ import annotations

from typing import Any

import lightning as L
import torch

from cmrseg.labels import LABEL_NAMES
from cmrseg.losses import build_loss
from cmrseg.models.bundle import load_bundle
from cmrseg.models.registry import build_model
from cmrseg.models.shipped import resolve_model_path
from cmrseg.train.config import TrainConfig

__all__ = ["SegmentationModule", "marginal_logits", "load_expanding_inputs"]


def load_expanding_inputs(net: torch.nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Load ``state`` into ``net``, zero-filling input channels the state lacks.

    A weight with fewer input channels (a 1-channel model starting a guided one) fills the first
    channels and leaves the new ones zero, so the new network starts out computing exactly what
    the old one did and ignores the extra inputs.

    Parameters
    ----------
    net : torch.nn.Module
        The network to load into, in place.
    state : dict of str to torch.Tensor
        A state dict of the same architecture, 4D (convolution) weights possibly with fewer input
        channels (dimension 1).
    """
    own = net.state_dict()
    fixed = {}
    for key, value in state.items():
        target = own.get(key)
        if (
            target is not None
            and value.ndim == 4
            and target.shape[1] > value.shape[1]
            and target.shape[0] == value.shape[0]
        ):
            grown = torch.zeros_like(target)
            grown[:, : value.shape[1]] = value
            value = grown
        fixed[key] = value
    net.load_state_dict(fixed)


def marginal_logits(
    logits: torch.Tensor, target: torch.Tensor, labelled: tuple[int, ...]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Marginal loss inputs for data that labels only some classes.

    The logits of unlabelled classes are folded into background (``logsumexp``: their
    probabilities add up), so predicting an unannotated class is never penalised; labelled
    classes keep their channels, renumbered 1..k in ``target``.

    Parameters
    ----------
    logits : torch.Tensor
        ``(B, C, ...)`` logits of all C classes, background first.
    target : torch.Tensor
        Integer class labels in 0..C-1.
    labelled : tuple of int
        The labelled foreground classes.

    Returns
    -------
    logits, target : torch.Tensor
        ``(B, len(labelled) + 1, ...)`` logits and the renumbered target; both unchanged when every
        class is labelled.
    """
    classes = logits.shape[1]
    unlabelled = [c for c in range(1, classes) if c not in labelled]
    if not unlabelled:
        return logits, target
    bg = torch.logsumexp(logits[:, [0, *unlabelled]], dim=1, keepdim=True)
    merged = torch.cat([bg, logits[:, list(labelled)]], dim=1)
    lut = torch.zeros(classes, dtype=target.dtype, device=target.device)
    for k, c in enumerate(labelled, start=1):
        lut[c] = k
    return merged, lut[target]


class SegmentationModule(L.LightningModule):
    def __init__(self, config: TrainConfig, labelled: tuple[int, ...] | None = None) -> None:
        super().__init__()
        self.config = config
        self.net = build_model(config.model)
        if config.init_from:
            load_expanding_inputs(self.net, load_bundle(resolve_model_path(config.init_from)).model.state_dict())
        self.loss = build_loss(config.loss)
        self.labelled = tuple(sorted(labelled)) if labelled else tuple(range(1, config.model.num_classes))
        self._stats = torch.zeros(config.model.num_classes, 3)  # tp, fp, fn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The network's logits for a batch of inputs."""
        return self.net(x)

    def on_train_epoch_start(self) -> None:
        n = self.config.freeze_encoder_epochs
        if not n:
            return
        frozen = self.current_epoch < n
        for p in self.net.encoder.parameters():
            p.requires_grad_(not frozen)
        if self.current_epoch == n:  # unfreeze at a lower learning rate
            lr = self.config.unfrozen_lr or self.config.lr / 10
            for group in self.optimizers().optimizer.param_groups:
                group["lr"] = lr

    def _loss(self, logits: torch.Tensor, target: torch.Tensor, labelled: torch.Tensor | None) -> torch.Tensor:
        """Loss over a batch whose samples may label different classes (``labelled`` (B, C) bool):
        the marginal loss of each group of samples labelling the same classes, weighted by its size."""
        if labelled is None:
            return self.loss(*marginal_logits(logits, target, self.labelled))
        total = logits.new_zeros(())
        for key in torch.unique(labelled, dim=0):
            group = (labelled == key).all(1)
            classes = tuple(int(c) for c in torch.nonzero(key[1:]).flatten() + 1)
            total = total + group.sum() * self.loss(*marginal_logits(logits[group], target[group], classes))
        return total / len(logits)

    @staticmethod
    def _unpack(batch: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        image, target, *rest = batch
        return image, target, rest[0] if rest else None

    def training_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> torch.Tensor:
        """The marginal loss of a batch ``(image, labels[, labelled])``, logged as ``train_loss``."""
        image, target, labelled = self._unpack(batch)
        loss = self._loss(self.net(image).float(), target, labelled)
        self.log("train_loss", loss, on_step=False, on_epoch=True, prog_bar=True, batch_size=len(image))
        return loss

    def on_validation_epoch_start(self) -> None:
        self._stats = torch.zeros(self.config.model.num_classes, 3)

    def validation_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> None:
        """Log ``val_loss`` and count per-class true / false positives and false negatives for the Dice."""
        image, target, labelled = self._unpack(batch)
        logits = self.net(image).float()
        self.log("val_loss", self._loss(logits, target, labelled), on_epoch=True, batch_size=len(image))
        pred, ref = logits.argmax(1), target[:, 0]
        for c in self.labelled:
            keep = labelled[:, c] if labelled is not None else torch.ones(len(image), dtype=torch.bool)
            p, r = pred[keep] == c, ref[keep] == c
            self._stats[c] += torch.stack([(p & r).sum(), (p & ~r).sum(), (~p & r).sum()]).cpu().float()

    def on_validation_epoch_end(self) -> None:
        dices = []
        for c in self.labelled:
            tp, fp, fn = self._stats[c]
            dice = float(2 * tp / max(float(2 * tp + fp + fn), 1.0))
            dices.append(dice)
            self.log(f"val_dice_{LABEL_NAMES.get(c, c)}", dice)
        self.log("val_dice_mean", sum(dices) / len(dices), prog_bar=True)

    def configure_optimizers(self) -> Any:
        c = self.config
        opt_cls = torch.optim.AdamW if c.optimizer == "adamw" else torch.optim.Adam
        opt = opt_cls(self.parameters(), lr=c.lr, weight_decay=c.weight_decay)
        if c.scheduler == "onecycle":
            steps = int(self.trainer.estimated_stepping_batches)
            sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=c.lr, total_steps=max(steps, 1))
            return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
        if c.scheduler == "cosine_restarts":
            sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=c.restart_epochs)
            return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "epoch"}}
        return opt

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Store the training config in the checkpoint as ``cmrseg_config``."""
        checkpoint["cmrseg_config"] = self.config.to_dict()
