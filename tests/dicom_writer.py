"""Write synthetic DICOM series with pydicom, for reader tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid


def write_series(
    folder: Path,
    volume: np.ndarray,
    spacing_rc=(1.25, 1.5),
    slice_mm=8.0,
    orientation=(1, 0, 0, 0, 1, 0),
    origin=(-100.0, -80.0, 20.0),
    series_uid=None,
    slope=2.0,
    intercept=-10.0,
    trigger_ms=None,
    order=None,
) -> str:
    """Write ``volume`` (rows, cols, slices[, frames]) stored values; returns the SeriesInstanceUID.

    Files are written in ``order`` (a permutation) so readers must sort them.
    """
    folder.mkdir(parents=True, exist_ok=True)
    vol = volume if volume.ndim == 4 else volume[..., None]
    uid = series_uid or generate_uid()
    row, col = np.array(orientation[:3], float), np.array(orientation[3:], float)
    normal = np.cross(row, col)
    items = [(z, t) for z in range(vol.shape[2]) for t in range(vol.shape[3])]
    order = order if order is not None else np.random.default_rng(0).permutation(len(items))
    for k, idx in enumerate(order):
        z, t = items[idx]
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = MRImageStorage
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = FileDataset(str(folder / f"{k}.dcm"), {}, file_meta=meta, preamble=b"\0" * 128)
        ds.SOPClassUID = MRImageStorage
        ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
        ds.Modality = "MR"
        ds.SeriesInstanceUID = uid
        ds.SeriesNumber = 7
        ds.SeriesDescription = "synthetic sax"
        ds.Rows, ds.Columns = vol.shape[:2]
        ds.PixelSpacing = [spacing_rc[0], spacing_rc[1]]
        ds.SliceThickness = slice_mm
        ds.ImageOrientationPatient = list(orientation)
        ds.ImagePositionPatient = list(np.asarray(origin) + z * slice_mm * normal)
        ds.TriggerTime = trigger_ms[t] if trigger_ms is not None else 40.0 * t
        ds.InstanceNumber = k + 1
        ds.RescaleSlope, ds.RescaleIntercept = slope, intercept
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.PixelData = vol[:, :, z, t].astype(np.int16).tobytes()
        ds.save_as(folder / f"{k}.dcm", enforce_file_format=True)
    return uid
