"""Series discovery and classification of a DICOM study folder (a scanner export, a PACS download).

:func:`discover_series` walks a folder tree, groups the images by SeriesInstanceUID with the
reader's own scan (:mod:`cmrseg.io.dicom`) and classifies each series from its headers alone (no
pixel data is decoded) into one of :data:`KINDS`. ``layout`` below is slice positions x images per
position; keywords are matched as words in SeriesDescription and ProtocolName (case-insensitive).

Rules, the first that matches wins:

1. No image with usable geometry -> ``other``, saying why. The frames of a multi-frame (enhanced)
   file count as images of their own (:mod:`cmrseg.io.dicom`).
2. A TI scout / Look-Locker keyword -> ``other`` (it serves to choose the LGE inversion time).
3. ImageType holding ``T1 MAP`` / ``T2 MAP`` (or ``MAP`` and ``T1``; Siemens MapIt, inline maps), or
   ``MAP`` with a T1/T2/MOLLI keyword, or a ``t1map`` / ``t2map`` keyword on one image per position
   -> ``t1_map`` / ``t2_map``; ``MAP`` naming neither -> ``other``.
4. >= 3 distinct inversion times at one position (InversionTime, or the ``TI 180`` text of Siemens
   ImageComments), or a MOLLI/ShMOLLI/SASHA keyword with >= 3 images per position -> ``molli``.
5. A T2* or Dixon keyword -> ``other``; >= 2 distinct EchoTime or T2-prep durations (ImageComments
   ``T2 prep 25``) at one position, or a T2w/STIR/TIRM/black-blood keyword -> ``t2_weighted``.
6. A localiser keyword (loc, localizer, scout, survey, pilot), or single images in several
   orientations -> ``localiser``.
7. >= 10 distinct TriggerTimes per position, or a cine keyword with >= 2 images per position: a
   cine. The view comes from the keywords when they name one (sa, sax, short axis / lax, 2ch, 3ch,
   4ch, lvot, hla, vla, long axis), else from the geometry: within 20 degrees of the study's
   short-axis orientation -> ``sax_cine``; another orientation, or several -> ``lax_cine``.
8. An LGE keyword (lge, psir, de, delayed, late, mde, viability), or one image per position all at
   one InversionTime -> ``lge``.
9. Anything else -> ``other``, saying what the series holds.

The study's short-axis orientation is the one (within 20 degrees, either sign) shared by the most
distinct slice positions over all cine series, whether one stack or one series per slice as some
scanners export them; it needs >= 3 positions. Without one, a cine is long axis unless its
description names a short-axis view.

Stacks from single-slice series: short-axis cines of one slice each (as many scanners export a
short-axis cine, one series per slice) that share one orientation exactly and one phase count
form one stack (``stack``, >= 2 slices; where two series image one position, the higher
SeriesNumber, the repeat, is kept). Whether the stack is a complete, evenly spaced grid is
checked when it is read.

Post-contrast (MOLLI and T1 maps) comes from keywords only: post, postcontrast, post-gd -> True;
pre, precontrast, native -> False; else None. Inversion-time schemes (5(3)3 or 4(1)3(1)2) vary with
vendor and protocol, and T1 values would need the pixels, so neither is a reliable sign.
"""

from __future__ import annotations

import re
import warnings
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from pydicom.multival import MultiValue

from cmrseg.io import dicom as _dicom  # the reader's own scan and header checks
from cmrseg.keywords import keywords

__all__ = ["ClassifiedSeries", "discover_series", "KINDS"]

KINDS = ("sax_cine", "lax_cine", "lge", "molli", "t1_map", "t2_weighted", "t2_map", "localiser", "other")

_PARALLEL_DEG = 20.0  # a cine within this angle of the study's short axis is short axis
_SAME_PLANE_DEG = 1.0  # images of one series within this angle share an orientation
_CARDINAL_DEG = 10.0  # a normal this close to an LPS axis is sagittal / coronal / axial
_SAME_POSITION_MM = 0.5
_CINE_PHASES = 10
_MIN_STACK = 3

