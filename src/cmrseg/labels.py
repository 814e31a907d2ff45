"""The one label convention of cmrseg (ACDC): 0 background, 1 RV, 2 myocardium, 3 LV."""

from __future__ import annotations

from enum import IntEnum

__all__ = ["Label", "LABEL_NAMES", "LABEL_COLOURS", "FOREGROUND"]


class Label(IntEnum):
    """Class indices of a cmrseg label map (ACDC convention)."""

    BACKGROUND = 0
    RV = 1
    MYO = 2
    LV = 3


LABEL_NAMES: dict[int, str] = {
    Label.BACKGROUND: "background",
    Label.RV: "RV",
    Label.MYO: "MYO",
    Label.LV: "LV",
}

FOREGROUND: tuple[Label, ...] = (Label.RV, Label.MYO, Label.LV)

#: RGB colours in [0, 1] for overlays.
LABEL_COLOURS: dict[int, tuple[float, float, float]] = {
    Label.BACKGROUND: (0.0, 0.0, 0.0),
    Label.RV: (0.15, 0.45, 1.0),
    Label.MYO: (0.1, 0.85, 0.2),
    Label.LV: (1.0, 0.25, 0.2),
}
