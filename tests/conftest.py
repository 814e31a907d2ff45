"""Shared fixtures: seeded generators, synthetic phantoms, real-data paths."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
EXAMPLES = REPO / "examples"


def data_path(name: str) -> Path:
    """Path of a folder of ``../shared/data``; skips the test when it is absent."""
    path = DATA / name
    if not path.exists():
        pytest.skip(f"real data {path} not present (CI has it beside the checkout)")
    return path


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


def heart_phantom(
    shape: tuple[int, int] = (96, 80), centre: tuple[float, float] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """A synthetic short-axis slice: LV disc, myocardial ring, RV crescent.

    Returns ``(image, labels)``: float32 intensities (blood bright, myocardium dark) and uint8
    ACDC labels, both ``shape``.
    """
    yy, xx = np.mgrid[: shape[0], : shape[1]].astype(float)
    cy, cx = centre or (shape[0] / 2, shape[1] / 2)
    r = np.hypot(yy - cy, xx - cx)
    labels = np.zeros(shape, np.uint8)
    rv = (np.hypot(yy - cy, xx - (cx - 14)) < 16) & (r >= 14)
    labels[rv] = 1
    labels[(r < 14) & (r >= 9)] = 2
    labels[r < 9] = 3
    image = np.choose(labels, [50.0, 300.0, 100.0, 320.0]).astype(np.float32)
    return image, labels


@pytest.fixture
def phantom() -> tuple[np.ndarray, np.ndarray]:
    return heart_phantom()
