"""Prediction: images in, label maps out, on the input's exact grid.

>>> from cmrseg import Predictor
>>> predictor = Predictor()                   # the shipped default model, loaded once
>>> labels = predictor.predict_array(stack)   # (X, Y[, Z[, T]]) -> uint8 label map
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage

from cmrseg.guide import check_alpha, check_guide, guide_channels
from cmrseg.image import Image, LabelMap
from cmrseg.preprocess import (
    fit_square,
    fit_square_labels,
    invert_intensity,
    normalise_intensity,
    restore_probabilities,
)

__all__ = [
    "MIRRORS",
    "PRECISIONS",
    "check_mirror",
    "check_precision",
    "mirror_confidence",
    "polarity_confidence",
    "Predictor",
    "largest_components",
    "segment",
]


#: ``Predictor(precision=...)``: full precision, or the network under bfloat16 autocast
PRECISIONS = ("fp32", "bf16")

#: ``Predictor(mirror=...)``: segment the array as given, mirrored, or whichever the model is surer of
MIRRORS = ("auto", "off", "on")

#: slices (those of any frame with the most heart) that decide ``mirror="auto"``
_MIRROR_SLICES = 3

_LOADED: dict[tuple[str, int, int, str], Any] = {}  # (file, mtime ns, size, device) -> ModelBundle
_LOADED_MAX = 4
_LOADED_LOCK = threading.Lock()


def check_precision(precision: str) -> str:
    """``precision`` if it is one of :data:`PRECISIONS`; else a one-line ``ValueError``."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; valid: {list(PRECISIONS)}")
    return precision


def check_mirror(mirror: str) -> str:
    """``mirror`` if it is one of :data:`MIRRORS`; else a one-line ``ValueError``."""
    if mirror not in MIRRORS:
        raise ValueError(f"unknown mirror {mirror!r}; valid: {list(MIRRORS)}")
    return mirror


def _channels_last(device: Any) -> bool:
    """Whether the network runs in channels-last memory layout: on the CPU, where oneDNN's
    convolutions are about 1.4 times as fast in it (``benchmarks/inference_speed.py``); the
    probabilities agree with the default layout to within 2e-5."""
    return str(device) == "cpu"


def _load_cached(path: Path, device: Any) -> Any:
    """The bundle at ``path`` with its network on ``device``, loaded once per process.

    A study or cohort worker builds several :class:`Predictor` objects on the same weights (the
    guide and guided models of every mapping series); each ``torch.load`` of a shipped model costs
    about 0.6 s on a 2-core CPU. The key holds the file's modification time and size, so a file
    replaced on disk is loaded anew; at most ``_LOADED_MAX`` networks are kept.
    """
    import torch

    from cmrseg.models.bundle import load_bundle

    path = Path(path).resolve()
    stat = path.stat() if path.exists() else None
    key = (str(path), stat.st_mtime_ns if stat else 0, stat.st_size if stat else 0, str(device))
    with _LOADED_LOCK:
        if key in _LOADED:
            return _LOADED[key]
    bundle = load_bundle(path)  # raises the one-line errors for a missing or damaged file
    bundle.model.to(device).eval()
    if _channels_last(device):
        bundle.model.to(memory_format=torch.channels_last)
    with _LOADED_LOCK:
        if len(_LOADED) >= _LOADED_MAX:
            _LOADED.pop(next(iter(_LOADED)))
        _LOADED[key] = bundle
    return bundle


def largest_components(labels: np.ndarray, num_classes: int = 4) -> np.ndarray:
    """Keep, per class, only the largest 2D connected component of an ``(H, W)`` label map.

    Parameters
    ----------
    labels : np.ndarray
        ``(H, W)`` integer label map.
    num_classes : int
        Number of classes including background; classes 1 to ``num_classes - 1`` are filtered.

    Returns
    -------
    np.ndarray
        A copy of ``labels`` (same dtype) with the smaller components of each class set to 0.
    """
    out = labels.copy()
    for c in range(1, num_classes):
        comp, n = ndimage.label(labels == c)
        if n > 1:
            sizes = ndimage.sum_labels(np.ones_like(comp), comp, index=np.arange(1, n + 1))
            out[(comp > 0) & (comp != 1 + int(np.argmax(sizes)))] = 0
    return out


