"""Segmentation-based registration of the images of a mapping series.

The contrast of a MOLLI / T2 / T1rho series changes from image to image, so intensity-based
registration is unreliable; the masks do not change contrast. Each image's masks are aligned
to the reference image's masks by a rigid transform (in-plane translation and rotation, the
motion of breath-hold drift) that minimises the squared signed distance of the fixed masks'
distance maps (endocardium and epicardium, the RV where both have one) sampled in a band around
the moving masks' boundaries and the moving masks' own signed distances there (distance-map
alignment, started from the epicardial centroid offset; exactly zero for identical masks). The image is
then resampled (linear) onto the reference grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage, optimize

from cmrseg.masks import regions, signed_distance

__all__ = ["RigidTransform", "register_masks", "warp_image", "warp_labels", "register_series"]


@dataclass(frozen=True)
class RigidTransform:
    """Moving -> fixed pixel coordinates: ``p_f = R(angle) (p_m - centre) + centre + shift``.

    ``shift`` (rows, cols) in pixels, ``angle`` in radians, ``centre`` the moving rotation centre.
    ``cost`` is the final mean squared boundary distance in px^2 (NaN when not registered).
    """

    shift: tuple[float, float] = (0.0, 0.0)
    angle: float = 0.0
    centre: tuple[float, float] = (0.0, 0.0)
    cost: float = float("nan")

    @property
    def matrix(self) -> np.ndarray:
        c, s = np.cos(self.angle), np.sin(self.angle)
        return np.array([[c, -s], [s, c]])

    def apply(self, points: np.ndarray) -> np.ndarray:
        """``(N, 2)`` moving points -> fixed points.

        Parameters
        ----------
        points : np.ndarray
            ``(N, 2)`` (row, column) pixel coordinates on the moving image.

        Returns
        -------
        np.ndarray
            ``(N, 2)`` pixel coordinates on the fixed image.
        """
        centre = np.asarray(self.centre)
        return (points - centre) @ self.matrix.T + centre + np.asarray(self.shift)

    @property
    def displacement_px(self) -> float:
        return float(np.hypot(*self.shift))


def _band(mask: np.ndarray, width_px: float = 1.5) -> tuple[np.ndarray, np.ndarray]:
    """Points within ``width_px`` of the boundary and their signed distances."""
    sdf = signed_distance(mask)
    points = np.argwhere(np.abs(sdf) <= width_px)
    return points.astype(float), sdf[points[:, 0], points[:, 1]]


def register_masks(moving: np.ndarray, fixed: np.ndarray, max_shift_px: float = 20.0) -> RigidTransform:
    """Rigid transform aligning ``moving`` labels ``(H, W)`` to ``fixed`` labels.

    The identity if either has no LV epicardium (nothing to align). An optimum farther than
    ``max_shift_px`` or rotated by more than 30 degrees is implausible: the epicardial centroid
    shift, without rotation, is kept instead.

    Parameters
    ----------
    moving : np.ndarray
        ``(H, W)`` label map of the image to move.
    fixed : np.ndarray
        ``(H, W)`` label map of the reference image.
    max_shift_px : float
        Largest plausible shift in pixels.

    Returns
    -------
    RigidTransform
        Moving -> fixed, with its ``cost`` (mean squared boundary distance, px^2); the identity with a
        NaN cost when there is nothing to align.
    """
    pairs = [(m, f) for m, f in zip(regions(moving), regions(fixed), strict=True) if m.any() and f.any()]
    epi_m, epi_f = regions(moving)[1], regions(fixed)[1]
    if not epi_m.any() or not epi_f.any():
        return RigidTransform()
    centre = np.argwhere(epi_m).mean(0)
    start = np.argwhere(epi_f).mean(0) - centre
    fields = [signed_distance(f) for _, f in pairs]
    bands = [_band(m) for m, _ in pairs]
    n = sum(len(p) for p, _ in bands)

    def cost(x: np.ndarray) -> float:
        t = RigidTransform((x[0], x[1]), x[2], tuple(centre))
        total = 0.0
        for sdf, (pts, own) in zip(fields, bands, strict=True):
            q = t.apply(pts).T
            total += float(((ndimage.map_coordinates(sdf, q, order=1, mode="nearest") - own) ** 2).sum())
        return total / n

    best = optimize.minimize(cost, np.array([start[0], start[1], 0.0]), method="Powell", options={"xtol": 1e-2})
    x = best.x
    if np.hypot(x[0], x[1]) > max_shift_px or abs(x[2]) > np.pi / 6:  # implausible: keep the centroid shift
        x = np.array([start[0], start[1], 0.0])
    return RigidTransform((float(x[0]), float(x[1])), float(x[2]), tuple(map(float, centre)), cost(x))


def _inverse_affine(t: RigidTransform) -> tuple[np.ndarray, np.ndarray]:
    """``input = A @ output + offset`` for :func:`scipy.ndimage.affine_transform` (fixed -> moving)."""
    a = t.matrix.T
    centre = np.asarray(t.centre)
    return a, centre - a @ (centre + np.asarray(t.shift))


def warp_image(image: np.ndarray, t: RigidTransform) -> np.ndarray:
    """Resample a moving ``(H, W)`` image onto the fixed grid (linear, edges extended).

    Parameters
    ----------
    image : np.ndarray
        ``(H, W)`` moving image.
    t : RigidTransform
        Moving -> fixed, e.g. from :func:`register_masks`.

    Returns
    -------
    np.ndarray
        ``(H, W)`` float32 image on the fixed grid.
    """
    a, offset = _inverse_affine(t)
    return ndimage.affine_transform(image.astype(np.float32), a, offset, order=1, mode="nearest")


def warp_labels(labels: np.ndarray, t: RigidTransform) -> np.ndarray:
    """Resample moving ``(H, W)`` labels onto the fixed grid (nearest neighbour).

    Parameters
    ----------
    labels : np.ndarray
        ``(H, W)`` moving label map.
    t : RigidTransform
        Moving -> fixed, e.g. from :func:`register_masks`.

    Returns
    -------
    np.ndarray
        ``(H, W)`` labels of the input dtype on the fixed grid, 0 where they come from outside the image.
    """
    a, offset = _inverse_affine(t)
    return ndimage.affine_transform(labels, a, offset, order=0, mode="constant", cval=0)


def register_series(
    images: np.ndarray, labels: np.ndarray, reference: int
) -> tuple[np.ndarray, np.ndarray, list[RigidTransform]]:
    """Align every image of one slice's series ``(H, W, N)`` to image ``reference`` by its labels.

    Parameters
    ----------
    images : np.ndarray
        ``(H, W, N)`` images of one slice.
    labels : np.ndarray
        ``(H, W, N)`` label map of each image.
    reference : int
        Index of the image the others are aligned to.

    Returns
    -------
    tuple of (np.ndarray, np.ndarray, list of RigidTransform)
        The registered images ``(H, W, N)`` (float32), registered labels ``(H, W, N)`` (uint8) and the
        ``N`` transforms (identity, with cost 0, for the reference image).

    Raises
    ------
    ValueError
        When ``images`` and ``labels`` are not both ``(H, W, N)`` of one shape.
    """
    if images.shape != labels.shape or images.ndim != 3:
        raise ValueError(f"images {images.shape} and labels {labels.shape} must both be (H, W, N)")
    out_img, out_lab, transforms = np.empty(images.shape, np.float32), np.empty(labels.shape, np.uint8), []
    fixed = labels[:, :, reference]
    for n in range(images.shape[2]):
        t = RigidTransform(cost=0.0) if n == reference else register_masks(labels[:, :, n], fixed)
        out_img[:, :, n] = warp_image(images[:, :, n], t)
        out_lab[:, :, n] = warp_labels(labels[:, :, n], t)
        transforms.append(t)
    return out_img, out_lab, transforms
