"""A mapping series in memory: weighted images plus the time of each (TI, TE/T2-prep or spin-lock), in ms.

Read one from files with :func:`cmrseg.io.mapping_series.read_series`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cmrseg.image import Image

__all__ = ["MappingSeries", "KINDS"]

#: the time each image of a series is labelled with: MOLLI / IR, T2-prep / echo, spin lock
KINDS: tuple[str, ...] = ("InversionTime", "EchoTime", "SpinLockTime")


@dataclass(frozen=True)
class MappingSeries:
    """``image``: ``(X, Y, Z, N)`` weighted images; ``times_ms``: ``(Z, N)`` time of each image."""

    image: Image
    times_ms: np.ndarray
    kind: str

    @property
    def map_shape(self) -> tuple[int, ...]:
        return self.image.shape[:3]