def polarity_confidence(probabilities: np.ndarray) -> float:
    """Mean maximum class probability over the pixels predicted as heart (any foreground class).

    Parameters
    ----------
    probabilities : np.ndarray
        ``(N, C, H, W)`` class probabilities; class 0 is background.

    Returns
    -------
    float
        The mean, in [0, 1]; 0 when nothing is predicted.

    Notes
    -----
    Used by ``invert="auto"``: a model trained on bright-blood images is markedly less sure on
    images of the wrong polarity.
    """
    fg = probabilities.argmax(1) > 0
    return float(probabilities.max(1)[fg].mean()) if fg.any() else 0.0


def mirror_confidence(probabilities: np.ndarray) -> float:
    """Mean maximum class probability over the pixels predicted as RV blood pool (label 1).

    Parameters
    ----------
    probabilities : np.ndarray
        ``(N, C, H, W)`` class probabilities in the ACDC label order.

    Returns
    -------
    float
        The mean, in [0, 1]; 0 when no pixel is predicted RV.

    Notes
    -----
    Used by ``mirror="auto"``. The shipped models never saw a mirror image of a heart in training
    (see :mod:`cmrseg.augment`): on one, they put the RV on the other side of the LV, in tissue
    that does not look like blood, and are much less sure of it (``benchmarks/mirror.py``).
    """
    rv = probabilities.argmax(1) == 1
    return float(probabilities.max(1)[rv].mean()) if rv.any() else 0.0


