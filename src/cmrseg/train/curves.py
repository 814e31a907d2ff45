"""Learning curves: validation Dice against the number of training images seen (the 7T paper's Fig. 6)."""

from __future__ import annotations

import csv
from pathlib import Path

__all__ = ["learning_curve_rows", "write_learning_curve"]


def learning_curve_rows(metrics_csv: Path | str, batch_size: int) -> list[dict]:
    """Per validated epoch: ``epoch``, ``images_seen`` and the validation Dice columns.

    ``images_seen`` is optimizer steps x batch size (Lightning logs the 0-based step).

    Parameters
    ----------
    metrics_csv : path
        Lightning's CSV log of a run (``metrics.csv``).
    batch_size : int
        The run's batch size.

    Returns
    -------
    list of dict
        One row per epoch with validation Dice values; ``val_dice_*`` columns as float.
    """
    rows = []
    with Path(metrics_csv).open() as f:
        for r in csv.DictReader(f):
            dices = {k: float(v) for k, v in r.items() if k.startswith("val_dice_") and v}
            if dices:
                rows.append({"epoch": int(r["epoch"]), "images_seen": (int(r["step"]) + 1) * batch_size, **dices})
    return rows


def write_learning_curve(run_dir: Path | str, batch_size: int) -> list[Path]:
    """Write ``learning_curve.csv`` and ``learning_curve.png`` beside a run's ``metrics.csv``.

    Parameters
    ----------
    run_dir : path
        The run's output folder, holding ``metrics.csv``.
    batch_size : int
        The run's batch size.

    Returns
    -------
    list of pathlib.Path
        The two files written; [] without validation.
    """
    run_dir = Path(run_dir)
    rows = learning_curve_rows(run_dir / "metrics.csv", batch_size)
    if not rows:
        return []
    keys = list(rows[0])
    with (run_dir / "learning_curve.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, keys)
        w.writeheader()
        w.writerows(rows)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2))
    for k in keys[2:]:
        ax.plot([r["images_seen"] for r in rows], [r[k] for r in rows], marker=".", label=k.removeprefix("val_dice_"))
    ax.set_xlabel("training images seen")
    ax.set_ylabel("validation Dice")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(run_dir / "learning_curve.png", dpi=100)
    plt.close(fig)
    return [run_dir / "learning_curve.csv", run_dir / "learning_curve.png"]
