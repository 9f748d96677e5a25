"""Presenting a benchmark: the results table, and the JSON and Markdown files.

Files are written atomically (to a temporary name, then renamed), so an interrupted run
never leaves a half-written result behind.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from skvaecf.benchmark._files import replace_atomically
from skvaecf.benchmark.plot import plot_validation_curves
from skvaecf.benchmark.runner import SELECTION_METRIC, BenchmarkReport

logger = logging.getLogger(__name__)

__all__ = ["ERROR_CELL_WIDTH", "RESULT_FILES", "format_table", "write_report"]

#: Names of the files :func:`write_report` writes into the output folder.
RESULT_FILES = {"json": "results.json", "markdown": "results.md",
                "plot": "validation_ndcg.png"}

#: Most characters of a failed model's cell in the tables; the whole error is in
#: ``results.json``, in the model list of ``results.md`` and in the log.
ERROR_CELL_WIDTH = 60


def _metric_label(name: str) -> str:
    kind, _, k = name.partition("@")
    return f"{'NDCG' if kind == 'ndcg' else kind.capitalize()}@{k}"


def _number(value, digits: int) -> str:
    if value is None:
        return "-"
    if digits == 0:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def _failure_cell(model: dict) -> str:
    """Status and error of a failed model on one line of at most ERROR_CELL_WIDTH."""
    text = " ".join(f"{model['status']}: {model.get('error', '')}".split())
    if len(text) <= ERROR_CELL_WIDTH:
        return text
    return text[:ERROR_CELL_WIDTH - 1].rstrip() + "…"


def _table_rows(report: BenchmarkReport) -> tuple[list[str], list[list[str]]]:
    metrics = list(report.settings.get("metrics", []))
    show_gpu = any(model.get("summary", {}).get("peak_gpu_mib") is not None
                   for model in report.models)
    header = (["model"] + [_metric_label(m) for m in metrics]
              + ["fit s", "s/epoch", "best epoch", "users/s", "host MiB"]
              + (["GPU MiB"] if show_gpu else []))

    rows = []
    for model in report.models:
        if model["status"] != "finished":
            rows.append([model["model"], _failure_cell(model)] + [""] * (len(header) - 2))
            continue
        summary = model["summary"]
        spread = summary.get("test_std", {})
        cells = [model["model"]]
        for metric in metrics:
            cell = f"{summary['test'][metric]:.4f}"
            if metric in spread:
                cell += f" ± {spread[metric]:.4f}"
            cells.append(cell)
        best_epoch = summary.get("best_epoch")
        cells += [_number(summary.get("fit_seconds"), 2),
                  _number(summary.get("seconds_per_epoch"), 3),
                  "-" if best_epoch is None else f"{best_epoch:.0f}",
                  _number(summary.get("users_per_second"), 0),
                  _number(summary.get("peak_host_mib"), 0)]
        if show_gpu:
            cells.append(_number(summary.get("peak_gpu_mib"), 0))
        rows.append(cells)
    return header, rows


def format_table(report: BenchmarkReport, *, markdown: bool = False) -> str:
    """The results as a text or Markdown table, one row per model.

    Columns: the test metrics (mean ± standard deviation over seeds when there are
    several), the fit time in seconds (of the chosen candidate), the median seconds per
    training epoch and the best epoch (VAE models), the ranking throughput on the test
    users in users per second, and the peak memory in MiB above the level before ``fit``
    on the host (and on the GPU when one was used). A failed model's row shows its status
    and error on one line, cut to ``ERROR_CELL_WIDTH`` (60) characters; ``results.json``
    and the model list of ``results.md`` keep the whole error.

    Parameters
    ----------
    report : BenchmarkReport
        A finished or interrupted run.
    markdown : bool, default=False
        Write a Markdown table instead of aligned plain text.

    Returns
    -------
    str

    Examples
    --------
    >>> from skvaecf.benchmark import BenchmarkConfig, format_table, run_benchmark
    >>> report = run_benchmark(BenchmarkConfig(synthetic_users=300, synthetic_items=40,
    ...                                        models=["popularity"]))
    >>> print(format_table(report).splitlines()[0])
    model       Recall@20  Recall@50  NDCG@100  fit s  s/epoch  best epoch  users/s  host MiB
    """
    header, rows = _table_rows(report)
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |"
                  for row in rows]
        return "\n".join(lines)

    widths = [max(len(str(line[i])) for line in [header] + rows) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip()
                     for line in [header] + rows)


def _markdown_document(report: BenchmarkReport) -> str:
    settings, dataset = report.settings, report.dataset
    split = dataset.get("split", {})
    environment = report.environment
    lines = [f"# skvaecf benchmark: {dataset.get('name', settings.get('dataset'))}", ""]
    if report.interrupted:
        lines += ["**Interrupted**: only the models below finished.", ""]
    lines += [
        f"- Data: {dataset.get('source', '?')}; {dataset.get('n_users', '?')} users, "
        f"{dataset.get('n_items', '?')} items, {dataset.get('n_interactions', '?')} clicks.",
        f"- Preprocessing: {'; '.join(dataset.get('preprocessing', []))}.",
        f"- Split: {split.get('n_train_users', '?')} training, "
        f"{split.get('n_validation_users', '?')} validation and "
        f"{split.get('n_test_users', '?')} test users; epochs and grid candidates chosen on "
        f"validation {SELECTION_METRIC.upper()}.",
        f"- Run: epochs {settings.get('epochs')}, seeds {settings.get('seeds')}, device "
        f"{settings.get('device')}; started {report.started}, finished {report.finished}.",
        f"- Machine: {environment.get('cpu')}, {environment.get('cpu_cores')} cores"
        f"{', ' + environment['gpu'] if environment.get('gpu') else ''}; python "
        f"{environment.get('python')}, torch {environment.get('torch')}, skvaecf "
        f"{environment.get('skvaecf')}.",
    ]
    if settings.get("command"):
        lines.append(f"- Command: `{settings['command']}`")
    lines += ["", format_table(report, markdown=True), "", "## Models", ""]

    for model in report.models:
        lines.append(f"- **{model['model']}** ({model['estimator']}): "
                     + "; ".join(_model_notes(model)) + ".")
    return "\n".join(lines) + "\n"


def _model_notes(model: dict) -> list[str]:
    """How a model was set up, what was chosen for it, and why it failed (in full)."""
    notes = [model["note"]] if model.get("note") else []
    if model["status"] == "finished":
        chosen = [seed.get("tuning") and _chosen(seed) for seed in model["seeds"]]
        if any(chosen):
            notes.append("chosen: " + ", ".join(c for c in chosen if c))
    else:
        error = " ".join(str(model.get("error", "")).replace("`", "'").split())
        notes.append(f"{model['status']}: `{error}`")
    return notes


def _chosen(seed: dict) -> str:
    best = max(seed["tuning"], key=lambda entry: entry[f"validation_{SELECTION_METRIC}"])
    values = ", ".join(f"{name}={value}" for name, value in best["params"].items())
    return f"{values} (seed {seed['seed']})"


def write_report(report: BenchmarkReport, output_dir: str | os.PathLike) -> dict:
    """Write ``results.json``, ``results.md`` and the validation plot into a folder.

    Parameters
    ----------
    report : BenchmarkReport
        The run so far.
    output_dir : str or path-like
        Created if needed; files of an earlier run there are replaced.

    Returns
    -------
    dict
        ``"json"``, ``"markdown"`` and, when drawn, ``"plot"`` to the paths written.

    Examples
    --------
    >>> import json, tempfile
    >>> from skvaecf.benchmark import BenchmarkConfig, run_benchmark, write_report
    >>> report = run_benchmark(BenchmarkConfig(synthetic_users=300, synthetic_items=40,
    ...                                        models=["popularity"]))
    >>> paths = write_report(report, tempfile.mkdtemp())
    >>> json.loads(paths["json"].read_text())["models"][0]["model"]
    'popularity'
    """
    folder = Path(output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"json": folder / RESULT_FILES["json"], "markdown": folder / RESULT_FILES["markdown"]}

    text = json.dumps(report.to_dict(), indent=2) + "\n"
    replace_atomically(paths["json"], lambda file: file.write_text(text, encoding="utf-8"))
    document = _markdown_document(report)
    replace_atomically(paths["markdown"],
                       lambda file: file.write_text(document, encoding="utf-8"))
    plot = plot_validation_curves(report, folder / RESULT_FILES["plot"])
    if plot is not None:
        paths["plot"] = plot
    return paths