class Predictor:
    """Loads a model once and segments slices, stacks and cines many times.

    Parameters
    ----------
    model : str or Path
        ``"default"`` (the shipped model for every short-axis contrast), ``"cine"`` (the cine model:
        more accurate on cine only), another shipped name, or a path to a model bundle / checkpoint.
    device : str
        ``auto``, ``cpu``, ``cuda`` or ``mps``.
    tta : bool
        Test-time augmentation: average softmax over the four 90-degree rotations (``tta_mode``
        ``rot90``, default; includes flipping both axes) or over the mirror flips (``flip``).
    batch_size : int
        Slices per forward pass.
    keep_largest : bool
        Keep only the largest connected component of each class per slice.
    invert : bool or str
        ``off``/``False``, ``on``/``True`` (invert intensities, e.g. black-blood -> bright-blood, before
        segmenting), or ``auto``: segment both polarities and keep the one the model is more confident
        in (:func:`polarity_confidence`); the choice per frame is in ``last_polarity``.
    tta_mode : str
        ``rot90`` (default) or ``flip``, see ``tta``.
    alpha : float
        For guided models (``"guided"``), the default guidance weight in [0, 1]: 0 ignores the
        guide, 1 asks for the guide itself; the paper's trade-off is 0.25.
    precision : str
        ``fp32`` (default) or ``bf16``: the network under bfloat16 autocast (softmax in fp32).
        Faster on CPUs with native bfloat16 (AMX / AVX512-BF16; ``benchmarks/inference_speed.py``)
        and on GPUs, slower on other CPUs; labels differ from fp32 on a few boundary pixels
        (``benchmarks/segmentation_accuracy.py --precision bf16``).
    mirror : str
        ``auto`` (default): segment the three slices with the most heart (of any frame) also
        mirrored (first array axis reversed) and, when the model is surer of the mirror image
        (:func:`mirror_confidence`), segment the whole array mirrored and mirror the labels back;
        an array whose axes were written in the other handedness (another converter or scanner
        convention) then gets its RV. ``off``: as given; ``on``: always mirrored. The choice is
        in ``last_mirrored``.
    """

    def __init__(
        self,
        model: str | Path = "default",
        device: str = "auto",
        tta: bool = False,
        batch_size: int = 16,
        keep_largest: bool = True,
        invert: bool | str = False,
        tta_mode: str = "rot90",
        alpha: float = 0.25,
        precision: str = "fp32",
        mirror: str = "auto",
    ) -> None:
        import torch

        from cmrseg.device import resolve_device
        from cmrseg.models.shipped import resolve_model_path

        self.device = resolve_device(device)
        bundle = _load_cached(resolve_model_path(model), self.device)  # shared, inference only
        self.bundle = bundle
        self.net = bundle.model
        self.size = bundle.image_size
        self.num_classes = bundle.config.num_classes
        if tta_mode not in ("rot90", "flip"):
            raise ValueError(f"unknown tta_mode {tta_mode!r}; valid: ['flip', 'rot90']")
        self.precision = check_precision(precision)
        invert = {True: "on", False: "off"}.get(invert, invert)  # type: ignore[call-overload]
        if invert not in ("off", "on", "auto"):
            raise ValueError(f"invert must be off, on or auto, got {invert!r}")
        self.tta, self.batch_size, self.keep_largest, self.invert = tta, batch_size, keep_largest, invert
        self.last_polarity: list[str] = []
        self.mirror = check_mirror(mirror)
        self.last_mirrored = False
        self.tta_mode = tta_mode
        self.guided = bundle.config.in_channels > 1
        self.alpha = check_alpha(alpha)
        torch.set_grad_enabled(False)

    def _forward(self, batch: np.ndarray) -> np.ndarray:
        import torch

        x = torch.from_numpy(batch if batch.ndim == 4 else batch[:, None]).to(self.device)
        if _channels_last(self.device):
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(self.device.split(":")[0], torch.bfloat16, enabled=self.precision == "bf16"):
            return self._augmented(x).cpu().numpy()

    def _augmented(self, x: Any) -> Any:
        """Softmax probabilities of the network on ``x``, averaged over the TTA transforms when on."""
        import torch

        prob = torch.softmax(self.net(x).float(), 1)
        if self.tta:
            # rotations by 90, 180 (= flipping both axes) and 270 degrees: they keep the anatomy's
            # handedness. Single-axis mirror flips do not, and measurably hurt the RV (README).
            if self.tta_mode == "rot90":
                for k in (1, 2, 3):
                    prob += torch.rot90(torch.softmax(self.net(torch.rot90(x, k, (2, 3))).float(), 1), -k, (2, 3))
            else:
                for dims in ((2,), (3,), (2, 3)):
                    prob += torch.softmax(self.net(x.flip(dims)).float(), 1).flip(dims)
            prob /= 4
        return prob

    def predict_probabilities(
        self, slices: np.ndarray, guides: np.ndarray | None = None, alpha: float | None = None
    ) -> np.ndarray:
        """``(N, H, W)`` slices already normalised to [0, 1] -> ``(N, C, H, W)`` probabilities.

        Parameters
        ----------
        slices : np.ndarray
            ``(N, H, W)`` intensities in [0, 1].
        guides : np.ndarray, optional
            ``(N, H, W)`` label maps, required by a guided model (ignored by others).
        alpha : float, optional
            Guidance weight in [0, 1]; default: the predictor's ``alpha``.

        Returns
        -------
        np.ndarray
            ``(N, C, H, W)`` float32 softmax probabilities on the input's ``(H, W)`` grid
            (averaged over the augmentations when ``tta`` is on).

        Raises
        ------
        ValueError
            ``alpha`` is not in [0, 1].
        """
        alpha = self.alpha if alpha is None else check_alpha(alpha)
        fitted = [fit_square(s, self.size) for s in slices]
        squares = np.stack([f[0] for f in fitted]).astype(np.float32)[:, None]
        if self.guided:
            sq_guides = np.stack([fit_square_labels(g, f[1]) for g, f in zip(guides, fitted, strict=True)])
            squares = np.concatenate([squares, guide_channels(sq_guides, alpha)], axis=1)
        out = np.empty((len(slices), self.num_classes) + slices.shape[1:], np.float32)
        for start in range(0, len(slices), self.batch_size):
            prob = self._forward(squares[start : start + self.batch_size])
            for k, p in enumerate(prob):
                out[start + k] = restore_probabilities(p, fitted[start + k][1])
        return out

    def _check_guide(self, array: np.ndarray, guide: np.ndarray | None) -> np.ndarray | None:
        if guide is None:
            if self.guided:
                raise ValueError("this is a guided model: give a guide mask (--guide), or use the default model")
            return None
        if not self.guided:
            raise ValueError("a guide needs a guided model (--model guided); this model takes images only")
        guide = np.asarray(guide)
        if array.ndim == 4 and guide.shape == array.shape[:3]:  # one guide for every frame of a series
            guide = np.repeat(guide[..., None], array.shape[3], axis=3)
        check_guide(guide, array.shape)
        return guide

    def predict_array(
        self, array: np.ndarray, guide: np.ndarray | None = None, alpha: float | None = None
    ) -> np.ndarray:
        """Segment ``(X, Y)``, ``(X, Y, Z)`` or ``(X, Y, Z, T)`` intensities -> uint8 labels.

        Parameters
        ----------
        array : np.ndarray
            ``(X, Y)``, ``(X, Y, Z)`` or ``(X, Y, Z, T)`` intensities (any scale), at least 8 x 8 in-plane.
        guide : np.ndarray, optional
            Required by a guided model: labels of the same shape (or ``(X, Y, Z)`` for all frames of
            a 4D array).
        alpha : float, optional
            Guidance weight in [0, 1]; default: the predictor's ``alpha``.

        Returns
        -------
        np.ndarray
            uint8 labels, same shape as ``array``. The polarity used per frame is in
            ``last_polarity``.

        Raises
        ------
        ValueError
            ``array`` is not 2D, 3D or 4D or is smaller than 8 x 8 in-plane; a guided model gets no
            guide or a plain model gets one; the guide does not match the grid or labels no heart;
            ``alpha`` is not in [0, 1].

        Notes
        -----
        Intensities are normalised per 3D volume (per frame of a cine). With ``mirror="auto"``
        one decision holds for the whole array (``last_mirrored``): a mirrored array is segmented
        twice.
        """
        array = np.asarray(array)
        if array.ndim not in (2, 3, 4):
            raise ValueError(f"expected a 2D slice, 3D stack or 4D cine, got shape {array.shape}")
        if min(array.shape[:2]) < 8:
            raise ValueError(f"in-plane size {array.shape[:2]} is too small to segment (need >= 8 x 8)")
        guide = self._check_guide(array, guide)
        vol = array.reshape(array.shape[:2] + (1, 1)) if array.ndim == 2 else array
        vol = vol[..., None] if vol.ndim == 3 else vol
        gvol = None if guide is None else guide.reshape(vol.shape)
        flip = self.mirror == "on"
        labels, candidates = self._segment_frames(vol, gvol, alpha, flip)
        if self.mirror == "auto" and self._mirror_wins(candidates, alpha):
            flip = True
            labels, _ = self._segment_frames(vol, gvol, alpha, flip)
        self.last_mirrored = flip
        return (labels[::-1] if flip else labels).reshape(array.shape)

    def _segment_frames(
        self, vol: np.ndarray, gvol: np.ndarray | None, alpha: float | None, flip: bool
    ) -> tuple[np.ndarray, list[tuple[int, np.ndarray, np.ndarray, np.ndarray | None]]]:
        """Labels of ``(X, Y, Z, T)`` intensities (``flip``: of their mirror image, first axis
        reversed), and with ``mirror="auto"`` the :data:`_MIRROR_SLICES` slices of any frame with
        the most heart: ``(heart pixels, probabilities (C, X, Y), slice seen (X, Y), guide or None)``."""
        if flip:
            vol, gvol = vol[::-1], None if gvol is None else gvol[::-1]
        labels = np.zeros(vol.shape, np.uint8)
        candidates: list[tuple[int, np.ndarray, np.ndarray, np.ndarray | None]] = []
        self.last_polarity = []
        for t in range(vol.shape[3]):
            guide = None if gvol is None else gvol[..., t]
            probs, use_inverted, seen = self._frame(vol[..., t], guide, alpha)
            self.last_polarity.append("inverted" if use_inverted else "original")
            lab = probs.argmax(1).astype(np.uint8)
            if self.mirror == "auto":
                area = (lab > 0).sum((1, 2))
                for z in np.argsort(-area, kind="stable")[:_MIRROR_SLICES]:
                    if area[z] > (candidates[-1][0] if len(candidates) == _MIRROR_SLICES else 0):
                        g = None if guide is None else guide[:, :, z].copy()
                        candidates.append((int(area[z]), probs[z].copy(), seen[z].copy(), g))
                        candidates = sorted(candidates, key=lambda c: -c[0])[:_MIRROR_SLICES]
            if self.keep_largest:
                lab = np.stack([largest_components(s, self.num_classes) for s in lab])
            labels[..., t] = np.moveaxis(lab, 0, 2)
        return labels, candidates

    def _frame(
        self, volume: np.ndarray, guide: np.ndarray | None, alpha: float | None
    ) -> tuple[np.ndarray, bool, np.ndarray]:
        """``(X, Y, Z)`` frame -> ``(Z, C, X, Y)`` probabilities, whether the inverted polarity was
        used, and the ``(Z, X, Y)`` normalised slices the network saw."""
        slices = np.moveaxis(normalise_intensity(volume), 2, 0)
        guides = None if guide is None else np.moveaxis(guide, 2, 0)
        inverted = np.stack([invert_intensity(s) for s in slices]) if self.invert != "off" else None
        if self.invert == "auto":
            plain = self.predict_probabilities(slices, guides, alpha)
            flipped = self.predict_probabilities(inverted, guides, alpha)
            use_inverted = polarity_confidence(flipped) > polarity_confidence(plain)
            probs = flipped if use_inverted else plain
        else:
            use_inverted = self.invert == "on"
            probs = self.predict_probabilities(inverted if use_inverted else slices, guides, alpha)
        return probs, use_inverted, inverted if use_inverted else slices

    def _mirror_wins(
        self, candidates: list[tuple[int, np.ndarray, np.ndarray, np.ndarray | None]], alpha: float | None
    ) -> bool:
        """Whether the model is surer of the mirror image of the ``candidates`` slices
        (:meth:`_segment_frames`) than of the slices as they were segmented."""
        if not candidates:
            return False
        probs = np.stack([c[1] for c in candidates])
        seen = np.ascontiguousarray(np.stack([c[2] for c in candidates])[:, ::-1])
        guides = (
            None if candidates[0][3] is None else np.ascontiguousarray(np.stack([c[3] for c in candidates])[:, ::-1])
        )
        return mirror_confidence(self.predict_probabilities(seen, guides, alpha)) > mirror_confidence(probs)

    def predict_image(self, image: Image, guide: np.ndarray | None = None, alpha: float | None = None) -> LabelMap:
        """Segment an :class:`Image` (guided: with ``guide`` labels); the label map has its exact grid.

        Parameters
        ----------
        image : Image
            ``(X, Y)``, ``(X, Y, Z)`` or ``(X, Y, Z, T)`` image.
        guide : np.ndarray, optional
            Guide labels for a guided model, as in :meth:`predict_array`.
        alpha : float, optional
            Guidance weight in [0, 1]; default: the predictor's ``alpha``.

        Returns
        -------
        LabelMap
            uint8 labels with the image's spacing, affine and metadata.

        Raises
        ------
        ValueError
            As :meth:`predict_array`.
        """
        return LabelMap.like(image, self.predict_array(image.array, guide, alpha))