_TI_COMMENT = re.compile(r"\bTI\s*[:=]?\s*(\d+(?:\.\d+)?)", re.IGNORECASE)  # as cmrseg.mapping.series
_T2_PREP_COMMENT = re.compile(r"\bT2\s*-?\s*p(?:rep)?[a-z.]*\s*(?:duration)?\s*[:=]?\s*(\d+(?:\.\d+)?)", re.IGNORECASE)


@dataclass(frozen=True)
class ClassifiedSeries:
    """One series of a study folder, classified from its headers (module notes for the rules).

    Attributes
    ----------
    uid : str
        SeriesInstanceUID; ``"unknown"`` for images that carry none, ``""`` for an entry that lists
        files belonging to no series (not DICOM images, or unreadable).
    number : int or None
        SeriesNumber.
    description : str
        SeriesDescription, or ProtocolName when that is empty.
    n_files : int
        Files of the series.
    n_positions : int
        Distinct slice positions, over all orientations.
    n_phases : int
        Images per slice position (the most common count): cardiac phases of a cine, inversion
        times of a MOLLI series, 1 for LGE and maps.
    orientation : str
        Plane(s) and slice normal in LPS, e.g. ``"oblique, normal (0.55, -0.50, -0.67)"``.
    kind : str
        One of :data:`KINDS`.
    reason : str
        One line saying why ``kind``.
    angle_to_short_axis_deg : float or None
        Angle (degrees, 0-90) between the slice normal and the study's short-axis normal.
    inversion_times_ms : tuple of tuple of float
        MOLLI: the inversion time (ms) of each image, one tuple per slice position in
        InstanceNumber order; empty when the headers carry none.
    post_contrast : bool or None
        MOLLI and T1 maps: from keywords only (module notes); None when they say nothing.
    problem : str or None
        Why :func:`cmrseg.io.dicom.read_dicom_folder` would refuse the series, judged from the
        headers (pixel data is not decoded); None when they form a complete grid.
    stack : tuple of str
        A short-axis cine exported one series per slice: the SeriesInstanceUIDs of all the
        single-slice series of its stack (itself included), by position along the slice normal;
        read them together with ``read_dicom_folder(folder, series=item.stack)``. Empty for
        every other series.
    """

    uid: str
    number: int | None
    description: str
    n_files: int
    n_positions: int
    n_phases: int
    orientation: str
    kind: str
    reason: str
    angle_to_short_axis_deg: float | None = None
    inversion_times_ms: tuple[tuple[float, ...], ...] = ()
    post_contrast: bool | None = None
    problem: str | None = None
    stack: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The fields as JSON-ready values."""
        return asdict(self)

    def line(self) -> str:
        """One line: number, kind, images, description, reason (and the reader's problem)."""
        number = "-" if self.number is None else str(self.number)
        problem = f" [not readable as one image: {self.problem}]" if self.problem else ""
        images = f"{self.n_files} image{'' if self.n_files == 1 else 's'}"
        return f"{number:>5}  {self.kind:<11}  {images:>10}  {self.description!r}: {self.reason}{problem}"


@dataclass(frozen=True)
class _Head:
    """Header facts of one image: LPS geometry (mm), times (ms; None when absent)."""

    normal: np.ndarray  # (3,)
    position: np.ndarray  # (3,)
    instance: int
    trigger: float | None
    inversion: float | None
    inversion_from: str  # the tag it came from
    t2_time: float | None  # T2-prep duration from ImageComments, else EchoTime


@dataclass(frozen=True)
class _Series:
    """A series' images with usable headers, by orientation (most images first) and position."""

    uid: str
    number: int | None
    description: str
    keywords: frozenset[str]
    image_type: frozenset[str]
    n_files: int
    planes: tuple[tuple[np.ndarray, tuple[tuple[_Head, ...], ...]], ...]  # (normal, positions)
    failures: tuple[tuple[Path, str], ...]
    problem: str | None

    @property
    def positions(self) -> list[tuple[_Head, ...]]:
        return [p for _, positions in self.planes for p in positions]

    @property
    def n_phases(self) -> int:
        counts = Counter(len(p) for p in self.positions)
        return max(counts, key=lambda n: (counts[n], n)) if counts else 0

    def distinct(self, field: str) -> int:
        """Most distinct non-missing values of ``field`` at one slice position.

        Parameters
        ----------
        field : str
            A header fact of one image (a field of ``_Head``: ``trigger``, ``inversion``, ...).

        Returns
        -------
        int
            The largest number of distinct values other than None at any slice position; 0 when
            the series has no positions.
        """
        return max((len({getattr(h, field) for h in p} - {None}) for p in self.positions), default=0)


def _angle(a: np.ndarray, b: np.ndarray) -> float:
    """Angle in degrees (0-90) between two plane normals, sign ignored."""
    return float(np.degrees(np.arccos(min(1.0, abs(float(a @ b))))))


def _head(path: Path, ds: Any) -> _Head:
    """Facts of one image; ValueError (one line) when its geometry is unusable."""
    lacking = [tag for tag in _dicom._REQUIRED if not _dicom._has(ds, tag)]
    if lacking:
        raise ValueError(f"{path.name} lacks {', '.join(lacking)}")
    frame = _dicom._frame(path, ds)
    tags = _dicom._timing_tags(frame)
    comment = tags.get("ImageComments", "")
    ti, prep = _TI_COMMENT.search(comment), _T2_PREP_COMMENT.search(comment)
    inversion, source = tags.get("InversionTime"), "InversionTime"
    if inversion is None and ti:
        inversion, source = float(ti.group(1)), "ImageComments"
    try:
        instance = int(ds.get("InstanceNumber") or 0)
    except (TypeError, ValueError):
        instance = 0
    o = frame.orientation
    return _Head(
        np.cross(o[:3], o[3:]),
        frame.position,
        instance,
        frame.trigger,
        inversion,
        source,
        float(prep.group(1)) if prep else tags.get("EchoTime"),
    )


def _planes(heads: list[_Head]) -> tuple[tuple[np.ndarray, tuple[tuple[_Head, ...], ...]], ...]:
    """Heads by orientation (most images first), then by position along the normal."""
    groups: list[tuple[np.ndarray, list[_Head]]] = []
    for h in heads:
        match = next((g for g in groups if _angle(g[0], h.normal) <= _SAME_PLANE_DEG), None)
        if match is None:
            groups.append((h.normal, [h]))
        else:
            match[1].append(h)
    out = []
    for normal, members in sorted(groups, key=lambda g: -len(g[1])):
        positions: list[list[_Head]] = []
        for h in sorted(members, key=lambda h: float(h.position @ normal)):
            if positions and float((h.position - positions[-1][0].position) @ normal) <= _SAME_POSITION_MM:
                positions[-1].append(h)
            else:
                positions.append([h])
        out.append((normal, tuple(tuple(sorted(p, key=lambda h: h.instance)) for p in positions)))
    return tuple(out)


def _grid_problem(items: list[tuple[Path, Any]]) -> str | None:
    """Why the reader would refuse the series, from the headers (its own checks, without pixels)."""
    try:
        _dicom._check_required(items)
        frames = [_dicom._frame(path, ds) for path, ds in items]
        _dicom._check_unique(frames)
        _dicom._check_consistent(frames)
        o = frames[0].orientation
        normal = np.cross(o[:3], o[3:])
        by_pos = _dicom._slices(frames, normal)
        _dicom._order_frames(by_pos)
        _dicom._check_counts(by_pos)
        _dicom._check_spacing(list(by_pos))
        _dicom._check_stack(by_pos, normal, frames[0].spacing)
    except ValueError as exc:
        return _dicom._reason(exc)
    return None


def _image_type(items: list[tuple[Path, Any]]) -> frozenset[str]:
    """The ImageType values of all images, upper case (e.g. ``T1 MAP``)."""
    values: set[str] = set()
    for _, ds in items:
        try:
            raw = ds.get("ImageType")
        except Exception:  # malformed: nothing to learn from it
            continue
        parts = list(raw) if isinstance(raw, (list, tuple, MultiValue)) else str(raw or "").split("\\")
        values |= {str(v).strip().upper() for v in parts if str(v).strip()}
    return frozenset(values)


def _series(uid: str, items: list[tuple[Path, Any]]) -> _Series:
    heads, failures = [], []
    for path, ds in items:
        try:
            heads.append(_head(path, ds))
        except ValueError as exc:
            failures.append((path, _dicom._reason(exc)))
    first = items[0][1]
    description = _dicom._text(first, "SeriesDescription") or _dicom._text(first, "ProtocolName")
    return _Series(
        uid,
        _dicom._series_number(first),
        description,
        keywords(f"{_dicom._text(first, 'SeriesDescription')} {_dicom._text(first, 'ProtocolName')}"),
        _image_type(items),
        len(items),
        _planes(heads),
        tuple(failures),
        _grid_problem(items),
    )


# ---- classification ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Reference:
    """The study's short-axis orientation: slice normal (LPS) and distinct positions in it."""

    normal: np.ndarray
    n_positions: int


def _is_cine(s: _Series) -> bool:
    if s.distinct("inversion") >= 3 or s.distinct("t2_time") >= 2:
        return False
    return s.distinct("trigger") >= _CINE_PHASES or ("cine" in s.keywords and s.n_phases >= 2)


def _short_axis(series: list[_Series]) -> _Reference | None:
    """The orientation shared by the most cine slice positions (module notes); None under 3."""
    clusters: list[tuple[np.ndarray, set[int]]] = []
    for s in series:
        if len(s.planes) != 1 or not _is_cine(s) or ("lax" in s.keywords and "sax" not in s.keywords):
            continue
        normal, positions = s.planes[0]
        cluster = next((c for c in clusters if _angle(c[0], normal) <= _PARALLEL_DEG), None)
        if cluster is None:
            cluster = (normal, set())
            clusters.append(cluster)
        cluster[1].update(round(float(p[0].position @ cluster[0])) for p in positions)  # 1 mm bins
    if not clusters:
        return None
    normal, seen = max(clusters, key=lambda c: len(c[1]))
    return _Reference(normal, len(seen)) if len(seen) >= _MIN_STACK else None


def _said(s: _Series) -> str:
    return f"description '{s.description}'" if s.description else "no description"


def _layout(s: _Series, unit: str = "image") -> str:
    n, p = len(s.positions), s.n_phases
    slices = "slice" if n == 1 else ("parallel slices" if len(s.planes) == 1 else "slices")
    return f"{n} {slices} x {p} {unit}{'' if p == 1 else 's'}"


def _relation(s: _Series, ref: _Reference | None) -> str:
    if ref is None or len(s.planes) != 1:
        return ""
    angle = _angle(s.planes[0][0], ref.normal)
    return ", parallel to the short axis" if angle <= _PARALLEL_DEG else f", {angle:.0f} deg from the short axis"


def _times(values: set[float | None]) -> str:
    return ", ".join(f"{v:g}" for v in sorted(v for v in values if v is not None))


def _rule_unusable(s: _Series, ref: _Reference | None) -> tuple[str, str] | None:
    if s.planes:
        return None
    more = f" (and {len(s.failures) - 1} more images)" if len(s.failures) > 1 else ""
    return "other", f"cannot classify: {s.failures[0][1]}{more}"


def _rule_ti_scout(s: _Series, ref: _Reference | None) -> tuple[str, str] | None:
    if "tiscout" in s.keywords:
        return "other", f"TI scout (Look-Locker) to choose the LGE inversion time; {_said(s)}"
    return None


def _rule_map(s: _Series, ref: _Reference | None) -> tuple[str, str] | None:
    for kind, q in (("t1_map", "T1"), ("t2_map", "T2")):
        exact = {f"{q} MAP", f"{q}MAP", f"{q}_MAP"} & s.image_type
        if exact or {q, "MAP"} <= s.image_type:
            found = f"'{min(exact)}'" if exact else f"'MAP' and '{q}'"
            return kind, f"ImageType contains {found}; {_layout(s)}"
    said = {"t1_map": "t1map" in s.keywords or "molli" in s.keywords, "t2_map": "t2map" in s.keywords}
    if "MAP" in s.image_type:
        kind = next((k for k, yes in said.items() if yes), None)
        if kind is None:
            return "other", f"ImageType contains 'MAP' but neither it nor the {_said(s)} names T1 or T2"
        return kind, f"ImageType contains 'MAP' and the {_said(s)} names a {kind[:2].upper()} map; {_layout(s)}"
    for kind in ("t1_map", "t2_map"):
        if s.n_phases == 1 and (kind[:2] + "map") in s.keywords:
            return kind, f"{_said(s)} names a {kind[:2].upper()} map; {_layout(s)}"
    return None


def _rule_molli(s: _Series, ref: _Reference | None) -> tuple[str, str] | None:
    n = s.distinct("inversion")
    if n >= 3:
        heads = [h for p in s.positions for h in p]
        source = sorted({h.inversion_from for h in heads if h.inversion is not None})
        tis = _times({h.inversion for h in heads})
        return "molli", f"{_layout(s)}, {n} inversion times ({tis} ms, from {'/'.join(source)}); {_said(s)}"
    if "molli" in s.keywords and s.n_phases >= 3:
        return "molli", f"{_said(s)} names MOLLI/ShMOLLI/SASHA; {_layout(s)}, no inversion times in the headers"
    return None


def _rule_t2(s: _Series, ref: _Reference | None) -> tuple[str, str] | None:
    if "t2star" in s.keywords:
        return "other", f"{_said(s)} names T2* or Dixon imaging, not a class here; {_layout(s)}"
    if s.distinct("t2_time") >= 2:
        times = _times({h.t2_time for p in s.positions for h in p})
        return "t2_weighted", f"{_layout(s)} at {s.distinct('t2_time')} echo / T2-prep times ({times} ms)"
    if "t2w" in s.keywords:
        return "t2_weighted", f"{_said(s)} names T2-weighted imaging (T2w, STIR, T2-prep, black blood); {_layout(s)}"
    return None


def _rule_localiser(s: _Series, ref: _Reference | None) -> tuple[str, str] | None:
    if "localiser" in s.keywords:
        return "localiser", f"{_said(s)} names a localiser; {_layout(s)}"
    if len(s.planes) > 1 and s.n_phases == 1:
        planes = ", ".join(_plane_name(n) for n, _ in s.planes)
        return "localiser", f"{_layout(s)} in {len(s.planes)} orientations ({planes}); {_said(s)}"
    return None


def _geometric_view(s: _Series, ref: _Reference | None) -> tuple[str, str]:
    if len(s.planes) > 1:
        return "lax_cine", f"{len(s.planes)} orientations (radial long-axis views)"
    if ref is None:
        return "lax_cine", "no short-axis cine stack in the study to compare with"
    angle = _angle(s.planes[0][0], ref.normal)
    if angle <= _PARALLEL_DEG:
        tilt = f", {angle:.0f} deg" if angle >= 1 else ""
        return "sax_cine", f"in the study's short-axis orientation ({ref.n_positions} positions{tilt})"
    return "lax_cine", f"{angle:.0f} deg from the study's short axis"


def _rule_cine(s: _Series, ref: _Reference | None) -> tuple[str, str] | None:
    if not _is_cine(s):
        return None
    layout = _layout(s, "phase")
    kind, why = _geometric_view(s, ref)
    said_sax, said_lax = "sax" in s.keywords, "lax" in s.keywords
    if said_sax == said_lax:
        return kind, f"{layout}, {why}; {_said(s)}"
    named = "sax_cine" if said_sax else "lax_cine"
    view = f"{_said(s)} names a {'short' if said_sax else 'long'}-axis view"
    if named == kind:
        return named, f"{layout}, {why}; {view}"
    return named, f"{layout}; {view}, which decides although the geometry says {why}"


def _rule_lge(s: _Series, ref: _Reference | None) -> tuple[str, str] | None:
    if "lge" in s.keywords:
        return "lge", f"{_said(s)} names LGE; {_layout(s)}{_relation(s, ref)}"
    tis = {h.inversion for p in s.positions for h in p}
    if s.n_phases == 1 and len(tis) == 1 and None not in tis:
        return "lge", f"{_layout(s)}{_relation(s, ref)}, all at inversion time {_times(tis)} ms; {_said(s)}"
    return None


def _rule_other(s: _Series, ref: _Reference | None) -> tuple[str, str]:
    return "other", f"{_layout(s)}{_relation(s, ref)}; no rule matched ({_said(s)})"


_RULES = (_rule_unusable, _rule_ti_scout, _rule_map, _rule_molli, _rule_t2, _rule_localiser, _rule_cine, _rule_lge)


def _plane_name(normal: np.ndarray) -> str:
    for name, axis in (("sagittal", 0), ("coronal", 1), ("axial", 2)):
        if _angle(normal, np.eye(3)[axis]) <= _CARDINAL_DEG:
            return name
    return "oblique"


def _orientation(s: _Series) -> str:
    if not s.planes:
        return "unknown"
    if len(s.planes) > 1:
        return f"{len(s.planes)} orientations: " + ", ".join(_plane_name(n) for n, _ in s.planes)
    normal = s.planes[0][0]
    return f"{_plane_name(normal)}, normal ({', '.join(f'{v:.2f}' for v in normal)})"


def _classified(s: _Series, ref: _Reference | None) -> ClassifiedSeries:
    kind, reason = next((r for r in (rule(s, ref) for rule in _RULES) if r is not None), None) or _rule_other(s, ref)
    angle = _angle(s.planes[0][0], ref.normal) if ref is not None and len(s.planes) == 1 else None
    tis: tuple[tuple[float, ...], ...] = ()
    if kind == "molli" and all(h.inversion is not None for p in s.positions for h in p):
        tis = tuple(tuple(float(h.inversion) for h in p) for p in s.positions)
    post = ("post" in s.keywords) if ("post" in s.keywords) != ("pre" in s.keywords) else None
    if s.failures and s.planes:
        reason += f"; {len(s.failures)} images unusable ({s.failures[0][1]})"
    return ClassifiedSeries(
        uid=s.uid,
        number=s.number,
        description=s.description,
        n_files=s.n_files,
        n_positions=len(s.positions),
        n_phases=s.n_phases,
        orientation=_orientation(s),
        kind=kind,
        reason=reason,
        angle_to_short_axis_deg=None if angle is None else round(angle, 1),
        inversion_times_ms=tis,
        post_contrast=post if kind in ("molli", "t1_map") else None,
        problem=s.problem,
    )


def _stack_members(series: list[_Series], kinds: dict[str, str], ref: _Reference) -> list[list[_Series]]:
    """Single-slice short-axis cines that can form stacks: grouped by exact orientation and phase
    count, one series per slice position (a repeated position keeps the highest SeriesNumber)."""
    groups: dict[tuple, list[_Series]] = defaultdict(list)
    for s in series:
        if kinds[s.uid] != "sax_cine" or s.problem or len(s.planes) != 1 or len(s.positions) != 1:
            continue
        normal = s.planes[0][0] * np.sign(float(s.planes[0][0] @ ref.normal) or 1.0)
        if _angle(normal, ref.normal) <= _PARALLEL_DEG:
            groups[(s.n_phases, *np.round(normal, 3).tolist())].append(s)
    stacks = []
    for members in groups.values():
        normal = members[0].planes[0][0]
        by_position: dict[int, _Series] = {}
        for s in sorted(members, key=lambda s: (s.number is None, s.number or 0)):
            by_position[round(float(s.positions[0][0].position @ normal) / _SAME_POSITION_MM)] = s
        if len(by_position) >= 2:
            stacks.append([by_position[k] for k in sorted(by_position)])
    return stacks


def _stacked(series: list[_Series], found: list[ClassifiedSeries], ref: _Reference | None) -> list[ClassifiedSeries]:
    """``found`` with the single-slice short-axis cines that form a stack marked (``stack``)."""
    if ref is None:
        return found
    by_uid = {c.uid: c for c in found}
    for members in _stack_members(series, {c.uid: c.kind for c in found}, ref):
        uids = tuple(s.uid for s in members)
        numbers = ", ".join("-" if s.number is None else str(s.number) for s in members)
        note = f"; one of {len(uids)} single-slice series stacked into one short-axis cine (series {numbers})"
        for uid in uids:
            by_uid[uid] = replace(by_uid[uid], stack=uids, reason=by_uid[uid].reason + note)
    return [by_uid[c.uid] for c in found]


def _leftovers(scan: Any) -> list[ClassifiedSeries]:
    """Entries for files that belong to no series: unreadable ones, and ones that are not DICOM images."""
    groups = [
        ("(unreadable files)", [p for p, _ in scan.broken], f": {scan.broken[0][1]}" if scan.broken else ""),
        ("(not DICOM images)", scan.skipped, ", skipped"),
    ]
    return [
        ClassifiedSeries("", None, what, len(paths), 0, 0, "unknown", "other", f"{_dicom._names(paths)}{why}")
        for what, paths, why in groups
        if paths
    ]


def discover_series(folder: Path | str) -> list[ClassifiedSeries]:
    """Find and classify every DICOM series under ``folder`` (recursively), from headers only.

    Parameters
    ----------
    folder : Path or str
        A study folder: a scanner export or PACS download, flat or in subfolders.

    Returns
    -------
    list of ClassifiedSeries
        One per SeriesInstanceUID, by SeriesNumber; then, when there are any, one entry listing
        the files that could not be parsed and one listing those that are not DICOM images
        (``uid == ""``, kind ``other``). Nothing is dropped silently.

    Raises
    ------
    FileNotFoundError
        ``folder`` is not a folder.
    ValueError
        No DICOM image under ``folder``.

    Notes
    -----
    The rules are in the module notes. Read a series with
    ``read_dicom_folder(folder, series=item.uid)`` (or its number, when unambiguous).
    """
    folder = Path(folder)
    with warnings.catch_warnings():  # pydicom warns on non-conformant values, common in the wild
        warnings.simplefilter("ignore")
        scan = _dicom._scan(folder)
        series = [_series(uid, items) for uid, items in scan.series.items()]
    if not series:
        skipped = f"; skipped as not DICOM images: {_dicom._names(scan.skipped)}" if scan.skipped else ""
        broken = f"; unreadable: {_dicom._names(p for p, _ in scan.broken)}" if scan.broken else ""
        raise ValueError(f"no DICOM images found in {folder}{skipped}{broken}")
    ref = _short_axis(series)
    found = _stacked(series, [_classified(s, ref) for s in series], ref)
    found.sort(key=lambda c: (c.number is None, c.number or 0, c.uid))
    return found + _leftovers(scan)
