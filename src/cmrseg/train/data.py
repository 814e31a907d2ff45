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
from cmrseg.preprocess import fit_square, fit_square_labels, normalise_intensity
from cmrseg.train.config import TrainConfig
from cmrseg.train.split import kfold_subjects

__all__ = ["SliceSet", "concat_slices", "load_slices", "split_cases", "make_loaders"]


@dataclass(frozen=True)
class SliceSet:
    """``images`` (N, S, S) float32 in [0, 1], ``labels`` (N, S, S) uint8, ``case`` (N,) ids."""

    images: np.ndarray
    labels: np.ndarray
    case: np.ndarray

    def __len__(self) -> int:
        return len(self.images)


def load_slices(dataset: Dataset, cases: Sequence[Case], size: int) -> SliceSet:
    """Read, normalise (per volume) and square-fit every labelled slice of ``cases``."""
    images, labels, ids = [], [], []
    for case in cases:
        if case.label is None:
            continue
        img = read_image(dataset.root / case.image).array
        lab = read_labels(dataset.root / case.label).array
        img = img[..., None] if img.ndim == 2 else img
        lab = lab[..., None] if lab.ndim == 2 else lab
        norm = normalise_intensity(img)
        for z in range(img.shape[2]):
            sq, fit = fit_square(norm[:, :, z], size)
            images.append(sq)
            labels.append(fit_square_labels(lab[:, :, z], fit))
            ids.append(case.id)
    if not images:
        raise ValueError(f"no labelled slices in dataset {dataset.root}")
    return SliceSet(np.stack(images), np.stack(labels), np.array(ids))


def split_cases(config: TrainConfig) -> tuple[list[tuple[Dataset, list[Case]]], list[tuple[Dataset, list[Case]]]]:
    """Train and validation cases of every dataset, split by subject (see :func:`kfold_subjects`)."""
    train, val = [], []
    for root in config.data:
        ds = load_dataset(root)
        if config.contrasts is not None:
            keep = tuple(c for c in ds.cases if c.extra.get("contrast", None) in (None, *config.contrasts))
            ds = Dataset(ds.root, ds.name, keep, ds.source, ds.licence, ds.spacing_known, ds.labelled_classes)
        if config.folds == 1:
            train.append((ds, list(ds.cases)))
            continue
        held = set(kfold_subjects(ds.subjects, config.folds, config.seed)[config.fold])
        train.append((ds, [c for c in ds.cases if c.subject not in held]))
        val.append((ds, [c for c in ds.cases if c.subject in held]))
    return train, val


def concat_slices(parts: list[SliceSet]) -> SliceSet:
    return SliceSet(*(np.concatenate([getattr(p, k) for p in parts]) for k in ("images", "labels", "case")))


class EpochSampler(Sampler):
    """Yields ``(index, epoch)``: a seeded shuffle per epoch, and the epoch for the augmentation rng.

    Lightning calls :meth:`set_epoch` before each epoch (as for ``DistributedSampler``).
    """

    def __init__(self, n: int, seed: int, shuffle: bool) -> None:
        self.n, self.seed, self.shuffle, self.epoch = n, seed, shuffle, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.n

    def __iter__(self) -> Iterator[tuple[int, int]]:
        order = np.random.default_rng([self.seed, self.epoch]).permutation(self.n) if self.shuffle else range(self.n)
        return iter((int(i), self.epoch) for i in order)


class _TorchSlices(torch.utils.data.Dataset):
    def __init__(self, slices: SliceSet, augmenter: Augmenter | None, seed: int) -> None:
        self.slices, self.augmenter, self.seed = slices, augmenter, seed

    def __len__(self) -> int:
        return len(self.slices)

    def __getitem__(self, key: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
        index, epoch = key
        image, label = self.slices.images[index], self.slices.labels[index]
        if self.augmenter is not None:
            image, label = self.augmenter(image, label, np.random.default_rng([self.seed, epoch, index]))
        return torch.from_numpy(image[None].copy()), torch.from_numpy(label[None].astype(np.int64))


def make_loaders(
    config: TrainConfig, train_slices: SliceSet, val_slices: SliceSet | None
) -> tuple[DataLoader, DataLoader | None]:
    aug = Augmenter(config.augment, config.invert_probability)
    train = DataLoader(
        _TorchSlices(train_slices, aug, config.seed),
        batch_size=config.batch_size,
        sampler=EpochSampler(len(train_slices), config.seed, shuffle=True),
        num_workers=config.num_workers,
        drop_last=len(train_slices) > config.batch_size,
    )
    val = None
    if val_slices is not None and len(val_slices):
        val = DataLoader(
            _TorchSlices(val_slices, None, config.seed),
            batch_size=config.batch_size,
            sampler=EpochSampler(len(val_slices), config.seed, shuffle=False),
            num_workers=config.num_workers,
        )
    return train, val
