"""Render a `cmrseg report` page in headless Chromium and save a screenshot to look at.

Usage: python benchmarks/report_render.py [--out docs/report-screenshot.png]

Segments the shipped M&Ms-2 example with the default model, evaluates the prediction against the
example's expert labels (`cmrseg evaluate`), builds the report with those metrics, then runs
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
    image, truth = REPO / "examples/mnms2_001_SA_ED.nii.gz", REPO / "examples/mnms2_001_SA_ED_gt.nii.gz"
    pred = work / "mnms2_001_SA_ED.nii.gz"
    for command in (
        ["predict", str(image), "-o", str(pred)],
        ["evaluate", str(pred), str(truth), "-o", str(work / "evaluation")],
        ["report", str(image), "--labels", str(pred), "--metrics", str(work / "evaluation" / "metrics.csv")]
        + ["-o", str(work / "report")],
    ):
        subprocess.run([sys.executable, "-m", "cmrseg.cli", *command], check=True, capture_output=True)
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
        "--window-size=1200,2600",
        f"--screenshot={args.out}",
    ]
    subprocess.run([browser, *flags, page.as_uri()], check=True, capture_output=True, timeout=120)
    size = args.out.stat().st_size if args.out.exists() else 0
    print(f"page {page} ({page.stat().st_size} bytes) -> screenshot {args.out} ({size} bytes)")
    return 0 if size > 10_000 else 1


if __name__ == "__main__":
    sys.exit(main())
