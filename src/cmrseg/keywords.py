"""Words in series descriptions, protocol names and file names that say what an image is.

Pure text matching (no I/O): :mod:`cmrseg.io.series` classifies DICOM series with it, and
``cmrseg predict --model auto`` (:func:`cmrseg.models.shipped.auto_model`) reads a 3D stack's
description or file name with it. Keywords are matched as words, case-insensitive: letters may
not touch a keyword, digits and ``_`` may (``sa_ed``, ``frame01``, ``cine2``).
"""

from __future__ import annotations

import re

__all__ = ["KEYWORDS", "keywords", "names_a_cine"]

_B, _E = r"(?<![a-z])", r"(?![a-z])"
#: keyword name -> the words (regular expression alternatives) that say it
KEYWORDS: dict[str, re.Pattern[str]] = {
    name: re.compile(f"{_B}(?:{alternatives}){_E}")
    for name, alternatives in {
        "tiscout": r"ti[-_ ]?scout|look[-_ ]?locker|ti[-_ ]?finder",
        "t1map": r"t1[-_ ]?maps?",
        "t2map": r"t2[-_ ]?maps?",
        "molli": r"molli|shmolli|sasha",
        "t2star": r"t2\*|t2[-_ ]?star|r2\*|dixon",
        "t2w": r"t2w|t2[-_ ]?weighted|stir|tirm|t2[-_ ]?prep|t2[-_ ]?tse|black[-_ ]?blood|dark[-_ ]?blood",
        "localiser": r"loc|locali[sz]er|scout|survey|pilot|tri[-_ ]?pilot",
        "cine": r"cines?|trufi|fiesta|b?ssfp|bffe|balanced[-_ ]?ffe",
        # a cardiac phase of a cine saved as its own file: ACDC patient001_frame01, M&Ms 001_SA_ED, UK Biobank sa_ES
        "cine_phase": r"ed|es|frame|end[-_ ]?diastol[a-z]*|end[-_ ]?systol[a-z]*",
        "sax": r"sa|sax|short[-_ ]?axis|sht[-_ ]?ax",
        "lax": r"lax|[234][-_ ]?ch(?:amber)?|ch[234]|lvot|hla|vla|long[-_ ]?axis",
        "lge": r"lge|psir|de|delayed|late|mde|viability",
        "post": r"post|post[-_ ]?contrast|post[-_ ]?gd|post[-_ ]?gad",
        "pre": r"pre|pre[-_ ]?contrast|native?",
    }.items()
}
#: keywords of anything that is not a cine: they overrule a cine keyword in :func:`names_a_cine`
NOT_CINE = frozenset({"tiscout", "t1map", "t2map", "molli", "t2star", "t2w", "localiser", "lge"})


def keywords(text: str) -> frozenset[str]:
    """The keyword names of :data:`KEYWORDS` found in ``text``.

    Parameters
    ----------
    text : str
        A series description, protocol name or file name.

    Returns
    -------
    frozenset of str
        E.g. ``{"cine", "sax"}`` for ``"CINE_SAX_retro"``.
    """
    lowered = text.lower()
    return frozenset(name for name, rx in KEYWORDS.items() if rx.search(lowered))


def names_a_cine(text: str) -> bool:
    """Whether ``text`` says its image is a cine (or one cardiac phase of one) and nothing else.

    Parameters
    ----------
    text : str
        A series description, protocol name and / or file name.

    Returns
    -------
    bool
        True for a cine keyword (cine, trufi, fiesta, ssfp, bffe) or a cine phase (ED, ES, frame,
        end-diastole / -systole) with no keyword of another kind (LGE, T2w, MOLLI, maps, T2*,
        TI scout, localiser).
    """
    found = keywords(text)
    return bool(found & {"cine", "cine_phase"}) and not found & NOT_CINE
