"""Specification of the benchmark settings and of the shipped configuration files."""

from pathlib import Path

import pytest

from conftest import shared_dataset
from skvaecf.benchmark import BenchmarkConfig, read_config_file
from skvaecf.benchmark.data import load_benchmark_data, split_benchmark_data
from skvaecf.benchmark.runner import select_models

CONFIGS = sorted((Path(__file__).resolve().parents[1] / "benchmarks" / "configs").glob("*.toml"))


@pytest.mark.parametrize("setting, value, message", [
    ("seeds", 0, "seeds must be"), ("epochs", 2.5, "epochs must be"),
    ("threads", -1, "threads must be"), ("n_test_users", 1.5, "n_test_users must be"),
    ("n_validation_users", 0, "n_validation_users must be"),
    ("metrics", ("precision@10",), "metric 'precision@10'"), ("metrics", (), "metrics must"),
    ("models", [], "models must"), ("synthetic_users", 5, "synthetic_users must be"),
    ("params", {"ease": 500.0}, "params must map")])
def test_out_of_range_settings_are_rejected_naming_the_setting(setting, value, message):
    with pytest.raises(ValueError, match=message):
        BenchmarkConfig(**{setting: value}).check()


def test_a_config_file_gives_settings_and_model_tables(tmp_path):
    file = tmp_path / "run.toml"
    file.write_text('seeds = 2\nmetrics = ["ndcg@10"]\n[params.multvae]\nbeta = 0.3\n')
    settings = read_config_file(file)
    assert settings == {"seeds": 2, "metrics": ("ndcg@10",),
                        "params": {"multvae": {"beta": 0.3}}}
    assert BenchmarkConfig(**settings).check().params["multvae"]["beta"] == 0.3


def test_a_relative_dataset_path_is_relative_to_the_config_file(tmp_path):
    (tmp_path / "configs").mkdir()
    file = tmp_path / "configs" / "run.toml"
    file.write_text('dataset = "../data/clicks.csv"\n')
    assert read_config_file(file)["dataset"] == str(tmp_path / "data" / "clicks.csv")


def test_a_dataset_name_in_a_config_file_stays_a_name(tmp_path):
    file = tmp_path / "run.toml"
    file.write_text('dataset = "ml-20m"\n')
    assert read_config_file(file)["dataset"] == "ml-20m"


def test_invalid_toml_is_reported_with_the_file_name(tmp_path):
    file = tmp_path / "broken.toml"
    file.write_text("seeds = \n")
    with pytest.raises(ValueError, match="broken.toml is not valid TOML"):
        read_config_file(file)


def test_a_missing_config_file_is_reported(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_config_file(tmp_path / "none.toml")


@pytest.mark.parametrize("path", CONFIGS, ids=[path.stem for path in CONFIGS])
def test_each_shipped_configuration_is_valid_for_all_models(path):
    config = BenchmarkConfig(**read_config_file(path)).check()
    assert [spec.name for spec in select_models(config)] == config.models


def test_the_shipped_configurations_cover_the_papers_datasets():
    assert {path.stem for path in CONFIGS} >= {"ml20m", "netflix", "msd", "ml1m", "gowalla"}


def test_the_gowalla_configuration_reads_the_lightgcn_split():
    folder = shared_dataset("gowalla-lightgcn")
    settings = read_config_file(next(p for p in CONFIGS if p.stem == "gowalla"))
    # The file names the data relative to a checkout beside ../shared; read it from wherever
    # the tests found it, as a user does with --dataset.
    settings["dataset"] = str(folder)
    data = load_benchmark_data(BenchmarkConfig(**settings))
    split = split_benchmark_data(data, settings["n_validation_users"], None, seed=0)

    assert data.X.shape == (29_858, 40_981)
    assert data.X.nnz == 810_128 and data.test.nnz == 217_242
    assert split.test_fold_in.shape[0] == 29_858
    assert split.train.nnz + split.validation_held_out.nnz == 810_128
