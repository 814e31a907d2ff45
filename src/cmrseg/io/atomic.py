"""Write-to-temporary-then-rename, so a failed write leaves nothing half-written.

A write that fails (no space left, a read-only folder, an interrupt) removes its temporary file
or folder and any parent folders it created, and re-raises the ``OSError`` for the caller (the
CLI turns it into one line).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["atomic_write", "atomic_directory", "check_output"]


def check_output(path: Path, overwrite: bool) -> None:
    """Raise ``FileExistsError`` if ``path`` exists and ``overwrite`` is false.

    Parameters
    ----------
    path : pathlib.Path
        The output file or folder about to be written.
    overwrite : bool
        Whether an existing ``path`` may be replaced.

    Returns
    -------
    None

    Raises
    ------
    FileExistsError
        ``path`` exists and ``overwrite`` is false (the message suggests ``--overwrite``).
    """
    if path.exists() and not overwrite:
        raise FileExistsError(f"output {path} exists; pass --overwrite to replace it")


def _make_parents(folder: Path) -> list[Path]:
    """Create ``folder`` and its missing parents; the created ones, deepest first."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for m in reversed(missing):
        m.mkdir(exist_ok=True)
    return missing


def _remove_empty(folders: list[Path]) -> None:
    for f in folders:  # deepest first; stop at one that is not empty (someone else wrote there)
        try:
            f.rmdir()
        except OSError:
            return


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary path beside ``path``, then rename it to ``path``.

    Parameters
    ----------
    path : pathlib.Path
        The file to write; missing parent folders are created (and removed again on failure).
    write : callable
        ``write(tmp)`` writes the content to the temporary path ``tmp`` (a :class:`pathlib.Path` in
        the same folder, with the same suffixes as ``path``).

    Returns
    -------
    None

    Notes
    -----
    The file gets the usual mode (``0o666`` less the umask), not the private mode of a temporary
    file. On any failure the temporary file and the created parent folders are removed and the
    exception is re-raised.
    """
    path = Path(path)
    created = _make_parents(path.parent)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix="".join(path.suffixes), dir=path.parent)
        os.close(fd)
        write(Path(tmp))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes private files; outputs get the usual mode
        os.replace(tmp, path)
    except BaseException:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        _remove_empty(created)
        raise


def _replace_folder(new: Path, path: Path) -> None:
    """Rename ``new`` to ``path``; an existing ``path`` is set aside first and restored on failure."""
    if not path.exists():
        os.replace(new, path)
        return
    old = Path(tempfile.mkdtemp(prefix=f".old-{path.name}-", dir=path.parent))
    os.replace(path, old / path.name)
    try:
        os.replace(new, path)
    except BaseException:
        os.replace(old / path.name, path)
        old.rmdir()
        raise
    shutil.rmtree(old)


def atomic_directory(path: Path, overwrite: bool, fill: Callable[[Path], None]) -> None:
    """Call ``fill(tmp_dir)`` on a temporary folder beside ``path``, then rename it to ``path``.

    Parameters
    ----------
    path : pathlib.Path
        The folder to create; missing parent folders are created (and removed again on failure).
    overwrite : bool
        Whether an existing ``path`` may be replaced.
    fill : callable
        ``fill(tmp_dir)`` writes the folder's content into the temporary folder ``tmp_dir``
        (a :class:`pathlib.Path`).

    Returns
    -------
    None

    Raises
    ------
    FileExistsError
        ``path`` exists and ``overwrite`` is false.

    Notes
    -----
    A failure leaves nothing; an existing ``path`` needs ``overwrite`` and is replaced only once
    the new folder is complete.
    """
    path = Path(path)
    check_output(path, overwrite)
    created = _make_parents(path.parent)
    tmp = None
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{path.name}-", dir=path.parent))
        fill(tmp)
        _replace_folder(tmp, path)
    except BaseException:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        _remove_empty(created)
        raise