def segment(
    image: Image | np.ndarray, model: str | Path = "default", device: str = "auto", tta: bool = False
) -> LabelMap | np.ndarray:
    """One call: segment an :class:`Image` (-> :class:`LabelMap`) or an array (-> uint8 array).

    Parameters
    ----------
    image : Image or np.ndarray
        ``(X, Y)``, ``(X, Y, Z)`` or ``(X, Y, Z, T)`` image or intensities.
    model : str or pathlib.Path
        ``"default"`` (every short-axis contrast), ``"cine"`` (cine only), another shipped name,
        or a path to a model bundle / checkpoint.
    device : str
        ``auto``, ``cpu``, ``cuda`` or ``mps``.
    tta : bool
        Test-time augmentation (see :class:`Predictor`).

    Returns
    -------
    LabelMap or np.ndarray
        A :class:`LabelMap` on the image's grid for an :class:`Image`, else uint8 labels of the
        array's shape.

    Raises
    ------
    ValueError
        The array is not 2D, 3D or 4D, or is too small; the model is guided (it needs a guide);
        ``device`` is unknown or not available.
    FileNotFoundError
        ``model`` is neither a shipped name nor an existing file.

    Notes
    -----
    Loads the model each call; use :class:`Predictor` to segment many images.
    """
    predictor = Predictor(model, device=device, tta=tta)
    if isinstance(image, Image):
        return predictor.predict_image(image)
    return predictor.predict_array(np.asarray(image))
