"""Dataset converters from public data into the cmrseg dataset layout (see layout.py)."""

from cmrseg.io.datasets.layout import Case, Dataset, load_dataset
from cmrseg.io.datasets.registry import CONVERTERS, convert

__all__ = ["CONVERTERS", "Case", "Dataset", "convert", "load_dataset"]
