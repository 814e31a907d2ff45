"""Quantitative mapping: signal models, a vectorised fitter, T1/T2/T1rho maps, blood T1, ECV."""

from cmrseg.mapping.ecv import MapQuality, blood_t1, ecv_map, ecv_region, map_quality
from cmrseg.mapping.fits import MappingResult, fit_t1_ir, fit_t1_molli, fit_t1rho, fit_t2
from cmrseg.mapping.fitter import FitFailure

__all__ = [
    "FitFailure",
    "MapQuality",
    "MappingResult",
    "blood_t1",
    "ecv_map",
    "ecv_region",
    "fit_t1_ir",
    "fit_t1_molli",
    "fit_t1rho",
    "fit_t2",
    "map_quality",
]
