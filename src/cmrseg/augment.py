"""Augmentation presets built from albumentations; image and mask stay aligned.

``none``: nothing. ``basic``: flips, 90-degree rotations, scaling. ``heavy``: basic plus the
list of the T1rho paper (brightness/contrast, illumination, Gaussian blur, Gaussian noise,
coarse dropout, rotation within +-90 degrees, grid distortion, perspective). ``anycontrast``:
any rotation, scale 0.65-1.5, gamma, bias field, blur, low resolution and noise (the shipped
default's recipe, with :mod:`cmrseg.train.randomise` before it).

Every transform draws from a random stream of its own (:func:`seed_transforms`). albumentations 2.0
seeds each transform of a ``Compose`` with the same seed, so their draws coincide: a horizontal and
a vertical flip at p = 0.5 then always come together (a 180-degree rotation, never a mirror image),
and every transform with a higher probability is applied whenever one with a lower probability is.
"""

from __future__ import annotations

from collections.abc import Callable

import albumentations as A
import cv2
import numpy as np

from cmrseg.preprocess import invert_intensity

__all__ = ["AUGMENTATIONS", "Augmenter", "build_transforms", "seed_transforms"]


def _affine(scale: tuple[float, float], shift: float, p: float) -> A.Affine:
    """Scaling and a shift of up to ``shift`` of the image size, zero outside."""
    return A.Affine(
        scale=scale, translate_percent=(-shift, shift), p=p, border_mode=cv2.BORDER_CONSTANT, fill=0, fill_mask=0
    )


def _basic() -> list[A.BasicTransform]:
    return [
        A.HorizontalFlip(p=0.5),
        A.VerticalFlip(p=0.5),
        A.RandomRotate90(p=1.0),
        _affine((0.8, 1.2), 0.05, 0.7),
    ]


def _heavy() -> list[A.BasicTransform]:
    return _basic() + [
        A.Rotate(limit=(-90, 90), border_mode=cv2.BORDER_CONSTANT, fill=0, fill_mask=0, p=0.5),
        A.GridDistortion(num_steps=5, distort_limit=(-0.2, 0.2), p=0.3),
        A.Perspective(scale=(0.02, 0.06), p=0.3),
        A.RandomBrightnessContrast(brightness_limit=0.25, contrast_limit=0.25, p=0.7),
        A.Illumination(mode="gaussian", intensity_range=(0.05, 0.2), p=0.3),
        A.GaussianBlur(sigma_limit=(0.3, 1.2), p=0.3),
        A.GaussNoise(std_range=(0.01, 0.08), p=0.4),
        A.CoarseDropout(
            num_holes_range=(1, 4),
            hole_height_range=(0.05, 0.15),
            hole_width_range=(0.05, 0.15),
            fill=0,
            fill_mask=None,
            p=0.3,
        ),
    ]


def _anycontrast() -> list[A.BasicTransform]:
    """Any rotation, a wide scale range and the image degradations of other scanners and sequences
    (gamma, bias field, blur, low resolution, noise). The intensity remapping, GIN, synthetic
    mapping images and tight crops of :mod:`cmrseg.train.randomise` come before it."""
    return [
        A.HorizontalFlip(p=0.5),
        A.VerticalFlip(p=0.5),
        A.RandomRotate90(p=1.0),
        A.Rotate(limit=(-180, 180), border_mode=cv2.BORDER_CONSTANT, fill=0, fill_mask=0, p=0.7),
        _affine((0.65, 1.5), 0.08, 0.8),
        A.GridDistortion(num_steps=5, distort_limit=(-0.2, 0.2), p=0.2),
        A.RandomGamma(gamma_limit=(60, 170), p=0.5),
        A.Illumination(mode="gaussian", intensity_range=(0.05, 0.2), p=0.3),
        A.GaussianBlur(sigma_limit=(0.3, 1.2), p=0.25),
        A.Downscale(scale_range=(0.35, 0.9), p=0.25),
        A.GaussNoise(std_range=(0.01, 0.08), p=0.4),
    ]


