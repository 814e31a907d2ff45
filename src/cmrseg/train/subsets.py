"""Data-subset strategies for training: which labelled cases to use.

``all``; ``ed_es`` (only cases whose phase is ED or ES); ``subjects:N`` (N whole subjects,
seeded); ``images:N`` (N random slices, seeded) and ``kshot:K`` (K labelled slices of every
training case, evenly spaced through the slices that show the heart: what an annotator who
labels K slices per stack produces) are applied at slice level by the data module.
"""

from __future__ import annotations

import numpy as np

from cmrseg.io.datasets.layout import Case, Dataset

__all__ = ["apply_subset", "subset_images", "subset_kshot"]


def apply_subset(parts: list[tuple[Dataset, list[Case]]], subset: str, seed: int) -> list[tuple[Dataset, list[Case]]]:
    """Restrict each dataset's training cases by the ``subset`` strategy.

    Parameters
    ----------
    parts : list of (Dataset, list of Case)
        Training cases per dataset.
    subset : str
        ``all``, ``ed_es``, ``subjects:N`` (N subjects per dataset, seeded), ``images:N`` or
        ``kshot:K`` (these two keep every case here: they select slices later).
    seed : int
        Seed of the ``subjects:N`` draw.

    Returns
    -------
    list of (Dataset, list of Case)

    Raises
    ------
    ValueError
        If ``subset`` is not a known strategy.
    """
    if subset == "all" or subset.startswith(("images:", "kshot:")):
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
    raise ValueError(f"unknown subset {subset!r}; valid: all, ed_es, subjects:N, images:N, kshot:K")


def subset_images(n_slices: int, subset: str, seed: int) -> np.ndarray | None:
    """Indices of the training slices kept by ``images:N`` (seeded), or None for other strategies.

    Parameters
    ----------
    n_slices : int
        Number of training slices.
    subset : str
        The subset strategy.
    seed : int
        Seed of the draw.

    Returns
    -------
    numpy.ndarray or None
        Sorted indices, min(N, ``n_slices``) of them.

    Raises
    ------
    ValueError
        If N < 1.
    """
    if not subset.startswith("images:"):
        return None
    n = int(subset.split(":", 1)[1])
    if n < 1:
        raise ValueError(f"subset images:N needs N >= 1, got {subset!r}")
    return np.sort(np.random.default_rng(seed).permutation(n_slices)[: min(n, n_slices)])


def subset_kshot(case_ids: np.ndarray, labels: np.ndarray, subset: str) -> np.ndarray | None:
    """Indices kept by ``kshot:K``: per case, K slices evenly spaced among its slices with any label.

    Parameters
    ----------
    case_ids : numpy.ndarray
        ``(N,)`` case id of each training slice, in case order.
    labels : numpy.ndarray
        ``(N, H, W)`` label maps of the training slices.
    subset : str
        The subset strategy.

    Returns
    -------
    numpy.ndarray or None
        Sorted slice indices; None for other strategies.

    Raises
    ------
    ValueError
        If K < 1.
    """
    if not subset.startswith("kshot:"):
        return None
    k = int(subset.split(":", 1)[1])
    if k < 1:
        raise ValueError(f"subset kshot:K needs K >= 1, got {subset!r}")
    keep = []
    for case in dict.fromkeys(case_ids.tolist()):
        idx = np.flatnonzero((case_ids == case) & labels.reshape(len(labels), -1).any(1))
        if len(idx):
            keep.extend(idx[np.unique(np.round(np.linspace(0, len(idx) - 1, min(k, len(idx)))).astype(int))])
    return np.array(sorted(keep), int)
