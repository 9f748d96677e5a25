"""Specification of the benchmark's outputs: table, JSON, Markdown and validation plot."""

import json
import logging
import math
import os
import sys

from skvaecf.benchmark import BenchmarkReport, format_table, write_report
from skvaecf.benchmark.report import ERROR_CELL_WIDTH, RESULT_FILES

METRICS = ["recall@20", "recall@50", "ndcg@100"]


def _seed(seed=0, ndcg=0.4, curve=None, gpu=None):
    record = {"seed": seed, "test": {"recall@20": 0.3, "recall@50": 0.5, "ndcg@100": ndcg},
              "fit_seconds": 12.5, "users_per_second": 20_000.0, "peak_host_mib": 300.0,
              "peak_gpu_mib": gpu}
    if curve is not None:
        record.update(validation_curve=curve, best_epoch=curve.index(max(curve)) + 1,
                      seconds_per_epoch=0.25)
    return record


def _finished(name, seeds, **summary):
    test = {metric: sum(s["test"][metric] for s in seeds) / len(seeds) for metric in METRICS}
    return {"model": name, "estimator": f"{name}Recommender", "note": "", "status": "finished",
            "seeds": seeds, "summary": {"test": test, "fit_seconds": 12.5,
                                        "users_per_second": 20_000.0, "peak_host_mib": 300.0,
                                        **summary}}


def _report(models, interrupted=False):
    return BenchmarkReport(settings={"metrics": METRICS, "dataset": "synthetic", "epochs": 3},
                           environment={"cpu": "test CPU", "cpu_cores": 2},
                           dataset={"name": "synthetic", "split": {"n_test_users": 10}},
                           models=models, interrupted=interrupted, started="then")


def test_the_text_table_has_a_row_per_model_under_the_metric_columns():
    table = format_table(_report([_finished("ease", [_seed()]),
                                  _finished("popularity", [_seed(ndcg=0.2)])]))
    header, *rows = table.splitlines()
    assert header.split()[:4] == ["model", "Recall@20", "Recall@50", "NDCG@100"]
    assert [row.split()[0] for row in rows] == ["ease", "popularity"]
    assert rows[1].split()[3] == "0.2000"


def test_the_spread_over_seeds_is_shown_next_to_the_mean():
    model = _finished("ease", [_seed(0, 0.4), _seed(1, 0.5)],
                      test_std={"recall@20": 0.0, "recall@50": 0.0, "ndcg@100": 0.0707})
    assert "0.4500 ± 0.0707" in format_table(_report([model]))


def test_a_failed_model_shows_its_error():
    failed = {"model": "ease", "estimator": "EASERecommender", "status": "failed",
              "error": "MemoryError: too many items"}
    assert "failed: MemoryError: too many items" in format_table(_report([failed]))


def _failed(error):
    return {"model": "ease", "estimator": "EASERecommender", "note": "", "status": "failed",
            "error": error}


LONG_ERROR = "ValueError: " + "the Gram matrix is singular; " * 20 + "increase l2."


def test_a_long_error_is_cut_short_in_the_table_cell():
    finished = _finished("popularity", [_seed()])
    alone = format_table(_report([finished]))
    table = format_table(_report([finished, _failed(LONG_ERROR)]))

    cell = table.splitlines()[-1].removeprefix("ease").strip()
    assert len(cell) == ERROR_CELL_WIDTH and cell.endswith("…")
    assert cell.startswith("failed: ValueError: the Gram matrix is singular;")
    widest = max(len(line) for line in alone.splitlines())
    assert max(len(line) for line in table.splitlines()) <= widest + ERROR_CELL_WIDTH


def test_an_error_of_several_lines_stays_on_its_row():
    table = format_table(_report([_failed("RuntimeError: first line\nsecond line")]))
    assert table.splitlines()[1].split(None, 1) == ["ease",
                                                    "failed: RuntimeError: first line second line"]


def test_the_whole_error_is_kept_in_the_json_and_the_markdown_notes(tmp_path):
    paths = write_report(_report([_failed(LONG_ERROR)]), tmp_path)

    assert json.loads(paths["json"].read_text())["models"][0]["error"] == LONG_ERROR
    markdown = paths["markdown"].read_text()
    assert f"- **ease** (EASERecommender): failed: `{LONG_ERROR}`." in markdown
    assert "…" in markdown.split("## Models")[0]


def test_the_gpu_memory_column_appears_only_when_a_gpu_was_used():
    assert "GPU MiB" not in format_table(_report([_finished("ease", [_seed()])]))
    on_gpu = _finished("ease", [_seed(gpu=512.0)], peak_gpu_mib=512.0)
    assert "GPU MiB" in format_table(_report([on_gpu]))


def test_the_markdown_table_is_a_pipe_table():
    lines = format_table(_report([_finished("ease", [_seed()])]), markdown=True).splitlines()
    assert lines[0].startswith("| model | Recall@20") and lines[1].startswith("|---|")
    assert lines[2].startswith("| ease | 0.3000")


def test_write_report_writes_json_markdown_and_the_validation_plot(tmp_path):
    report = _report([_finished("multvae", [_seed(curve=[0.1, 0.3, 0.2])]),
                      _finished("ease", [_seed()])])
    paths = write_report(report, tmp_path / "out")

    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == sorted(
        RESULT_FILES.values())
    saved = json.loads(paths["json"].read_text())
    assert [model["model"] for model in saved["models"]] == ["multvae", "ease"]
    assert "| multvae |" in paths["markdown"].read_text()
    assert paths["plot"].read_bytes().startswith(b"\x89PNG")


def test_nan_is_written_as_null_so_that_the_json_is_valid(tmp_path):
    report = _report([_finished("multvae", [_seed(curve=[math.nan, 0.3])])])
    text = write_report(report, tmp_path)["json"].read_text()
    assert "NaN" not in text
    assert json.loads(text)["models"][0]["seeds"][0]["validation_curve"] == [None, 0.3]


def test_an_interrupted_run_says_so_in_the_markdown(tmp_path):
    paths = write_report(_report([_finished("ease", [_seed()])], interrupted=True), tmp_path)
    assert "**Interrupted**" in paths["markdown"].read_text()
    assert json.loads(paths["json"].read_text())["interrupted"] is True


def test_without_models_trained_by_epochs_no_plot_is_drawn(tmp_path):
    paths = write_report(_report([_finished("ease", [_seed()])]), tmp_path)
    assert "plot" not in paths and not (tmp_path / RESULT_FILES["plot"]).exists()


def test_without_matplotlib_the_plot_is_skipped_with_a_warning(tmp_path, monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    report = _report([_finished("multvae", [_seed(curve=[0.1, 0.3])])])
    with caplog.at_level(logging.WARNING, logger="skvaecf"):
        paths = write_report(report, tmp_path)
    assert "plot" not in paths and "matplotlib is not installed" in caplog.text
    assert paths["json"].exists()


def test_result_files_get_the_usual_permissions(tmp_path):
    previous = os.umask(0o022)
    try:
        paths = write_report(_report([_finished("multvae", [_seed(curve=[0.1, 0.3])])]),
                             tmp_path)
    finally:
        os.umask(previous)
    assert {path.stat().st_mode & 0o777 for path in paths.values()} == {0o644}
