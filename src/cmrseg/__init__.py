"""cmrseg: cardiac MRI segmentation, mapping and quantification.

Public API (imported lazily so ``import cmrseg`` stays fast)::

    from cmrseg import Predictor, segment, read_image, fit_t1_molli, cardiac_function
    from cmrseg import segment_series, t1_pipeline      # guided series segmentation, T1 / ECV pipeline
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_API = {
    "Image": "cmrseg.image",
    "LabelMap": "cmrseg.image",
    "Label": "cmrseg.labels",
    "read_image": "cmrseg.io.nifti",
    "read_labels": "cmrseg.io.nifti",
    "write_image": "cmrseg.io.nifti",
    "write_labels": "cmrseg.io.nifti",
    "read_dicom_folder": "cmrseg.io.dicom",
    "discover_series": "cmrseg.io.series",
    "run_study": "cmrseg.workflows.study",
    "run_cohort": "cmrseg.workflows.cohort",
    "write_dicom_seg": "cmrseg.io.dicom_out",
    "write_parametric_map": "cmrseg.io.dicom_out",
    "Predictor": "cmrseg.predict",
    "segment": "cmrseg.predict",
    "predict_file": "cmrseg.workflows.predict",
    "fit_t1_molli": "cmrseg.mapping",
    "fit_t2": "cmrseg.mapping",
    "fit_t1rho": "cmrseg.mapping",
    "ecv_map": "cmrseg.mapping",
    "cardiac_function": "cmrseg.function",
    "cine_function": "cmrseg.function",
    "slice_contours": "cmrseg.contours",
    "evaluate_arrays": "cmrseg.evaluate",
    "evaluate_paths": "cmrseg.workflows.evaluate",
    "evaluate_folder": "cmrseg.workflows.evaluate",
    "function_from_files": "cmrseg.workflows.report",
    "report_from_files": "cmrseg.workflows.report",
    "segment_series_file": "cmrseg.workflows.segment_series",
    "fit_map_file": "cmrseg.workflows.maps",
    "ecv_file": "cmrseg.workflows.maps",
    "export_contours": "cmrseg.workflows.contours",
    "contours_to_labelmap": "cmrseg.workflows.contours",
    "augmentation_preview": "cmrseg.workflows.preview",
    "list_series": "cmrseg.workflows.series",
    "read_series": "cmrseg.io.mapping_series",
    "aha_stack": "cmrseg.aha",
    "AhaConvention": "cmrseg.aha",
    "map_value_tables": "cmrseg.aha",
    "slice_levels": "cmrseg.geometry",
    "apex_side": "cmrseg.geometry",
    "slice_table": "cmrseg.function",
    "agreement": "cmrseg.agreement",
    "segment_series": "cmrseg.series_segmentation",
    "translate_guide": "cmrseg.guide",
    "register_series": "cmrseg.mapping.registration",
    "process_series": "cmrseg.workflows.t1_pipeline",
    "t1_pipeline": "cmrseg.workflows.t1_pipeline",
}

__all__ = sorted(_API) + ["__version__"]


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'cmrseg' has no attribute {name!r}")
