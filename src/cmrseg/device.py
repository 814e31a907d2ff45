"""The one place that picks a compute device."""

from __future__ import annotations

__all__ = ["resolve_device"]

DEVICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(name: str = "auto") -> str:
    """``auto`` -> ``cuda`` if available, else ``mps`` if available, else ``cpu``."""
    import torch

    if name not in DEVICES:
        raise ValueError(f"unknown device {name!r}; valid: {list(DEVICES)}")
    if name == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' requested but no CUDA GPU is available; use --device cpu")
    return name
