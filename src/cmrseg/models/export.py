"""Export a training checkpoint as a shippable fp16 model bundle."""

from __future__ import annotations

from pathlib import Path

import torch

from cmrseg.models.bundle import ModelBundle, bundle_from_checkpoint, save_bundle

__all__ = ["export_checkpoint"]


def export_checkpoint(checkpoint: Path | str, output: Path | str, metrics: dict | None = None) -> Path:
    """Write the network of a Lightning checkpoint (from ``cmrseg train``) as an fp16 bundle.

    Parameters
    ----------
    checkpoint : pathlib.Path or str
        A Lightning checkpoint written by ``cmrseg train``.
    output : pathlib.Path or str
        The model bundle to write.
    metrics : dict, optional
        Metrics stored in the bundle (default: none).

    Returns
    -------
    pathlib.Path
        ``output``.

    Raises
    ------
    ValueError
        ``checkpoint`` was not written by ``cmrseg train`` (it has no ``cmrseg_config``).
    """
    ckpt = torch.load(checkpoint, map_location="cpu", weights_only=False)
    if "cmrseg_config" not in ckpt:
        raise ValueError(f"{checkpoint} is not a checkpoint written by cmrseg train")
    b = bundle_from_checkpoint(ckpt)
    save_bundle(ModelBundle(b.model, b.config, b.image_size, b.train_config, metrics or {}), output)
    return Path(output)
