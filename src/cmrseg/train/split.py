"""Subject-level splits: no subject is ever in two folds."""

from __future__ import annotations

import numpy as np

__all__ = ["kfold_subjects"]


def kfold_subjects(subjects: list[str], folds: int, seed: int) -> list[list[str]]:
    """Split subjects into ``folds`` disjoint groups, stratified by sorted order.

    Subjects are sorted, cut into consecutive blocks of ``folds``, and each block is shuffled
    (seeded) across the folds. Datasets whose ids are ordered by group (ACDC: 20 patients per
    pathology) thereby get every group in every fold. With fewer subjects than folds some folds
    are empty (a dataset of 2 subjects split 5 ways puts each in a random fold).

    Parameters
    ----------
    subjects : list of str
        Subject ids; duplicates count once.
    folds : int
        Number of folds, >= 1.
    seed : int
        Seed of the shuffles.

    Returns
    -------
    list of list of str
        ``folds`` lists of subjects.

    Raises
    ------
    ValueError
        If ``folds`` < 1.
    """
    if folds < 1:
        raise ValueError(f"folds must be >= 1, got {folds}")
    unique = sorted(set(subjects))
    rng = np.random.default_rng(seed)
    out: list[list[str]] = [[] for _ in range(folds)]
    for start in range(0, len(unique), folds):
        block = unique[start : start + folds]
        order = rng.permutation(folds)[: len(block)]
        for subject, fold in zip(block, order, strict=True):
            out[fold].append(subject)
    return out
