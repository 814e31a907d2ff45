"""What a training slice looks like before geometric augmentation: cropped, synthetic or remapped."""

from __future__ import annotations

import numpy as np

from cmrseg.preprocess import normalise_intensity
from cmrseg.train.contrast import crop_to, heart_window, randomise_contrast
from cmrseg.train.synth_mapping import synthesise

__all__ = ["ContrastRandomiser"]


class ContrastRandomiser:
    """Draws, per training sample, what the slice should look like before geometric augmentation.

    With ``crop_probability`` a tight :func:`heart_crop`; then with ``synth_probability`` a
    synthetic mapping image (:func:`cmrseg.train.synth_mapping.synthesise`), otherwise with
    ``contrast_probability`` :func:`randomise_contrast`, otherwise the image as it is.
    """

    def __init__(self, contrast_probability: float, synth_probability: float, crop_probability: float) -> None:
        for name, value in (
            ("contrast_probability", contrast_probability),
            ("synth_probability", synth_probability),
            ("crop_probability", crop_probability),
        ):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {value}")
        self.contrast_probability = contrast_probability
        self.synth_probability = synth_probability
        self.crop_probability = crop_probability

    @property
    def active(self) -> bool:
        return bool(self.contrast_probability or self.synth_probability or self.crop_probability)

    def __call__(
        self, image: np.ndarray, labels: np.ndarray, rng: np.random.Generator, scale: float = 1.0
    ) -> tuple[np.ndarray, np.ndarray]:
        image, labels, _ = self.apply(image, labels, rng, scale=scale)
        return image, labels

    def apply(
        self,
        image: np.ndarray,
        labels: np.ndarray,
        rng: np.random.Generator,
        masks: tuple[np.ndarray, ...] = (),
        scale: float = 1.0,
    ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
        """Like calling it, with more masks (e.g. a guide) cropped alike.

        Parameters
        ----------
        image : numpy.ndarray
            ``(H, W)`` float32 image in [0, 1].
        labels : numpy.ndarray
            ``(H, W)`` uint8 ACDC label map.
        rng : numpy.random.Generator
            Source of every random number.
        masks : tuple of numpy.ndarray
            Further ``(H, W)`` label maps to crop with ``labels``.
        scale : float
            Multiplies the synthesis and contrast probabilities for this sample (capped at 1), e.g.
            less randomisation on the slices of one dataset (``TrainConfig.randomise_scale``).

        Returns
        -------
        image : numpy.ndarray
            ``(H, W)`` image in [0, 1].
        labels : numpy.ndarray
            ``(H, W)`` label map, cropped with the image.
        masks : list of numpy.ndarray
            ``masks``, cropped alike.
        """
        masks = list(masks)
        if self.crop_probability and rng.random() < self.crop_probability:
            window = heart_window(labels, rng)
            if window is not None:
                image = crop_to(image, window, nearest=False)
                image = normalise_intensity(image) if image.max() > image.min() else image
                labels = crop_to(labels, window, nearest=True)
                masks = [crop_to(m, window, nearest=True) for m in masks]
        if self.synth_probability and rng.random() < min(1.0, scale * self.synth_probability):
            return synthesise(image, labels, rng).image, labels, masks
        if self.contrast_probability and rng.random() < min(1.0, scale * self.contrast_probability):
            return randomise_contrast(image, labels, rng), labels, masks
        return image, labels, masks
