"""Name -> converter registry used by ``cmrseg convert DATASET SRC DST``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cmrseg.io.datasets.layout import Dataset

__all__ = ["CONVERTERS", "convert"]


def _acdc(src: Path, dst: Path) -> Dataset:
    from cmrseg.io.datasets.acdc import convert_acdc

    return convert_acdc(src, dst)


def _myops(src: Path, dst: Path) -> Dataset:
    from cmrseg.io.datasets.myops import convert_myops

    return convert_myops(src, dst)


def _mnms2(src: Path, dst: Path) -> Dataset:
    from cmrseg.io.datasets.mnms2 import convert_mnms2

    return convert_mnms2(src, dst)


def _sunnybrook(src: Path, dst: Path) -> Dataset:
    from cmrseg.io.datasets.sunnybrook import convert_sunnybrook

    return convert_sunnybrook(src, dst)


def _t1net(src: Path, dst: Path) -> Dataset:
    from cmrseg.io.datasets.t1net import convert_t1net

    return convert_t1net(src, dst)


CONVERTERS: dict[str, Callable[[Path, Path], Dataset]] = {
    "acdc": _acdc,
    "myops": _myops,
    "mnms2": _mnms2,
    "sunnybrook": _sunnybrook,
    "t1net": _t1net,
}


def convert(name: str, src: Path | str, dst: Path | str) -> Dataset:
    """Convert the public dataset ``name`` found in ``src`` into the layout at ``dst``.

    Parameters
    ----------
    name : str
        A key of :data:`CONVERTERS`: ``acdc``, ``myops``, ``mnms2``, ``sunnybrook`` or ``t1net``.
    src : pathlib.Path or str
        The folder holding the downloaded dataset.
    dst : pathlib.Path or str
        The dataset folder to write.

    Returns
    -------
    Dataset
        The converted dataset, as written to ``dst / "dataset.json"``.

    Raises
    ------
    ValueError
        ``name`` is not a known dataset (or the converter finds malformed data).
    FileNotFoundError
        ``src`` is not a folder (or the converter finds no files of the dataset in it).
    """
    if name not in CONVERTERS:
        raise ValueError(f"unknown dataset {name!r}; valid: {sorted(CONVERTERS)}")
    src = Path(src)
    if not src.is_dir():
        raise FileNotFoundError(f"source folder {src} does not exist")
    return CONVERTERS[name](src, Path(dst))
