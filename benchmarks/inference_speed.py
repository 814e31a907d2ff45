"""Inference speed: model-only slices/s at batch 1 and 16, and `cmrseg predict` end to end.

Usage: python benchmarks/inference_speed.py [--model cine|PATH] [--repeats 3]

Model-only: forward passes of the network on (B, 1, S, S) inputs (S = the model's input size),
fp32, after a warm-up, median over repeats; in the channels-last memory layout ``Predictor`` uses
on the CPU and, interleaved in the same run, in the default (contiguous) layout, with the ratio;
and channels-last under bfloat16 autocast (``predict --precision bf16``).
End to end: `cmrseg predict` on a real 10-slice stack (the first 10 slices of the shipped M&Ms-2
example) in a fresh process, timed from process start to the label map written, median of the
repeats. Same run, same machine.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]


def model_only(model: str, batch: int, repeats: int) -> tuple[float, float, float]:
    """Slices/s in channels-last layout (what ``Predictor`` runs on the CPU), in the default layout
    and channels-last under bfloat16 autocast, interleaved so that all see the same machine load."""
    import copy

    from cmrseg.predict import Predictor

    p = Predictor(model, device="cpu")
    nets = {"cl": p.net, "nchw": copy.deepcopy(p.net).to(memory_format=torch.contiguous_format), "bf16": p.net}
    x = torch.rand(batch, 1, p.size, p.size)
    inputs = {"cl": x.contiguous(memory_format=torch.channels_last), "nchw": x}
    inputs["bf16"] = inputs["cl"]
    times: dict[str, list[float]] = {k: [] for k in nets}
    with torch.no_grad():
        for _ in range(repeats + 1):  # the first round warms up
            for k in nets:
                with torch.autocast("cpu", torch.bfloat16, enabled=k == "bf16"):
                    t = time.perf_counter()
                    nets[k](inputs[k])
                    times[k].append(time.perf_counter() - t)
    return tuple(batch / float(np.median(times[k][1:])) for k in ("cl", "nchw", "bf16"))  # type: ignore[return-value]


def end_to_end(model: str, repeats: int) -> float:
    from cmrseg.image import Image
    from cmrseg.io.nifti import read_image, write_image

    ex = read_image(REPO / "examples" / "mnms2_001_SA_ED.nii.gz")
    tmp = Path(tempfile.mkdtemp())
    write_image(Image(ex.array[:, :, :10], ex.spacing, ex.affine), tmp / "stack10.nii.gz")
    cli = [
        sys.executable,
        "-m",
        "cmrseg.cli",
        "predict",
        str(tmp / "stack10.nii.gz"),
        "-o",
        str(tmp / "out.nii.gz"),
        "--overwrite",
        "--model",
        model,
        "--device",
        "cpu",
    ]
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        subprocess.run(cli, check=True, capture_output=True, env=dict(os.environ))
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="cine")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs")
    for batch in (1, 16):
        cl, nchw, bf16 = model_only(args.model, batch, args.repeats * 3)
        print(
            f"model only, batch {batch:2d}: {cl:6.1f} slices/s (channels-last, what predict runs); "
            f"default layout {nchw:6.1f} slices/s, ratio {cl / nchw:.2f}; "
            f"--precision bf16 {bf16:6.1f} slices/s, ratio {bf16 / cl:.2f}"
        )
    e2e = end_to_end(args.model, args.repeats)
    print(f"cmrseg predict, 10-slice stack, process start to file written: {e2e:.2f} s (median of {args.repeats})")


if __name__ == "__main__":
    main()
