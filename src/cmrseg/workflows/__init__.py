"""Workflows: files in -> steps -> files out, one public function each.

Imported lazily, so ``import cmrseg.workflows`` loads none of them::

    from cmrseg.workflows import run_study     # a whole DICOM study (cmrseg.workflows.study)
    from cmrseg.workflows import run_cohort    # every study under a folder, on Dask (cmrseg.workflows.cohort)
"""

from __future__ import annotations

import importlib
from typing import Any

_API = {
    "run_study": "cmrseg.workflows.study",
    "StudyResult": "cmrseg.workflows.study",
    "SeriesResult": "cmrseg.workflows.study",
    "run_cohort": "cmrseg.workflows.cohort",
    "CohortResult": "cmrseg.workflows.cohort",
}

__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'cmrseg.workflows' has no attribute {name!r}")