#: name -> list of albumentations transforms
AUGMENTATIONS: dict[str, Callable[[], list[A.BasicTransform]]] = {
    "none": list,
    "basic": _basic,
    "heavy": _heavy,
    "anycontrast": _anycontrast,
}


def seed_transforms(compose: A.Compose, rng: np.random.Generator) -> None:
    """Give the compose and each of its transforms a seed of its own, drawn from ``rng``.

    Parameters
    ----------
    compose : albumentations.Compose
        Its transforms are reseeded in place (``Compose.set_random_seed`` would give all of them
        the same seed, and so the same draws).
    rng : numpy.random.Generator
        Source of the seeds: the same generator state gives the same seeds.
    """
    seeds = rng.integers(0, 2**31 - 1, size=len(compose.transforms) + 1)
    compose.set_random_seed(int(seeds[0]))
    for transform, seed in zip(compose.transforms, seeds[1:], strict=True):
        transform.set_random_seed(int(seed))


def build_transforms(preset: str, mirror: bool = True) -> A.Compose:
    """The albumentations pipeline of a preset name (``none``, ``basic``, ``heavy`` or ``anycontrast``).

    Parameters
    ----------
    preset : str
        A key of :data:`AUGMENTATIONS`.
    mirror : bool
        Keep the preset's horizontal and vertical flips (a mirror image of the heart in half the
        samples). False drops them: the 90-degree rotations still turn the heart every way, but
        its handedness stays that of the data.

    Returns
    -------
    albumentations.Compose
        The preset's transforms, each with a seed of its own drawn from seed 0
        (:meth:`Augmenter.apply` reseeds them on every call).

    Raises
    ------
    ValueError
        When ``preset`` is not a known preset.
    """
    if preset not in AUGMENTATIONS:
        raise ValueError(f"unknown augmentation preset {preset!r}; valid: {sorted(AUGMENTATIONS)}")
    transforms = AUGMENTATIONS[preset]()
    if not mirror:
        transforms = [t for t in transforms if not isinstance(t, A.HorizontalFlip | A.VerticalFlip)]
    compose = A.Compose(transforms)
    seed_transforms(compose, np.random.default_rng(0))
    return compose


class Augmenter:
    """Applies a preset to ``(H, W)`` float32 images in [0, 1] and uint8 masks.

    Each call draws its randomness from the ``numpy.random.Generator`` it is given: the same
    generator state gives the same result.
    """

    def __init__(self, preset: str, invert_probability: float = 0.0, mirror: bool = True) -> None:
        self.preset = preset
        self.invert_probability = invert_probability
        self._compose = build_transforms(preset, mirror)

    def __call__(self, image: np.ndarray, mask: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        img, (out,) = self.apply(image, [mask], rng)
        return img, out

    def apply(
        self, image: np.ndarray, masks: list[np.ndarray], rng: np.random.Generator
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Like calling the augmenter, with several masks (e.g. labels and a guide) moved alike.

        Parameters
        ----------
        image : numpy.ndarray
            ``(H, W)`` image in [0, 1] (cast to float32).
        masks : list of numpy.ndarray
            ``(H, W)`` masks of the image (cast to uint8).
        rng : numpy.random.Generator
            Source of the call's randomness (the pipeline's seed and the intensity inversion): the same
            generator state gives the same result.

        Returns
        -------
        tuple of (numpy.ndarray, list of numpy.ndarray)
            The augmented float32 image clipped to [0, 1] (intensity-inverted with probability
            ``invert_probability``) and the uint8 masks moved alike, in the order given.
        """
        seed_transforms(self._compose, rng)
        out = self._compose(image=image.astype(np.float32), masks=[m.astype(np.uint8) for m in masks])
        img = np.clip(out["image"], 0.0, 1.0).astype(np.float32)
        if self.invert_probability > 0 and rng.random() < self.invert_probability:
            img = invert_intensity(img)
        return img, [np.asarray(m).astype(np.uint8) for m in out["masks"]]
