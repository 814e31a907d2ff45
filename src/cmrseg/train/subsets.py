"""Data-subset strategies for training: which labelled cases to use.

``all``; ``ed_es`` (only cases whose phase is ED or ES); ``subjects:N`` (N whole subjects,
seeded); ``images:N`` is applied at slice level by the data module.
"""

from __future__ import annotations

import numpy as np

from cmrseg.io.datasets.layout import Case, Dataset

__all__ = ["apply_subset", "subset_images"]


def apply_subset(parts: list[tuple[Dataset, list[Case]]], subset: str, seed: int) -> list[tuple[Dataset, list[Case]]]:
    """Restrict each dataset's training cases by the ``subset`` strategy."""
    if subset == "all" or subset.startswith("images:"):
        return parts
    if subset == "ed_es":
        return [(ds, [c for c in cases if c.phase in ("ED", "ES")]) for ds, cases in parts]
    if subset.startswith("subjects:"):
        n = int(subset.split(":", 1)[1])
        out = []
        for ds, cases in parts:
            subjects = sorted({c.subject for c in cases})
            keep = set(np.random.default_rng(seed).permutation(subjects)[:n])
            out.append((ds, [c for c in cases if c.subject in keep]))
        return out
    raise ValueError(f"unknown subset {subset!r}; valid: all, ed_es, subjects:N, images:N")


def subset_images(n_slices: int, subset: str, seed: int) -> np.ndarray | None:
    """Indices of the training slices kept by ``images:N`` (seeded), or None for other strategies."""
    if not subset.startswith("images:"):
        return None
    n = int(subset.split(":", 1)[1])
    if n < 1:
        raise ValueError(f"subset images:N needs N >= 1, got {subset!r}")
    return np.sort(np.random.default_rng(seed).permutation(n_slices)[: min(n, n_slices)])
