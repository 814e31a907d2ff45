"""In-memory 2D slice data for training: preprocessed once, augmented per sample."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import DataLoader, Sampler

from cmrseg.augment import Augmenter
from cmrseg.io.datasets.layout import Case, Dataset, load_dataset
from cmrseg.io.nifti import read_image, read_labels
from cmrseg.masks import as_stack
from cmrseg.preprocess import fit_square, fit_square_labels, normalise_intensity
from cmrseg.train.config import TrainConfig
from cmrseg.train.randomise import ContrastRandomiser
from cmrseg.train.split import kfold_subjects

__all__ = [
    "SliceSet",
    "read_case",
    "labelled_slices",
    "concat_slices",
    "load_slices",
    "split_cases",
    "make_loaders",
    "oversample",
    "randomiser_of",
]


@dataclass(frozen=True)
class SliceSet:
    """``images`` (N, S, S) float32 in [0, 1], ``labels`` (N, S, S) uint8, ``case`` (N,) ids."""

    images: np.ndarray
    labels: np.ndarray
    case: np.ndarray

    def __len__(self) -> int:
        return len(self.images)


def read_case(dataset: Dataset, case: Case) -> tuple[np.ndarray, np.ndarray]:
    """A labelled case's image and label map as stacks ``(X, Y, Z)`` (2D as one slice).

    Parameters
    ----------
    dataset : Dataset
        The dataset holding the case (its files are relative to ``dataset.root``).
    case : Case
        A case with a label file.

    Returns
    -------
    image, labels : numpy.ndarray
        ``(X, Y, Z)`` stacks, as read.
    """
    return (
        as_stack(read_image(dataset.root / case.image).array),
        as_stack(read_labels(dataset.root / case.label).array),
    )


def labelled_slices(case: Case, n: int) -> list[int]:
    """Slices whose labels are complete: all, or for contour datasets (Sunnybrook) those with both
    an endocardial and an epicardial contour (elsewhere the myocardium or the whole heart is
    missing from the labels, and training would call it background).

    Parameters
    ----------
    case : Case
        The case; ``case.extra`` may hold ``epi_slices`` and ``endo_slices``.
    n : int
        Number of slices of the case.

    Returns
    -------
    list of int
        Slice indices, sorted.
    """
    if "epi_slices" in case.extra:
        return sorted(set(case.extra["epi_slices"]) & set(case.extra.get("endo_slices", range(n))))
    return list(range(n))


def load_slices(dataset: Dataset, cases: Sequence[Case], size: int) -> SliceSet:
    """Read, normalise (per volume) and square-fit every labelled slice of ``cases``.

    Parameters
    ----------
    dataset : Dataset
        The dataset the cases belong to.
    cases : sequence of Case
        Cases to read; those without a label file are skipped.
    size : int
        Side S of the square slices, in px.

    Returns
    -------
    SliceSet
        ``images`` (N, S, S) float32 in [0, 1], ``labels`` (N, S, S) uint8, ``case`` (N,) ids.

    Raises
    ------
    ValueError
        If no case has a labelled slice.
    """
    images, labels, ids = [], [], []
    for case in cases:
        if case.label is None:
            continue
        img, lab = read_case(dataset, case)
        norm = normalise_intensity(img)
        for z in labelled_slices(case, img.shape[2]):
            sq, fit = fit_square(norm[:, :, z], size)
            images.append(sq)
            labels.append(fit_square_labels(lab[:, :, z], fit))
            ids.append(case.id)
    if not images:
        raise ValueError(f"no labelled slices in dataset {dataset.root}")
    return SliceSet(np.stack(images), np.stack(labels), np.array(ids))


def _held_out(subjects: list[str], config: TrainConfig) -> tuple[set[str], set[str]]:
    """``(test, validation)`` subjects of one dataset (see :class:`TrainConfig`)."""
    folds = kfold_subjects(subjects, config.folds, config.seed)
    if config.test_fold is None:
        return set(config.test_subjects) & set(subjects), set(folds[config.fold])
    test = set(folds[config.test_fold]) | (set(config.test_subjects) & set(subjects))
    if config.val_folds >= 2:
        rest = [s for s in subjects if s not in test]
        return test, set(kfold_subjects(rest, config.val_folds, config.seed)[config.fold % config.val_folds])
    return test, set(folds[config.fold])


def split_cases(config: TrainConfig) -> tuple[list[tuple[Dataset, list[Case]]], list[tuple[Dataset, list[Case]]]]:
    """Train and validation cases of every dataset, split by subject (see :func:`kfold_subjects`).

    With ``test_fold`` the subjects of that fold are in neither list: they are the test split.

    Parameters
    ----------
    config : TrainConfig
        Uses ``data``, ``contrasts``, ``folds``, ``fold``, ``test_fold``, ``test_subjects``,
        ``val_folds`` and ``seed``.

    Returns
    -------
    train, val : list of (Dataset, list of Case)
        One entry per dataset of ``config.data``; ``val`` is empty when ``folds`` is 1.
    """
    train, val = [], []
    for root in config.data:
        ds = load_dataset(root)
        if config.contrasts is not None:
            keep = tuple(c for c in ds.cases if c.extra.get("contrast", None) in (None, *config.contrasts))
            ds = Dataset(ds.root, ds.name, keep, ds.source, ds.licence, ds.spacing_known, ds.labelled_classes)
        if config.folds == 1:
            train.append((ds, list(ds.cases)))
            continue
        test, held = _held_out(ds.subjects, config)
        train.append((ds, [c for c in ds.cases if c.subject not in held | test]))
        val.append((ds, [c for c in ds.cases if c.subject in held]))
    return train, val


def concat_slices(parts: list[SliceSet]) -> SliceSet:
    """Concatenate slice sets in order.

    Parameters
    ----------
    parts : list of SliceSet
        At least one.

    Returns
    -------
    SliceSet
    """
    return SliceSet(*(np.concatenate([getattr(p, k) for p in parts]) for k in ("images", "labels", "case")))


class EpochSampler(Sampler):
    """Yields ``(index, epoch)``: a seeded shuffle per epoch, and the epoch for the augmentation rng.

    Lightning calls :meth:`set_epoch` before each epoch (as for ``DistributedSampler``).
    """

    def __init__(self, n: int, seed: int, shuffle: bool) -> None:
        self.n, self.seed, self.shuffle, self.epoch = n, seed, shuffle, 0

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch of the next iteration.

        Parameters
        ----------
        epoch : int
            Seeds the shuffle and is yielded with every index.
        """
        self.epoch = epoch

    def __len__(self) -> int:
        return self.n

    def __iter__(self) -> Iterator[tuple[int, int]]:
        order = np.random.default_rng([self.seed, self.epoch]).permutation(self.n) if self.shuffle else range(self.n)
        return iter((int(i), self.epoch) for i in order)


