"""Specification of the ``skvaecf`` command line."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import skvaecf
from _benchmark_settings import TINY_OPTIONS
from conftest import shared_dataset
from skvaecf import MultVAERecommender
from skvaecf.benchmark import BenchmarkConfig, runner
from skvaecf.cli import EXIT_INTERRUPTED, _default_output_dir, main


def _usage_error(capsys, *argv) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
    assert exit_info.value.code == 2
    return capsys.readouterr().err


def test_version_prints_the_package_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"skvaecf {skvaecf.__version__}"


def test_benchmark_help_describes_the_options(capsys):
    with pytest.raises(SystemExit):
        main(["benchmark", "--help"])
    out = capsys.readouterr().out
    for option in ("--dataset", "--format", "--models", "--device", "--epochs", "--seeds",
                   "--output-dir", "--min-rating", "--n-validation-users", "--config"):
        assert option in out


def test_python_dash_m_skvaecf_is_the_same_command():
    result = subprocess.run([sys.executable, "-m", "skvaecf", "benchmark", "--help"],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0 and "--dataset" in result.stdout


def test_an_unknown_model_is_a_usage_error_listing_the_valid_ones(capsys):
    err = _usage_error(capsys, "benchmark", "--models", "multvae,vae")
    assert "unknown model 'vae'" in err and "anchoredvae" in err


def test_a_missing_dataset_path_is_a_usage_error(capsys, tmp_path):
    err = _usage_error(capsys, "benchmark", "--dataset", str(tmp_path / "ml-404"))
    assert "neither a dataset name" in err


@pytest.mark.parametrize("option, value", [("--epochs", "0"), ("--seeds", "two"),
                                           ("--n-test-users", "-3"), ("--format", "xml"),
                                           ("--metrics", "precision@10"),
                                           ("--param", "multvae-beta")])
def test_bad_values_are_usage_errors_naming_the_option(capsys, option, value):
    err = _usage_error(capsys, "benchmark", option, value)
    assert option.lstrip("-").split("-")[0] in err or "metric" in err


def test_a_path_of_unknown_layout_without_format_is_a_usage_error(capsys, tmp_path):
    (tmp_path / "log.bin").write_text("")
    err = _usage_error(capsys, "benchmark", "--dataset", str(tmp_path / "log.bin"))
    assert "cannot tell the layout" in err and "--format" in err


def test_data_that_cannot_be_read_end_the_run_with_status_1_and_the_reason(capsys, tmp_path):
    table = tmp_path / "clicks.csv"
    table.write_text("customer,product\n1,2\n")
    code = main(["benchmark", "--dataset", str(table), "--models", "popularity", "--quiet",
                 "--output-dir", str(tmp_path / "out")])
    assert code == 1
    assert "error" in capsys.readouterr().err


def test_an_unknown_config_file_key_is_a_usage_error(capsys, tmp_path):
    config = tmp_path / "run.toml"
    config.write_text('dataset = "synthetic"\nepoch = 3\n')
    assert "unknown settings ['epoch']" in _usage_error(capsys, "benchmark", "--config",
                                                       str(config))


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    output = tmp_path_factory.mktemp("tiny")
    code = main(["benchmark", *TINY_OPTIONS, "--quiet", "--output-dir", str(output)])
    return code, output


def test_a_tiny_synthetic_run_succeeds_and_writes_json_markdown_and_plot(tiny_run):
    code, output = tiny_run
    assert code == 0
    assert {path.name for path in output.iterdir()} == {"results.json", "results.md",
                                                        "validation_ndcg.png"}


def test_the_json_holds_every_model_with_metrics_and_costs(tiny_run):
    results = json.loads((tiny_run[1] / "results.json").read_text())
    assert [m["model"] for m in results["models"]] == ["multvae", "anchoredvae", "ease", "als",
                                                       "popularity"]
    summary = results["models"][0]["summary"]
    assert set(summary["test"]) == {"recall@20", "recall@50", "ndcg@100"}
    for key in ("fit_seconds", "seconds_per_epoch", "users_per_second", "peak_host_mib"):
        assert summary[key] > 0
    assert results["settings"]["command"].startswith("skvaecf benchmark --synthetic-users")
    assert results["environment"]["torch"]


def test_the_table_is_printed_on_stdout(capsys, tmp_path):
    code = main(["benchmark", *TINY_OPTIONS, "--models", "popularity", "--quiet",
                 "--output-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[0].split()[:4] == ["model", "Recall@20", "Recall@50", "NDCG@100"]
    assert out.splitlines()[1].startswith("popularity")


def test_progress_names_the_model_being_fitted(capsys, tmp_path):
    main(["benchmark", *TINY_OPTIONS, "--models", "popularity,ease", "--output-dir",
          str(tmp_path)])
    err = capsys.readouterr().err
    assert "[1/2] popularity (PopularityRecommender), seed 0" in err
    assert "[2/2] ease finished" in err


def test_ctrl_c_keeps_the_finished_models_and_exits_with_130(monkeypatch, tmp_path):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(MultVAERecommender, "fit", interrupt)
    monkeypatch.setattr(runner, "_warm_up", lambda device: None)  # it fits a Mult-VAE too
    code = main(["benchmark", *TINY_OPTIONS, "--models", "popularity,multvae", "--quiet",
                 "--output-dir", str(tmp_path)])

    assert code == EXIT_INTERRUPTED
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["interrupted"] is True
    assert [model["model"] for model in results["models"]] == ["popularity"]


def test_options_override_the_config_file(tmp_path):
    config = tmp_path / "run.toml"
    config.write_text('models = ["ease"]\nseeds = 2\n[grid.ease]\nl2 = [10.0]\n')
    code = main(["benchmark", "--config", str(config), *TINY_OPTIONS, "--seeds", "1",
                 "--quiet", "--output-dir", str(tmp_path / "out")])

    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert code == 0 and results["settings"]["seeds"] == 1
    assert results["models"][0]["seeds"][0]["params"]["l2"] == 10.0


def test_results_md_says_a_parameter_given_on_the_command_line_was_fixed_by_the_user(tmp_path):
    code = main(["benchmark", *TINY_OPTIONS, "--models", "ease", "--param", "ease.l2=7",
                 "--quiet", "--output-dir", str(tmp_path)])

    markdown = (tmp_path / "results.md").read_text()
    assert code == 0
    assert "- **ease** (EASERecommender): fixed by the user: l2=7." in markdown
    assert "l2 chosen on validation" not in markdown


def test_the_default_output_folder_is_ignored_by_git(tmp_path):
    root = Path(__file__).resolve().parents[1]
    if shutil.which("git") is None or not (root / ".gitignore").is_file():
        pytest.skip("needs git and the repository's .gitignore")
    results = _default_output_dir(BenchmarkConfig()) / "results.json"

    check = subprocess.run(["git", "check-ignore", "--quiet", "--no-index", str(results)],
                           cwd=root, timeout=60, check=False)
    assert check.returncode == 0, f"{results.parts[0]}/ is missing from .gitignore"


def test_real_movielens_runs_from_its_folder_path(tmp_path):
    folder = shared_dataset("ml-100k")
    code = main(["benchmark", "--dataset", str(folder), "--models", "popularity,ease",
                 "--threads", "1", "--quiet", "--output-dir", str(tmp_path)])
    results = json.loads((tmp_path / "results.json").read_text())
    assert code == 0
    assert results["dataset"]["source"].endswith("(movielens layout)")
    assert results["models"][1]["summary"]["test"]["ndcg@100"] > \
        results["models"][0]["summary"]["test"]["ndcg@100"]
