"""Render a `cmrseg report` page in headless Chromium and save a screenshot to look at.

Usage: python benchmarks/report_render.py [--out docs/report-screenshot.png]

Builds the report of the shipped M&Ms-2 example (segmented by the default model), then runs
Debian's Chromium headless (``apt-get install chromium``) on the page. Prints the page size and
the screenshot path; exits non-zero if Chromium is missing or the screenshot is empty.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "report-screenshot.png")
    args = ap.parse_args()
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("chromium not found: apt-get install chromium", file=sys.stderr)
        return 1
    work = Path(tempfile.mkdtemp())
    subprocess.run(
        [
            sys.executable,
            "-m",
            "cmrseg.cli",
            "report",
            str(REPO / "examples/mnms2_001_SA_ED.nii.gz"),
            "-o",
            str(work / "report"),
        ],
        check=True,
    )
    page = work / "report" / "index.html"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={work / 'profile'}",
        "--window-size=1200,1400",
        f"--screenshot={args.out}",
    ]
    subprocess.run([browser, *flags, page.as_uri()], check=True, capture_output=True, timeout=120)
    size = args.out.stat().st_size if args.out.exists() else 0
    print(f"page {page} ({page.stat().st_size} bytes) -> screenshot {args.out} ({size} bytes)")
    return 0 if size > 10_000 else 1


if __name__ == "__main__":
    sys.exit(main())
