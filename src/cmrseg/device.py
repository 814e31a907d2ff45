"""The one place that picks a compute device."""

from __future__ import annotations

import os
import sys

__all__ = ["DEVICES", "available_devices", "check_device", "resolve_device"]

DEVICES = ("auto", "cpu", "cuda", "mps")

#: files a Linux machine has when a CUDA (or ROCm, which torch also calls cuda) driver is loaded
_GPU_DRIVER_FILES = ("/proc/driver/nvidia/version", "/dev/nvidiactl", "/dev/kfd", "/dev/dxg")


def _unavailable(name: str, available: list[str]) -> ValueError:
    return ValueError(f"device {name!r} is not available on this machine; available: {', '.join(available)} (or auto)")


def _known(name: str) -> None:
    if name not in DEVICES:
        raise ValueError(f"unknown device {name!r}; valid: {list(DEVICES)}")


def check_device(name: str) -> None:
    """Refuse, without importing torch, a device this machine surely lacks.

    Parameters
    ----------
    name : str
        ``auto``, ``cpu``, ``cuda`` or ``mps``.

    Returns
    -------
    None

    Raises
    ------
    ValueError
        ``name`` is unknown, or names a device this machine surely lacks (the message lists the
        available ones).

    Notes
    -----
    ``mps`` exists only on macOS; ``cuda`` on Linux needs a GPU driver (``/dev/nvidiactl``,
    ``/proc/driver/nvidia`` or ROCm's ``/dev/kfd``). What passes here is checked again, with
    torch, by :func:`resolve_device`.
    """
    _known(name)
    mac = sys.platform == "darwin"
    linux_without_gpu = sys.platform.startswith("linux") and not any(map(os.path.exists, _GPU_DRIVER_FILES))
    if name == "mps" and not mac or name == "cuda" and (mac or linux_without_gpu):
        raise _unavailable(name, ["cpu"] + (["mps"] if mac and name != "mps" else []))


def available_devices() -> list[str]:
    """The devices torch can use here, ``cpu`` first."""
    import torch

    found = ["cpu"]
    if torch.cuda.is_available():
        found.append("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        found.append("mps")
    return found


def resolve_device(name: str = "auto") -> str:
    """``auto`` -> ``cuda`` if available, else ``mps`` if available, else ``cpu``.

    Parameters
    ----------
    name : str
        ``auto``, ``cpu``, ``cuda`` or ``mps``.

    Returns
    -------
    str
        The device to use: ``cpu``, ``cuda`` or ``mps``.

    Raises
    ------
    ValueError
        ``name`` is unknown, or the device is not there (the message names the available ones).
    """
    _known(name)
    check_device(name)
    found = available_devices()
    if name == "auto":
        return next((d for d in ("cuda", "mps") if d in found), "cpu")
    if name not in found:
        raise _unavailable(name, found)
    return name
