"""The ``cmrseg`` command: a thin layer over the Python API.

Heavy imports happen inside each command so ``cmrseg --help`` is instant. Errors in the
user's input become one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["main"]


def _convert(a: argparse.Namespace) -> None:
    from cmrseg.io.datasets import convert

    ds = convert(a.dataset, a.src, a.dst)
    print(f"wrote {len(ds.cases)} cases of {len(ds.subjects)} subjects to {a.dst}")


def _train(a: argparse.Namespace) -> None:
    from dataclasses import replace

    from cmrseg.train import load_config, train

    config = load_config(a.config)
    overrides = {k: v for k, v in (("output", a.output), ("epochs", a.epochs), ("fold", a.fold)) if v is not None}
    result = train(replace(config, **overrides), resume=not a.restart)
    print(f"model written to {result['model']}")


def _predict(a: argparse.Namespace) -> None:
    from cmrseg.predict import predict_file

    for path in predict_file(a.input, a.output, model=a.model, device=a.device, tta=a.tta,
                             overwrite=a.overwrite, invert=a.invert == "on", series=a.series):
        print(path)


def _evaluate(a: argparse.Namespace) -> None:
    from cmrseg.evaluate import evaluate_paths, summarise, write_metrics
    from cmrseg.io.atomic import check_output

    out = Path(a.output) / "metrics.csv"
    check_output(out, a.overwrite)
    rows = evaluate_paths(a.pred, a.ref)
    write_metrics(rows, out)
    print(f"{'label':6s} {'n':>3s} {'dice':>12s}")
    for label, s in summarise(rows).items():
        print(f"{label:6s} {s['n']:3d} {s['dice_mean']:.3f} ± {s['dice_sd']:.3f}")
    print(f"wrote {out}")


def _augment_preview(a: argparse.Namespace) -> None:
    import numpy as np

    from cmrseg.io.atomic import check_output
    from cmrseg.io.nifti import read_image, read_labels
    from cmrseg.preprocess import normalise_intensity
    from cmrseg.report.figures import augmentation_grid, save_figure

    check_output(Path(a.output), a.overwrite)
    image = read_image(a.image).array
    z = a.slice if a.slice is not None else (image.shape[2] // 2 if image.ndim >= 3 else 0)
    sl = image[:, :, z] if image.ndim >= 3 else image
    sl = sl[..., 0] if sl.ndim == 3 else sl
    mask = np.zeros(sl.shape, np.uint8)
    if a.label:
        lab = read_labels(a.label).array
        mask = (lab[:, :, z] if lab.ndim >= 3 else lab).astype(np.uint8)
        mask = mask[..., 0] if mask.ndim == 3 else mask
    fig = augmentation_grid(normalise_intensity(sl).T, mask.T, a.preset, a.n, a.seed)
    save_figure(fig, a.output)
    print(a.output)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cmrseg", description="Cardiac MRI segmentation, mapping and quantification.")
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("convert", help="convert a public dataset into the cmrseg layout")
    c.add_argument("dataset", help="acdc, myops, mnms2 or sunnybrook")
    c.add_argument("src", type=Path)
    c.add_argument("dst", type=Path)
    c.set_defaults(func=_convert)

    t = sub.add_parser("train", help="train a segmentation model from a YAML config")
    t.add_argument("config", type=Path)
    t.add_argument("--output", help="run folder (overrides the config)")
    t.add_argument("--epochs", type=int)
    t.add_argument("--fold", type=int)
    t.add_argument("--restart", action="store_true", help="ignore an existing last.ckpt instead of resuming")
    t.set_defaults(func=_train)

    pr = sub.add_parser("predict", help="segment a NIfTI file, a DICOM folder or a folder of NIfTI files")
    pr.add_argument("input", type=Path)
    pr.add_argument("-o", "--output", type=Path, required=True)
    pr.add_argument("--model", default="default", help="'default' or a model file")
    pr.add_argument("--tta", action="store_true", help="flip test-time augmentation")
    pr.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    pr.add_argument("--invert", default="off", choices=["off", "on"], help="invert intensities (black-blood images)")
    pr.add_argument("--series", help="SeriesInstanceUID or SeriesNumber when a DICOM folder holds several")
    pr.add_argument("--overwrite", action="store_true")
    pr.set_defaults(func=_predict)

    e = sub.add_parser("evaluate", help="Dice (and surface distances) of predictions against references")
    e.add_argument("pred", type=Path)
    e.add_argument("ref", type=Path)
    e.add_argument("-o", "--output", type=Path, required=True, help="folder for metrics.csv")
    e.add_argument("--overwrite", action="store_true")
    e.set_defaults(func=_evaluate)

    ap = sub.add_parser("augment-preview", help="PNG grid of augmented samples of one slice")
    ap.add_argument("image", type=Path)
    ap.add_argument("--label", type=Path)
    ap.add_argument("--preset", default="heavy", choices=["none", "basic", "heavy"])
    ap.add_argument("--slice", type=int)
    ap.add_argument("-n", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("-o", "--output", type=Path, required=True)
    ap.add_argument("--overwrite", action="store_true")
    ap.set_defaults(func=_augment_preview)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (ValueError, FileNotFoundError, FileExistsError, KeyError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"cmrseg {args.command}: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("cmrseg: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
