"""Readers and writers: NIfTI, DICOM folders, contours, and dataset converters."""

from cmrseg.io.nifti import read_image, read_labels, write_image, write_labels

__all__ = ["read_image", "read_labels", "write_image", "write_labels"]
