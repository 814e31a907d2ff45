"""cmrseg: cardiac MRI segmentation, mapping and quantification."""

__version__ = "0.1.0"
