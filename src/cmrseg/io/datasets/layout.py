"""The cmrseg on-disk dataset layout.

::

    DST/
      dataset.json          name, source, licence, labels, cases
      images/<case>.nii.gz  (X, Y, Z) short-axis stack (or (X, Y) slice)
      labels/<case>.nii.gz  same grid, ACDC label values (0 bg, 1 RV, 2 MYO, 3 LV)

Each case in ``dataset.json`` is ``{"id", "subject", "image", "label", "phase", ...}`` with
paths relative to DST. ``subject`` groups cases of one person for patient-level splits.
``labelled_classes`` lists which label values are annotated (others are unknown, not
background); ``spacing_known`` is false when the source carried no pixel spacing.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cmrseg.io.atomic import atomic_write
from cmrseg.labels import LABEL_NAMES

__all__ = ["Case", "Dataset", "load_dataset", "save_dataset"]


@dataclass(frozen=True)
class Case:
    id: str
    subject: str
    image: str
    label: str | None = None
    phase: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Dataset:
    root: Path
    name: str
    cases: tuple[Case, ...]
    source: str = ""
    licence: str = ""
    spacing_known: bool = True
    labelled_classes: tuple[int, ...] = (1, 2, 3)

    @property
    def subjects(self) -> list[str]:
        return sorted({c.subject for c in self.cases})


def save_dataset(ds: Dataset) -> None:
    """Write ``dataset.json`` for ``ds`` (atomically).

    Parameters
    ----------
    ds : Dataset
        The dataset; the file is written to ``ds.root / "dataset.json"`` with its name, source,
        licence, ``spacing_known``, the label names, ``labelled_classes`` and cases.

    Returns
    -------
    None
    """
    doc = {
        "name": ds.name,
        "source": ds.source,
        "licence": ds.licence,
        "spacing_known": ds.spacing_known,
        "labels": {str(k): v for k, v in LABEL_NAMES.items()},
        "labelled_classes": list(ds.labelled_classes),
        "cases": [asdict(c) for c in ds.cases],
    }
    atomic_write(ds.root / "dataset.json", lambda p: p.write_text(json.dumps(doc, indent=1)))


def load_dataset(root: Path | str) -> Dataset:
    """Read a dataset folder written by ``cmrseg convert``.

    Parameters
    ----------
    root : pathlib.Path or str
        The dataset folder, holding ``dataset.json``.

    Returns
    -------
    Dataset
        The dataset rooted at ``root``; fields missing from ``dataset.json`` take their defaults
        (name: the folder name, ``spacing_known`` true, ``labelled_classes`` (1, 2, 3)).

    Raises
    ------
    FileNotFoundError
        ``root`` has no ``dataset.json``.
    ValueError
        ``dataset.json`` is not valid JSON, or its cases are missing or malformed.
    """
    root = Path(root)
    meta = root / "dataset.json"
    if not meta.exists():
        raise FileNotFoundError(f"{root} is not a cmrseg dataset: no dataset.json (run cmrseg convert)")
    try:
        doc = json.loads(meta.read_text())
        cases = tuple(Case(**c) for c in doc["cases"])
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"{meta} is not a valid cmrseg dataset.json: {type(exc).__name__} {exc}") from None
    return Dataset(
        root=root,
        name=doc.get("name", root.name),
        cases=cases,
        source=doc.get("source", ""),
        licence=doc.get("licence", ""),
        spacing_known=doc.get("spacing_known", True),
        labelled_classes=tuple(doc.get("labelled_classes", (1, 2, 3))),
    )
