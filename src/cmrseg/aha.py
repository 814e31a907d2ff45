"""AHA 16-segment model from short-axis labels.

The septum is located from where the RV touches the LV myocardium: the RV insertion points are
the two ends of that contact arc, and the septal midpoint is halfway between them along the arc.
Basal and mid slices get 6 segments of 60 degrees (1-6, 7-12: anterior, anteroseptal,
inferoseptal, inferior, inferolateral, anterolateral), apical slices 4 of 90 degrees (13-16:
anterior, septal, inferior, lateral). Segment numbers run counter-clockwise on the image as
displayed with rows downward (``direction=+1``: standard short-axis view from the apex, RV on the
image left); pass ``direction=-1`` for images stored mirrored.

Where the segments start is a convention that analysis packages differ on, so it is a
parameter (:class:`AhaConvention`): the septal midpoint as the boundary between segments 2 and 3
(the default; Cerqueira et al. 2002 ask that the RV attachment separate the septum from the
anterior and inferior walls), the anterior insertion point as the boundary between 1 and 2, or the
inferior one as the boundary between 3 and 4, plus an optional fixed rotation for a site's own
convention.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from cmrseg.geometry import slice_levels
from cmrseg.labels import Label
from cmrseg.masks import as_stack, midwall_mask

__all__ = [
    "septum_angle",
    "rv_insertion_points",
    "aha_segments",
    "aha_stack",
    "segment_values",
    "SegmentValue",
    "myocardial_values",
    "AhaConvention",
    "REFERENCES",
    "segment_reference_angle",
    "map_value_tables",
]

_FIRST = {"basal": 1, "mid": 7, "apical": 13}
REFERENCES = ("septum", "anterior", "inferior")


@dataclass(frozen=True)
class AhaConvention:
    """Where the AHA segments start on each slice.

    ``reference``: ``"septum"`` puts the boundary between segments 2 and 3 (8 | 9; the centre of
    14) at the septal midpoint, halfway along the RV contact arc; ``"anterior"`` puts the boundary
    between 1 and 2 (7 | 8, 13 | 14) at the anterior RV insertion point; ``"inferior"`` puts the
    boundary between 3 and 4 (9 | 10, 14 | 15) at the inferior one. With an RV contact arc of
    exactly 120 degrees the three agree. ``rotation_deg``: a further rotation of every boundary,
    degrees, positive in the direction the segment numbers increase. ``direction``: +1 numbers
    counter-clockwise on the image as displayed with rows downward, -1 for mirrored images.
    ``contact_px``: RV and myocardium count as touching within this many pixels (raise it for
    conservative myocardial rings drawn inside the wall).
    """

    reference: str = "septum"
    rotation_deg: float = 0.0
    direction: int = 1
    contact_px: int = 2

    def __post_init__(self) -> None:
        if self.reference not in REFERENCES:
            raise ValueError(f"AHA reference must be one of {list(REFERENCES)}, got {self.reference!r}")
        if self.direction not in (1, -1):
            raise ValueError(f"AHA direction must be +1 or -1, got {self.direction!r}")
        if not np.isfinite(self.rotation_deg):
            raise ValueError(f"AHA rotation must be a finite angle in degrees, got {self.rotation_deg!r}")
        if self.contact_px < 0:
            raise ValueError(f"contact_px must be >= 0, got {self.contact_px}")


def _angles(points: np.ndarray, centre: np.ndarray) -> np.ndarray:
    d = points - centre
    return np.arctan2(d[:, 0], d[:, 1])


def _centre(labels: np.ndarray) -> np.ndarray:
    return np.argwhere((labels == Label.LV) | (labels == Label.MYO)).mean(0)


def rv_insertion_points(labels: np.ndarray, contact_px: int = 2) -> tuple[np.ndarray, np.ndarray] | None:
    """The two ``(i, j)`` ends of the myocardium's contact arc with the RV, or None if they do not touch.

    Parameters
    ----------
    labels : numpy.ndarray
        ``(X, Y)`` label map of one slice (cmrseg classes).
    contact_px : int
        RV and myocardium count as touching within this many pixels.

    Returns
    -------
    tuple of (numpy.ndarray, numpy.ndarray) or None
        The ``(i, j)`` myocardial pixels at the two ends of the arc, in the order of increasing
        ``atan2(di, dj)`` about the LV centre along the arc (the largest angular gap between contact
        pixels is the free wall, which the arc's ends border). None without myocardium or RV, or with
        fewer than 2 contact pixels.
    """
    myo, rv = labels == Label.MYO, labels == Label.RV
    if not myo.any() or not rv.any():
        return None
    contact = myo & ndimage.binary_dilation(rv, iterations=contact_px)
    pts = np.argwhere(contact)
    if len(pts) < 2:
        return None
    ang = _angles(pts, _centre(labels))
    order = np.argsort(ang)
    a = ang[order]
    gaps = np.diff(np.concatenate([a, a[:1] + 2 * np.pi]))
    g = int(np.argmax(gaps))  # the largest gap is the free wall; the arc's ends border it
    return pts[order[(g + 1) % len(a)]], pts[order[g]]


def _contact_arc(labels: np.ndarray, contact_px: int) -> tuple[float, float] | None:
    """Start angle and forward span (radians) of the RV contact arc about the LV centre."""
    ends = rv_insertion_points(labels, contact_px)
    if ends is None:
        return None
    start, end = _angles(np.stack(ends), _centre(labels))
    return float(start), float((end - start) % (2 * np.pi))


def _wrap(a: float) -> float:
    return float((a + np.pi) % (2 * np.pi) - np.pi)


def septum_angle(labels: np.ndarray, contact_px: int = 2) -> float | None:
    """Angle (radians, ``atan2(di, dj)`` about the LV centre) of the septal midpoint, or None without RV contact.

    Parameters
    ----------
    labels : numpy.ndarray
        ``(X, Y)`` label map of one slice.
    contact_px : int
        RV and myocardium count as touching within ``contact_px`` pixels (raise it for conservative rings).

    Returns
    -------
    float or None
        The angle halfway along the RV contact arc, wrapped to [-pi, pi); None without RV contact.
    """
    arc = _contact_arc(labels, contact_px)
    return None if arc is None else _wrap(arc[0] + arc[1] / 2)


def segment_reference_angle(labels: np.ndarray, level: str, convention: AhaConvention | None = None) -> float | None:
    """Angle (radians, ``atan2(di, dj)``) of the boundary between the two septal segments under ``convention``.

    On apical slices this is the centre of segment 14.

    Parameters
    ----------
    labels : numpy.ndarray
        ``(X, Y)`` label map of one slice.
    level : str
        ``"basal"``, ``"mid"`` or ``"apical"``: apical slices have 4 segments of 90 degrees, the others 6 of 60.
    convention : AhaConvention, optional
        Where the segments start (default ``AhaConvention()``: the septal midpoint).

    Returns
    -------
    float or None
        The angle about the LV centre, wrapped to [-pi, pi); None without RV contact.
    """
    c = convention or AhaConvention()
    arc = _contact_arc(labels, c.contact_px)
    if arc is None:
        return None
    start, span = arc
    mid = start + span / 2
    half_septum = np.pi / 4 if level == "apical" else np.pi / 3  # one segment from septal centre to insertion
    # the anterior insertion lies at +direction * span / 2 from the midpoint, numbers grow towards -direction
    anterior, inferior = mid + c.direction * span / 2, mid - c.direction * span / 2
    phi = {
        "septum": mid,
        "anterior": anterior - c.direction * half_septum,
        "inferior": inferior + c.direction * half_septum,
    }[c.reference]
    return _wrap(phi - c.direction * np.radians(c.rotation_deg))


def aha_segments(
    labels: np.ndarray, level: str, convention: AhaConvention | None = None, septum: float | None = None
) -> np.ndarray:
    """AHA segment number of every myocardial pixel of one 2D slice (0 elsewhere, or where no RV contact).

    Parameters
    ----------
    labels : numpy.ndarray
        ``(X, Y)`` label map of one slice.
    level : str
        ``"basal"`` (segments 1-6), ``"mid"`` (7-12) or ``"apical"`` (13-16).
    convention : AhaConvention, optional
        Where the segments start and which way they are numbered (default ``AhaConvention()``).
    septum : float, optional
        The septal angle (radians, ``atan2(di, dj)``) when known otherwise (e.g. from a reader's
        reference point); it replaces the one found from the RV.

    Returns
    -------
    numpy.ndarray
        uint8 segment numbers, the shape of ``labels``; all 0 when the slice has no myocardium or no RV
        contact (and no ``septum`` is given).

    Raises
    ------
    ValueError
        When ``level`` is not basal, mid or apical.
    """
    if level not in _FIRST:
        raise ValueError(f"level must be one of {list(_FIRST)}, got {level!r}")
    c = convention or AhaConvention()
    out = np.zeros(labels.shape, np.uint8)
    phi = septum if septum is not None else segment_reference_angle(labels, level, c)
    myo = labels == Label.MYO
    if phi is None or not myo.any():
        return out
    pts = np.argwhere(myo)
    ang = _angles(pts, _centre(labels))
    n = 4 if level == "apical" else 6
    width = 2 * np.pi / n
    # segment s (0-based) is centred at phi + direction * (pi/2 - s * width)
    rel = (c.direction * (ang - phi) - np.pi / 2) % (2 * np.pi)  # 0 at the centre of the first segment
    s = (np.round(-rel / width) % n).astype(int)
    out[pts[:, 0], pts[:, 1]] = _FIRST[level] + s
    return out


def aha_stack(
    labels: np.ndarray,
    levels: list[str] | None = None,
    convention: AhaConvention | None = None,
    apex: int | None = None,
) -> np.ndarray:
    """AHA segments for every slice of an ``(X, Y, Z)`` stack.

    Parameters
    ----------
    labels : numpy.ndarray
        ``(X, Y, Z)`` label map.
    levels : list of str, optional
        The level of each slice (``basal``, ``mid``, ``apical``; slices of any other level, e.g.
        ``outside``, get no segments). Default: :func:`cmrseg.geometry.slice_levels` of ``labels``.
    convention : AhaConvention, optional
        Where the segments start (default ``AhaConvention()``).
    apex : int, optional
        The stack's orientation for the default levels: +1 when the slice index grows towards the
        apex, -1 towards the base (see :func:`cmrseg.geometry.slice_levels`).

    Returns
    -------
    numpy.ndarray
        ``(X, Y, Z)`` uint8 segment numbers (1-16) on the myocardium, 0 elsewhere.

    Raises
    ------
    ValueError
        When ``labels`` is not an ``(X, Y, Z)`` stack.
    """
    if labels.ndim != 3:
        raise ValueError(f"expected an (X, Y, Z) stack, got {labels.shape}")
    if levels is None:
        levels = slice_levels(labels, apex)
    out = np.zeros(labels.shape, np.uint8)
    for z, level in enumerate(levels):
        if level in _FIRST:
            out[:, :, z] = aha_segments(labels[:, :, z], level, convention)
    return out


@dataclass(frozen=True)
class SegmentValue:
    median: float
    q1: float
    q3: float
    n: int


def _summary(v: np.ndarray) -> SegmentValue:
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return SegmentValue(float("nan"), float("nan"), float("nan"), 0)
    q1, med, q3 = np.percentile(v, [25, 50, 75])
    return SegmentValue(float(med), float(q1), float(q3), int(len(v)))


def segment_values(value_map: np.ndarray, segments: np.ndarray) -> dict[int, SegmentValue]:
    """Median and IQR of a map (e.g. T1 in ms) in each AHA segment present.

    Parameters
    ----------
    value_map : numpy.ndarray
        The map, e.g. T1 in ms, any shape.
    segments : numpy.ndarray
        AHA segment numbers of the same shape (0 outside the segments), e.g. from :func:`aha_stack`.

    Returns
    -------
    dict of int to SegmentValue
        Per segment number > 0 present: median, 25th (``q1``) and 75th (``q3``) percentiles of the
        finite values and their count ``n`` (NaN and 0 when none is finite), in the map's unit.

    Raises
    ------
    ValueError
        When ``value_map`` and ``segments`` differ in shape.
    """
    if value_map.shape != segments.shape:
        raise ValueError(f"map {value_map.shape} and segments {segments.shape} differ in shape")
    return {int(s): _summary(value_map[segments == s]) for s in np.unique(segments) if s > 0}


def myocardial_values(
    value_map: np.ndarray, labels: np.ndarray, erode_px: int = 0, midwall_offset: float = 0.0
) -> SegmentValue:
    """Median and IQR of a map in the myocardium of one slice.

    Parameters
    ----------
    value_map : numpy.ndarray
        ``(X, Y)`` map of one slice, e.g. T1 in ms.
    labels : numpy.ndarray
        ``(X, Y)`` label map of the same slice.
    erode_px : int
        Erode the myocardium by this many pixels first, to avoid partial volume with blood (0: none).
    midwall_offset : float
        Read the map in the mid-wall only (:func:`cmrseg.masks.midwall_mask`): this fraction of the
        wall thickness left out next to the blood pool and next to the epicardium (0: none).

    Returns
    -------
    SegmentValue
        Median, 25th (``q1``) and 75th (``q3``) percentiles of the finite values and their count ``n``
        (NaN and 0 when none is finite), in the map's unit.
    """
    myo = midwall_mask(labels, midwall_offset)
    if erode_px > 0:
        myo = ndimage.binary_erosion(myo, iterations=erode_px)
    return _summary(value_map[myo])


def map_value_tables(
    value_map: np.ndarray,
    labels: np.ndarray,
    convention: AhaConvention | None = None,
    erode_px: int = 0,
    apex: int | None = None,
    midwall_offset: float = 0.0,
) -> tuple[list[dict], list[dict]]:
    """Median and IQR of a map (e.g. T1 in ms) per AHA segment and in the myocardium of each slice.

    Parameters
    ----------
    value_map : numpy.ndarray
        ``(X, Y, Z)`` map (or one 2D slice), e.g. T1 in ms.
    labels : numpy.ndarray
        ``(X, Y, Z)`` label map (or one 2D slice) on the map's grid.
    convention : AhaConvention, optional
        Where the segments start (default ``AhaConvention()``). Segments need RV contact.
    erode_px : int
        Erode the myocardium of the per-slice values by this many pixels (partial volume with blood).
    apex : int, optional
        The stack's orientation for the slice levels (+1: slice index grows towards the apex, -1
        towards the base; :func:`cmrseg.geometry.slice_levels`).
    midwall_offset : float
        Read segment and slice values in the mid-wall (:func:`cmrseg.masks.midwall_mask`: this
        fraction of the wall thickness left out on each side; 0: the whole myocardium).

    Returns
    -------
    tuple of (list of dict, list of dict)
        Segment rows ``{"segment", "median", "q1", "q3", "n"}`` sorted by segment number, and slice rows
        ``{"slice", "median", "q1", "q3", "n"}`` for each slice holding myocardium.

    Raises
    ------
    ValueError
        When the map and the labels differ in shape.
    """
    lab = as_stack(labels)
    value = as_stack(value_map)
    if value.shape != lab.shape:
        raise ValueError(f"map shape {value.shape} and labels {lab.shape} differ; they must share one grid")

    def row(key: str, k: int, v: SegmentValue) -> dict:
        return {key: k, "median": v.median, "q1": v.q1, "q3": v.q3, "n": v.n}

    read = np.where(midwall_mask(lab, midwall_offset), aha_stack(lab, convention=convention, apex=apex), 0)
    segments = segment_values(value, read)
    seg_rows = [row("segment", k, v) for k, v in sorted(segments.items())]
    slice_rows = [
        row("slice", z, myocardial_values(value[:, :, z], lab[:, :, z], erode_px, midwall_offset))
        for z in range(lab.shape[2])
        if (lab[:, :, z] == Label.MYO).any()
    ]
    return seg_rows, slice_rows
