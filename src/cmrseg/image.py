"""Typed image containers: an array that knows its voxel spacing (mm) and affine.

Arrays are in NIfTI voxel order: ``(X, Y)`` for one slice, ``(X, Y, Z)`` for a short-axis
stack (slices along the third axis) and ``(X, Y, Z, T)`` for a cine.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

__all__ = ["Image", "LabelMap", "default_affine"]


def default_affine(spacing_mm: tuple[float, ...]) -> np.ndarray:
    """A 4x4 affine with the given voxel spacing (mm) on its diagonal and no rotation.

    Parameters
    ----------
    spacing_mm : tuple of float
        Voxel size in mm; up to the first three values are used.

    Returns
    -------
    numpy.ndarray
        4x4 float affine (identity elsewhere).
    """
    affine = np.eye(4)
    for axis, step in enumerate(spacing_mm[:3]):
        affine[axis, axis] = step
    return affine


def _check_geometry(array: np.ndarray, spacing: tuple[float, ...], affine: np.ndarray) -> None:
    if array.ndim not in (2, 3, 4):
        raise ValueError(f"image array must be 2D, 3D or 4D, got shape {array.shape}")
    if len(spacing) != min(array.ndim, 3):
        raise ValueError(f"spacing must have {min(array.ndim, 3)} values for shape {array.shape}, got {spacing}")
    if any(not np.isfinite(s) or s <= 0 for s in spacing):
        raise ValueError(f"spacing must be positive finite mm values, got {spacing}")
    if affine.shape != (4, 4):
        raise ValueError(f"affine must be 4x4, got {affine.shape}")


@dataclass(frozen=True)
class Image:
    """A scalar MR image.

    Attributes
    ----------
    array : np.ndarray
        ``(X, Y)``, ``(X, Y, Z)`` or ``(X, Y, Z, T)`` intensities (float32, scanner units).
    spacing : tuple of float
        Voxel size in mm along the first ``min(ndim, 3)`` axes.
    affine : np.ndarray
        4x4 voxel -> patient (RAS, mm) matrix, as NIfTI stores it.
    metadata : dict
        Free-form acquisition facts, e.g. ``trigger_time_ms`` (list per frame),
        ``slice_positions_mm``, ``inversion_time_ms``, ``echo_time_ms``, ``source``.
    """

    array: np.ndarray
    spacing: tuple[float, ...]
    affine: np.ndarray = field(default_factory=lambda: np.eye(4))
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_geometry(self.array, self.spacing, self.affine)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.array.shape)

    def with_array(self, array: np.ndarray) -> Image:
        """The same geometry and metadata around another array of the same spatial shape.

        Parameters
        ----------
        array : np.ndarray
            The new intensities, with as many spatial dimensions as the spacing has values.

        Returns
        -------
        Image
            A new image; this one is unchanged.

        Raises
        ------
        ValueError
            When ``array`` is not 2D, 3D or 4D, or does not fit the spacing.
        """
        return replace(self, array=array)


@dataclass(frozen=True)
class LabelMap:
    """An integer label map on an image grid (values of :class:`cmrseg.labels.Label`).

    Resampled by nearest neighbour or via class probabilities, never by interpolating values.
    """

    array: np.ndarray
    spacing: tuple[float, ...]
    affine: np.ndarray = field(default_factory=lambda: np.eye(4))
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_geometry(self.array, self.spacing, self.affine)
        if not np.issubdtype(self.array.dtype, np.integer):
            raise ValueError(f"a label map must have an integer dtype, got {self.array.dtype}")

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.array.shape)

    @classmethod
    def like(cls, image: Image | LabelMap, array: np.ndarray) -> LabelMap:
        """A label map on the grid of ``image``.

        Parameters
        ----------
        image : Image or LabelMap
            Gives the spacing, affine and metadata (copied).
        array : np.ndarray
            Integer labels on the grid of ``image`` (cast to uint8).

        Returns
        -------
        LabelMap
            ``array`` with the geometry of ``image``.

        Raises
        ------
        ValueError
            When ``array`` is not 2D, 3D or 4D, or does not fit the spacing of ``image``.
        """
        return cls(array.astype(np.uint8), image.spacing, image.affine.copy(), dict(image.metadata))
