"""Render a `cmrseg report` page in headless Chromium and save a screenshot to look at.

Usage: python benchmarks/report_render.py [--out docs/report-screenshot.png]
       [--evaluation-out docs/evaluation-screenshot.png] [--pipeline-out docs/t1-pipeline-screenshot.png]

Segments the shipped M&Ms-2 example with the default model, evaluates the prediction against the
example's expert labels (`cmrseg evaluate`, whose own page is rendered too), builds the study
report with those metrics, then runs
Debian's Chromium headless (``apt-get install chromium``) on the page. Prints the page size and
the screenshot path; exits non-zero if Chromium is missing or a screenshot is empty. With
../shared/data/t1net present it also renders the `cmrseg t1-pipeline` page of the T1NET series.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"


def _cmrseg(*command: str) -> None:
    subprocess.run([sys.executable, "-m", "cmrseg.cli", *command], check=True, capture_output=True)


def screenshot(browser: str, page: Path, out: Path, work: Path, height: int) -> int:
    """Render ``page`` headless into ``out``; returns the PNG's size in bytes."""
    out.parent.mkdir(parents=True, exist_ok=True)
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
        f"--window-size=1200,{height}",
        f"--screenshot={out}",
    ]
    subprocess.run([browser, *flags, page.as_uri()], check=True, capture_output=True, timeout=120)
    size = out.stat().st_size if out.exists() else 0
    print(f"page {page} ({page.stat().st_size} bytes) -> screenshot {out} ({size} bytes)")
    return size


def study_page(work: Path) -> Path:
    image, truth = REPO / "examples/mnms2_001_SA_ED.nii.gz", REPO / "examples/mnms2_001_SA_ED_gt.nii.gz"
    pred = work / "mnms2_001_SA_ED.nii.gz"
    _cmrseg("predict", str(image), "-o", str(pred))
    _cmrseg("evaluate", str(pred), str(truth), "--images", str(image), "-o", str(work / "evaluation"))
    metrics = str(work / "evaluation" / "metrics.csv")
    _cmrseg("report", str(image), "--labels", str(pred), "--metrics", metrics, "-o", str(work / "report"))
    return work / "report" / "index.html"


def pipeline_page(work: Path) -> Path | None:
    """`cmrseg t1-pipeline` on the T1NET series (converted from ../shared/data/t1net), or None without it."""
    if not (DATA / "t1net").is_dir():
        print(f"no {DATA / 't1net'}: t1-pipeline page skipped")
        return None
    _cmrseg("convert", "t1net", str(DATA / "t1net"), str(work / "t1net"))
    series = work / "t1net" / "series"
    pre, post = str(series / "pre.nii.gz"), str(series / "post.nii.gz")
    _cmrseg("t1-pipeline", pre, post, "--hct", "0.42", "-o", str(work / "study"))
    return work / "study" / "index.html"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "report-screenshot.png")
    ap.add_argument("--evaluation-out", type=Path, default=REPO / "docs" / "evaluation-screenshot.png")
    ap.add_argument("--pipeline-out", type=Path, default=REPO / "docs" / "t1-pipeline-screenshot.png")
    args = ap.parse_args()
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("chromium not found: apt-get install chromium", file=sys.stderr)
        return 1
    work = Path(tempfile.mkdtemp())
    sizes = [screenshot(browser, study_page(work), args.out, work, 2600)]
    sizes.append(screenshot(browser, work / "evaluation" / "index.html", args.evaluation_out, work, 1800))
    page = pipeline_page(work)
    if page is not None:
        sizes.append(screenshot(browser, page, args.pipeline_out, work, 2400))
    return 0 if min(sizes) > 10_000 else 1


if __name__ == "__main__":
    sys.exit(main())
