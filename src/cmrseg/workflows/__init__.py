"""Workflows: files in -> steps -> files out; one public function per ``cmrseg`` command.

==================  ==============================  ===============================================
command             function                        module
==================  ==============================  ===============================================
predict             ``predict_file``                :mod:`cmrseg.workflows.predict`
segment-series      ``segment_series_file``         :mod:`cmrseg.workflows.segment_series`
t1-pipeline         ``t1_pipeline``                 :mod:`cmrseg.workflows.t1_pipeline`
t1map/t2map/...     ``fit_map_file``                :mod:`cmrseg.workflows.maps`
ecv                 ``ecv_file``                    :mod:`cmrseg.workflows.maps`
evaluate            ``evaluate_folder``             :mod:`cmrseg.workflows.evaluate`
function, report    ``function_from_files``,        :mod:`cmrseg.workflows.report`
                    ``report_from_files``
contours            ``export_contours``             :mod:`cmrseg.workflows.contours`
contours-to-mask    ``contours_to_labelmap``        :mod:`cmrseg.workflows.contours`
augment-preview     ``augmentation_preview``        :mod:`cmrseg.workflows.preview`
series              ``list_series``                 :mod:`cmrseg.workflows.series`
study               ``run_study``                   :mod:`cmrseg.workflows.study`
cohort              ``run_cohort``                  :mod:`cmrseg.workflows.cohort`
==================  ==============================  ===============================================

``convert``, ``train``, ``finetune`` and ``pseudo-label`` call :func:`cmrseg.io.datasets.convert`,
:func:`cmrseg.train.train` and :func:`cmrseg.train.pseudo.pseudo_label_dataset`. Each function
checks its outputs (:func:`cmrseg.io.atomic.check_output`) before it computes anything. The
modules are imported lazily, so ``import cmrseg.workflows`` loads none of them::

    from cmrseg.workflows import run_study     # a whole DICOM study
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