class _TorchSlices(torch.utils.data.Dataset):
    def __init__(
        self,
        slices: SliceSet,
        augmenter: Augmenter | None,
        seed: int,
        randomiser: ContrastRandomiser | None = None,
        labelled: dict[str, tuple[int, ...]] | None = None,
        num_classes: int = 4,
        randomise_scale: dict[str, float] | None = None,
    ) -> None:
        self.slices, self.augmenter, self.seed, self.randomiser = slices, augmenter, seed, randomiser
        self.labelled, self.num_classes = labelled or {}, num_classes
        self.randomise_scale = randomise_scale or {}

    def __len__(self) -> int:
        return len(self.slices)

    def __getitem__(self, key: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(image (1, S, S), labels (1, S, S), labelled (C,))``: which classes this slice's dataset labels."""
        index, epoch = key
        image, label = self.slices.images[index], self.slices.labels[index]
        if self.augmenter is not None:
            rng = np.random.default_rng([self.seed, epoch, index])
            if self.randomiser is not None:
                scale = self.randomise_scale.get(str(self.slices.case[index]), 1.0)
                image, label = self.randomiser(image, label, rng, scale)
            image, label = self.augmenter(image, label, rng)
        classes = self.labelled.get(str(self.slices.case[index]), range(self.num_classes))
        labelled = torch.zeros(self.num_classes, dtype=torch.bool)
        labelled[[0, *classes]] = True
        return torch.from_numpy(image[None].copy()), torch.from_numpy(label[None].astype(np.int64)), labelled


def randomiser_of(config: TrainConfig) -> ContrastRandomiser | None:
    """The config's :class:`ContrastRandomiser`, or None when it does nothing.

    Parameters
    ----------
    config : TrainConfig
        Uses ``contrast_probability``, ``synth_probability`` and ``crop_probability``.

    Returns
    -------
    ContrastRandomiser or None
    """
    r = ContrastRandomiser(config.contrast_probability, config.synth_probability, config.crop_probability)
    return r if r.active else None


def oversample(slices: SliceSet, dataset_of_case: dict[str, str], factors: dict[str, float] | None) -> SliceSet:
    """Repeat the slices of a dataset ``factors[name]`` times (fractions by a seeded draw: 1.5 repeats
    every slice once and every other slice twice), so small datasets weigh more in each epoch.

    Parameters
    ----------
    slices : SliceSet
        The training slices.
    dataset_of_case : dict of str to str
        Case id -> dataset name.
    factors : dict of str to float, optional
        Dataset name -> repeat factor; datasets not in it keep factor 1. None or empty changes nothing.

    Returns
    -------
    SliceSet
        The slices, repeated in place (each slice's copies next to each other).
    """
    if not factors:
        return slices
    reps = np.ones(len(slices), float)
    for i, case in enumerate(slices.case):
        reps[i] = factors.get(dataset_of_case.get(str(case), ""), 1.0)
    whole = np.floor(reps).astype(int)
    extra = np.random.default_rng(0).random(len(slices)) < (reps - whole)
    index = np.repeat(np.arange(len(slices)), whole + extra)
    return SliceSet(slices.images[index], slices.labels[index], slices.case[index])


def make_loaders(
    config: TrainConfig,
    train_slices: SliceSet,
    val_slices: SliceSet | None,
    labelled: dict[str, tuple[int, ...]] | None = None,
    randomise_scale: dict[str, float] | None = None,
) -> tuple[DataLoader, DataLoader | None]:
    """Training and validation loaders; ``labelled`` maps a case id to the classes its dataset labels
    (cases not in it label every class), so each sample's loss and Dice use only those.

    Parameters
    ----------
    config : TrainConfig
        Uses ``augment``, ``mirror``, ``invert_probability``, the contrast randomisation probabilities,
        ``batch_size``, ``seed``, ``num_workers`` and ``model.num_classes``.
    train_slices : SliceSet
        Training slices: shuffled per epoch and augmented.
    val_slices : SliceSet, optional
        Validation slices: in order, not augmented.
    labelled : dict of str to tuple of int, optional
        Case id -> the classes its dataset labels.
    randomise_scale : dict of str to float, optional
        Case id -> the factor on the synthesis and contrast probabilities of its slices (1 if absent).

    Returns
    -------
    train, val : torch.utils.data.DataLoader
        ``val`` is None without validation slices.
    """
    aug = Augmenter(config.augment, config.invert_probability, config.mirror)
    train = DataLoader(
        _TorchSlices(
            train_slices, aug, config.seed, randomiser_of(config), labelled, config.model.num_classes, randomise_scale
        ),
        batch_size=config.batch_size,
        sampler=EpochSampler(len(train_slices), config.seed, shuffle=True),
        num_workers=config.num_workers,
        drop_last=len(train_slices) > config.batch_size,
    )
    val = None
    if val_slices is not None and len(val_slices):
        val = DataLoader(
            _TorchSlices(val_slices, None, config.seed, None, labelled, config.model.num_classes),
            batch_size=config.batch_size,
            sampler=EpochSampler(len(val_slices), config.seed, shuffle=False),
            num_workers=config.num_workers,
        )
    return train, val
