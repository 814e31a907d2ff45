"""Training data and module of guided models: image + guide from another image of the same anatomy.

Pairs come from cases of one subject on one grid: ACDC ED and ES (the ED mask guides ES and the
reverse, and neighbouring slices' masks guide a slice), MyoPS C0 / LGE / T2 (each contrast's mask
guides the others). Each slice's guide candidates are the other cases' labels at the same slice
and at the slices either side, and a model's predictions on the other cases (``guide_model``): a
real guide is a prediction, with a prediction's errors. A candidate identical to the slice's own
labels (MyoPS shares one label map) is always perturbed (:func:`perturb_guide`), any
other with ``guide_perturb_probability``, so the model learns not to copy a guide blindly.

``alpha`` is drawn per sample: 0 with probability 0.2, 1 with probability 0.1, else uniform.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import albumentations as A
import cv2
import numpy as np
import torch

from cmrseg.augment import Augmenter, seed_transforms
from cmrseg.guide import guide_channels, translate_guide
from cmrseg.io.datasets.layout import Case, Dataset
from cmrseg.losses import guided_loss
from cmrseg.masks import labels_from_regions, regions, signed_distance
from cmrseg.predict import Predictor
from cmrseg.preprocess import fit_square, fit_square_labels, normalise_intensity
from cmrseg.train.config import TrainConfig
from cmrseg.train.data import EpochSampler, labelled_slices, randomiser_of, read_case
from cmrseg.train.module import SegmentationModule
from cmrseg.train.randomise import ContrastRandomiser

__all__ = [
    "perturb_guide",
    "GuidedSlices",
    "load_guided_slices",
    "concat_guided",
    "GuidedTorchSlices",
    "GuidedModule",
    "sample_alpha",
]


@dataclass(frozen=True)
class GuidedSlices:
    """``images`` (N, S, S) in [0, 1], ``labels`` (N, S, S), ``guides`` (M, S, S) candidate guides,
    ``options[i]`` the indices into ``guides`` for slice i, ``identical[j]`` whether guide j equals
    the labels of the slice it was made for, ``case`` (N,) ids."""

    images: np.ndarray
    labels: np.ndarray
    guides: np.ndarray
    options: tuple[np.ndarray, ...]
    identical: np.ndarray
    case: np.ndarray

    def __len__(self) -> int:
        return len(self.images)


def load_guided_slices(
    dataset: Dataset, cases: Sequence[Case], size: int, predictor: Predictor | None = None
) -> GuidedSlices:
    """Every labelled slice of ``cases`` with its guide candidates from the same subject's other cases.

    Parameters
    ----------
    dataset : Dataset
        The dataset the cases belong to.
    cases : sequence of Case
        Cases to read, grouped by subject; those without a label file are skipped.
    size : int
        Side S of the square slices, in px.
    predictor : Predictor, optional
        A model whose predictions on the subject's other cases are guide candidates too.

    Returns
    -------
    GuidedSlices

    Raises
    ------
    ValueError
        If no case has a labelled slice.
    """
    by_subject: dict[str, list[Case]] = defaultdict(list)
    for case in cases:
        if case.label is not None:
            by_subject[case.subject].append(case)
    images, labels, ids, guides, options, identical = [], [], [], [], [], []
    for subject_cases in by_subject.values():
        read = {c.id: read_case(dataset, c) for c in subject_cases}
        vols = {cid: v for cid, (v, _) in read.items()}
        labs = {cid: lab for cid, (_, lab) in read.items()}
        preds = {cid: predictor.predict_array(v) for cid, v in vols.items()} if predictor is not None else {}
        for case in subject_cases:
            vol, lab = vols[case.id], labs[case.id]
            norm = normalise_intensity(vol)
            others = [o for o in subject_cases if o.id != case.id and labs[o.id].shape == lab.shape]
            for z in labelled_slices(case, vol.shape[2]):
                sq, fit = fit_square(norm[:, :, z], size)
                own = fit_square_labels(lab[:, :, z], fit)
                cands = []
                for o in others:
                    cands += [labs[o.id][:, :, k] for k in (z - 1, z, z + 1) if 0 <= k < lab.shape[2]]
                    if o.id in preds:
                        cands.append(preds[o.id][:, :, z])
                if not cands:  # a subject with one image: its own labels, always perturbed
                    cands = [lab[:, :, z]]
                first = len(guides)
                for g in cands:
                    sq_g = fit_square_labels(g, fit)
                    guides.append(sq_g)
                    identical.append(bool(np.array_equal(sq_g, own)))
                images.append(sq)
                labels.append(own)
                ids.append(case.id)
                options.append(np.arange(first, len(guides)))
    if not images:
        raise ValueError(f"no labelled slices in dataset {dataset.root}")
    return GuidedSlices(
        np.stack(images), np.stack(labels), np.stack(guides), tuple(options), np.array(identical), np.array(ids)
    )


def concat_guided(parts: list[GuidedSlices], balance: bool = True) -> GuidedSlices:
    """Concatenate datasets; ``balance`` repeats smaller ones (up to 4x) towards the largest's size.

    Parameters
    ----------
    parts : list of GuidedSlices
        At least one.
    balance : bool
        Repeat the slices of smaller parts (their guide candidates are stored once).

    Returns
    -------
    GuidedSlices
    """
    biggest = max(len(p) for p in parts)
    images, labels, guides, options, identical, case = [], [], [], [], [], []
    offset = 0
    for p in parts:
        repeat = min(4, max(1, round(biggest / len(p)))) if balance else 1
        for _ in range(repeat):
            images.append(p.images)
            labels.append(p.labels)
            case.append(p.case)
            options.extend(o + offset for o in p.options)
        guides.append(p.guides)
        identical.append(p.identical)
        offset += len(p.guides)
    return GuidedSlices(
        np.concatenate(images),
        np.concatenate(labels),
        np.concatenate(guides),
        tuple(options),
        np.concatenate(identical),
        np.concatenate(case),
    )


def sample_alpha(rng: np.random.Generator) -> float:
    """0 (unguided) with probability 0.2, 1 (copy the guide) with 0.1, else uniform in (0, 1).

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the draw.

    Returns
    -------
    float
        The alpha of one sample.
    """
    u = rng.random()
    return 0.0 if u < 0.2 else 1.0 if u < 0.3 else float(rng.random())


def _spatial(rng: np.random.Generator) -> A.Compose:
    """Shift, rotation, scaling and elastic warp of a guide, each transform seeded from ``rng``."""
    compose = A.Compose(
        [
            A.Affine(
                translate_percent=(-0.06, 0.06),
                rotate=(-15, 15),
                scale=(0.9, 1.1),
                border_mode=cv2.BORDER_CONSTANT,
                fill=0,
                fill_mask=0,
                p=0.8,
            ),
            A.ElasticTransform(alpha=30, sigma=6, p=0.3),
        ]
    )
    seed_transforms(compose, rng)
    return compose


def perturb_guide(guide: np.ndarray, rng: np.random.Generator, max_grow_px: float = 1.0) -> np.ndarray:
    """A plausible wrong guide: shifted, rotated, scaled, elastically warped, eroded or dilated.

    The regions' boundaries move by a random offset in ``[-max_grow_px, max_grow_px]`` pixels
    each (erosion / dilation through the signed distance), so wall thickness changes too. The
    transform is built from ``rng`` in the call: the same generator state, the same guide.

    Parameters
    ----------
    guide : numpy.ndarray
        ``(S, S)`` ACDC label map.
    rng : numpy.random.Generator
        Source of every random number.
    max_grow_px : float
        Largest boundary offset in px.

    Returns
    -------
    numpy.ndarray
        ``(S, S)`` uint8 ACDC label map.
    """
    img = np.zeros(guide.shape, np.float32)
    warped = _spatial(rng)(image=img, mask=guide.astype(np.uint8))["mask"]
    grown = [signed_distance(r) - rng.uniform(-max_grow_px, max_grow_px) < 0 if r.any() else r for r in regions(warped)]
    return labels_from_regions(*grown)


class GuidedTorchSlices(torch.utils.data.Dataset):
    """Items ``(x (4, S, S), labels (S, S), translated guide (S, S), alpha)`` for :class:`GuidedModule`.

    ``randomise_scale`` maps case ids to a factor on the randomiser's probabilities (as
    ``TrainConfig.randomise_scale`` does per dataset); cases not in it get 1."""

    def __init__(
        self,
        slices: GuidedSlices,
        augmenter: Augmenter,
        seed: int,
        perturb_probability: float,
        alpha: float | None = None,
        randomiser: ContrastRandomiser | None = None,
        randomise_scale: dict[str, float] | None = None,
    ) -> None:
        self.slices, self.augmenter, self.seed, self.perturb = slices, augmenter, seed, perturb_probability
        self.alpha, self.randomiser, self.randomise_scale = alpha, randomiser, randomise_scale or {}

    def __len__(self) -> int:
        return len(self.slices)

    def __getitem__(self, key: tuple[int, int]) -> tuple[torch.Tensor, ...]:
        index, epoch = key
        rng = np.random.default_rng([self.seed, epoch, index])
        s = self.slices
        j = int(rng.choice(s.options[index]))
        guide = s.guides[j]
        if s.identical[j] or rng.random() < self.perturb:
            guide = perturb_guide(guide, rng)
        alpha = sample_alpha(rng) if self.alpha is None else self.alpha
        image, label = s.images[index], s.labels[index]
        if self.randomiser is not None:  # e.g. a synthetic MOLLI image of the slice, guided by its labels
            scale = self.randomise_scale.get(str(s.case[index]), 1.0)
            image, label, (guide,) = self.randomiser.apply(image, label, rng, (guide,), scale=scale)
        image, (label, guide) = self.augmenter.apply(image, [label, guide], rng)
        target = translate_guide(guide, label, alpha)
        x = np.concatenate([image[None], guide_channels(guide, alpha)])
        return (
            torch.from_numpy(x),
            torch.from_numpy(label.astype(np.int64)),
            torch.from_numpy(target.astype(np.int64)),
            torch.tensor(alpha, dtype=torch.float32),
        )


def guided_loader(
    config: TrainConfig, slices: GuidedSlices, randomise_scale: dict[str, float] | None = None
) -> torch.utils.data.DataLoader:
    """The training loader of a guided run (seeded shuffle per epoch, augmentation per sample).

    Parameters
    ----------
    config : TrainConfig
        Uses ``augment``, ``mirror``, ``invert_probability``, ``seed``, ``guide_perturb_probability``,
        ``guide_alpha``, the contrast randomisation probabilities, ``batch_size`` and ``num_workers``.
    slices : GuidedSlices
        The training slices and their guide candidates.
    randomise_scale : dict of str to float, optional
        Case id -> factor on the contrast randomisation probabilities (from ``config.randomise_scale``).

    Returns
    -------
    torch.utils.data.DataLoader
        Batches of :class:`GuidedTorchSlices` items.
    """
    data = GuidedTorchSlices(
        slices,
        Augmenter(config.augment, config.invert_probability, config.mirror),
        config.seed,
        config.guide_perturb_probability,
        config.guide_alpha,
        randomiser_of(config),
        randomise_scale,
    )
    return torch.utils.data.DataLoader(
        data,
        batch_size=config.batch_size,
        sampler=EpochSampler(len(slices), config.seed, shuffle=True),
        num_workers=config.num_workers,
        drop_last=len(slices) > config.batch_size,
    )


class GuidedModule(SegmentationModule):
    """:class:`SegmentationModule` with the guided alpha loss (:func:`cmrseg.losses.guided_loss`)."""

    def training_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> torch.Tensor:
        """The guided alpha loss of a batch ``(x, labels, translated guide, alpha)``, logged as ``train_loss``."""
        x, label, target, alpha = batch
        loss = guided_loss(self.net(x).float(), label, target, alpha)
        self.log("train_loss", loss, on_step=False, on_epoch=True, prog_bar=True, batch_size=len(x))
        return loss
