"""Fuzz the DICOM reader with damaged copies of a real Sunnybrook cine folder (issue 14).

Each variant is a copy of 6 slices x 20 phases of ``sunnybrook/dicoms/SCD0000101`` (hard links,
so only the damaged files are written) with one or two seeded kinds of damage from
``tests/dicom_writer.py``: header tags deleted, garbled, set to extreme values or the wrong
number of values; positions moved, orientation tilted, spacing scaled, trigger times tied; files
deleted, copied, overwritten, re-exported, truncated, replaced by random bytes; a whole inner
slice deleted; non-DICOM files added; files renamed. Outcomes:

* correct: the same array and affine as the undamaged folder;
* refused: a one-line ValueError / FileNotFoundError;
* traceback: any other exception (target 0);
* wrong image: an image that differs from the undamaged one (target 0).

Run: ``.venv/bin/python benchmarks/fuzz_dicom.py [--variants 500] [--seed 0]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DATA, REPO  # noqa: E402

sys.path.insert(0, str(REPO))
from cmrseg.io.dicom import read_dicom_folder  # noqa: E402
from tests.dicom_writer import mutations, series_layout  # noqa: E402


def _subset(src: Path, dst: Path, n_slices: int) -> None:
    """Copy ``n_slices`` inner slices (all phases) of the series in ``src`` to ``dst``."""
    layout = series_layout(src)
    nz = max(z for z, _ in layout.values()) + 1
    first = (nz - n_slices) // 2
    dst.mkdir()
    for name, (z, _) in layout.items():
        if first <= z < first + n_slices:
            shutil.copyfile(src / name, dst / name)


def _outcome(folder: Path, clean) -> tuple[str, str]:
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            image = read_dicom_folder(folder)
    except (ValueError, FileNotFoundError) as exc:
        return ("refused" if "\n" not in str(exc) else "refused, several lines"), str(exc)
    except Exception:
        return "traceback", traceback.format_exc(limit=-3)
    same = (
        image.shape == clean.shape
        and np.array_equal(image.array, clean.array)
        and np.allclose(image.affine, clean.affine)
        and image.spacing == clean.spacing
    )
    ours = [w for w in caught if "skipped" in str(w.message)]
    return ("correct" + (" (warned)" if ours else "") if same else "wrong image"), ""


def _variant(base: Path, work: Path, layout: dict, rng: np.random.Generator, kinds: list) -> tuple[list, str]:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    for p in base.iterdir():
        os.link(p, work / p.name)
    chosen = [kinds[int(i)] for i in rng.choice(len(kinds), size=1 + int(rng.random() < 0.25), replace=False)]
    return chosen, "; ".join(m.apply(work, layout, rng) for m in chosen)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variants", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--slices", type=int, default=6, help="inner slices of SCD0000101 to keep (20 phases each)")
    args = parser.parse_args(argv)
    src = DATA / "sunnybrook" / "dicoms" / "SCD0000101"
    if not src.is_dir():
        print(f"real data {src} not present; nothing to fuzz")
        return 1
    kinds, counts, by_kind, unexpected = mutations(), Counter(), defaultdict(Counter), []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "clean"
        _subset(src, base, args.slices)
        layout, clean = series_layout(base), read_dicom_folder(base)
        for i in range(args.variants):
            chosen, what = _variant(base, Path(tmp) / "variant", layout, np.random.default_rng([args.seed, i]), kinds)
            outcome, detail = _outcome(Path(tmp) / "variant", clean)
            counts[outcome.split(" (")[0]] += 1
            for m in chosen:
                by_kind[m.name][outcome.split(" (")[0]] += 1
            expect = {m.expect for m in chosen} - {"either"}
            want = "refused" if "refuse" in expect else "correct" if expect == {"clean"} else None
            if outcome in ("traceback", "wrong image") or (want and not outcome.startswith(want)):
                unexpected.append(f"  variant {i}: {what} -> {outcome} {detail.strip().splitlines()[-1:]}")
    seconds = time.perf_counter() - start
    print(
        f"{args.variants} variants of {src.name} ({args.slices} slices x 20 phases), seed {args.seed}, {seconds:.0f} s"
    )
    for key in ("correct", "refused", "refused, several lines", "traceback", "wrong image"):
        print(f"{key:>24}: {counts[key]}")
    print("by kind of damage (a variant with two kinds counts under both):")
    for name in sorted(by_kind):
        print(f"  {name:>36}: " + ", ".join(f"{k} {v}" for k, v in sorted(by_kind[name].items())))
    print(f"unexpected outcomes: {len(unexpected)}")
    print("\n".join(unexpected[:30]))
    return 0 if not unexpected else 1


if __name__ == "__main__":
    raise SystemExit(main())
