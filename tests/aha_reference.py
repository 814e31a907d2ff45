"""T1NET AHA reference helpers, shared by tests/test_aha.py and benchmarks/aha_t1net.py (and guided.py).

T1NET gives, per slice, a conservative myocardial ring whose pixels carry their AHA segment number
(1-6, 1-4 on apical slices) but no RV.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from cmrseg.aha import AhaConvention, aha_segments
from cmrseg.labels import Label

CONTACT = 4  # px: RV contact distance; the T1NET ring is drawn inside the myocardium


def ring_labels(ring: np.ndarray) -> np.ndarray:
    """T1NET ring -> labels with MYO = ring and LV = its filled inside."""
    myo = ring > 0
    labels = np.zeros(ring.shape, np.uint8)
    labels[myo] = Label.MYO
    labels[ndimage.binary_fill_holes(myo) & ~myo] = Label.LV
    return labels


def oracle_septum(ring: np.ndarray) -> float:
    """Septal direction from the reference's own segment numbers."""
    centre = np.argwhere(ring > 0).mean(0)
    segs = (2,) if ring.max() <= 4 else (2, 3)
    pts = np.concatenate([np.argwhere(ring == s) for s in segs]) - centre
    return float(np.angle(np.exp(1j * np.arctan2(pts[:, 0], pts[:, 1])).mean()))


def agreement(
    labels: np.ndarray, ring: np.ndarray, septum: float | None = None, convention: AhaConvention | None = None
) -> float:
    """Fraction of the ring's pixels whose AHA segment from ``labels`` matches the ring's number."""
    apical = ring.max() <= 4
    conv = convention or AhaConvention(contact_px=CONTACT)
    seg = aha_segments(labels, "apical" if apical else "basal", conv, septum=septum)
    ours = seg[ring > 0].astype(int) - (12 if apical else 0)  # T1NET numbers apical segments 1-4
    return float(np.mean(ours == ring[ring > 0]))
