"""The ``cmrseg`` command: a thin layer over the Python API.

:mod:`cmrseg.cli.commands` defines each command (its arguments, and a handler that calls one
public function); :mod:`cmrseg.cli.preflight` checks inputs and outputs with the standard library
only before any heavy import. Errors in the user's input, and ``OSError`` from writing (no space
left, read-only folder), become one line on stderr and exit status 2; warnings print as one line;
a failed command removes the outputs it created.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
import warnings
from pathlib import Path

from cmrseg.cli.commands import build_parser
from cmrseg.cli.preflight import OUTPUTS, Rollback, check_arguments

__all__ = ["main", "build_parser"]


_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS}


def _error_line(a: argparse.Namespace, exc: BaseException) -> str:
    """One line for an error: the message, or for an ``OSError`` from writing, which output failed."""
    msg: object = exc
    if isinstance(exc, OSError) and not isinstance(exc, FileExistsError) and exc.strerror:
        spec = OUTPUTS.get(a.command)
        out = Path(getattr(a, spec[0])) if spec and getattr(a, spec[0], None) is not None else None
        name = Path(exc.filename) if exc.filename else None
        ours = name is not None and (name == out or out in name.parents or name.name[:5] in (".tmp-", ".old-"))
        if out is not None and (exc.errno in _WRITE_ERRNOS or ours):
            msg = f"cannot write {out}: {exc.strerror}"
        elif name is not None:
            msg = f"{exc.strerror}: {name}"
    return " ".join(str(msg).split("\n"))


def _show_warning(command: str):  # noqa: ANN202
    def show(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
        text = " ".join(str(message).split("\n"))
        print(f"cmrseg {command}: warning: {text}", file=sys.stderr if file is None else file)

    return show


def _run(a: argparse.Namespace) -> None:
    """Checks, then the command; the outputs it created are removed again if it fails."""
    check_arguments(a)
    rollback = Rollback(a)
    try:
        a.func(a)
    except BrokenPipeError:
        raise
    except BaseException:
        rollback.undo()
        raise


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2, one line already printed)
        return exc.code if isinstance(exc.code, int) else 2
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning(args.command)
            warnings.filterwarnings("default", module=r"cmrseg\.")  # our own warnings are for the user
            _run(args)
    except BrokenPipeError:  # output piped into e.g. `head`, which closed early: not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (ValueError, OSError) as exc:  # bad input, missing files, a full disk, a read-only folder
        print(f"cmrseg {args.command}: error: {_error_line(args, exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("cmrseg: interrupted", file=sys.stderr)
        return 130
    return 0
