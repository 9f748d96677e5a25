"""The validation NDCG@100 of the VAE models per epoch, drawn as a PNG with matplotlib.

matplotlib is optional (the ``plot`` extra): without it the plot is skipped with a warning.
The figure is drawn through matplotlib's object interface on the Agg canvas, so the
caller's pyplot backend is left alone.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from skvaecf.benchmark._files import replace_atomically

logger = logging.getLogger(__name__)

__all__ = ["plot_validation_curves"]


def plot_validation_curves(report, path: str | os.PathLike) -> Path | None:
    """Plot validation NDCG@100 against the epoch for every model trained by epochs.

    Parameters
    ----------
    report : BenchmarkReport
        A run; models whose records have a ``validation_curve`` are drawn, one line per
        seed, with the kept (best) epoch marked.
    path : str or path-like
        The PNG file to write (replaced atomically).

    Returns
    -------
    pathlib.Path or None
        ``path``, or None when no model has a curve or matplotlib is not installed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skvaecf.benchmark import BenchmarkConfig, run_benchmark
    >>> from skvaecf.benchmark.plot import plot_validation_curves
    >>> report = run_benchmark(BenchmarkConfig(synthetic_users=300, synthetic_items=40,
    ...                                        models=["popularity"]))
    >>> plot_validation_curves(report, pathlib.Path(tempfile.mkdtemp()) / "v.png") is None
    True
    """
    curves = [(model["model"], seed) for model in report.models
              if model["status"] == "finished" for seed in model["seeds"]
              if seed.get("validation_curve")]
    if not curves:
        return None
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        logger.warning("matplotlib is not installed (pip install 'skvaecf[plot]'): the "
                       "validation plot is skipped")
        return None

    figure = Figure(figsize=(7, 4.5), dpi=120)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    colours = {}
    for name, seed in curves:
        colour = colours.setdefault(name, f"C{len(colours)}")
        epochs = range(1, len(seed["validation_curve"]) + 1)
        axes.plot(epochs, seed["validation_curve"], color=colour, linewidth=1.2,
                  label=name if seed["seed"] == 0 else None)
        if seed.get("best_epoch"):
            best = seed["best_epoch"]
            axes.plot([best], [seed["validation_curve"][best - 1]], "o", color=colour)

    axes.set_xlabel("epoch")
    axes.set_ylabel("validation NDCG@100")
    axes.set_title(f"{report.dataset.get('name', '')}: validation NDCG@100 (dot: kept epoch)")
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()

    path = Path(path)
    replace_atomically(path, lambda file: figure.savefig(file, format="png"))
    return path
