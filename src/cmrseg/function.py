"""Cardiac function from short-axis label maps: volumes, EF, mass, ED/ES, areas, wall thickness.

Label maps are ``(X, Y, Z)`` stacks (slices along the third axis) or ``(X, Y, Z, T)`` cines in
the ACDC convention; ``spacing`` is ``(dx, dy, dz)`` in mm with ``dz`` the slice spacing, so the
volumes are slice summations (Simpson's method). Volumes in mL, mass in g, areas in mm^2.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import ndimage

from cmrseg.geometry import slice_levels
from cmrseg.labels import Label

__all__ = [
    "MYOCARDIAL_DENSITY_G_PER_ML",
    "CardiacFunction",
    "voxel_volume_ml",
    "ejection_fraction",
    "label_volumes_ml",
    "volume_curve_ml",
    "detect_ed_es",
    "cardiac_function",
    "cine_function",
    "slice_areas_mm2",
    "wall_thickness_mm",
    "slice_table",
]

MYOCARDIAL_DENSITY_G_PER_ML = 1.05


def _check(labels: np.ndarray, spacing: tuple[float, ...], ndim: int) -> None:
    if labels.ndim != ndim:
        raise ValueError(f"expected a {ndim}D label map, got shape {labels.shape}")
    if len(spacing) < 3 or any(not np.isfinite(s) or s <= 0 for s in spacing[:3]):
        raise ValueError(f"need (dx, dy, dz) spacing in mm for volumes, got {spacing}")


def voxel_volume_ml(spacing: tuple[float, ...]) -> float:
    """Volume of one voxel in mL from its ``(dx, dy, dz)`` spacing in mm (1 mL = 1000 mm^3).

    Parameters
    ----------
    spacing : tuple of float
        ``(dx, dy, dz)`` in mm; further values are ignored.

    Returns
    -------
    float
        The voxel volume in mL.
    """
    return float(np.prod(spacing[:3])) / 1000.0


def ejection_fraction(edv: float, esv: float) -> float:
    """Ejection fraction in percent, ``100 (EDV - ESV) / EDV``; NaN when EDV is not positive.

    Parameters
    ----------
    edv, esv : float
        End-diastolic and end-systolic volumes, in one unit (e.g. mL).

    Returns
    -------
    float
        The ejection fraction in percent.
    """
    return float(100.0 * (edv - esv) / edv) if edv > 0 else float("nan")


def label_volumes_ml(labels: np.ndarray, spacing: tuple[float, ...]) -> dict[str, float]:
    """Volumes in mL of RV, MYO and LV in a ``(X, Y, Z)`` stack.

    Parameters
    ----------
    labels : numpy.ndarray
        ``(X, Y, Z)`` label map.
    spacing : tuple of float
        ``(dx, dy, dz)`` in mm.

    Returns
    -------
    dict of str to float
        ``{"RV": ..., "MYO": ..., "LV": ...}`` in mL.

    Raises
    ------
    ValueError
        When ``labels`` is not 3D or ``spacing`` lacks three positive finite values.
    """
    _check(labels, spacing, 3)
    voxel_ml = voxel_volume_ml(spacing)
    return {lab.name: float((labels == lab).sum() * voxel_ml) for lab in (Label.RV, Label.MYO, Label.LV)}


def volume_curve_ml(cine: np.ndarray, spacing: tuple[float, ...], label: Label = Label.LV) -> np.ndarray:
    """``(T,)`` volume of ``label`` in mL for each frame of an ``(X, Y, Z, T)`` cine.

    Parameters
    ----------
    cine : numpy.ndarray
        ``(X, Y, Z, T)`` label map.
    spacing : tuple of float
        ``(dx, dy, dz)`` in mm.
    label : Label
        The class whose volume is measured (default the LV blood pool).

    Returns
    -------
    numpy.ndarray
        ``(T,)`` volumes in mL.

    Raises
    ------
    ValueError
        When ``cine`` is not 4D or ``spacing`` lacks three positive finite values.
    """
    _check(cine, spacing, 4)
    return (cine == label).sum((0, 1, 2)) * voxel_volume_ml(spacing)


def detect_ed_es(lv_volumes_ml: np.ndarray) -> tuple[int, int]:
    """End-diastole = frame of largest LV volume, end-systole = frame of smallest.

    Parameters
    ----------
    lv_volumes_ml : numpy.ndarray
        ``(T,)`` LV volume in mL of each frame, e.g. from :func:`volume_curve_ml`.

    Returns
    -------
    tuple of (int, int)
        The ED and ES frame indices (the first frame of a tie).

    Raises
    ------
    ValueError
        With fewer than two frames, or no frame with a positive LV volume.
    """
    v = np.asarray(lv_volumes_ml, float)
    if v.size < 2 or not np.any(v > 0):
        raise ValueError("need at least two frames with some LV to find ED and ES")
    return int(np.argmax(v)), int(np.argmin(v))


EF_RANGE = (5.0, 85.0)  # percent; outside it, suspect the segmentation
RV_LV_MIN = 0.4  # RV EDV below this fraction of LV EDV: suspect an under-segmented RV


@dataclass(frozen=True)
class CardiacFunction:
    """Volumes in mL, EF in percent, mass in g (myocardium at ED x 1.05 g/mL)."""

    lv_edv_ml: float
    lv_esv_ml: float
    lv_sv_ml: float
    lv_ef_percent: float
    lv_mass_g: float
    rv_edv_ml: float
    rv_esv_ml: float
    rv_sv_ml: float
    rv_ef_percent: float
    ed_frame: int | None = None
    es_frame: int | None = None

    def to_dict(self) -> dict[str, float | int | None]:
        return asdict(self)

    def warnings(self) -> list[str]:
        """Plain-language flags for values no heart produces, which point at a segmentation error."""
        out = []
        for side, ef in (("LV", self.lv_ef_percent), ("RV", self.rv_ef_percent)):
            if np.isfinite(ef) and not EF_RANGE[0] <= ef <= EF_RANGE[1]:
                out.append(
                    f"{side} EF {ef:.1f}% is outside {EF_RANGE[0]:.0f}-{EF_RANGE[1]:.0f}%: "
                    f"check the {side} segmentation and the ED/ES frames"
                )
        if self.rv_edv_ml == 0:
            out.append("no RV labelled: RV volumes and EF are not available")
        elif self.lv_edv_ml > 0 and self.rv_edv_ml < RV_LV_MIN * self.lv_edv_ml:
            out.append(
                f"RV EDV is {100 * self.rv_edv_ml / self.lv_edv_ml:.0f}% of LV EDV: the RV is probably "
                "under-segmented (check the overlays)"
            )
        return out


def cardiac_function(
    ed: np.ndarray, es: np.ndarray, spacing: tuple[float, ...], ed_frame: int | None = None, es_frame: int | None = None
) -> CardiacFunction:
    """Function from ED and ES stacks ``(X, Y, Z)`` on one grid.

    Parameters
    ----------
    ed, es : numpy.ndarray
        ``(X, Y, Z)`` label maps at end-diastole and end-systole.
    spacing : tuple of float
        ``(dx, dy, dz)`` in mm.
    ed_frame, es_frame : int, optional
        The cine frames of ``ed`` and ``es``, recorded in the result.

    Returns
    -------
    CardiacFunction
        LV and RV EDV, ESV and stroke volume in mL, EF in percent and LV mass in g (ED myocardial volume
        x :data:`MYOCARDIAL_DENSITY_G_PER_ML`).

    Raises
    ------
    ValueError
        When the stacks differ in shape or are not 3D, ``spacing`` lacks three positive finite values, or
        the ED map has no LV blood pool.
    """
    if ed.shape != es.shape:
        raise ValueError(f"ED {ed.shape} and ES {es.shape} label maps must share one grid")
    ved, ves = label_volumes_ml(ed, spacing), label_volumes_ml(es, spacing)
    if ved["LV"] == 0:
        raise ValueError("no LV blood pool in the end-diastolic label map")
    return CardiacFunction(
        lv_edv_ml=ved["LV"],
        lv_esv_ml=ves["LV"],
        lv_sv_ml=ved["LV"] - ves["LV"],
        lv_ef_percent=ejection_fraction(ved["LV"], ves["LV"]),
        lv_mass_g=ved["MYO"] * MYOCARDIAL_DENSITY_G_PER_ML,
        rv_edv_ml=ved["RV"],
        rv_esv_ml=ves["RV"],
        rv_sv_ml=ved["RV"] - ves["RV"],
        rv_ef_percent=ejection_fraction(ved["RV"], ves["RV"]),
        ed_frame=ed_frame,
        es_frame=es_frame,
    )


def cine_function(cine: np.ndarray, spacing: tuple[float, ...]) -> CardiacFunction:
    """Function of an ``(X, Y, Z, T)`` cine label map; ED/ES from the LV volume curve.

    Parameters
    ----------
    cine : numpy.ndarray
        ``(X, Y, Z, T)`` label map.
    spacing : tuple of float
        ``(dx, dy, dz)`` in mm.

    Returns
    -------
    CardiacFunction
        As :func:`cardiac_function`, with the ED and ES frames of :func:`detect_ed_es`.

    Raises
    ------
    ValueError
        When ``cine`` is not 4D, ``spacing`` lacks three positive finite values, or fewer than two frames
        (or none with LV) are given.
    """
    ed, es = detect_ed_es(volume_curve_ml(cine, spacing))
    return cardiac_function(cine[..., ed], cine[..., es], spacing, ed, es)


def slice_areas_mm2(labels: np.ndarray, spacing: tuple[float, ...]) -> dict[str, np.ndarray]:
    """``(Z,)`` area in mm^2 of RV, MYO and LV on each slice of an ``(X, Y, Z)`` stack.

    Parameters
    ----------
    labels : numpy.ndarray
        ``(X, Y, Z)`` label map.
    spacing : tuple of float
        ``(dx, dy, dz)`` in mm (the areas use ``dx dy``).

    Returns
    -------
    dict of str to numpy.ndarray
        ``{"RV": (Z,), "MYO": (Z,), "LV": (Z,)}`` areas in mm^2.

    Raises
    ------
    ValueError
        When ``labels`` is not 3D or ``spacing`` lacks three positive finite values.
    """
    _check(labels, spacing, 3)
    px = spacing[0] * spacing[1]
    return {lab.name: (labels == lab).sum((0, 1)) * px for lab in (Label.RV, Label.MYO, Label.LV)}


def wall_thickness_mm(labels: np.ndarray, spacing: tuple[float, ...]) -> tuple[float, float]:
    """Mean and maximum myocardial wall thickness (mm) of one ``(X, Y)`` slice.

    Thickness at each epicardial border pixel is its distance to the LV cavity (the nearest
    endocardial point); NaN when the slice lacks cavity or myocardium.

    Parameters
    ----------
    labels : numpy.ndarray
        ``(X, Y)`` label map of one slice.
    spacing : tuple of float
        ``(dx, dy, ...)`` in mm; the first two values are used.

    Returns
    -------
    tuple of (float, float)
        Mean and maximum thickness in mm.

    Raises
    ------
    ValueError
        When ``labels`` is not 2D.
    """
    if labels.ndim != 2:
        raise ValueError(f"wall thickness needs one 2D slice, got shape {labels.shape}")
    cavity, myo = labels == Label.LV, labels == Label.MYO
    if not cavity.any() or not myo.any():
        return float("nan"), float("nan")
    heart = cavity | myo
    epi_border = heart & ~ndimage.binary_erosion(heart, border_value=0) & myo
    dist = ndimage.distance_transform_edt(~cavity, sampling=spacing[:2])
    d = dist[epi_border]
    return float(d.mean()), float(d.max())


def slice_table(
    ed: np.ndarray, es: np.ndarray, spacing: tuple[float, ...], apex: int | None = None
) -> list[dict[str, object]]:
    """Per-slice areas (mm^2) and LV wall thickness (mm) at ED and ES of two ``(X, Y, Z)`` stacks.

    Level (basal / mid / apical / outside) from the ED LV extent; ``thickening_percent`` is the
    systolic increase of the mean wall thickness, ``100 (ES - ED) / ED``.

    Parameters
    ----------
    ed, es : numpy.ndarray
        ``(X, Y, Z)`` label maps at end-diastole and end-systole, on one grid.
    spacing : tuple of float
        ``(dx, dy, dz)`` in mm.
    apex : int, optional
        The stack's orientation (+1: slice index grows towards the apex, -1 towards the base;
        :func:`cmrseg.geometry.slice_levels`).

    Returns
    -------
    list of dict
        One row per slice: ``slice``, ``level``, ``{lv,myo,rv}_area_{ed,es}_mm2``,
        ``wall_thickness_ed_mm``, ``wall_thickness_ed_max_mm``, ``wall_thickness_es_mm`` and
        ``thickening_percent`` (NaN where the ED thickness is not positive).

    Raises
    ------
    ValueError
        When the stacks differ in shape or are not 3D, or ``spacing`` lacks three positive finite values.
    """
    if ed.shape != es.shape:
        raise ValueError(f"ED {ed.shape} and ES {es.shape} stacks must share one grid")
    a_ed, a_es = slice_areas_mm2(ed, spacing), slice_areas_mm2(es, spacing)
    rows = []
    for z, level in enumerate(slice_levels(ed, apex)):
        t_ed, t_ed_max = wall_thickness_mm(ed[:, :, z], spacing)
        t_es, _ = wall_thickness_mm(es[:, :, z], spacing)
        row: dict[str, object] = {"slice": z, "level": level}
        for name in ("LV", "MYO", "RV"):
            row[f"{name.lower()}_area_ed_mm2"] = float(a_ed[name][z])
            row[f"{name.lower()}_area_es_mm2"] = float(a_es[name][z])
        row["wall_thickness_ed_mm"], row["wall_thickness_ed_max_mm"] = t_ed, t_ed_max
        row["wall_thickness_es_mm"] = t_es
        row["thickening_percent"] = 100 * (t_es - t_ed) / t_ed if t_ed > 0 else float("nan")
        rows.append(row)
    return rows
